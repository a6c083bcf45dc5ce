// Fluent Bit classic config → ferry YAML. Two steps: read the files (sections, @INCLUDE,
// @SET; keys are case-insensitive, a key may repeat) and map each section to ferry's
// components. Every key is either mapped, accepted as a Fluent Bit internal (listed as a
// comment in the output), or reported as an error with its file and line.
#include "ferry/config/fluent_bit.h"

#include "fluent_bit_reader.h"

#include "ferry/codec/parsers.h"
#include "ferry/codec/regex.h"
#include "ferry/input/multiline.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace ferry::config {
namespace {

using namespace fluent_bit;

// ---- Mapping ---------------------------------------------------------------------------

// One section's keys as the mapping consumes them: whatever is left over is an error.
class Keys {
public:
  Keys(const FbSection& s, std::vector<Diagnostic>& errors, std::vector<std::string>& notes)
      : s_(s), used_(s.entries.size(), false), errors_(errors), notes_(notes) {
    take("name");
  }
  // The value of `key`. Keys may repeat: in a plugin's section the last one wins, as in
  // Fluent Bit; in a [PARSER] or [MULTILINE_PARSER] the first (Fluent Bit reads those with
  // flb_cf_section_property_get, which returns the first: the aws-for-fluent-bit image's
  // syslog-rfc3164 has two Time_Format lines and uses the first).
  const Entry* take(const std::string& key) {
    const Entry* found = nullptr;
    for (size_t i = 0; i < s_.entries.size(); ++i) {
      if (s_.entries[i].lower == key) {
        used_[i] = true;
        if (!found || !first_wins_) found = &s_.entries[i];
      }
    }
    return found;
  }
  void firstWins() { first_wins_ = true; }
  // Accepted, but it only tunes Fluent Bit (or ferry does it its own way): said in a comment.
  void internal(const std::string& key, const std::string& why) {
    if (const Entry* e = take(key)) {
      notes_.push_back(fmt::format("{}:{}: {} {}: ignored{}{}", e->file, e->line, s_.title(),
                                   e->key, why.empty() ? "" : ", ", why));
    }
  }
  void error(const Entry& e, const std::string& message) {
    errors_.push_back({e.file, e.line, fmt::format("{} {}", s_.title(), e.key), message});
  }
  void error(const std::string& message) {
    errors_.push_back({s_.file, s_.line, s_.title(), message});
  }
  // Every key not consumed is an error.
  void finish() {
    for (size_t i = 0; i < s_.entries.size(); ++i) {
      if (!used_[i]) error(s_.entries[i], "has no ferry equivalent");
    }
  }
  const FbSection& section() const { return s_; }
  std::vector<bool>& used() { return used_; }

private:
  const FbSection& s_;
  std::vector<bool> used_;
  std::vector<Diagnostic>& errors_;
  std::vector<std::string>& notes_;
  bool first_wins_ = false;
};

class Converter {
public:
  Converter(Reader& reader) : r_(reader) {}

