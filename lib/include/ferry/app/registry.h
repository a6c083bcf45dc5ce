// The built-in component types (inputs and filters are part of libferry; outputs are
// plugins): their option tables and factories, looked up by the `type:` users write.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/config/options.h"
#include "ferry/core/router.h"
#include "ferry/input/input.h"

namespace ferry::app {

// What an input may need beyond its own section.
struct InputEnvironment {
  // Where inputs keep state (tail.db): service.storage.path when set, else the config
  // file's directory, else the current directory.
  std::string state_dir;
};

struct InputType {
  std::string name;
  std::string description;
  const config::OptionTable* options;
  std::function<input::InputPtr(const config::Section&, const InputEnvironment&)> make;
};

struct FilterType {
  std::string name;
  std::string description;
  const config::OptionTable* options;
  std::function<std::unique_ptr<core::Filter>(const config::Section&)> make;
};

const std::vector<InputType>& inputTypes();
const std::vector<FilterType>& filterTypes();
const InputType* findInputType(const std::string& name);
const FilterType* findFilterType(const std::string& name);
// The option table of a built-in input (kind "input") or filter ("filter") type; nullptr for
// an unknown type or another kind. Config loading's TableLookup for all but outputs.
const config::OptionTable* builtinOptions(const std::string& kind, const std::string& type);

} // namespace ferry::app
