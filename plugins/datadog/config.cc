// Datadog sink options: the option table (the one place options are declared), validation
// against the vendor's limits, the intake URL per Datadog site and the default hostname.
#include "config.h"
#include "ferry/core/strings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>

#include "ferry/sink/aws.h"
#include "ferry/sink/ecs.h"
#include "ferry/sink/http.h"

namespace ferry::datadog {
namespace {

// The one place options are declared: their defaults and bounds are read from here.
const ferry_plugin_option kOptions[] = {
    {.name = "api_key",
     .type = FERRY_OPTION_STRING,
     .required = 1,
     .secret = 1,
     .doc = "Datadog API key (sent as DD-API-KEY; never logged)."},
    // An enum, so that `ferry validate` refuses an unknown site with file and line; keep it in
    // step with kSites below.
    {.name = "site",
     .type = FERRY_OPTION_ENUM,
     .default_value = "datadoghq.com",
     .enum_values = "datadoghq.com|us3.datadoghq.com|us5.datadoghq.com|datadoghq.eu|"
                    "ap1.datadoghq.com|ap2.datadoghq.com|uk1.datadoghq.com|ddog-gov.com|"
                    "us2.ddog-gov.com",
     .doc = "Datadog site; the intake is https://http-intake.logs.<site>/api/v2/logs."},
    {.name = "url",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Full intake URL, overriding site (tests, proxies); http:// is allowed."},
    {.name = "service",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "`service` of every entry (omitted when empty or when the record has its own)."},
    {.name = "source",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "`ddsource` of every entry (omitted when empty or when the record has its own)."},
    {.name = "tags",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "`ddtags` of every entry, e.g. \"env:prod,team:x\" (omitted when empty)."},
    {.name = "hostname",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "`hostname` of every entry; default: the ECS task id under ECS, else the host name."},
    {.name = "auto_hostname",
     .type = FERRY_OPTION_BOOL,
     .default_value = "true",
     .doc = "Without `hostname`: true sends that default; false sends no `hostname` (Datadog then "
            "takes the host from the record), as Fluent Bit does without dd_hostname."},
    {.name = "message_key",
     .type = FERRY_OPTION_STRING,
     .default_value = "log",
     .doc = "Record field that becomes `message` (a line record's line always does)."},
    {.name = "compression",
     .type = FERRY_OPTION_ENUM,
     .default_value = "gzip",
     .enum_values = "gzip|zstd|none",
     .doc = "Request body compression (Content-Encoding)."},
    sink::kCompressionLevelOption,
    sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
    {.name = "parse_json_message",
     .type = FERRY_OPTION_BOOL,
     .default_value = "false",
     .doc = "When the message is a JSON object, send its members as attributes and its "
            "message/msg member as the message."},
    {.name = "status_from_level",
     .type = FERRY_OPTION_BOOL,
     .default_value = "true",
     .doc = "Send a `level` or `severity` field also as `status`; false sends the fields as they "
            "are (Datadog's status remapper still reads them), as Fluent Bit does."},
    {.name = "provider",
     .type = FERRY_OPTION_ENUM,
     .default_value = "none",
     .enum_values = "none|ecs",
     .doc = "ecs: move the ECS fields FireLens adds (container_id, container_name, "
            "container_image, ecs_cluster, ecs_task_arn, ecs_task_definition) into `ddtags`, as "
            "Fluent Bit's `provider ecs` does."},
    // Datadog's own limits are the upper bounds: a user may only tighten them.
    {.name = "batch_max_entries",
     .type = FERRY_OPTION_INT,
     .default_value = "1000",
     .min_value = 1,
     .max_value = static_cast<int64_t>(kMaxEntries),
     .doc = "Entries per request (Datadog allows at most 1,000)."},
    {.name = "batch_max_bytes",
     .type = FERRY_OPTION_SIZE,
     .default_value = "5000000",
     .min_value = static_cast<int64_t>(kMinPayloadBytes),
     .max_value = static_cast<int64_t>(kMaxPayloadBytes),
     .doc = "Uncompressed JSON bytes per request (Datadog allows at most 5 MB)."},
};

// Datadog's sites (docs.datadoghq.com/getting_started/site); the intake host is
// http-intake.logs.<site>.
constexpr std::array<std::string_view, 9> kSites = {
    "datadoghq.com",     "us3.datadoghq.com", "us5.datadoghq.com",
    "datadoghq.eu",      "ap1.datadoghq.com", "ap2.datadoghq.com",
    "uk1.datadoghq.com", "ddog-gov.com",      "us2.ddog-gov.com"};

using core::trim;

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "datadog",
    .description = "Sends records to the Datadog Logs HTTP intake (v2), compressed, in batches "
                   "of up to 1,000 entries / 5 MB.",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::expected<std::string, std::string> intakeUrlForSite(std::string_view site) {
  std::string s = core::toLower(trim(site));
  if (s.starts_with("app.")) s.erase(0, 4); // users copy the site from the app's address bar
  if (std::find(kSites.begin(), kSites.end(), s) == kSites.end()) {
    std::string known;
    for (const auto k : kSites)
      known += fmt::format("{}{}", known.empty() ? "" : ", ", k);
    return std::unexpected(fmt::format("site: unknown Datadog site '{}' (known: {})", site, known));
  }
  return fmt::format("https://http-intake.logs.{}/api/v2/logs", s);
}

std::expected<DatadogConfig, std::string> parseConfig(const sdk::Options& options) {
  if (auto ok = options.check(); !ok) return std::unexpected(ok.error());
  DatadogConfig c;
  c.api_key = std::string(trim(options.string("api_key")));
  if (auto ok = sink::checkHeaderValue("api_key", c.api_key); !ok)
    return std::unexpected(ok.error());

  const std::string url = std::string(trim(options.string("url")));
  if (!url.empty()) {
    auto parsed = sink::parseHttpUrl("url", url, sink::UrlRules{.allow_query = true});
    if (!parsed) return std::unexpected(parsed.error());
    c.url = parsed->text();
  } else {
    std::string site = options.string("site");
    // `site: ${DD_SITE}` with DD_SITE="": the table's default, as if unset.
    if (trim(site).empty()) site = sink::findPluginOption(kDescriptor, "site")->default_value;
    auto site_url = intakeUrlForSite(site);
    if (!site_url) return std::unexpected(site_url.error());
    c.url = std::move(*site_url);
  }

  c.service = options.string("service");
  c.source = options.string("source");
  c.tags = std::string(trim(options.string("tags")));
  c.hostname = std::string(trim(options.string("hostname")));
  c.auto_hostname = options.boolean("auto_hostname");
  c.message_key = options.string("message_key");
  if (c.message_key.empty()) return std::unexpected("message_key: must not be empty");

  auto compression = codec::parseCompression(options.string("compression"));
  if (!compression) return std::unexpected("compression: " + compression.error());
  c.compression = *compression;
  auto level = codec::checkCompressionLevel(c.compression, options.integer("compression_level"));
  if (!level) return std::unexpected(level.error());
  c.compression_level = *level;

  c.timeout_ms = static_cast<uint64_t>(options.integer("timeout"));
  c.parse_json_message = options.boolean("parse_json_message");
  c.status_from_level = options.boolean("status_from_level");
  auto provider = parseProvider(trim(options.string("provider")));
  if (!provider) return std::unexpected(provider.error());
  c.provider = *provider;
  // The table bounds both by Datadog's limits.
  c.max_entries = static_cast<size_t>(options.integer("batch_max_entries"));
  c.max_payload_bytes = static_cast<size_t>(options.integer("batch_max_bytes"));
  return c;
}

std::string defaultHostname() {
  return sink::taskIdOrHostname(sink::processEnv, sink::fetchMetadata, kEcsMetadataTimeout);
}

} // namespace ferry::datadog
