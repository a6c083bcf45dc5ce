// Fluent Bit's [FILTER] sections → ferry filters (part of the converter, fluent_bit_convert.h):
// record_modifier, grep, modify, parser (with the [PARSER] sections it names: json, logfmt
// and regex parsers, Onigmo regexes made native, time formats, types) and multiline (built-in
// parsers by name, [MULTILINE_PARSER]s as `custom` parsers, or partial_message); nest and
// the rest are reported as having no ferry equivalent.
#include "fluent_bit_convert.h"

#include "ferry/codec/parsers.h"
#include "ferry/codec/regex.h"
#include "ferry/input/multiline.h"

#include <charconv>
#include <set>

namespace ferry::config::fluent_bit {

std::string Converter::matchOf(Keys& k) {
  if (const Entry* e = k.take("match")) return e->value;
  return {};
}

std::optional<std::string> Converter::recordKey(Keys& k, const Entry& e, std::string_view key) {
  if (!key.empty() && key.front() == '$') key.remove_prefix(1);
  if (key.empty() || key.find_first_of("[]'\"") != std::string_view::npos) {
    k.error(e, fmt::format("'{}': only top-level keys are supported", key));
    return std::nullopt;
  }
  return std::string(key);
}

std::pair<std::string, std::string> Converter::split2(const std::string& v) {
  const size_t sp = v.find_first_of(" \t");
  if (sp == std::string::npos) return {v, ""};
  return {v.substr(0, sp), std::string(trim(std::string_view(v).substr(sp)))};
}

YAML::Node Converter::filterNode(const std::string& type, const std::string& match,
                                 const Entry* alias) {
  YAML::Node f(YAML::NodeType::Map);
  f["type"] = type;
  if (alias)
    f["name"] =
        alias->value + (filters_from_section_ ? fmt::format(".{}", filters_from_section_) : "");
  f["match"] = match;
  ++filters_from_section_;
  return f;
}

const FbSection* Converter::sectionNamed(const std::string& kind, const std::string& name) const {
  const FbSection* found = nullptr;
  for (const auto& s : r_.sections) {
    if (s.kind != kind) continue;
    for (const auto& e : s.entries) {
      if (e.lower == "name" && e.value == name) found = &s;
    }
  }
  return found;
}

std::optional<std::string> Converter::nativeRegex(Keys& k, const Entry& e,
                                                  const std::string& regex) {
  auto native = codec::fromFluentBit(regex);
  if (native) {
    auto re = codec::Regex::compile(*native, {.log_engine = false});
    if (re) return std::move(*native);
    native = std::unexpected(re.error());
  }
  k.error(e, fmt::format("regex not supported: {}", native.error()));
  return std::nullopt;
}

void Converter::convertFilter(const FbSection& s) {
  Keys k(s, r_.errors, notes_);
  const std::string plugin = s.plugin();
  const std::string match = matchOf(k);
  const Entry* alias = k.take("alias");
  filters_from_section_ = 0;
  if (k.take("match_regex")) k.error("Match_Regex has no ferry equivalent (use Match globs)");
  if (match.empty()) {
    k.error("missing Match");
    return;
  }
  if (plugin == "record_modifier") {
    YAML::Node fields(YAML::NodeType::Map);
    YAML::Node remove(YAML::NodeType::Sequence);
    for (size_t i = 0; i < s.entries.size(); ++i) {
      const Entry& e = s.entries[i];
      if (e.lower == "record") {
        k.used()[i] = true;
        auto [key, value] = split2(e.value);
        if (value.empty())
          k.error(e, "expected Record KEY VALUE");
        else
          fields[key] = value;
      } else if (e.lower == "remove_key") {
        k.used()[i] = true;
        remove.push_back(e.value);
      }
    }
    if (fields.size() > 0) {
      YAML::Node f = filterNode("add_fields", match, alias);
      f["fields"] = fields;
      filters_.push_back(f);
    }
    if (remove.size() > 0) {
      YAML::Node f = filterNode("remove_fields", match, alias);
      f["fields"] = remove;
      filters_.push_back(f);
    }
  } else if (plugin == "grep") {
    if (const Entry* op = k.take("logical_op");
        op && toLower(op->value) != "legacy" && toLower(op->value) != "and") {
      k.error(*op, "only legacy/AND maps (each rule becomes one grep filter)");
    }
    for (size_t i = 0; i < s.entries.size(); ++i) {
      const Entry& e = s.entries[i];
      if (e.lower != "regex" && e.lower != "exclude") continue;
      k.used()[i] = true;
      auto [key, regex] = split2(e.value);
      auto field = recordKey(k, e, key);
      if (!field) continue;
      if (regex.empty()) {
        k.error(e, "expected KEY REGEX");
        continue;
      }
      const auto native = nativeRegex(k, e, regex);
      if (!native) continue;
      YAML::Node f = filterNode("grep", match, alias);
      YAML::Node rule(YAML::NodeType::Map);
      rule["field"] = *field;
      rule["regex"] = *native;
      f[e.lower == "regex" ? "include" : "exclude"] = rule;
      filters_.push_back(f);
    }
  } else if (plugin == "modify") {
    convertModify(s, k, match, alias);
  } else if (plugin == "parser") {
    convertParser(k, match, alias);
  } else if (plugin == "multiline") {
    convertMultiline(k, match, alias);
  } else if (plugin == "nest") {
    k.error("the nest filter has no ferry equivalent (records keep their shape)");
    return;
  } else {
    k.error(plugin.empty() ? "missing Name" : "filter '" + plugin + "' has no ferry equivalent");
    return;
  }
  k.finish();
}

void Converter::convertModify(const FbSection& s, Keys& k, const std::string& match,
                              const Entry* alias) {
  // Rules apply in order; consecutive rules of one kind share a ferry filter.
  std::string kind;
  std::optional<YAML::Node> current;
  std::set<std::string> keys; // of the current add_fields
  auto flush = [&] {
    if (current) filters_.push_back(*current);
    current.reset();
    keys.clear();
    kind.clear();
  };
  for (size_t i = 0; i < s.entries.size(); ++i) {
    const Entry& e = s.entries[i];
    const std::string& r = e.lower;
    if (r == "match" || r == "alias" || r == "name") continue;
    k.used()[i] = true;
    auto [key, value] = split2(e.value);
    if (r == "set" || r == "add") {
      if (value.empty()) {
        k.error(e, "expected KEY VALUE");
        continue;
      }
      if (kind != r || keys.contains(key)) {
        flush();
        kind = r;
        current.emplace(filterNode("add_fields", match, alias));
        if (r == "add") (*current)["overwrite"] = false;
      }
      keys.insert(key);
      (*current)["fields"][key] = value;
    } else if (r == "remove") {
      if (kind != r) {
        flush();
        kind = r;
        current.emplace(filterNode("remove_fields", match, alias));
      }
      (*current)["fields"].push_back(key);
    } else if (r == "rename" || r == "hard_rename") {
      if (value.empty()) {
        k.error(e, "expected KEY NEW_KEY");
        continue;
      }
      // One filter per rename: renames may chain (a→b, b→c).
      flush();
      YAML::Node f = filterNode("rename_fields", match, alias);
      f["fields"][key] = value;
      f["overwrite"] = r == "hard_rename";
      filters_.push_back(f);
    } else {
      k.error(e, "this modify rule has no ferry equivalent");
    }
  }
  flush();
}

void Converter::convertParser(Keys& k, const std::string& match, const Entry* alias) {
  const Entry* key = k.take("key_name");
  const Entry* parser = k.take("parser");
  const Entry* reserve = k.take("reserve_data");
  const Entry* preserve = k.take("preserve_key");
  if (!key || !parser) {
    k.error("the parser filter needs Key_Name and Parser");
    return;
  }
  YAML::Node f = filterNode("parse", match, alias);
  f["field"] = key->value;
  const std::string name = parser->value;
  const FbSection* def = sectionNamed("PARSER", name);
  if (def == nullptr) {
    // As upstream parsers.conf (the one the aws-for-fluent-bit image ships) defines them.
    if (name == "logfmt") {
      f["format"] = name;
    } else if (name == "json") {
      f["format"] = "json";
      f["time_key"] = "time";
      f["time_format"] = "%d/%b/%Y:%H:%M:%S %z";
      f["time_keep"] = false;
    } else if (name == "docker") {
      f["format"] = "json";
      f["time_key"] = "time";
      f["time_format"] = "%Y-%m-%dT%H:%M:%S.%L";
      f["time_keep"] = true;
    } else {
      k.error(*parser, fmt::format("parser '{}' is not defined (Parsers_File)", name));
      return;
    }
  } else if (!convertParserSection(*def, f)) {
    return;
  }
  if (preserve) f["keep_original"] = fbBool(preserve->value).value_or(false);
  // Reserve_Data Off (Fluent Bit's default): a parsed record holds the parsed fields only.
  f["keep_other_fields"] = reserve && fbBool(reserve->value).value_or(false);
  filters_.push_back(f);
}

bool Converter::convertParserSection(const FbSection& def, YAML::Node& f) {
  Keys p(def, r_.errors, notes_);
  p.firstWins();
  const Entry* format = p.take("format");
  const std::string fmt_name = format ? toLower(format->value) : "";
  if (fmt_name != "json" && fmt_name != "logfmt" && fmt_name != "regex") {
    p.error(format ? *format : def.entries.front(), "only json, logfmt and regex parsers map");
    return false;
  }
  f["format"] = fmt_name;
  if (const Entry* e = p.take("regex")) {
    const auto native = nativeRegex(p, *e, e->value);
    if (!native) return false;
    f["regex"] = *native;
  }
  const Entry* time_format = p.take("time_format");
  const Entry* time_key = p.take("time_key");
  // Fluent Bit reads a time only with a Time_Format; its Time_Key defaults to "time".
  if (time_format) {
    if (auto parser = codec::TimeParser::create(time_format->value); !parser) {
      p.error(*time_format, parser.error());
      return false;
    }
    f["time_key"] = time_key ? time_key->value : "time";
    f["time_format"] = time_format->value;
    const Entry* keep = p.take("time_keep");
    f["time_keep"] = keep && fbBool(keep->value).value_or(false);
    if (const Entry* e = p.take("time_offset")) {
      if (auto offset = codec::parseUtcOffset(e->value); !offset) {
        p.error(*e, offset.error());
        return false;
      }
      f["time_offset"] = e->value;
    }
    if (const Entry* e = p.take("time_system_timezone")) {
      f["time_system_timezone"] = fbBool(e->value).value_or(false);
    }
  } else if (time_key) {
    notes_.push_back(fmt::format("{}:{}: {} Time_Key: ignored without Time_Format, as Fluent "
                                 "Bit does",
                                 time_key->file, time_key->line, def.title()));
  }
  p.internal("time_keep", "there is no Time_Format");
  p.internal("time_offset", "there is no Time_Format");
  p.internal("time_system_timezone", "there is no Time_Format");
  p.internal("time_strict", "ferry reads times strictly (a time that does not match keeps "
                            "the record's time)");
  if (fmt_name == "regex") {
    const Entry* skip = p.take("skip_empty_values");
    f["skip_empty"] = !skip || fbBool(skip->value).value_or(true);
  }
  // Fluent Bit casts Types in its regex and logfmt parsers (not json).
  if (fmt_name != "json") {
    if (const Entry* e = p.take("types")) {
      if (auto types = codec::parseTypes(e->value); !types) {
        p.error(*e, types.error());
        return false;
      }
      f["types"] = e->value;
    }
  }
  p.internal("decode_field", "ferry does not decode fields (the value stays as parsed)");
  p.internal("decode_field_as", "ferry does not decode fields (the value stays as parsed)");
  p.finish();
  return true;
}

std::optional<std::string> Converter::millis(Keys& k, const Entry& e) {
  int64_t ms = 0;
  const char* end = e.value.data() + e.value.size();
  const auto [at, ec] = std::from_chars(e.value.data(), end, ms);
  if (ec == std::errc() && at == end && ms > 0) return fmt::format("{}ms", ms);
  k.error(e, "expected milliseconds");
  return std::nullopt;
}

void Converter::convertMultiline(Keys& k, const std::string& match, const Entry* alias) {
  YAML::Node f = filterNode("multiline", match, alias);
  if (const Entry* e = k.take("multiline.key_content")) {
    if (auto key = recordKey(k, *e, e->value)) f["key_content"] = *key;
  }
  const Entry* mode = k.take("mode");
  const Entry* parsers = k.take("multiline.parser");
  const Entry* flush = k.take("flush_ms");
  k.internal("buffer", "ferry's multiline filter always holds records (storage covers them)");
  for (const char* key : {"emitter_name", "emitter_storage.type", "emitter_mem_buf_limit"})
    k.internal(key, "ferry has no emitter: joined records go on in place");
  if (flush) {
    if (auto ms = millis(k, *flush)) f["flush_ms"] = *ms;
  }
  if (mode && toLower(mode->value) == "partial_message") {
    if (parsers) k.error(*parsers, "mode partial_message takes no multiline.parser");
    f["mode"] = "partial_message";
    filters_.push_back(f);
    return;
  }
  if (mode && toLower(mode->value) != "parser") {
    k.error(*mode, "expected parser or partial_message");
    return;
  }
  if (!parsers) {
    k.error("the multiline filter needs multiline.parser (or mode partial_message)");
    return;
  }
  YAML::Node list(YAML::NodeType::Sequence);
  for (const std::string& name : input::splitNames(parsers->value)) {
    list.push_back(name);
    if (input::MultilineRules::builtin(name)) continue;
    const FbSection* def = sectionNamed("MULTILINE_PARSER", name);
    if (def == nullptr) {
      k.error(*parsers, fmt::format("multiline parser '{}' is not defined ([MULTILINE_PARSER] "
                                    "in a Parsers_File)",
                                    name));
      return;
    }
    auto text = convertMultilineParser(*def);
    if (!text) return;
    f["custom"][name] = *text;
  }
  f["parser"] = list;
  filters_.push_back(f);
}

std::optional<std::string> Converter::convertMultilineParser(const FbSection& def) {
  Keys p(def, r_.errors, notes_);
  p.firstWins();
  const Entry* type = p.take("type");
  const std::string kind = type ? toLower(type->value) : "";
  // Fluent Bit's multiline filter flushes by its own flush_ms (it sets the engine's timer
  // after loading the parsers), so a parser's flush_timeout does not apply there.
  p.internal("flush_timeout", "the multiline filter flushes by its flush_ms (default 2000)");
  std::optional<std::string> text;
  if (kind == "endswith" || kind == "equal" || kind == "eq") {
    const Entry* match = p.take("match_string");
    const Entry* negate = p.take("negate");
    if (!match || match->value.empty()) {
      p.error(*type, "type " + kind + " needs match_string");
    } else {
      text = fmt::format("{} \"{}\"{}", kind == "endswith" ? "endswith" : "equal", match->value,
                         negate && fbBool(negate->value).value_or(false) ? " negate" : "");
    }
  } else if (kind == "regex") {
    text = multilineRules(p, def);
  } else {
    p.error(type ? *type : def.entries.front(), "expected type regex, endswith or equal");
  }
  p.finish();
  return text;
}

std::optional<std::string> Converter::multilineRules(Keys& p, const FbSection& def) {
  std::string rules;
  bool ok = true;
  for (size_t i = 0; i < def.entries.size(); ++i) {
    const Entry& e = def.entries[i];
    if (e.lower != "rule") continue;
    p.used()[i] = true;
    auto rule = input::parseMultilineRule(e.value);
    if (!rule) {
      p.error(e, rule.error());
      ok = false;
      continue;
    }
    const auto native = nativeRegex(p, e, rule->regex);
    if (!native) {
      ok = false;
      continue;
    }
    std::string from;
    for (const auto& state : rule->from)
      from += (from.empty() ? "" : ", ") + state;
    rules += fmt::format("\"{}\" \"{}\" \"{}\"\n", from, *native, rule->to);
  }
  if (ok && rules.empty()) {
    p.error("a [MULTILINE_PARSER] needs rules");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return rules;
}

} // namespace ferry::config::fluent_bit
