// Checks YAML values against option tables: duplicate and unknown keys, interpolation, types,
// enum choices, ranges, defaults and required options. Never quotes a secret's value.
#include "ferry/config/validator.h"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "ferry/config/interpolate.h"
#include "ferry/config/units.h"

namespace ferry::config {
namespace {

std::string joinChoices(const std::vector<std::string>& choices) {
  return fmt::format("{}", fmt::join(choices, "|"));
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknownKeyMessage(std::string_view key, const OptionTable& table,
                              std::span<const std::string_view> skip, std::string_view owner) {
  std::vector<std::string> known;
  for (const auto& spec : table)
    known.push_back(spec.name);
  for (const auto k : skip)
    known.emplace_back(k);
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& k : known) {
    const size_t d = editDistance(key, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  const std::string head = fmt::format("unknown key '{}' for {}", key, owner);
  if (!best.empty() &&
      best_distance <= std::max<size_t>(1, std::min(key.size(), best.size()) / 3)) {
    return fmt::format("{} (did you mean '{}'?)", head, best);
  }
  if (known.empty()) return fmt::format("{} (it takes no options)", head);
  std::sort(known.begin(), known.end());
  return fmt::format("{} (known keys: {})", head, fmt::join(known, ", "));
}

OptionValue setValue(OptionType type) {
  OptionValue v;
  v.type = type;
  v.is_set = true;
  return v;
}

bool inRange(const OptionSpec& spec) {
  return spec.min_value <= spec.max_value;
}

std::string rangeText(const OptionSpec& spec) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (spec.max_value == kMax) {
    return fmt::format("at least {}", describeNumber(spec.type, spec.min_value));
  }
  if (spec.min_value == kMin) {
    return fmt::format("at most {}", describeNumber(spec.type, spec.max_value));
  }
  return fmt::format("between {} and {}", describeNumber(spec.type, spec.min_value),
                     describeNumber(spec.type, spec.max_value));
}

} // namespace

std::string describeNode(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    return "a map";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Scalar:
    return "a scalar";
  default:
    return "nothing";
  }
}

std::string joinPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string describeType(const OptionSpec& spec) {
  switch (spec.type) {
  case OptionType::kString:
    return "a string";
  case OptionType::kBool:
    return "a boolean";
  case OptionType::kInt:
    return "an integer";
  case OptionType::kSize:
    return "a size";
  case OptionType::kDuration:
    return "a duration";
  case OptionType::kEnum:
    return fmt::format("one of {}", joinChoices(spec.enum_values));
  case OptionType::kStringList:
    return "a list of strings";
  case OptionType::kStringMap:
    return "a map of strings";
  }
  return "a value";
}

std::string describeNumber(OptionType type, int64_t number) {
  if (type == OptionType::kSize && number >= 0) return formatSize(number);
  if (type == OptionType::kDuration && number >= 0) return formatDuration(number);
  return std::to_string(number);
}

std::expected<OptionValue, std::string> parseOptionText(const OptionSpec& spec,
                                                        std::string_view text) {
  OptionValue v;
  v.type = spec.type;
  v.text = std::string(text);
  v.is_set = true;
  switch (spec.type) {
  case OptionType::kString:
    return v;
  case OptionType::kBool: {
    const auto b = parseBool(text);
    if (!b) return std::unexpected(b.error());
    v.flag = *b;
    return v;
  }
  case OptionType::kInt:
  case OptionType::kSize:
  case OptionType::kDuration: {
    const auto n = spec.type == OptionType::kInt    ? parseInt(text)
                   : spec.type == OptionType::kSize ? parseSize(text)
                                                    : parseDuration(text);
    if (!n) return std::unexpected(n.error());
    if (inRange(spec) && (*n < spec.min_value || *n > spec.max_value)) {
      return std::unexpected(
          fmt::format("'{}' is out of range: must be {}", text, rangeText(spec)));
    }
    v.number = *n;
    return v;
  }
  case OptionType::kEnum:
    if (!spec.enum_values.empty() && std::find(spec.enum_values.begin(), spec.enum_values.end(),
                                               text) == spec.enum_values.end()) {
      return std::unexpected(
          fmt::format("'{}' is not one of {}", text, joinChoices(spec.enum_values)));
    }
    return v;
  case OptionType::kStringList: // one scalar is a list of one
    if (!text.empty()) v.list.emplace_back(text);
    return v;
  case OptionType::kStringMap:
    if (!text.empty()) return std::unexpected("expected a map of strings, got a scalar");
    return v;
  }
  return std::unexpected(fmt::format("unknown option type {}", static_cast<int>(spec.type)));
}

std::expected<OptionValue, std::string> parseDefault(const OptionSpec& spec) {
  const std::string text = spec.default_value.value_or("");
  const bool flow_list = spec.type == OptionType::kStringList && text.starts_with('[');
  const bool flow_map = spec.type == OptionType::kStringMap && !text.empty();
  if (!flow_list && !flow_map) return parseOptionText(spec, text);
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return std::unexpected(fmt::format("'{}' is not valid YAML: {}", text, e.msg));
  }
  OptionValue v = setValue(spec.type);
  if (flow_list && node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar())
        return std::unexpected(fmt::format("'{}' is not a list of strings", text));
      v.list.push_back(item.Scalar());
    }
    return v;
  }
  if (flow_map && node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar() || !(kv.second.IsScalar() || kv.second.IsNull())) {
        return std::unexpected(fmt::format("'{}' is not a map of strings", text));
      }
      v.map[kv.first.Scalar()] = kv.second.IsNull() ? "" : kv.second.Scalar();
    }
    return v;
  }
  return std::unexpected(fmt::format("'{}' is not {}", text, describeType(spec)));
}