  std::string run(const std::string& name) {
    YAML::Node service(YAML::NodeType::Map);
    // By index: reading a Parsers_File appends sections.
    for (size_t i = 0; i < r_.sections.size(); ++i) {
      if (r_.sections[i].kind == "SERVICE") convertService(r_.sections[i], service);
    }
    for (size_t i = 0; i < r_.sections.size(); ++i) {
      const FbSection& s = r_.sections[i];
      // [PARSER] and [MULTILINE_PARSER] sections serve the filters that name them.
      if (s.kind == "SERVICE" || s.kind == "PARSER" || s.kind == "MULTILINE_PARSER") continue;
      if (s.kind == "INPUT")
        convertInput(s);
      else if (s.kind == "FILTER")
        convertFilter(s);
      else if (s.kind == "OUTPUT")
        convertOutput(s);
      else
        r_.errors.push_back(
            {s.file, s.line, "[" + s.kind + "]", "section type not supported by ferry"});
    }
    budgets(service);
    if (!r_.errors.empty()) throw ConfigError(r_.errors);

    YAML::Node root(YAML::NodeType::Map);
    if (service.size() > 0) root["service"] = service;
    root["inputs"] = inputs_;
    if (filters_.size() > 0) root["filters"] = filters_;
    root["outputs"] = outputs_;
    YAML::Emitter emitter;
    emitter << root;
    std::string out =
        fmt::format("# Converted from the Fluent Bit config {} by `ferry convert`.\n", name);
    for (const auto& n : notes_)
      out += "# note: " + n + "\n";
    out += emitter.c_str();
    out += "\n";
    return out;
  }

private:
  // ---- [SERVICE]
  void convertService(const FbSection& s, YAML::Node& service) {
    Keys k(s, r_.errors, notes_);
    if (const Entry* e = k.take("flush")) {
      if (auto d = fbDuration(e->value))
        flush_ = *d;
      else
        k.error(*e, "expected seconds");
    }
    if (const Entry* e = k.take("grace")) {
      if (auto d = fbDuration(e->value))
        service["grace_period"] = *d;
      else
        k.error(*e, "expected seconds");
    }
    if (const Entry* e = k.take("log_level")) {
      const std::string l = toLower(e->value);
      if (l == "error" || l == "off")
        service["log_level"] = "error";
      else if (l == "warn" || l == "warning")
        service["log_level"] = "warn";
      else if (l == "info")
        service["log_level"] = "info";
      else if (l == "debug" || l == "trace")
        service["log_level"] = "debug";
      else
        k.error(*e, "expected error, warning, info, debug or trace");
    }
    const Entry* http = k.take("http_server");
    const Entry* listen = k.take("http_listen");
    const Entry* port = k.take("http_port");
    const Entry* hc = k.take("health_check");
    const Entry* hc_errors = k.take("hc_errors_count");
    const Entry* hc_retries = k.take("hc_retry_failure_count");
    const Entry* hc_period = k.take("hc_period");
    if (http && fbBool(http->value).value_or(false)) {
      service["http"]["listen"] =
          fmt::format("{}:{}", listen ? listen->value : "0.0.0.0", port ? port->value : "2020");
      // Fluent Bit's Health_Check, for /api/v1/health.
      if (hc && fbBool(hc->value).value_or(false)) {
        service["http"]["health_check"] = true;
        if (hc_errors) service["http"]["hc_errors_count"] = hc_errors->value;
        if (hc_retries) service["http"]["hc_retry_failure_count"] = hc_retries->value;
        if (hc_period) {
          if (auto d = fbDuration(hc_period->value))
            service["http"]["hc_period"] = *d;
          else
            k.error(*hc_period, "expected seconds");
        }
      }
    } else if (hc && fbBool(hc->value).value_or(false)) {
      notes_.push_back(fmt::format("{}:{}: [SERVICE] Health_Check: unused without HTTP_Server On "
                                   "(as in Fluent Bit)",
                                   hc->file, hc->line));
    }
    if (const Entry* e = k.take("storage.max_chunks_up")) {
      uint64_t n = 0;
      if (std::from_chars(e->value.data(), e->value.data() + e->value.size(), n).ec ==
              std::errc() &&
          n > 0)
        max_chunks_up_ = n;
      else
        k.error(*e, "expected a number of chunks");
    }
    if (const Entry* e = k.take("storage.path")) service["storage"]["path"] = e->value;
    if (const Entry* e = k.take("storage.sync")) {
      if (!service["storage"])
        k.error(*e, "storage.sync without storage.path");
      else
        service["storage"]["sync"] = toLower(e->value) == "full" ? "always" : "interval";
    }
    if (const Entry* e = k.take("parsers_file")) {
      // Its [PARSER] sections serve the parser filter.
      const std::string dir = std::filesystem::path(e->file).parent_path().string();
      const std::string path = e->value.front() == '/' || dir.empty()
                                   ? e->value
                                   : (std::filesystem::path(dir) / e->value).string();
      if (std::filesystem::exists(path)) {
        r_.readFile(path, 1, e->file, e->line);
      } else {
        notes_.push_back(fmt::format("{}:{}: [SERVICE] Parsers_File {} does not exist here; only "
                                     "the parsers json, docker and logfmt are known",
                                     e->file, e->line, e->value));
      }
    }
    if (const Entry* e = k.take("daemon"); e && fbBool(e->value).value_or(false)) {
      k.error(*e, "ferry runs in the foreground (use systemd or the container runtime)");
    }
    for (const char* key : {"storage.metrics", "storage.backlog.mem_limit", "storage.checksum",
                            "storage.delete_irrecoverable_chunks", "coro_stack_size",
                            "scheduler.cap", "scheduler.base", "hot_reload", "log_file"}) {
      k.internal(key, std::string(key) == "log_file" ? "ferry logs to stderr"
                                                     : "ferry sizes and checks itself");
    }
    k.finish();
  }

