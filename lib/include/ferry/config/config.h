// The whole configuration (SPEC.md "Configuration"): where it comes from, its schema, and
// the errors it reports (file, line and key; all of them collected before failing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/config/options.h"

namespace ferry::config {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  std::string key; // dotted path, e.g. "outputs[1].retry.max_backoff"
  std::string message;
  std::string format() const; // "file:line: key: message"
};

// A component's own check failed with `message`, written "option: reason" (plugins) or
// free text: the diagnostic names the section's file, the option's line and its full key
// ("outputs[1].bucket"), or the section's line and path when no option is named.
Diagnostic sectionDiagnostic(const Section& section, std::string_view message);

// Thrown by load(); carries every problem found.
class ConfigError : public std::runtime_error {
public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

private:
  std::vector<Diagnostic> diagnostics_;
};

struct RetryPolicy {
  uint64_t max_attempts = 0; // 0 = forever
  uint64_t initial_backoff_ms = 1000;
  uint64_t max_backoff_ms = 60000;
};

// Keys every output takes besides its plugin's own options.
struct OutputCommon {
  RetryPolicy retry;
  // `buffer.max_bytes`; with buffer_auto (the default, `auto`) planMemory() (memory.h) sets it
  // from the memory ferry may use. The value here is what an output gets without that plan.
  uint64_t buffer_max_bytes = 24ull << 20;
  bool buffer_auto = true;
  uint32_t concurrency = 0;       // 0 = auto
  uint64_t flush_interval_ms = 0; // 0 = the plugin's default
};

struct ServiceConfig {
  std::string log_level = "info";
  std::string log_format = "text";        // text|json
  std::optional<std::string> http_listen; // host:port
  uint64_t http_unhealthy_after_ms = 60000;
  // Fluent Bit's Health_Check for /api/v1/health: unhealthy while more than hc_errors_count
  // failed requests or more than hc_retry_failure_count given-up requests happened in the
  // last hc_period.
  bool http_health_check = false;
  uint64_t http_hc_errors_count = 5;
  uint64_t http_hc_retry_failure_count = 5;
  uint64_t http_hc_period_ms = 60000;
  std::optional<std::string> storage_path;
  uint64_t storage_max_bytes = 1ull << 30;
  std::string storage_sync = "interval";   // always|interval|none
  std::string storage_when_full = "pause"; // pause|drop_oldest
  uint32_t ring_capacity = 4096;           // power of two
  uint64_t grace_period_ms = 25000;
  std::string plugin_dir; // "" = ../lib/ferry/plugins beside the binary
};

struct OutputSection {
  Section section;
  OutputCommon common;
};

struct Config {
  std::string source;     // file path, "FERRY_CONFIG_YAML" or "<embedded default>"
  std::string config_dir; // directory of the file (for tail.db without storage); "" if none
  ServiceConfig service;
  std::vector<Section> inputs;
  std::vector<Section> filters;
  std::vector<OutputSection> outputs;
};

// Looks up the option table of a component type; nullptr = unknown type (an error naming
// the type). kind is "input", "filter" or "output".
using TableLookup =
    std::function<const OptionTable*(const std::string& kind, const std::string& type)>;
// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup processEnv();

// Bounds on the configuration text (files, FERRY_CONFIG_YAML and converted Fluent Bit files):
// far above any real config, they stop /dev/zero and alias bombs before memory grows.
inline constexpr size_t kMaxConfigBytes = 4u << 20;
// Nodes of the YAML document with every alias expanded (what validation walks).
inline constexpr uint64_t kMaxYamlNodes = 100'000;

// Where the YAML comes from: SPEC.md's order (-c FILE, FERRY_CONFIG, FERRY_CONFIG_YAML,
// the embedded default).
struct ConfigSource {
  std::string name; // for messages
  std::string dir;
  std::string text;
};
// Throws ConfigError when the chosen file cannot be read.
ConfigSource chooseSource(const std::optional<std::string>& cli_path, const EnvLookup& env);
// The embedded default (forward on the unix socket and TCP 24224, stdin when it is not a
// terminal, stdout output); its socket path depends on what is writable.
std::string embeddedDefault(const EnvLookup& env, bool stdin_is_terminal);
// The same with the writability of /var/run given (for tests; the above asks access(2)).
std::string embeddedDefault(const EnvLookup& env, bool stdin_is_terminal, bool var_run_writable);

// Parses, interpolates, validates. Throws ConfigError with every problem found.
Config load(const ConfigSource& source, const TableLookup& tables, const EnvLookup& env);

// The resolved config as YAML, secrets masked as "********" (what `ferry validate` prints).
std::string renderResolved(const Config& config);

} // namespace ferry::config
