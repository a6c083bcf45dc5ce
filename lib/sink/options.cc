// Reading a plugin's options through its declared table.
#include "ferry/sink/options.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "ferry/config/units.h"
#include "ferry/core/strings.h"

namespace ferry::sink {
namespace {

bool isNumeric(uint32_t type) {
  return type == FERRY_OPTION_INT || type == FERRY_OPTION_SIZE || type == FERRY_OPTION_DURATION;
}

std::expected<int64_t, std::string> parseNumber(uint32_t type, std::string_view text) {
  if (type == FERRY_OPTION_SIZE) return config::parseSize(text);
  if (type == FERRY_OPTION_DURATION) return config::parseDuration(text);
  return config::parseInt(text);
}

} // namespace

const ferry_plugin_option* findPluginOption(const ferry_plugin_descriptor& d,
                                            std::string_view name) {
  for (size_t i = 0; d.options != nullptr && i < d.option_count; ++i) {
    if (d.options[i].name != nullptr && name == d.options[i].name) return &d.options[i];
  }
  return nullptr;
}

std::vector<std::string_view> choicesOf(const ferry_plugin_option& row) {
  std::vector<std::string_view> choices;
  if (row.enum_values == nullptr) return choices;
  std::string_view rest(row.enum_values);
  while (true) {
    const size_t bar = rest.find('|');
    choices.push_back(rest.substr(0, bar));
    if (bar == std::string_view::npos) return choices;
    rest.remove_prefix(bar + 1);
  }
}

std::expected<size_t, std::string> choiceIndex(const ferry_plugin_option& row,
                                               std::string_view value) {
  const auto choices = choicesOf(row);
  const auto it = std::find(choices.begin(), choices.end(), value);
  if (it != choices.end()) return static_cast<size_t>(it - choices.begin());
  return std::unexpected(fmt::format("{}: '{}' is not one of {}", row.name, value,
                                     row.enum_values != nullptr ? row.enum_values : ""));
}

bool isBounded(const ferry_plugin_option& o) {
  return o.min_value <= o.max_value;
}

std::expected<int64_t, std::string> numericDefault(const ferry_plugin_option& o) {
  if (!isNumeric(o.type)) return std::unexpected(fmt::format("{}: not a number option", o.name));
  if (o.default_value == nullptr) return std::unexpected(fmt::format("{}: no default", o.name));
  auto n = parseNumber(o.type, o.default_value);
  if (!n)
    return std::unexpected(fmt::format("{}: default '{}': {}", o.name, o.default_value, n.error()));
  if (isBounded(o) && (*n < o.min_value || *n > o.max_value)) {
    return std::unexpected(
        fmt::format("{}: default {} outside {} to {}", o.name, *n, o.min_value, o.max_value));
  }
  return *n;
}

const ferry_plugin_option& PluginOptions::declared(const char* name) const {
  const ferry_plugin_option* o = findPluginOption(descriptor_, name);
  if (o == nullptr) {
    throw std::logic_error(fmt::format("option '{}' is not declared by {}", name,
                                       descriptor_.type_name ? descriptor_.type_name : "?"));
  }
  return *o;
}

bool PluginOptions::has(const char* name) const {
  declared(name);
  return doc_.IsObject() && doc_.HasMember(name);
}

const rapidjson::Value* PluginOptions::value(const char* name) const {
  return has(name) ? &doc_[name] : nullptr;
}

std::string PluginOptions::string(const char* name) const {
  const ferry_plugin_option& o = declared(name);
  if (const auto* v = value(name); v != nullptr && v->IsString()) {
    return {v->GetString(), v->GetStringLength()};
  }
  return o.default_value != nullptr ? o.default_value : "";
}

int64_t PluginOptions::integer(const char* name) const {
  const ferry_plugin_option& o = declared(name);
  if (const auto* v = value(name); v != nullptr && v->IsInt64()) return v->GetInt64();
  if (o.default_value == nullptr) return 0;
  auto n = parseNumber(o.type, o.default_value);
  if (!n) throw std::logic_error(fmt::format("{}: unreadable default '{}'", name, o.default_value));
  return *n;
}

bool PluginOptions::boolean(const char* name) const {
  const ferry_plugin_option& o = declared(name);
  if (const auto* v = value(name); v != nullptr && v->IsBool()) return v->GetBool();
  if (o.default_value == nullptr) return false;
  auto b = config::parseBool(o.default_value);
  if (!b) throw std::logic_error(fmt::format("{}: unreadable default '{}'", name, o.default_value));
  return *b;
}

std::expected<void, std::string> PluginOptions::check() const {
  if (!doc_.IsObject()) return std::unexpected("options are not a JSON object");
  for (size_t i = 0; descriptor_.options != nullptr && i < descriptor_.option_count; ++i) {
    const ferry_plugin_option& o = descriptor_.options[i];
    const auto it = doc_.FindMember(o.name);
    const rapidjson::Value* v = it == doc_.MemberEnd() ? nullptr : &it->value;
    if (v == nullptr || v->IsNull()) {
      if (o.required) return std::unexpected(fmt::format("{}: required", o.name));
      continue;
    }
    switch (o.type) {
    case FERRY_OPTION_STRING:
    case FERRY_OPTION_ENUM: {
      if (!v->IsString()) return std::unexpected(fmt::format("{}: expected a string", o.name));
      const std::string_view s(v->GetString(), v->GetStringLength());
      if (o.required && core::trim(s).empty()) {
        return std::unexpected(fmt::format("{}: required and must not be empty", o.name));
      }
      if (o.type == FERRY_OPTION_ENUM && !s.empty()) {
        if (auto i = choiceIndex(o, s); !i) return std::unexpected(i.error());
      }
      break;
    }
    case FERRY_OPTION_BOOL:
      if (!v->IsBool()) return std::unexpected(fmt::format("{}: expected true or false", o.name));
      break;
    case FERRY_OPTION_INT:
    case FERRY_OPTION_SIZE:
    case FERRY_OPTION_DURATION: {
      if (!v->IsInt64()) return std::unexpected(fmt::format("{}: expected a number", o.name));
      const int64_t n = v->GetInt64();
      if (isBounded(o) && (n < o.min_value || n > o.max_value)) {
        return std::unexpected(fmt::format("{}: must be {} to {}{}", o.name, o.min_value,
                                           o.max_value,
                                           o.type == FERRY_OPTION_DURATION ? " ms"
                                           : o.type == FERRY_OPTION_SIZE   ? " bytes"
                                                                           : ""));
      }
      break;
    }
    case FERRY_OPTION_STRING_LIST:
      if (!v->IsArray()) return std::unexpected(fmt::format("{}: expected a list", o.name));
      break;
    case FERRY_OPTION_STRING_MAP:
      if (!v->IsObject()) return std::unexpected(fmt::format("{}: expected a map", o.name));
      break;
    default:
      break;
    }
  }
  return {};
}

std::expected<codec::RecordJsonOptions, std::string>
recordJsonOptions(const PluginOptions& options, const char* key_option, const char* format_option) {
  codec::RecordJsonOptions json;
  json.time_key = options.string(key_option);
  const std::string format = options.string(format_option);
  if (format == "iso8601") {
    json.time_format = codec::TimeFormat::kIso8601;
  } else if (format == "epoch") {
    json.time_format = codec::TimeFormat::kEpochSeconds;
  } else if (format == "epoch_ms") {
    json.time_format = codec::TimeFormat::kEpochMillis;
  } else {
    return std::unexpected(
        fmt::format("{}: expected iso8601, epoch or epoch_ms, got '{}'", format_option, format));
  }
  if (json.time_key.empty()) json.time_format = codec::TimeFormat::kNone;
  return json;
}

} // namespace ferry::sink
