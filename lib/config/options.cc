// Option tables and validated sections: the C ABI table conversion, typed getters, and the
// JSON a plugin's ferry_on_init receives (sizes in bytes, durations in ms, unset omitted).
#include "ferry/config/options.h"

#include <array>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ferry::config {
namespace {

std::vector<std::string> splitChoices(const char* text) {
  std::vector<std::string> out;
  if (text == nullptr) return out;
  std::string_view rest(text);
  while (true) {
    const size_t bar = rest.find('|');
    const std::string_view choice = rest.substr(0, bar);
    if (!choice.empty()) out.emplace_back(choice);
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

const OptionValue* findValue(const Section& section, const std::string& key) {
  const auto it = section.values.find(key);
  return it != section.values.end() && it->second.is_set ? &it->second : nullptr;
}

void writeValue(rapidjson::Writer<rapidjson::StringBuffer>& w, const OptionValue& v) {
  switch (v.type) {
  case OptionType::kString:
  case OptionType::kEnum:
    w.String(v.text.data(), static_cast<rapidjson::SizeType>(v.text.size()));
    break;
  case OptionType::kBool:
    w.Bool(v.flag);
    break;
  case OptionType::kInt:
  case OptionType::kSize:
  case OptionType::kDuration:
    w.Int64(v.number);
    break;
  case OptionType::kStringList:
    w.StartArray();
    for (const auto& item : v.list) {
      w.String(item.data(), static_cast<rapidjson::SizeType>(item.size()));
    }
    w.EndArray();
    break;
  case OptionType::kStringMap:
    w.StartObject();
    for (const auto& [key, value] : v.map) {
      w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    w.EndObject();
    break;
  }
}

} // namespace

OptionTable tableFromPlugin(const ferry_plugin_descriptor& descriptor) {
  OptionTable table;
  if (descriptor.options == nullptr) return table;
  table.reserve(descriptor.option_count);
  for (size_t i = 0; i < descriptor.option_count; ++i) {
    const ferry_plugin_option& o = descriptor.options[i];
    OptionSpec spec;
    spec.name = o.name != nullptr ? o.name : "";
    spec.type = static_cast<OptionType>(o.type);
    if (o.default_value != nullptr) spec.default_value = o.default_value;
    spec.required = o.required != 0;
    spec.secret = o.secret != 0;
    spec.enum_values = splitChoices(o.enum_values);
    spec.min_value = o.min_value;
    spec.max_value = o.max_value;
    spec.doc = o.doc != nullptr ? o.doc : "";
    table.push_back(std::move(spec));
  }
  return table;
}

bool isSecretKey(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kSecretKeys{
      "api_key", "shared_key", "aws_secret_access_key", "aws_session_token"};
  for (const auto key : kSecretKeys) {
    if (name == key) return true;
  }
  return false;
}

bool isSecretOption(const OptionSpec& spec) {
  return spec.secret || isSecretKey(spec.name);
}

const OptionSpec* findOption(const OptionTable& table, std::string_view name) {
  for (const auto& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool Section::has(const std::string& key) const {
  return findValue(*this, key) != nullptr;
}

const std::string& Section::getString(const std::string& key) const {
  static const std::string kEmpty;
  const OptionValue* v = findValue(*this, key);
  return v != nullptr ? v->text : kEmpty;
}

bool Section::getBool(const std::string& key) const {
  const OptionValue* v = findValue(*this, key);
  return v != nullptr && v->flag;
}

int64_t Section::getInt(const std::string& key) const {
  const OptionValue* v = findValue(*this, key);
  return v != nullptr ? v->number : 0;
}

int64_t Section::getIntOr(const std::string& key, int64_t fallback) const {
  return has(key) ? getInt(key) : fallback;
}

const std::vector<std::string>& Section::getList(const std::string& key) const {
  static const std::vector<std::string> kEmpty;
  const OptionValue* v = findValue(*this, key);
  return v != nullptr ? v->list : kEmpty;
}

const std::map<std::string, std::string>& Section::getMap(const std::string& key) const {
  static const std::map<std::string, std::string> kEmpty;
  const OptionValue* v = findValue(*this, key);
  return v != nullptr ? v->map : kEmpty;
}

std::string Section::toJson() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  auto emit = [&](const std::string& key, const OptionValue& value) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    writeValue(w, value);
  };
  // The table's order (the plugin author's), then anything set without a table entry.
  if (table != nullptr) {
    for (const auto& spec : *table) {
      if (const OptionValue* v = findValue(*this, spec.name)) emit(spec.name, *v);
    }
  }
  for (const auto& [key, value] : values) {
    if (value.is_set && (table == nullptr || findOption(*table, key) == nullptr)) emit(key, value);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace ferry::config
