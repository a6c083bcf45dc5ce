// Registry of built-in inputs and filters.
#include "ferry/app/registry.h"

#include "ferry/input/forward.h"
#include "ferry/input/stdin_input.h"
#include "ferry/input/tail.h"

namespace ferry::app {

const std::vector<InputType>& inputTypes() {
  static const std::vector<InputType> types = {
      {"stdin", "Lines of standard input, one record each (field log).",
       &input::stdinInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeStdinInput(s); }},
      {"forward", "Fluent forward protocol v1 server (FireLens, fluent-logger, Fluent Bit).",
       &input::forwardInputOptions(),
       [](const config::Section& s, const InputEnvironment&) { return input::makeForwardInput(s); }},
      {"tail", "Follows files through rotation; positions saved once delivered (tail.db).",
       &input::tailInputOptions(),
       [](const config::Section& s, const InputEnvironment& env) {
         return input::makeTailInput(s, env.state_dir);
       }},
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
