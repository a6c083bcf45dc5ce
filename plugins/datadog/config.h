// Datadog sink options: the declared option table, validation, the intake URL per site and
// the default hostname (ECS task id or gethostname). Vendor limits of the Logs HTTP intake
// v2 (1,000 entries, 5 MB uncompressed per request, 1 MB per entry) clamp user settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "ferry/codec/compress.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "remap.h"

namespace ferry::datadog {

// Datadog Logs intake v2 limits (MB = 10^6 bytes, as the API documents them).
inline constexpr size_t kMaxEntries = 1000;           // array entries per request
inline constexpr size_t kMaxPayloadBytes = 5'000'000; // uncompressed JSON per request
inline constexpr size_t kMaxEntryBytes = 1'000'000;   // one serialised entry
// The smallest request budget a user may set: one entry must always fit.
inline constexpr size_t kMinPayloadBytes = 4096;
// Requests in flight: the runner's adaptive concurrency grows up to this.
inline constexpr uint32_t kMaxConcurrency = 64;
inline constexpr uint64_t kDefaultTimeoutMs = 30'000;
// The ECS task metadata lookup happens once at start-up and must not hold it up for long.
inline constexpr std::chrono::milliseconds kEcsMetadataTimeout{2'000};

// The `type: datadog` descriptor (type name, description, option table).
extern const ferry_plugin_descriptor kDescriptor;

struct DatadogConfig;

// What shapes each entry: the encoder's settings, and the options that fill them.
struct EncoderSettings {
  std::string message_key = "log";
  std::string service;  // empty: no `service`
  std::string source;   // empty: no `ddsource`
  std::string tags;     // empty: no `ddtags`
  std::string hostname; // empty: no `hostname` (as an option: see auto_hostname)
  bool parse_json_message = false;
  bool status_from_level = true;       // a level/severity field is also sent as `status`
  Provider provider = Provider::kNone; // kEcs: the ECS fields become ddtags (remap.h)
  size_t max_entries = kMaxEntries;
  size_t max_payload_bytes = kMaxPayloadBytes;
  size_t max_entry_bytes = kMaxEntryBytes;

  // The configured settings with the hostname to send, within the intake's limits.
  static EncoderSettings fromConfig(const DatadogConfig& config, std::string hostname);
};

struct DatadogConfig : EncoderSettings {
  std::string api_key; // secret: never logged, never in an error message
  std::string site;
  std::string url; // the intake endpoint (from `url`, else from `site`)
  // Without `hostname`: true resolves one with defaultHostname(), false sends none.
  bool auto_hostname = true;
  codec::Compression compression = codec::Compression::kGzip;
  int compression_level = 0; // 0 = the codec's default
  uint64_t timeout_ms = kDefaultTimeoutMs;
};

// "datadoghq.eu" → "https://http-intake.logs.datadoghq.eu/api/v2/logs". Accepts the
// documented sites (case-insensitive, with or without the "app." prefix); anything else is
// an error listing them.
std::expected<std::string, std::string> intakeUrlForSite(std::string_view site);

// Validates the options the host passes (already type-checked against kDescriptor) and
// applies the vendor limits. Errors name the option.
std::expected<DatadogConfig, std::string> parseConfig(const sdk::Options& options);

// The ECS task id, else the host's name: sink::taskIdOrHostname with the process environment.
std::string defaultHostname();

} // namespace ferry::datadog