  // ---- [INPUT]
  void convertInput(const FbSection& s) {
    Keys k(s, r_.errors, notes_);
    const std::string plugin = s.plugin();
    if (plugin == "tcp") {
      convertTcp(k);
      return;
    }
    if (plugin != "forward") {
      k.error(plugin.empty() ? "missing Name" : "input '" + plugin + "' has no ferry equivalent");
      return;
    }
    YAML::Node in(YAML::NodeType::Map);
    in["type"] = "forward";
    if (const Entry* e = k.take("alias")) in["name"] = e->value;
    const Entry* unix_path = k.take("unix_path");
    const Entry* listen = k.take("listen");
    const Entry* port = k.take("port");
    if (unix_path) {
      in["listen"] = "unix://" + unix_path->value;
      if (listen || port) {
        notes_.push_back(fmt::format("{}:{}: [INPUT forward] Listen/Port: unused with unix_path "
                                     "(as in Fluent Bit)",
                                     s.file, s.line));
      }
    } else {
      std::string host = listen ? listen->value : "0.0.0.0";
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
      in["listen"] = fmt::format("tcp://{}:{}", host, port ? port->value : "24224");
    }
    if (const Entry* e = k.take("unix_perm")) in["socket_mode"] = e->value;
    if (const Entry* e = k.take("tag_prefix")) in["tag_prefix"] = e->value;
    if (const Entry* e = k.take("shared_key")) in["shared_key"] = e->value;
    if (const Entry* e = k.take("self_hostname")) in["self_hostname"] = e->value;
    for (const char* key : {"buffer_chunk_size", "buffer_max_size"}) {
      if (const Entry* e = k.take(key)) {
        if (auto n = fbSize(e->value))
          in[key] = std::to_string(*n);
        else
          k.error(*e, "expected a size (e.g. 32KB, 6M)");
      }
    }
    const Entry* tls = k.take("tls");
    const Entry* crt = k.take("tls.crt_file");
    const Entry* key = k.take("tls.key_file");
    if (tls && fbBool(tls->value).value_or(false)) {
      if (!crt || !key)
        k.error(*tls, "tls On needs tls.crt_file and tls.key_file");
      else {
        in["tls_cert"] = crt->value;
        in["tls_key"] = key->value;
      }
    }
    inputBudget(k);
    k.finish();
    inputs_.push_back(in);
  }

  // Fluent Bit's in_tcp. Chunk_Size and Buffer_Size are in KiB there (a bare number; a unit
  // after it is ignored, as atoi does); Buffer_Size defaults to Chunk_Size.
  void convertTcp(Keys& k) {
    YAML::Node in(YAML::NodeType::Map);
    in["type"] = "tcp";
    if (const Entry* e = k.take("alias")) in["name"] = e->value;
    in["listen"] = [&]() -> std::string {
      const Entry* e = k.take("listen");
      return e ? e->value : "0.0.0.0";
    }();
    in["port"] = [&]() -> std::string {
      const Entry* e = k.take("port");
      return e ? e->value : "5170";
    }();
    if (const Entry* e = k.take("tag")) in["tag"] = e->value;
    if (const Entry* e = k.take("format")) {
      const std::string v = toLower(e->value);
      if (v == "json" || v == "none")
        in["format"] = v;
      else
        k.error(*e, "expected json or none");
    }
    if (const Entry* e = k.take("separator")) in["separator"] = e->value;
    auto kib = [&](const char* key) -> std::optional<uint64_t> {
      const Entry* e = k.take(key);
      if (!e) return std::nullopt;
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(e->value.data(), e->value.data() + e->value.size(), n);
      if (ec != std::errc() || n == 0) {
        k.error(*e, "expected a number of KiB (e.g. 32)");
        return std::nullopt;
      }
      return n * 1024;
    };
    const auto chunk = kib("chunk_size");
    const auto buffer = kib("buffer_size");
    const uint64_t chunk_bytes = chunk.value_or(32 * 1024);
    if (chunk) in["chunk_size"] = std::to_string(chunk_bytes);
    in["buffer_size"] = std::to_string(buffer.value_or(chunk_bytes));
    inputBudget(k);
    k.finish();
    inputs_.push_back(in);
  }

  // Mem_Buf_Limit, or with storage.type filesystem storage.max_chunks_up chunks of 2 MiB
  // (Fluent Bit ignores Mem_Buf_Limit there): what this input may hold in memory. Summed
  // into the outputs' buffer.max_bytes (see budgets()).
  void inputBudget(Keys& k) {
    const Entry* limit = k.take("mem_buf_limit");
    const Entry* type = k.take("storage.type");
    if (type && toLower(type->value) == "filesystem") {
      memory_budget_ += max_chunks_up_ * kChunkBytes;
      budget_sources_.push_back(fmt::format("{}:{}: storage.type filesystem: {} chunks up x 2MiB",
                                            type->file, type->line, max_chunks_up_));
      if (limit) {
        notes_.push_back(
            fmt::format("{}:{}: {} Mem_Buf_Limit: ignored with storage.type filesystem "
                        "(as in Fluent Bit)",
                        limit->file, limit->line, k.section().title()));
      }
    } else if (limit) {
      if (auto n = fbSize(limit->value)) {
        memory_budget_ += *n;
        budget_sources_.push_back(
            fmt::format("{}:{}: Mem_Buf_Limit {}", limit->file, limit->line, limit->value));
      } else {
        k.error(*limit, "expected a size (e.g. 25MB)");
      }
    }
    k.internal("threaded", "ferry's inputs always have their own thread");
    k.internal("routable", "");
    k.internal("storage.pause_on_chunks_overlimit",
               "ferry pauses an input while an output it feeds is full");
  }

