// Declared options (Fluent Bit's config_map idea): one table per component drives parsing,
// validation, `ferry validate` output, secret masking and the README. Plugins declare theirs
// through the C ABI (ferry_plugin_option); built-in inputs and filters in C++ with the same
// fields.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/plugin.h"

namespace ferry::config {

enum class OptionType {
  kString = FERRY_OPTION_STRING,
  kBool = FERRY_OPTION_BOOL,
  kInt = FERRY_OPTION_INT,
  kSize = FERRY_OPTION_SIZE,         // → bytes
  kDuration = FERRY_OPTION_DURATION, // → milliseconds
  kEnum = FERRY_OPTION_ENUM,
  kStringList = FERRY_OPTION_STRING_LIST,
  kStringMap = FERRY_OPTION_STRING_MAP,
};

struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  std::optional<std::string> default_value; // as a user would write it
  bool required = false;
  bool secret = false;
  std::vector<std::string> enum_values;
  int64_t min_value = 1; // min > max = unbounded
  int64_t max_value = 0;
  std::string doc;
};

using OptionTable = std::vector<OptionSpec>;

// The option table a plugin declared through the C ABI.
OptionTable tableFromPlugin(const ferry_plugin_descriptor& descriptor);

// Keys that are secret whatever their table says: api_key, shared_key,
// aws_secret_access_key, aws_session_token.
bool isSecretKey(std::string_view name);
// spec.secret, or a secret key name. Secret values are never printed, logged or exported.
bool isSecretOption(const OptionSpec& spec);
// The spec named `name` in `table`, or nullptr.
const OptionSpec* findOption(const OptionTable& table, std::string_view name);

// A value after interpolation, type checking and defaults.
struct OptionValue {
  OptionType type = OptionType::kString;
  std::string text;                       // kString, kEnum; the raw text for the others
  int64_t number = 0;                     // kInt, kSize (bytes), kDuration (ms)
  bool flag = false;                      // kBool
  std::vector<std::string> list;          // kStringList
  std::map<std::string, std::string> map; // kStringMap
  bool is_set = false;                    // given by the user or by a default
};

// One validated component section (an input, a filter or an output): its type, its name
// (label value in metrics), where it was declared, and its options. Keys `type`, `name`,
// `match` (filters/outputs) and the common output keys (`retry`, `buffer`, `concurrency`)
// are handled by the loader; everything else must be in the component's table.
struct Section {
  std::string kind;  // "input" | "filter" | "output"
  std::string type;  // "forward", "datadog", ...
  std::string name;  // `name:` or "<type>" / "<type>.<n>"
  std::string match; // tag glob (filters, outputs); "*" by default
  std::string file;  // where it was declared
  int line = 0;      // 1-based line of the section in that file (0 when unknown)
  std::string path;  // where in the config: "outputs[1]" ("" when not from a config)
  std::map<std::string, int> key_lines; // each key given in the section → its line
  const OptionTable* table = nullptr;
  std::map<std::string, OptionValue> values; // every declared option that has a value

  bool has(const std::string& key) const;
  const std::string& getString(const std::string& key) const; // "" when unset
  bool getBool(const std::string& key) const;
  int64_t getInt(const std::string& key) const; // also sizes (bytes), durations (ms)
  int64_t getIntOr(const std::string& key, int64_t fallback) const; // `fallback` when unset
  const std::vector<std::string>& getList(const std::string& key) const;
  const std::map<std::string, std::string>& getMap(const std::string& key) const;
  // The options as a JSON object (sizes in bytes, durations in ms, lists as arrays, unset
  // options omitted): what a plugin's ferry_on_init receives.
  std::string toJson() const;
};

} // namespace ferry::config
