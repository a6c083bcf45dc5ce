// The built-in component types (inputs and filters are part of libferry; outputs are
// plugins): their option tables and factories, looked up by the `type:` users write.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/config/config.h"
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

// A type's own check of a section's settings, for what its option table cannot say (a regex
// that must compile, a listen address): the very parse its factory runs, and pure (nothing
// opened for writing, bound, or started; reading a file is fine), so that `ferry validate`
// and start-up cannot disagree. The error reads "option: reason" or "option.key: reason", the
// form config::sectionDiagnostic turns into "file:line: inputs[0].option: reason". A type
// whose table says everything leaves it empty. A new type fills it with the function its
// factory reads its settings with: registry.cc's checkBy(tcpSettings) turns a
// `std::expected<Settings, std::string> tcpSettings(const config::Section&)` into one.
using SettingsCheck = std::function<std::expected<void, std::string>(const config::Section&)>;

struct InputType {
  std::string name;
  std::string description;
  const config::OptionTable* options;
  std::function<input::InputPtr(const config::Section&, const InputEnvironment&)> make;
  SettingsCheck check; // may be empty
};

struct FilterType {
  std::string name;
  std::string description;
  const config::OptionTable* options;
  std::function<std::unique_ptr<core::Filter>(const config::Section&)> make;
  SettingsCheck check; // may be empty
};

const std::vector<InputType>& inputTypes();
const std::vector<FilterType>& filterTypes();
const InputType* findInputType(const std::string& name);
const FilterType* findFilterType(const std::string& name);
// The option table of a built-in input (kind "input") or filter ("filter") type; nullptr for
// an unknown type or another kind. Config loading's TableLookup for all but outputs.
const config::OptionTable* builtinOptions(const std::string& kind, const std::string& type);
// Runs every configured input's and filter's SettingsCheck: one diagnostic per refused
// section, in config order (empty: all of them would start). What only start-up can know (a
// port in use, an unwritable directory) is not checked here.
std::vector<config::Diagnostic> checkBuiltins(const config::Config& config);

} // namespace ferry::app