  // The budget rule (README "Fluent Bit configs"): the inputs' memory limits, summed, are
  // split evenly among the outputs that hold records (all but null) as buffer.max_bytes, so
  // ferry holds no more than Fluent Bit was allowed to. The outputs' storage.total_limit_size,
  // summed, becomes service.storage.max_bytes.
  void budgets(YAML::Node& service) {
    size_t holders = 0;
    for (const auto& o : outputs_)
      holders += o["type"].as<std::string>() != "null";
    if (memory_budget_ > 0 && holders > 0) {
      const uint64_t share = std::max<uint64_t>(memory_budget_ / holders, kMinOutputBudget);
      for (auto o : outputs_) {
        if (o["type"].as<std::string>() != "null") o["buffer"]["max_bytes"] = std::to_string(share);
      }
      std::string from;
      for (const auto& s : budget_sources_)
        from += (from.empty() ? "" : "; ") + s;
      notes_.push_back(fmt::format(
          "budget: {} bytes of input memory ({}) / {} output(s) = buffer.max_bytes {} each",
          memory_budget_, from, holders, share));
    }
    if (storage_budget_ > 0) {
      if (service["storage"]) {
        service["storage"]["max_bytes"] = std::to_string(storage_budget_);
        notes_.push_back(
            fmt::format("budget: storage.total_limit_size summed = service.storage.max_bytes {}",
                        storage_budget_));
      } else {
        notes_.push_back(
            "storage.total_limit_size: no storage.path, so nothing is buffered on disk");
      }
    }
  }

  // ---- [FILTER]
  static std::string matchOf(Keys& k) {
    if (const Entry* e = k.take("match")) return e->value;
    return {};
  }

  // A record key as Fluent Bit writes it: "log" or "$log"; nested accessors do not map.
  std::optional<std::string> recordKey(Keys& k, const Entry& e, std::string_view key) {
    if (!key.empty() && key.front() == '$') key.remove_prefix(1);
    if (key.empty() || key.find_first_of("[]'\"") != std::string_view::npos) {
      k.error(e, fmt::format("'{}': only top-level keys are supported", key));
      return std::nullopt;
    }
    return std::string(key);
  }

  // "KEY REST..." → (KEY, REST)
  static std::pair<std::string, std::string> split2(const std::string& v) {
    const size_t sp = v.find_first_of(" \t");
    if (sp == std::string::npos) return {v, ""};
    return {v.substr(0, sp), std::string(trim(std::string_view(v).substr(sp)))};
  }

  YAML::Node filterNode(const std::string& type, const std::string& match, const Entry* alias) {
    YAML::Node f(YAML::NodeType::Map);
    f["type"] = type;
    if (alias)
      f["name"] =
          alias->value + (filters_from_section_ ? fmt::format(".{}", filters_from_section_) : "");
    f["match"] = match;
    ++filters_from_section_;
    return f;
  }

  // The last [kind] section whose Name is `name` ([PARSER], [MULTILINE_PARSER]), or nullptr.
  const FbSection* sectionNamed(const std::string& kind, const std::string& name) const {
    const FbSection* found = nullptr;
    for (const auto& s : r_.sections) {
      if (s.kind != kind) continue;
      for (const auto& e : s.entries) {
        if (e.lower == "name" && e.value == name) found = &s;
      }
    }
    return found;
  }

  // Fluent Bit's regex (Onigmo) as the native pattern of the same meaning, or an error.
  std::optional<std::string> nativeRegex(Keys& k, const Entry& e, const std::string& regex) {
    auto native = codec::fromFluentBit(regex);
    if (native) {
      auto re = codec::Regex::compile(*native, {.log_engine = false});
      if (re) return std::move(*native);
      native = std::unexpected(re.error());
    }
    k.error(e, fmt::format("regex not supported: {}", native.error()));
    return std::nullopt;
  }

