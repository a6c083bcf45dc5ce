// Datadog sink options: the option table (the one place options are declared, each with the
// field it fills), validation against the vendor's limits, the intake URL per Datadog site and
// the default hostname.
#include "config.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "ferry/core/strings.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/ecs.h"
#include "ferry/sink/options_bind.h"

namespace ferry::datadog {
namespace {

using C = DatadogConfig;

// The one place options are declared: their defaults, bounds and fields are read from here.
constexpr sink::BoundOption<C> kBound[] = {
    {{.name = "api_key",
      .type = FERRY_OPTION_STRING,
      .required = 1,
      .secret = 1,
      .doc = "Datadog API key (sent as DD-API-KEY; never logged)."},
     sink::field<&C::api_key, {.trim = true, .header_value = true}>},
    // An enum, so that `ferry validate` refuses an unknown site with file and line. Datadog's
    // sites (docs.datadoghq.com/getting_started/site); the intake host is
    // http-intake.logs.<site>. `site: ${DD_SITE}` with DD_SITE="": the default, as if unset.
    {{.name = "site",
      .type = FERRY_OPTION_ENUM,
      .default_value = "datadoghq.com",
      .enum_values = "datadoghq.com|us3.datadoghq.com|us5.datadoghq.com|datadoghq.eu|"
                     "ap1.datadoghq.com|ap2.datadoghq.com|uk1.datadoghq.com|ddog-gov.com|"
                     "us2.ddog-gov.com",
      .doc = "Datadog site; the intake is https://http-intake.logs.<site>/api/v2/logs."},
     sink::field<&C::site, {.blank_is_default = true}>},
    {sink::stringOption("url",
                        "Full intake URL, overriding site (tests, proxies); http:// is allowed."),
     sink::url<&C::url, {.allow_query = true}>},
    {sink::stringOption(
         "service",
         "`service` of every entry (omitted when empty or when the record has its own)."),
     sink::field<&C::service>},
    {sink::stringOption(
         "source",
         "`ddsource` of every entry (omitted when empty or when the record has its own)."),
     sink::field<&C::source>},
    {sink::stringOption("tags",
                        "`ddtags` of every entry, e.g. \"env:prod,team:x\" (omitted when empty)."),
     sink::field<&C::tags, {.trim = true}>},
    {sink::stringOption(
         "hostname",
         "`hostname` of every entry; default: the ECS task id under ECS, else the host name."),
     sink::field<&C::hostname, {.trim = true}>},
    {{.name = "auto_hostname",
      .type = FERRY_OPTION_BOOL,
      .default_value = "true",
      .doc = "Without `hostname`: true sends that default; false sends no `hostname` (Datadog "
             "then takes the host from the record), as Fluent Bit does without dd_hostname."},
     sink::field<&C::auto_hostname>},
    {{.name = "message_key",
      .type = FERRY_OPTION_STRING,
      .default_value = "log",
      .doc = "Record field that becomes `message` (a line record's line always does)."},
     sink::field<&C::message_key, {.not_empty = true}>},
    {{.name = "compression",
      .type = FERRY_OPTION_ENUM,
      .default_value = "gzip",
      .enum_values = "gzip|zstd|none",
      .doc = "Request body compression (Content-Encoding)."},
     sink::parsed<&C::compression, &codec::parseCompression>},
    {sink::kCompressionLevelOption, sink::compressionLevel<&C::compression_level, &C::compression>},
    {sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
     sink::field<&C::timeout_ms>},
    {{.name = "parse_json_message",
      .type = FERRY_OPTION_BOOL,
      .default_value = "false",
      .doc = "When the message is a JSON object, send its members as attributes and its "
             "message/msg member as the message."},
     sink::field<&C::parse_json_message>},
    {{.name = "status_from_level",
      .type = FERRY_OPTION_BOOL,
      .default_value = "true",
      .doc = "Send a `level` or `severity` field also as `status`; false sends the fields as "
             "they are (Datadog's status remapper still reads them), as Fluent Bit does."},
     sink::field<&C::status_from_level>},
    {{.name = "provider",
      .type = FERRY_OPTION_ENUM,
      .default_value = "none",
      .enum_values = "none|ecs",
      .doc = "ecs: move the ECS fields FireLens adds (container_id, container_name, "
             "container_image, ecs_cluster, ecs_task_arn, ecs_task_definition) into `ddtags`, "
             "as Fluent Bit's `provider ecs` does."},
     sink::choice<&C::provider, std::array{Provider::kNone, Provider::kEcs}>},
    // Datadog's own limits are the upper bounds: a user may only tighten them.
    {{.name = "batch_max_entries",
      .type = FERRY_OPTION_INT,
      .default_value = "1000",
      .min_value = 1,
      .max_value = static_cast<int64_t>(kMaxEntries),
      .doc = "Entries per request (Datadog allows at most 1,000)."},
     sink::field<&C::max_entries>},
    {{.name = "batch_max_bytes",
      .type = FERRY_OPTION_SIZE,
      .default_value = "5000000",
      .min_value = static_cast<int64_t>(kMinPayloadBytes),
      .max_value = static_cast<int64_t>(kMaxPayloadBytes),
      .doc = "Uncompressed JSON bytes per request (Datadog allows at most 5 MB)."},
     sink::field<&C::max_payload_bytes>},
};
constexpr auto kOptions = sink::optionRows(kBound);

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "datadog",
    .description = "Sends records to the Datadog Logs HTTP intake (v2), compressed, in batches "
                   "of up to 1,000 entries / 5 MB.",
    .options = kOptions.data(),
    .option_count = kOptions.size()};

std::expected<std::string, std::string> intakeUrlForSite(std::string_view site) {
  std::string s = core::toLower(core::trim(site));
  if (s.starts_with("app.")) s.erase(0, 4); // users copy the site from the app's address bar
  const auto known = sink::choicesOf(*sink::findPluginOption(kDescriptor, "site"));
  if (std::find(known.begin(), known.end(), s) == known.end()) {
    return std::unexpected(
        fmt::format("site: unknown Datadog site '{}' (known: {})", site, fmt::join(known, ", ")));
  }
  return fmt::format("https://http-intake.logs.{}/api/v2/logs", s);
}

std::expected<DatadogConfig, std::string> parseConfig(const sdk::Options& options) {
  DatadogConfig c;
  if (auto ok = sink::readOptions(options, kBound, c); !ok) return std::unexpected(ok.error());
  if (c.url.empty()) { // no `url`: the site's intake
    auto site_url = intakeUrlForSite(c.site);
    if (!site_url) return std::unexpected(site_url.error());
    c.url = std::move(*site_url);
  }
  return c;
}

std::string defaultHostname() {
  return sink::taskIdOrHostname(sink::processEnv, sink::fetchMetadata, kEcsMetadataTimeout);
}

} // namespace ferry::datadog
