// Registry of built-in inputs and filters.
#include "ferry/app/registry.h"

#include "ferry/input/stdin_input.h"

namespace ferry::app {

const std::vector<InputType>& inputTypes() {
  static const std::vector<InputType> types = {
      {"stdin", "Lines of standard input, one record each (field log).",
       &input::stdinInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeStdinInput(s); }},
  };
  return types;
}

const std::vector<FilterType>& filterTypes() {
  static const std::vector<FilterType> types = {};
  return types;
}

const InputType* findInputType(const std::string& name) {
  for (const auto& t : inputTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const FilterType* findFilterType(const std::string& name) {
  for (const auto& t : filterTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

} // namespace ferry::app