  void convertFilter(const FbSection& s) {
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

  void convertModify(const FbSection& s, Keys& k, const std::string& match, const Entry* alias) {
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

  void convertParser(Keys& k, const std::string& match, const Entry* alias) {
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

  // A [PARSER] section into the parse filter's options, with Fluent Bit's defaults where
  // ferry's differ (Time_Keep Off, Skip_Empty_Values On).
  bool convertParserSection(const FbSection& def, YAML::Node& f) {
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

  // A count of milliseconds (the filter's flush_ms) as a ferry duration, or an error.
  static std::optional<std::string> millis(Keys& k, const Entry& e) {
    int64_t ms = 0;
    const char* end = e.value.data() + e.value.size();
    const auto [at, ec] = std::from_chars(e.value.data(), end, ms);
    if (ec == std::errc() && at == end && ms > 0) return fmt::format("{}ms", ms);
    k.error(e, "expected milliseconds");
    return std::nullopt;
  }

  // The multiline filter: built-in parsers by name, [MULTILINE_PARSER]s as the filter's
  // `custom` parsers (in the order named), or mode partial_message.
  void convertMultiline(Keys& k, const std::string& match, const Entry* alias) {
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

  // A [MULTILINE_PARSER] as the text of one of the filter's `custom` parsers: type regex → its
  // rules (regexes made native), one per line; endswith / equal → `endswith "STRING"`.
  std::optional<std::string> convertMultilineParser(const FbSection& def) {
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

  // The `rule` lines of a [MULTILINE_PARSER] type regex, one per line, regexes made native.
  std::optional<std::string> multilineRules(Keys& p, const FbSection& def) {
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

  // ---- [OUTPUT]
  void convertOutput(const FbSection& s) {
    Keys k(s, r_.errors, notes_);
    const std::string plugin = s.plugin();
    YAML::Node out(YAML::NodeType::Map);
    const std::string match = matchOf(k);
    if (k.take("match_regex")) k.error("Match_Regex has no ferry equivalent (use Match globs)");
    if (match.empty()) k.error("missing Match");
    if (plugin == "datadog")
      out["type"] = "datadog";
    else if (plugin == "kinesis_firehose" || plugin == "firehose")
      out["type"] = "firehose";
    else if (plugin == "s3")
      out["type"] = "s3";
    else if (plugin == "kinesis_streams" || plugin == "kinesis")
      out["type"] = "kinesis_streams";
    else if (plugin == "cloudwatch_logs" || plugin == "cloudwatch")
      out["type"] = "cloudwatch_logs";
    else if (plugin == "null")
      out["type"] = "null";
    else if (plugin == "stdout")
      out["type"] = "stdout";
    else {
      k.error(plugin.empty() ? "missing Name" : "output '" + plugin + "' has no ferry equivalent");
      return;
    }
    if (const Entry* e = k.take("alias")) out["name"] = e->value;
    out["match"] = match;
    if (const Entry* e = k.take("retry_limit")) {
      const std::string v = toLower(e->value);
      uint64_t n = 0;
      if (v == "no_limits" || v == "false" || v == "off")
        out["retry"]["max_attempts"] = 0;
      else if (v == "no_retries")
        out["retry"]["max_attempts"] = 1;
      else if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) {
        out["retry"]["max_attempts"] = n + 1; // Fluent Bit counts retries, ferry attempts
      } else
        k.error(*e, "expected a number, no_limits or no_retries");
    }
    if (!flush_.empty() && plugin != "null") out["flush_interval"] = flush_;
    k.internal("workers", "ferry adapts concurrency (concurrency: auto)");
    if (const Entry* e = k.take("storage.total_limit_size")) {
      if (auto n = fbSize(e->value))
        storage_budget_ += *n;
      else
        k.error(*e, "expected a size (e.g. 1G)");
    }
    k.internal("log_level", "ferry has one log level (service.log_level)");
    if (plugin == "datadog")
      datadog(k, out);
    else if (plugin == "kinesis_firehose" || plugin == "firehose")
      firehose(k, out);
    else if (plugin == "s3")
      s3(k, out);
    else if (plugin == "kinesis_streams" || plugin == "kinesis")
      kinesis(k, out, plugin == "kinesis");
    else if (plugin == "cloudwatch_logs" || plugin == "cloudwatch")
      cloudwatchLogs(k, out, plugin == "cloudwatch");
    else if (plugin == "stdout")
      stdoutOutput(k, out);
    k.finish();
    outputs_.push_back(out);
  }

  void copy(Keys& k, YAML::Node& out, const char* fb, const char* ferry) {
    if (const Entry* e = k.take(fb)) out[ferry] = e->value;
  }

  void datadog(Keys& k, YAML::Node& out) {
    copy(k, out, "apikey", "api_key");
    copy(k, out, "dd_service", "service");
    copy(k, out, "dd_source", "source");
    copy(k, out, "dd_tags", "tags");
    copy(k, out, "dd_message_key", "message_key");
    // Without dd_hostname Fluent Bit sends no hostname (Datadog takes the host from the
    // record); ferry's default would name the task or the machine instead.
    if (const Entry* e = k.take("dd_hostname"))
      out["hostname"] = e->value;
    else
      out["auto_hostname"] = false;
    const Entry* host = k.take("host");
    const Entry* port = k.take("port");
    const Entry* tls = k.take("tls");
    const bool use_tls = tls ? fbBool(tls->value).value_or(false) : false;
    if (host) {
      constexpr std::string_view kIntake = "http-intake.logs.";
      if (host->value.starts_with(kIntake) && !port) {
        out["site"] = host->value.substr(kIntake.size());
        if (!use_tls) {
          notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] TLS Off: ferry sends to the "
                                       "Datadog site over HTTPS",
                                       host->file, host->line));
        }
      } else {
        const std::string p = port ? ":" + port->value : "";
        out["url"] =
            fmt::format("{}://{}{}/api/v2/logs", use_tls ? "https" : "http", host->value, p);
      }
    }
    if (const Entry* e = k.take("compress")) {
      const std::string v = toLower(e->value);
      // Fluent Bit compresses on exactly "gzip" and sends anything else uncompressed.
      out["compression"] = v == "gzip" ? "gzip" : "none";
      if (v != "gzip" && v != "none" && v != "off" && !v.empty()) {
        notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] compress {}: Fluent Bit knows only "
                                     "gzip; sent uncompressed, as Fluent Bit does",
                                     e->file, e->line, e->value));
      }
    }
    out["status_from_level"] = false; // Fluent Bit sends level/severity as they are
    if (const Entry* e = k.take("provider")) {
      // Fluent Bit remaps only on exactly "ecs" and ignores any other value.
      if (e->value == "ecs") {
        out["provider"] = "ecs";
      } else {
        notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] provider {}: Fluent Bit knows "
                                     "only ecs; ignored",
                                     e->file, e->line, e->value));
      }
    }
    if (const Entry* e = k.take("json_date_key"); e && e->value != "timestamp") {
      k.error(*e, "ferry always sends the time as `timestamp`");
    }
    if (const Entry* e = k.take("include_tag_key"); e && fbBool(e->value).value_or(false)) {
      k.error(*e, "ferry does not add the tag to Datadog records");
    }
    k.take("tag_key");
    k.internal("tls.verify", "ferry always verifies certificates");
  }

  void firehose(Keys& k, YAML::Node& out) {
    copy(k, out, "delivery_stream", "delivery_stream");
    copy(k, out, "region", "region");
    if (const Entry* e = k.take("endpoint")) {
      // Fluent Bit takes a bare host name here; ferry a URL (a ${VAR} is left as it is).
      const bool bare =
          e->value.find("://") == std::string::npos && e->value.find("${") == std::string::npos;
      out["endpoint"] = bare ? "https://" + e->value : e->value;
    }
    if (const Entry* e = k.take("simple_aggregation")) {
      out["aggregate"] = fbBool(e->value).value_or(false);
    }
    // Fluent Bit adds the record time only under a time_key it is given; ferry's default adds
    // `date`, which would put a field into every record that the stream's consumers never saw.
    if (const Entry* e = k.take("time_key"))
      out["time_key"] = e->value;
    else
      out["time_key"] = "";
    if (const Entry* e = k.take("compression");
        e && toLower(e->value) != "none" && !toLower(e->value).empty()) {
      k.error(*e, "ferry's firehose output sends records uncompressed");
    }
    k.internal("auto_retry_requests", "ferry retries by its retry policy");
  }

  // `kinesis_streams` (Fluent Bit's C plugin: random partition keys, a newline after each
  // record) and `kinesis` (aws-for-fluent-bit's Go plugin: partition_key, append_newline
  // off by default) → ferry's kinesis_streams.
  void kinesis(Keys& k, YAML::Node& out, bool go_plugin) {
    copy(k, out, "stream", "stream");
    copy(k, out, "region", "region");
    copy(k, out, "log_key", "log_key");
    const Entry* endpoint = k.take("endpoint");
    const Entry* port = go_plugin ? nullptr : k.take("port");
    if (endpoint) {
      // A bare host name means https (a ${VAR} is left as it is); Port goes after the host.
      std::string url = endpoint->value;
      if (url.find("://") == std::string::npos && url.find("${") == std::string::npos)
        url = "https://" + url;
      if (port) {
        const size_t host = url.find("://") == std::string::npos ? 0 : url.find("://") + 3;
        const size_t path = url.find('/', host);
        if (url.substr(host, path - host).find(':') != std::string::npos)
          k.error(*port, "the endpoint already names a port");
        else
          url.insert(path == std::string::npos ? url.size() : path, ":" + port->value);
      }
      out["endpoint"] = url;
    } else if (port && port->value != "443") {
      k.error(*port,
              "a port needs an endpoint (ferry sends to kinesis.<region>.amazonaws.com:443)");
    } else if (port) {
      notes_.push_back(fmt::format("{}:{}: {} Port 443: the default", port->file, port->line,
                                   k.section().title()));
    }
    // Fluent Bit adds the record time only under a time_key it is given.
    const Entry* time_key = k.take("time_key");
    out["time_key"] = time_key ? time_key->value : std::string();
    if (const Entry* e = k.take("time_key_format")) {
      // ferry writes ISO 8601 UTC with nanoseconds; the C plugin's %9N / %L are nanoseconds.
      const std::string& f = e->value;
      if (go_plugin || (f != "%Y-%m-%dT%H:%M:%S.%9NZ" && f != "%Y-%m-%dT%H:%M:%S.%LZ"))
        k.error(*e, "ferry writes the time as %Y-%m-%dT%H:%M:%S.%9NZ (time_format iso8601), "
                    "epoch or epoch_ms");
    } else if (time_key && !time_key->value.empty()) {
      notes_.push_back(fmt::format("{}:{}: {} time_key: ferry writes the time as ISO 8601 UTC "
                                   "with nanoseconds",
                                   time_key->file, time_key->line, k.section().title()));
    }
    if (go_plugin) {
      copy(k, out, "partition_key", "partition_key");
      const Entry* e = k.take("append_newline");
      out["append_newline"] = e ? fbBool(e->value).value_or(false) : false;
      if (const Entry* d = k.take("data_keys"))
        k.error(*d, "ferry sends the whole record or one field (log_key)");
      if (const Entry* a = k.take("aggregation"); a && fbBool(a->value).value_or(false))
        k.error(*a, "ferry does not write KPL-aggregated records");
      if (const Entry* r = k.take("replace_dots"); r && !r->value.empty())
        k.error(*r, "ferry sends field names as they are");
      k.internal("experimental_concurrency", "ferry adapts concurrency (concurrency: auto)");
      k.internal("experimental_concurrency_retries", "ferry retries by its retry policy");
    } else {
      out["append_newline"] = true;
      k.internal("auto_retry_requests", "ferry retries by its retry policy");
    }
    if (const Entry* e = k.take("compression");
        e && toLower(e->value) != "none" && !toLower(e->value).empty()) {
      k.error(*e, "ferry's kinesis_streams output sends records uncompressed");
    }
    if (const Entry* e = k.take("role_arn"))
      k.error(*e, "ferry does not assume roles: grant kinesis:PutRecords to its own credentials");
    if (const Entry* e = k.take("profile"))
      k.error(*e, "set AWS_PROFILE in ferry's environment instead");
    k.internal("external_id", "only used with role_arn");
    k.internal("sts_endpoint", "only used with role_arn");
  }

  // Fluent Bit's cloudwatch_logs (C) and the aws-for-fluent-bit image's cloudwatch (Go): the
  // same names, templates included ($(var) and $TAG / $field['sub'] read the same in ferry).
  void cloudwatchLogs(Keys& k, YAML::Node& out, bool go) {
    for (const char* key :
         {"region", "log_group_name", "log_group_template", "log_stream_name", "log_stream_prefix",
          "log_stream_template", "log_key", "sts_endpoint", "extra_user_agent"})
      copy(k, out, key, key);
    // The Go plugin's names with variables fall back to default_log_*_name, as ferry's
    // templates fall back to the plain names.
    for (const auto& [name, fallback, tmpl] :
         {std::tuple{"log_group_name", "default_log_group_name", "log_group_template"},
          std::tuple{"log_stream_name", "default_log_stream_name", "log_stream_template"}}) {
      const Entry* e = k.take(fallback);
      if (!e) continue;
      if (out[name]) out[tmpl] = out[name].as<std::string>();
      out[name] = e->value;
    }
    if (out["log_stream_name"] && out["log_stream_prefix"]) {
      k.error("needs exactly one of log_stream_name and log_stream_prefix (Fluent Bit refuses "
              "this output too)");
    } else if (!out["log_stream_name"] && !out["log_stream_prefix"]) {
      // AWS's own "send to multiple destinations" FireLens example has neither: each stream is
      // named after the tag, as log_stream_prefix with an empty prefix would name it.
      out["log_stream_name"] = "$(tag)";
      const FbSection& s = k.section();
      notes_.push_back(fmt::format("{}:{}: {}: neither log_stream_name nor log_stream_prefix; "
                                   "each stream is named after the record's tag",
                                   s.file, s.line, s.title()));
    }
    if (const Entry* e = k.take("endpoint")) {
      const bool bare =
          e->value.find("://") == std::string::npos && e->value.find("${") == std::string::npos;
      out["endpoint"] = bare ? "https://" + e->value : e->value;
    }
    if (const Entry* e = k.take("auto_create_group")) {
      if (auto b = fbBool(e->value))
        out["auto_create_group"] = *b;
      else
        k.error(*e, "expected On/Off or true/false");
    }
    if (const Entry* e = k.take("log_retention_days")) out["log_retention_days"] = e->value;
    if (const Entry* e = k.take("log_format")) {
      if (toLower(e->value) == "json/emf")
        out["log_format"] = "json/emf";
      else
        k.error(*e, "ferry knows only json/emf (Embedded Metric Format)");
    }
    if (const Entry* e = k.take("new_log_group_tags")) {
      // key=value,key2=value2
      YAML::Node tags(YAML::NodeType::Map);
      for (size_t pos = 0; pos <= e->value.size();) {
        const size_t comma = std::min(e->value.find(',', pos), e->value.size());
        const std::string pair = e->value.substr(pos, comma - pos);
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
          k.error(*e, "expected key=value pairs separated by commas");
          break;
        }
        tags[std::string(trim(pair.substr(0, eq)))] = std::string(trim(pair.substr(eq + 1)));
        pos = comma + 1;
      }
      out["log_group_tags"] = tags;
    }
    k.internal("auto_retry_requests", "ferry retries by its retry policy");
    k.internal("auto_create_stream", "ferry creates missing streams");
    k.internal("credentials_endpoint", "ferry reads credentials from the default AWS chain");
    k.internal("log_group_class", "a group ferry creates is STANDARD");
    if (go) k.internal("experimental_concurrency", "ferry adapts concurrency");
  }

  void s3(Keys& k, YAML::Node& out) {
    copy(k, out, "bucket", "bucket");
    copy(k, out, "region", "region");
    copy(k, out, "endpoint", "endpoint");
    copy(k, out, "storage_class", "storage_class");
    copy(k, out, "content_type", "content_type");
    copy(k, out, "canned_acl", "acl");
    copy(k, out, "json_date_key", "json_date_key");
    // $TAG, $TAG[n], $INDEX, $UUID and strftime fields mean what they mean in Fluent Bit
    // (the runner keeps one object stream per tag).
    copy(k, out, "s3_key_format", "key_format");
    copy(k, out, "s3_key_format_tag_delimiters", "tag_delimiters");
    for (const auto& [fb, ferry] : {std::pair{"total_file_size", "total_file_size"},
                                    std::pair{"upload_chunk_size", "part_size"}}) {
      if (const Entry* e = k.take(fb)) {
        if (auto n = fbSize(e->value))
          out[ferry] = std::to_string(*n);
        else
          k.error(*e, "expected a size (e.g. 50M)");
      }
    }
    if (const Entry* e = k.take("upload_timeout")) {
      if (auto d = fbDuration(e->value))
        out["upload_timeout"] = *d;
      else
        k.error(*e, "expected a duration (e.g. 10m)");
    }
    if (const Entry* e = k.take("compression")) {
      const std::string v = toLower(e->value);
      if (v == "gzip" || v == "zstd")
        out["compression"] = v;
      else if (v == "none" || v == "off")
        out["compression"] = "none";
      else
        k.error(*e, "expected gzip, zstd or none");
    } else {
      out["compression"] = "none"; // Fluent Bit's default
    }
    if (const Entry* e = k.take("json_date_format")) {
      const std::string v = toLower(e->value);
      if (v == "iso8601" || v == "epoch")
        out["json_date_format"] = v;
      else
        k.error(*e, "expected iso8601 or epoch");
    }
    k.internal("use_put_object", "ferry chooses PutObject or multipart by size");
    k.internal("store_dir", "ferry buffers in memory or in service.storage");
    k.internal("store_dir_limit_size", "see service.storage.max_bytes");
    k.internal("preserve_data_ordering", "ferry keeps order per output");
    k.internal("send_content_md5", "SigV4 signs the payload hash");
    k.internal("auto_retry_requests", "ferry retries by its retry policy");
  }

  void stdoutOutput(Keys& k, YAML::Node& out) {
    if (const Entry* e = k.take("format")) {
      const std::string v = toLower(e->value);
      if (v != "json_lines" && v != "json" && v != "json_stream") {
        k.error(*e, "ferry prints JSON lines (format json_lines)");
      }
    }
    copy(k, out, "json_date_key", "time_key");
    if (const Entry* e = k.take("json_date_format")) {
      const std::string v = toLower(e->value);
      if (v == "iso8601" || v == "epoch")
        out["time_format"] = v;
      else
        k.error(*e, "expected iso8601 or epoch");
    }
  }

  Reader& r_;
  std::vector<std::string> notes_;
  std::string flush_;
  YAML::Node inputs_{YAML::NodeType::Sequence};
  YAML::Node filters_{YAML::NodeType::Sequence};
  YAML::Node outputs_{YAML::NodeType::Sequence};
  int filters_from_section_ = 0;
  static constexpr uint64_t kChunkBytes = 2 * 1024 * 1024; // Fluent Bit's chunk size target
  static constexpr uint64_t kMinOutputBudget = 1024 * 1024;
  uint64_t max_chunks_up_ = 128; // [SERVICE] storage.max_chunks_up, Fluent Bit's default
  uint64_t memory_budget_ = 0;   // the inputs' Mem_Buf_Limit (or chunks up), summed
  uint64_t storage_budget_ = 0;  // the outputs' storage.total_limit_size, summed
  std::vector<std::string> budget_sources_;
};

} // namespace

std::string convertFluentBitText(const std::string& name, const std::string& dir,
                                 const std::string& text) {
  Reader reader;
  reader.readText(name, dir, text, 0);
  Converter converter(reader);
  return converter.run(name);
}

std::string convertFluentBitFile(const std::string& path) {
  Reader reader;
  reader.readFile(path, 0, "", 0);
  if (!reader.errors.empty() && reader.sections.empty()) throw ConfigError(reader.errors);
  Converter converter(reader);
  return converter.run(path);
}

} // namespace ferry::config
