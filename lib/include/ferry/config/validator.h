// The loader's toolbox: walks YAML maps (duplicate keys, lines), interpolates scalars and
// checks them against an OptionSpec, collecting diagnostics instead of stopping at the first.
#pragma once

#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "ferry/config/config.h"

namespace ferry::config {

// One key of a YAML map, with the line it was written on (1-based).
struct MapEntry {
  std::string key;
  int line = 0;
  YAML::Node value;
};

// "a map", "a list", "a scalar" or "nothing", for messages.
std::string describeNode(const YAML::Node& node);
// "string", "size", "one of a|b|c", ... for messages.
std::string describeType(const OptionSpec& spec);
// Renders an int/size/duration in the unit users write (bytes → "64MiB", ms → "5s").
std::string describeNumber(OptionType type, int64_t number);
// Parses one scalar as written by a user (already interpolated): a list gets one item, a map
// cannot be written as a scalar. Errors quote the text, so callers hide them for secrets.
std::expected<OptionValue, std::string> parseOptionText(const OptionSpec& spec,
                                                        std::string_view text);
// Parses spec.default_value (not interpolated); list and map defaults may use YAML flow style
// ("[a, b]", "{k: v}").
std::expected<OptionValue, std::string> parseDefault(const OptionSpec& spec);

class Validator {
public:
  Validator(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  const std::string& file() const { return file_; }
  void error(int line, std::string key, std::string message);
  bool hasErrors() const { return !diagnostics_.empty(); }
  std::vector<Diagnostic> takeDiagnostics() { return std::move(diagnostics_); }

  // 1-based line of a node; `fallback` when the node carries no position (e.g. null values).
  static int lineOf(const YAML::Node& node, int fallback);

  // The entries of a map (reporting non-scalar and duplicated keys; the first of duplicates
  // is kept). A null node is an empty map; anything else that is not a map is an error.
  std::vector<MapEntry> entries(const YAML::Node& node, const std::string& path, int line);

  // An interpolated scalar, for keys the loader handles itself (type, name, match, ...).
  // nullopt after reporting an error (not a scalar, interpolation failure).
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path, int line);

  // One option's value. nullopt = unset (null, or empty where empty means "the default"),
  // or an error was reported.
  std::optional<OptionValue> value(const YAML::Node& node, const OptionSpec& spec,
                                   const std::string& path, int line);

  // Checks a map's entries against a table: unknown keys (except `skip`, which the caller
  // handles), values, then defaults and required options. `owner` names the component in
  // messages ("output 'datadog'").
  std::map<std::string, OptionValue> options(const std::vector<MapEntry>& entries,
                                             const OptionTable& table, const std::string& path,
                                             int line, std::span<const std::string_view> skip,
                                             std::string_view owner);

private:
  std::optional<std::string> interpolated(const YAML::Node& node, const std::string& path,
                                          int line);

  std::string file_;
  EnvLookup env_;
  std::vector<Diagnostic> diagnostics_;
};

// Refuses (ConfigError naming `name` and the line) a configuration text over kMaxConfigBytes,
// or whose first YAML document holds more than `max_nodes` nodes or kMaxConfigBytes of
// scalars once every alias is expanded, or an alias inside its own anchor. Reads parser events
// only: no node is built, so a bomb is refused before memory grows.
void checkYamlBounds(const std::string& name, const std::string& text, uint64_t max_nodes);
// checkYamlBounds with kMaxYamlNodes, then YAML::Load; YAML errors become a ConfigError
// "invalid YAML: ..." naming the line.
YAML::Node loadBoundedYaml(const std::string& name, const std::string& text);

// "path.key", or "key" at the top.
std::string joinPath(const std::string& path, std::string_view key);

} // namespace ferry::config
