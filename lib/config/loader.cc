// load(): YAML text → validated Config (SPEC.md "Configuration"). The service keys and the
// keys common to every output are declared as option tables too, so they are checked by the
// same code as a plugin's options; every problem is collected before ConfigError is thrown.
#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>

#include "ferry/config/config.h"
#include "ferry/config/memory.h"
#include "ferry/config/units.h"
#include "ferry/config/validator.h"

namespace ferry::config {
namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

OptionSpec option(std::string name, OptionType type, std::optional<std::string> default_value,
                  std::string doc) {
  OptionSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.doc = std::move(doc);
  return spec;
}

OptionSpec bounded(OptionSpec spec, int64_t min_value, int64_t max_value) {
  spec.min_value = min_value;
  spec.max_value = max_value;
  return spec;
}

OptionSpec choices(OptionSpec spec, std::vector<std::string> values) {
  spec.enum_values = std::move(values);
  return spec;
}

OptionSpec required(OptionSpec spec) {
  spec.required = true;
  return spec;
}

const OptionTable& serviceTable() {
  static const OptionTable table = {
      choices(option("log_level", OptionType::kEnum, "info", "ferry's own log level."),
              {"debug", "info", "warn", "error"}),
      choices(option("log_format", OptionType::kEnum, "text", "ferry's own log format."),
              {"text", "json"}),
      bounded(
          option("grace_period", OptionType::kDuration, "25s", "Flush budget on SIGTERM/SIGINT."),
          0, 24ll * 3600 * 1000),
      option("plugin_dir", OptionType::kString, "",
             "Sink plugin directory; empty = ../lib/ferry/plugins beside the binary."),
  };
  return table;
}

const OptionTable& httpTable() {
  static const OptionTable table = {
      required(option("listen", OptionType::kString, std::nullopt,
                      "host:port of the /health and /metrics endpoint.")),
      bounded(option("unhealthy_after", OptionType::kDuration, "60s",
                     "An output failing for this long makes /health report unhealthy."),
              1, kUnbounded),
      option("health_check", OptionType::kBool, "false",
             "Fluent Bit's Health_Check: /api/v1/health answers 500 while the hc_* thresholds "
             "are exceeded (off: always 200 ok)."),
      bounded(
          option("hc_errors_count", OptionType::kInt, "5",
                 "More requests refused for good by the sinks than this in hc_period: unhealthy."),
          0, kUnbounded),
      bounded(option("hc_retry_failure_count", OptionType::kInt, "5",
                     "More requests given up after retry.max_attempts than this in hc_period: "
                     "unhealthy (Fluent Bit's retries_failed)."),
              0, kUnbounded),
      bounded(option("hc_period", OptionType::kDuration, "60s", "The window of the hc_* counts."),
              1000, 24ll * 3600 * 1000),
  };
  return table;
}

const OptionTable& storageTable() {
  static const OptionTable table = {
      required(option("path", OptionType::kString, std::nullopt,
                      "Directory of the disk buffer (created if missing).")),
      bounded(option("max_bytes", OptionType::kSize, "1GiB", "Disk buffer size limit."), 1,
              kUnbounded),
      choices(option("sync", OptionType::kEnum, "interval", "When the buffer is fsync'ed."),
              {"always", "interval", "none"}),
      choices(option("when_full", OptionType::kEnum, "pause",
                     "What happens when the disk buffer is full."),
              {"pause", "drop_oldest"}),
  };
  return table;
}

const OptionTable& ringTable() {
  static const OptionTable table = {
      bounded(option("capacity", OptionType::kInt, "4096",
                     "Slots in the ingestion ring (a power of two)."),
              2, 1 << 20),
  };
  return table;
}

const OptionTable& retryTable() {
  static const OptionTable table = {
      bounded(option("max_attempts", OptionType::kInt, "0", "Attempts per request; 0 = forever."),
              0, kUnbounded),
      bounded(option("initial_backoff", OptionType::kDuration, "1s", "First retry delay."), 1,
              kUnbounded),
      bounded(option("max_backoff", OptionType::kDuration, "60s", "Longest retry delay."), 1,
              kUnbounded),
  };
  return table;
}

const OptionTable& bufferTable() {
  static const OptionTable table = {
      // The rule's figures come from memory.h, where planMemory() applies them.
      option("max_bytes", OptionType::kString, "auto",
             fmt::format("Memory held for this output before inputs are paused: a size, or "
                         "auto (a share of the memory ferry may use: 1/{} of the cgroup limit, "
                         "else {}, split among the outputs).",
                         kLimitShareDivisor, formatSize(static_cast<int64_t>(kDefaultTotal)))),
  };
  return table;
}

const OptionSpec& flushIntervalSpec() {
  static const OptionSpec spec =
      bounded(option("flush_interval", OptionType::kDuration, std::nullopt,
                     "Send a partial request after this long; default: the plugin's."),
              1, kUnbounded);
  return spec;
}

constexpr std::array<std::string_view, 4> kTopLevelKeys{"service", "inputs", "filters", "outputs"};
constexpr std::array<std::string_view, 3> kServiceNested{"http", "storage", "ring"};
constexpr std::array<std::string_view, 2> kInputKeys{"type", "name"};
constexpr std::array<std::string_view, 3> kFilterKeys{"type", "name", "match"};
constexpr std::array<std::string_view, 7> kOutputKeys{
    "type", "name", "match", "retry", "buffer", "concurrency", "flush_interval"};
constexpr int64_t kMaxConcurrency = 1024;

const MapEntry* findEntry(const std::vector<MapEntry>& entries, std::string_view key) {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

int64_t number(const std::map<std::string, OptionValue>& values, const std::string& key) {
  const auto it = values.find(key);
  return it != values.end() ? it->second.number : 0;
}

const std::string& text(const std::map<std::string, OptionValue>& values, const std::string& key) {
  static const std::string kEmpty;
  const auto it = values.find(key);
  return it != values.end() ? it->second.text : kEmpty;
}

bool isValidListen(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return false;
  const auto port = parseInt(listen.substr(colon + 1));
  return port && *port >= 0 && *port <= 65535 &&
         listen.substr(colon + 1).find_first_of("+- ") == std::string_view::npos;
}

// In file order, as a user reads them; problems on one line keep the order they were found.
std::vector<Diagnostic> sortedByLine(std::vector<Diagnostic> diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  return diagnostics;
}

// A component parsed from one list item, before it is named.
struct Parsed {
  Section section;
  OutputCommon common;
  std::string path;
  bool named = false;
};

class Loader {
public:
  Loader(const ConfigSource& source, const TableLookup& tables, const EnvLookup& env)
      : source_(source), tables_(tables), v_(source.name, env) {}

  Config run() {
    Config config;
    config.source = source_.name;
    config.config_dir = source_.dir;
    const YAML::Node root = loadBoundedYaml(source_.name, source_.text);
    if (root && !root.IsNull() && !root.IsMap()) {
      v_.error(Validator::lineOf(root, 1), "",
               "expected a map with the keys service, inputs, filters and outputs");
      throw ConfigError(v_.takeDiagnostics());
    }
    const auto top = v_.entries(root, "", 1);
    v_.options(top, OptionTable{}, "", 1, kTopLevelKeys, "the configuration");
    if (const MapEntry* e = findEntry(top, "service")) loadService(*e, config.service);

    auto list = [&](const char* key, const std::string& kind,
                    std::span<const std::string_view> reserved) {
      const MapEntry* e = findEntry(top, key);
      return e != nullptr ? loadList(*e, kind, reserved) : std::vector<Parsed>{};
    };
    for (auto& p : list("inputs", "input", kInputKeys))
      config.inputs.push_back(std::move(p.section));
    for (auto& p : list("filters", "filter", kFilterKeys)) {
      config.filters.push_back(std::move(p.section));
    }
    for (auto& p : list("outputs", "output", kOutputKeys)) {
      config.outputs.push_back(OutputSection{std::move(p.section), p.common});
    }

    // Checked only when the lists themselves were readable, so one mistake is one message.
    const bool readable = !v_.hasErrors();
    if (readable && config.inputs.empty()) {
      v_.error(1, "inputs", "at least one input is required");
    }
    if (readable && config.outputs.empty()) {
      v_.error(1, "outputs", "at least one output is required");
    }
    if (v_.hasErrors()) throw ConfigError(sortedByLine(v_.takeDiagnostics()));
    return config;
  }

private:
  void loadService(const MapEntry& entry, ServiceConfig& service) {
    const auto entries = v_.entries(entry.value, "service", entry.line);
    const auto values =
        v_.options(entries, serviceTable(), "service", entry.line, kServiceNested, "service");
    service.log_level = text(values, "log_level");
    service.log_format = text(values, "log_format");
    service.grace_period_ms = static_cast<uint64_t>(number(values, "grace_period"));
    service.plugin_dir = text(values, "plugin_dir");

    if (const MapEntry* http = findEntry(entries, "http"); http && !http->value.IsNull()) {
      const auto nested = v_.entries(http->value, "service.http", http->line);
      const auto h =
          v_.options(nested, httpTable(), "service.http", http->line, {}, "service.http");
      if (h.contains("listen")) {
        service.http_listen = text(h, "listen");
        if (!isValidListen(*service.http_listen)) {
          const MapEntry* listen = findEntry(nested, "listen");
          v_.error(
              listen ? listen->line : http->line, "service.http.listen",
              fmt::format("'{}' is not host:port (e.g. 127.0.0.1:2020)", *service.http_listen));
        }
      }
      service.http_unhealthy_after_ms = static_cast<uint64_t>(number(h, "unhealthy_after"));
      if (const auto hc = h.find("health_check"); hc != h.end())
        service.http_health_check = hc->second.flag;
      service.http_hc_errors_count = static_cast<uint64_t>(number(h, "hc_errors_count"));
      service.http_hc_retry_failure_count =
          static_cast<uint64_t>(number(h, "hc_retry_failure_count"));
      service.http_hc_period_ms = static_cast<uint64_t>(number(h, "hc_period"));
    }
    if (const MapEntry* storage = findEntry(entries, "storage");
        storage && !storage->value.IsNull()) {
      const auto nested = v_.entries(storage->value, "service.storage", storage->line);
      const auto s = v_.options(nested, storageTable(), "service.storage", storage->line, {},
                                "service.storage");
      if (s.contains("path")) service.storage_path = text(s, "path");
      service.storage_max_bytes = static_cast<uint64_t>(number(s, "max_bytes"));
      service.storage_sync = text(s, "sync");
      service.storage_when_full = text(s, "when_full");
    }
    if (const MapEntry* ring = findEntry(entries, "ring")) {
      const auto nested = v_.entries(ring->value, "service.ring", ring->line);
      const auto r =
          v_.options(nested, ringTable(), "service.ring", ring->line, {}, "service.ring");
      const int64_t capacity = number(r, "capacity");
      if (capacity > 0 && (capacity & (capacity - 1)) != 0) {
        const MapEntry* c = findEntry(nested, "capacity");
        v_.error(c ? c->line : ring->line, "service.ring.capacity",
                 fmt::format("{} is not a power of two (e.g. 1024, 4096, 16384)", capacity));
      } else if (capacity > 0) {
        service.ring_capacity = static_cast<uint32_t>(capacity);
      }
    }
  }

  // inputs/filters/outputs: a list of maps, each with a `type`.
  std::vector<Parsed> loadList(const MapEntry& entry, const std::string& kind,
                               std::span<const std::string_view> reserved) {
    std::vector<Parsed> out;
    const YAML::Node& list = entry.value;
    if (!list || list.IsNull()) return out;
    if (!list.IsSequence()) {
      v_.error(entry.line, entry.key,
               fmt::format("expected a list of {}s (\"- type: ...\" items)", kind));
      return out;
    }
    int index = 0;
    for (const auto& item : list) {
      const std::string path = fmt::format("{}[{}]", entry.key, index++);
      if (auto p = loadSection(item, kind, path, entry.line, reserved))
        out.push_back(std::move(*p));
    }
    nameSections(out, entry.key);
    return out;
  }

  std::optional<Parsed> loadSection(const YAML::Node& item, const std::string& kind,
                                    const std::string& path, int list_line,
                                    std::span<const std::string_view> reserved) {
    const int line = Validator::lineOf(item, list_line);
    if (!item.IsMap()) {
      v_.error(line, path,
               fmt::format("expected a map with a 'type' key, got {}",
                           item.IsNull() ? "nothing" : "a scalar or a list"));
      return std::nullopt;
    }
    const auto entries = v_.entries(item, path, line);
    Parsed p;
    p.path = path;
    Section& s = p.section;
    s.kind = kind;
    s.file = source_.name;
    s.line = line;
    s.path = path;
    for (const auto& e : entries)
      s.key_lines.emplace(e.key, e.line);

    const MapEntry* type = findEntry(entries, "type");
    if (type == nullptr) {
      v_.error(line, joinPath(path, "type"), fmt::format("missing 'type' of {}", kind));
    } else if (auto t = v_.scalar(type->value, joinPath(path, "type"), type->line)) {
      s.type = *t;
      if (s.type.empty() && writtenNull(type->value)) {
        // `type: null` as Fluent Bit users write it: YAML reads the word as null, the user
        // means the null output.
        if (kind == "output") {
          s.type = "null";
        } else {
          v_.error(type->line, joinPath(path, "type"),
                   fmt::format("{}s have no null type (null names an output)", kind));
        }
      } else if (s.type.empty()) {
        v_.error(type->line, joinPath(path, "type"), "must not be empty");
      }
    }
    if (const MapEntry* name = findEntry(entries, "name")) {
      if (auto n = v_.scalar(name->value, joinPath(path, "name"), name->line)) {
        if (n->empty()) v_.error(name->line, joinPath(path, "name"), "must not be empty");
        s.name = *n;
        p.named = true;
      }
    }
    s.match = "*";
    if (kind != "input") {
      if (const MapEntry* match = findEntry(entries, "match")) {
        if (auto m = v_.scalar(match->value, joinPath(path, "match"), match->line)) {
          if (m->empty()) v_.error(match->line, joinPath(path, "match"), "must not be empty");
          s.match = *m;
        }
      }
    } else {
      s.match.clear();
    }

    if (!s.type.empty()) {
      s.table = tables_(kind, s.type);
      if (s.table == nullptr) {
        v_.error(type->line, joinPath(path, "type"),
                 fmt::format("unknown {} type '{}'", kind, s.type));
      } else {
        s.values = v_.options(entries, *s.table, path, line, reserved,
                              fmt::format("{} '{}'", kind, s.type));
      }
    }
    if (kind == "output") loadOutputCommon(entries, path, p.common);
    return p;
  }

  // A null node written as a word (null, Null, NULL, ~) rather than left empty: only the
  // text at the node's position tells them apart.
  bool writtenNull(const YAML::Node& node) const {
    if (!node.IsNull()) return false;
    const auto pos = node.Mark().pos;
    if (pos < 0 || static_cast<size_t>(pos) >= source_.text.size()) return false;
    const std::string_view rest = std::string_view(source_.text).substr(static_cast<size_t>(pos));
    for (const std::string_view word : {"null", "Null", "NULL", "~"}) {
      if (!rest.starts_with(word)) continue;
      const std::string_view after = rest.substr(word.size());
      return after.empty() || after.find_first_of(" \t\r\n#,}]") == 0;
    }
    return false;
  }

  void loadOutputCommon(const std::vector<MapEntry>& entries, const std::string& path,
                        OutputCommon& common) {
    if (const MapEntry* retry = findEntry(entries, "retry")) {
      const std::string at = joinPath(path, "retry");
      const auto nested = v_.entries(retry->value, at, retry->line);
      const auto r = v_.options(nested, retryTable(), at, retry->line, {}, "retry");
      common.retry.max_attempts = static_cast<uint64_t>(number(r, "max_attempts"));
      common.retry.initial_backoff_ms = static_cast<uint64_t>(number(r, "initial_backoff"));
      common.retry.max_backoff_ms = static_cast<uint64_t>(number(r, "max_backoff"));
      if (r.contains("initial_backoff") && r.contains("max_backoff") &&
          common.retry.initial_backoff_ms > common.retry.max_backoff_ms) {
        v_.error(retry->line, at,
                 fmt::format("initial_backoff ({}) is longer than max_backoff ({})",
                             formatDuration(number(r, "initial_backoff")),
                             formatDuration(number(r, "max_backoff"))));
      }
    }
    if (const MapEntry* buffer = findEntry(entries, "buffer")) {
      const std::string at = joinPath(path, "buffer");
      const auto nested = v_.entries(buffer->value, at, buffer->line);
      const auto b = v_.options(nested, bufferTable(), at, buffer->line, {}, "buffer");
      const std::string& max = text(b, "max_bytes");
      if (max != "auto") {
        auto size = parseSize(max);
        if (size && *size >= 1) {
          common.buffer_max_bytes = static_cast<uint64_t>(*size);
          common.buffer_auto = false;
        } else {
          const MapEntry* key = findEntry(nested, "max_bytes");
          v_.error(
              key ? key->line : buffer->line, joinPath(at, "max_bytes"),
              fmt::format("'{}' is neither 'auto' nor a size (512KiB, 64MiB, 1GiB, bytes)", max));
        }
      }
    }
    if (const MapEntry* concurrency = findEntry(entries, "concurrency")) {
      const std::string at = joinPath(path, "concurrency");
      if (auto c = v_.scalar(concurrency->value, at, concurrency->line)) {
        if (c->empty() || *c == "auto") {
          common.concurrency = 0;
        } else if (auto n = parseInt(*c); n && *n >= 1 && *n <= kMaxConcurrency) {
          common.concurrency = static_cast<uint32_t>(*n);
        } else {
          v_.error(concurrency->line, at,
                   fmt::format("'{}' is neither 'auto' nor a number of requests between 1 and {}",
                               *c, kMaxConcurrency));
        }
      }
    }
    if (const MapEntry* flush = findEntry(entries, "flush_interval")) {
      const std::string at = joinPath(path, "flush_interval");
      if (auto f = v_.value(flush->value, flushIntervalSpec(), at, flush->line)) {
        common.flush_interval_ms = static_cast<uint64_t>(f->number);
      }
    }
  }

  // Unnamed sections are called "<type>", or "<type>.<n>" when their type appears more than
  // once in the list (n counts every section of that type, named or not, from 0 in config
  // order, so a name does not change when another section gets an explicit one). Names are
  // metric labels: they must be unique within the list.
  void nameSections(std::vector<Parsed>& parsed, const std::string& list_key) {
    std::map<std::string, int> total;
    for (const auto& p : parsed)
      ++total[p.section.type];
    std::map<std::string, int> seen;
    for (auto& p : parsed) {
      const int n = seen[p.section.type]++;
      if (p.named) continue;
      p.section.name =
          total[p.section.type] > 1 ? fmt::format("{}.{}", p.section.type, n) : p.section.type;
    }
    std::map<std::string, const Parsed*> by_name;
    for (const auto& p : parsed) {
      if (p.section.name.empty()) continue;
      const auto [it, inserted] = by_name.emplace(p.section.name, &p);
      if (!inserted) {
        v_.error(p.section.line, p.named ? joinPath(p.path, "name") : p.path,
                 fmt::format("duplicate {} name '{}' (also used by {} on line {})", list_key,
                             p.section.name, it->second->path, it->second->section.line));
      }
    }
  }

  const ConfigSource& source_;
  const TableLookup& tables_;
  Validator v_;
};

} // namespace

Config load(const ConfigSource& source, const TableLookup& tables, const EnvLookup& env) {
  return Loader(source, tables, env).run();
}

} // namespace ferry::config