void Validator::error(int line, std::string key, std::string message) {
  diagnostics_.push_back(Diagnostic{
      .file = file_, .line = line, .key = std::move(key), .message = std::move(message)});
}

int Validator::lineOf(const YAML::Node& node, int fallback) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

std::vector<MapEntry> Validator::entries(const YAML::Node& node, const std::string& path,
                                         int line) {
  std::vector<MapEntry> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) {
    error(line, path, fmt::format("expected a map, got {}", describeNode(node)));
    return out;
  }
  for (const auto& kv : node) {
    const int key_line = lineOf(kv.first, line);
    if (!kv.first.IsScalar()) {
      error(key_line, path, fmt::format("keys must be strings, got {}", describeNode(kv.first)));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    const auto first =
        std::find_if(out.begin(), out.end(), [&](const MapEntry& e) { return e.key == key; });
    if (first != out.end()) {
      error(key_line, joinPath(path, key),
            fmt::format("duplicate key (first given on line {})", first->line));
      continue;
    }
    out.push_back(MapEntry{.key = key, .line = key_line, .value = kv.second});
  }
  return out;
}

std::optional<std::string> Validator::interpolated(const YAML::Node& node, const std::string& path,
                                                   int line) {
  auto text = interpolate(node.Scalar(), env_);
  if (!text) {
    error(line, path, text.error());
    return std::nullopt;
  }
  return std::move(*text);
}

std::optional<std::string> Validator::scalar(const YAML::Node& node, const std::string& path,
                                             int line) {
  if (!node || node.IsNull()) return std::string();
  if (!node.IsScalar()) {
    error(line, path, fmt::format("expected a string, got {}", describeNode(node)));
    return std::nullopt;
  }
  return interpolated(node, path, line);
}

