// Test doubles for the config tests: a fake environment and a small set of option tables
// standing in for the real inputs, filters and sink plugins.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ferry/config/config.h"

namespace ferry::config::testing {

inline EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline OptionSpec spec(std::string name, OptionType type, std::optional<std::string> def = {}) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(def);
  return s;
}

inline OptionSpec withRequired(OptionSpec s) {
  s.required = true;
  return s;
}
inline OptionSpec withSecret(OptionSpec s) {
  s.secret = true;
  return s;
}
inline OptionSpec withRange(OptionSpec s, int64_t min, int64_t max) {
  s.min_value = min;
  s.max_value = max;
  return s;
}
inline OptionSpec withChoices(OptionSpec s, std::vector<std::string> values) {
  s.enum_values = std::move(values);
  return s;
}

// forward/stdin/tail inputs, add_fields filter, datadog/stdout/null outputs.
struct FakeTables {
  OptionTable forward = {
      withRequired(spec("listen", OptionType::kString)),
      spec("tag", OptionType::kString),
      spec("tag_prefix", OptionType::kString, ""),
      withSecret(spec("shared_key", OptionType::kString)),
  };
  OptionTable stdin_input = {spec("tag", OptionType::kString, "stdin")};
  OptionTable tail = {
      withRequired(spec("path", OptionType::kStringList)),
      spec("tag", OptionType::kString, "tail"),
      spec("read_from_head", OptionType::kBool, "false"),
      withChoices(spec("parser", OptionType::kEnum, "none"), {"none", "json", "logfmt"}),
      withRange(spec("refresh", OptionType::kDuration, "1s"), 100, 3'600'000),
      withSecret(withRange(spec("pin", OptionType::kInt), 0, 9999)),
  };
  OptionTable add_fields = {withRequired(spec("fields", OptionType::kStringMap))};
  OptionTable datadog = {
      // Not flagged secret: masked by its name alone.
      withRequired(spec("api_key", OptionType::kString)),
      withSecret(spec("token", OptionType::kString)),
      spec("site", OptionType::kString, "datadoghq.com"),
      spec("service", OptionType::kString),
      withChoices(spec("compression", OptionType::kEnum, "gzip"), {"gzip", "zstd", "none"}),
      withRange(spec("batch_bytes", OptionType::kSize, "5MiB"), 1024, 5 << 20),
      spec("timeout", OptionType::kDuration, "30s"),
      withRange(spec("max_records", OptionType::kInt, "1000"), 1, 1000),
      spec("verbose", OptionType::kBool),
      spec("tags", OptionType::kStringList),
      spec("headers", OptionType::kStringMap),
  };
  OptionTable stdout_output = {
      withChoices(spec("format", OptionType::kEnum, "json"), {"json", "text"})};
  OptionTable null_output = {};

  TableLookup lookup() const {
    return [this](const std::string& kind, const std::string& type) -> const OptionTable* {
      if (kind == "input" && type == "forward") return &forward;
      if (kind == "input" && type == "stdin") return &stdin_input;
      if (kind == "input" && type == "tail") return &tail;
      if (kind == "filter" && type == "add_fields") return &add_fields;
      if (kind == "output" && type == "datadog") return &datadog;
      if (kind == "output" && type == "stdout") return &stdout_output;
      if (kind == "output" && type == "null") return &null_output;
      return nullptr;
    };
  }
};

inline ConfigSource yamlSource(std::string text, std::string name = "test.yaml") {
  return ConfigSource{.name = std::move(name), .dir = "", .text = std::move(text)};
}

} // namespace ferry::config::testing
