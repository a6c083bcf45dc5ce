// The built-in record filters (SPEC.md "filters"): their option tables, settings checks and
// factories. The registry (lib/app/registry.cc) lists them by `type:`. A check reads a
// validated section as its factory does, starting nothing, and names the key of a value the
// option types cannot check (a bad regex, a missing nested key): "include.regex: ...". The
// registry runs the checks at config load (`validate` and `run` alike); a factory refuses the
// same values by throwing std::invalid_argument naming the file, line and key.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/config/options.h"
#include "ferry/core/router.h"

namespace ferry::filter {

using FilterPtr = std::unique_ptr<core::Filter>;

// What a settings check returns: nothing, or "option: reason".
using SettingsResult = std::expected<void, std::string>;

const config::OptionTable& addFieldsOptions();
SettingsResult checkAddFields(const config::Section& section);
FilterPtr makeAddFields(const config::Section& section);

const config::OptionTable& removeFieldsOptions();
SettingsResult checkRemoveFields(const config::Section& section);
FilterPtr makeRemoveFields(const config::Section& section);

const config::OptionTable& renameFieldsOptions();
SettingsResult checkRenameFields(const config::Section& section);
FilterPtr makeRenameFields(const config::Section& section);

const config::OptionTable& grepOptions();
SettingsResult checkGrep(const config::Section& section);
FilterPtr makeGrep(const config::Section& section);

const config::OptionTable& sampleOptions();
FilterPtr makeSample(const config::Section& section);

const config::OptionTable& parseOptions();
SettingsResult checkParse(const config::Section& section);
FilterPtr makeParse(const config::Section& section);

const config::OptionTable& concatPartialOptions();
FilterPtr makeConcatPartial(const config::Section& section);

// concat_partial's reassembly with these settings (the multiline filter's partial_message mode).
FilterPtr makePartialMessageJoin(std::string key, size_t max_bytes,
                                 std::chrono::milliseconds timeout, size_t max_groups);

const config::OptionTable& multilineOptions();
SettingsResult checkMultiline(const config::Section& section);
FilterPtr makeMultiline(const config::Section& section);

const config::OptionTable& ecsMetadataOptions();
SettingsResult checkEcsMetadata(const config::Section& section);
FilterPtr makeEcsMetadata(const config::Section& section);
// The fields ecs_metadata adds, from the task document (${URI}/task) and the container
// document (${URI}, its Labels fill what the task document lacks).
std::expected<std::vector<std::pair<std::string, std::string>>, std::string>
ecsFieldsFromDocuments(const std::string& task_json, const std::string& container_json);

// The filters a config runs, in order: a concat_partial filter (defaults, match "*") goes
// first when the config has a forward input and declares no concat_partial of its own (one
// with `enabled: false` turns it off; a multiline filter in mode partial_message stands for one).
std::vector<config::Section> effectiveFilters(const config::Config& config);

// Adds fields to records (add_fields, ecs_metadata). `overwrite`: an existing field of the
// same name takes the new value; otherwise the record's own value stays.
class FieldAdder {
public:
  FieldAdder(std::vector<std::pair<std::string, std::string>> fields, bool overwrite)
      : fields_(std::move(fields)), overwrite_(overwrite) {}
  core::BatchRef apply(core::BatchRef batch) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

private:
  std::vector<std::pair<std::string, std::string>> fields_;
  bool overwrite_;
};

// "key: why", as a settings check refuses a value.
inline std::unexpected<std::string> refuse(std::string_view key, std::string_view why) {
  return std::unexpected(std::string(key) + ": " + std::string(why));
}

// Throws what factories throw: std::invalid_argument, "file:line: filters[0].key: why" (the
// config loader's form), from a check's "key: why".
[[noreturn]] void badOption(const config::Section& section, std::string_view message);
[[noreturn]] void badOption(const config::Section& section, const std::string& key,
                            const std::string& why);

// A settings reading's outcome, its value dropped: a check made of the factory's reading.
template <typename T> SettingsResult outcomeOf(std::expected<T, std::string> settings) {
  if (!settings) return std::unexpected(std::move(settings.error()));
  return {};
}

// A settings reading's value, or badOption with its error: how a factory uses the function
// its check runs.
template <typename T>
T settingsOrThrow(const config::Section& section, std::expected<T, std::string> settings) {
  if (!settings) badOption(section, settings.error());
  if constexpr (!std::is_void_v<T>) return std::move(*settings);
}

} // namespace ferry::filter