std::optional<OptionValue> Validator::value(const YAML::Node& node, const OptionSpec& spec,
                                            const std::string& path, int line) {
  if (!node || node.IsNull()) return std::nullopt;
  const bool secret = isSecretOption(spec);
  auto reject = [&](const std::string& message) -> std::optional<OptionValue> {
    error(line, path,
          secret ? fmt::format("invalid value: expected {} (not shown: secret)", describeType(spec))
                 : message);
    return std::nullopt;
  };

  if (spec.type == OptionType::kStringList && node.IsSequence()) {
    OptionValue v = setValue(spec.type);
    bool ok = true;
    int index = 0;
    for (const auto& item : node) {
      const std::string key = fmt::format("{}[{}]", path, index++);
      const int item_line = lineOf(item, line);
      if (!item.IsScalar()) {
        error(item_line, key, fmt::format("expected a string, got {}", describeNode(item)));
        ok = false;
        continue;
      }
      auto text = interpolated(item, key, item_line);
      if (text) v.list.push_back(std::move(*text));
      ok = ok && text.has_value();
    }
    if (!ok) return std::nullopt;
    if (spec.required && v.list.empty()) return reject("is required and must not be empty");
    return v;
  }
  if (spec.type == OptionType::kStringMap) {
    if (!node.IsMap())
      return reject(fmt::format("expected {}, got {}", describeType(spec), describeNode(node)));
    OptionValue v = setValue(spec.type);
    bool ok = true;
    for (const auto& entry : entries(node, path, line)) {
      const std::string key = joinPath(path, entry.key);
      const auto text = scalar(entry.value, key, entry.line);
      if (text) v.map[entry.key] = *text;
      ok = ok && text.has_value();
    }
    if (!ok) return std::nullopt;
    if (spec.required && v.map.empty()) return reject("is required and must not be empty");
    return v;
  }
  if (!node.IsScalar()) {
    return reject(fmt::format("expected {}, got {}", describeType(spec), describeNode(node)));
  }
  const auto text = interpolated(node, path, line);
  if (!text) return std::nullopt;
  if (text->empty()) {
    const bool from_reference = hasReference(node.Scalar());
    if (spec.required) {
      error(line, path,
            from_reference ? "is required, but its value interpolated to an empty string"
                           : "is required and must not be empty");
      return std::nullopt;
    }
    // A literal "" is an empty string; an empty interpolation result means "not given",
    // so the default applies (`site: ${DD_SITE:-}`). Other types read empty as not given.
    if (spec.type == OptionType::kString && !from_reference) {
      return setValue(spec.type);
    }
    return std::nullopt;
  }
  auto parsed = parseOptionText(spec, *text);
  if (!parsed) return reject(parsed.error());
  return std::move(*parsed);
}

std::map<std::string, OptionValue> Validator::options(const std::vector<MapEntry>& entries,
                                                      const OptionTable& table,
                                                      const std::string& path, int line,
                                                      std::span<const std::string_view> skip,
                                                      std::string_view owner) {
  std::map<std::string, OptionValue> out;
  std::set<std::string> failed;
  std::map<std::string, int> given; // key → line, including keys given as null
  for (const auto& entry : entries) {
    if (std::find(skip.begin(), skip.end(), entry.key) != skip.end()) continue;
    const OptionSpec* spec = findOption(table, entry.key);
    const std::string key = joinPath(path, entry.key);
    if (spec == nullptr) {
      error(entry.line, key, unknownKeyMessage(entry.key, table, skip, owner));
      continue;
    }
    given[entry.key] = entry.line;
    const size_t before = diagnostics_.size();
    auto v = value(entry.value, *spec, key, entry.line);
    if (diagnostics_.size() != before) failed.insert(entry.key);
    if (v) out[entry.key] = std::move(*v);
  }
  for (const auto& spec : table) {
    if (out.contains(spec.name) || failed.contains(spec.name)) continue;
    const std::string key = joinPath(path, spec.name);
    if (spec.default_value) {
      auto parsed = parseDefault(spec);
      if (parsed) {
        out[spec.name] = std::move(*parsed);
      } else {
        // A bug in the component's table, reported like a config error so it is seen.
        error(line, key,
              fmt::format("the default of {} is invalid: {}", owner,
                          isSecretOption(spec) ? "(secret)" : parsed.error()));
      }
    } else if (spec.required) {
      const auto it = given.find(spec.name);
      if (it != given.end()) {
        error(it->second, key, "is required and must not be empty");
      } else {
        error(line, key, fmt::format("missing required option '{}' for {}", spec.name, owner));
      }
    }
  }
  return out;
}

} // namespace ferry::config
