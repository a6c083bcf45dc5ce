// Datadog sink options: the option table (the one place options are declared), validation
// against the vendor's limits, the intake URL per Datadog site and the default hostname.
#include "config.h"
#include "ferry/core/strings.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>

#include <rapidjson/document.h>

#include "ferry/net/http_client.h"

namespace ferry::datadog {
namespace {

const ferry_plugin_option kOptions[] = {
    {"api_key", FERRY_OPTION_STRING, nullptr, 1, 1, nullptr, 1, 0,
     "Datadog API key (sent as DD-API-KEY; never logged)."},
    // An enum, so that `ferry validate` refuses an unknown site with file and line; keep it in
    // step with kSites below.
    {"site", FERRY_OPTION_ENUM, "datadoghq.com", 0, 0,
     "datadoghq.com|us3.datadoghq.com|us5.datadoghq.com|datadoghq.eu|ap1.datadoghq.com|"
     "ap2.datadoghq.com|uk1.datadoghq.com|ddog-gov.com|us2.ddog-gov.com",
     1, 0, "Datadog site; the intake is https://http-intake.logs.<site>/api/v2/logs."},
    {"url", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Full intake URL, overriding site (tests, proxies); http:// is allowed."},
    {"service", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "`service` of every entry (omitted when empty or when the record has its own)."},
    {"source", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "`ddsource` of every entry (omitted when empty or when the record has its own)."},
    {"tags", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "`ddtags` of every entry, e.g. \"env:prod,team:x\" (omitted when empty)."},
    {"hostname", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "`hostname` of every entry; default: the ECS task id under ECS, else the host name."},
    {"auto_hostname", FERRY_OPTION_BOOL, "true", 0, 0, nullptr, 1, 0,
     "Without `hostname`: true sends that default; false sends no `hostname` (Datadog then "
     "takes the host from the record), as Fluent Bit does without dd_hostname."},
    {"message_key", FERRY_OPTION_STRING, "log", 0, 0, nullptr, 1, 0,
     "Record field that becomes `message` (a line record's line always does)."},
    {"compression", FERRY_OPTION_ENUM, "gzip", 0, 0, "gzip|zstd|none", 1, 0,
     "Request body compression (Content-Encoding)."},
    {"compression_level", FERRY_OPTION_INT, "0", 0, 0, nullptr, 0, 22,
     "Codec level: gzip 1-12, zstd 1-22; 0 = the codec's default."},
    {"timeout", FERRY_OPTION_DURATION, "30s", 0, 0, nullptr, 100, 600'000,
     "HTTP timeout of one request attempt."},
    {"parse_json_message", FERRY_OPTION_BOOL, "false", 0, 0, nullptr, 1, 0,
     "When the message is a JSON object, send its members as attributes and its "
     "message/msg member as the message."},
    {"status_from_level", FERRY_OPTION_BOOL, "true", 0, 0, nullptr, 1, 0,
     "Send a `level` or `severity` field also as `status`; false sends the fields as they are "
     "(Datadog's status remapper still reads them), as Fluent Bit does."},
    {"provider", FERRY_OPTION_ENUM, "none", 0, 0, "none|ecs", 1, 0,
     "ecs: move the ECS fields FireLens adds (container_id, container_name, container_image, "
     "ecs_cluster, ecs_task_arn, ecs_task_definition) into `ddtags`, as Fluent Bit's "
     "`provider ecs` does."},
    {"batch_max_entries", FERRY_OPTION_INT, "1000", 0, 0, nullptr, 1,
     static_cast<int64_t>(kMaxEntries), "Entries per request (Datadog allows at most 1,000)."},
    {"batch_max_bytes", FERRY_OPTION_SIZE, "5000000", 0, 0, nullptr,
     static_cast<int64_t>(kMinPayloadBytes), static_cast<int64_t>(kMaxPayloadBytes),
     "Uncompressed JSON bytes per request (Datadog allows at most 5 MB)."},
};

// Datadog's sites (docs.datadoghq.com/getting_started/site); the intake host is
// http-intake.logs.<site>.
constexpr std::array<std::string_view, 9> kSites = {
    "datadoghq.com",     "us3.datadoghq.com", "us5.datadoghq.com",
    "datadoghq.eu",      "ap1.datadoghq.com", "ap2.datadoghq.com",
    "uk1.datadoghq.com", "ddog-gov.com",      "us2.ddog-gov.com"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

using core::trim;

// A header value must not smuggle in another header line (or anything unprintable).
bool isSafeHeaderValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

std::expected<void, std::string> checkUrl(std::string_view url) {
  const bool http = url.starts_with("http://"), https = url.starts_with("https://");
  const size_t host_at = https ? 8 : 7;
  if ((!http && !https) || url.size() <= host_at || url[host_at] == '/') {
    return std::unexpected(fmt::format("url: expected http(s)://host/path, got '{}'", url));
  }
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return std::unexpected("url: must not contain spaces or control characters");
  }
  return {};
}

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    FERRY_PLUGIN_ABI_MAJOR,
    FERRY_PLUGIN_ABI_MINOR,
    "datadog",
    "Sends records to the Datadog Logs HTTP intake (v2), compressed, in batches of up to "
    "1,000 entries / 5 MB.",
    kOptions,
    sizeof kOptions / sizeof kOptions[0]};

std::expected<std::string, std::string> intakeUrlForSite(std::string_view site) {
  std::string s = lower(trim(site));
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
  DatadogConfig c;
  c.api_key = std::string(trim(options.string("api_key")));
  if (c.api_key.empty()) return std::unexpected("api_key: required and must not be empty");
  if (!isSafeHeaderValue(c.api_key)) {
    return std::unexpected("api_key: contains control characters (a stray newline?)");
  }

  const std::string url = std::string(trim(options.string("url")));
  if (!url.empty()) {
    if (auto ok = checkUrl(url); !ok) return std::unexpected(ok.error());
    c.url = url;
  } else {
    std::string site = options.string("site", "datadoghq.com");
    if (trim(site).empty()) site = "datadoghq.com"; // `site: ${DD_SITE}` with DD_SITE=""
    auto site_url = intakeUrlForSite(site);
    if (!site_url) return std::unexpected(site_url.error());
    c.url = std::move(*site_url);
  }

  c.service = options.string("service");
  c.source = options.string("source");
  c.tags = std::string(trim(options.string("tags")));
  c.hostname = std::string(trim(options.string("hostname")));
  c.auto_hostname = options.boolean("auto_hostname", true);
  c.message_key = options.string("message_key", "log");
  if (c.message_key.empty()) return std::unexpected("message_key: must not be empty");

  auto compression = codec::parseCompression(options.string("compression", "gzip"));
  if (!compression) return std::unexpected("compression: " + compression.error());
  c.compression = *compression;
  auto level = codec::checkCompressionLevel(c.compression, options.integer("compression_level", 0));
  if (!level) return std::unexpected(level.error());
  c.compression_level = *level;

  const int64_t timeout = options.integer("timeout", static_cast<int64_t>(kDefaultTimeoutMs));
  if (timeout <= 0) return std::unexpected("timeout: must be positive");
  c.timeout_ms = static_cast<uint64_t>(timeout);
  c.parse_json_message = options.boolean("parse_json_message", false);
  c.status_from_level = options.boolean("status_from_level", true);
  auto provider = parseProvider(trim(options.string("provider", "none")));
  if (!provider) return std::unexpected(provider.error());
  c.provider = *provider;

  // User settings may only tighten the vendor's limits.
  const int64_t entries = options.integer("batch_max_entries", kMaxEntries);
  if (entries < 1) return std::unexpected("batch_max_entries: must be at least 1");
  c.max_entries = std::min(static_cast<size_t>(entries), kMaxEntries);
  const int64_t bytes = options.integer("batch_max_bytes", kMaxPayloadBytes);
  if (bytes < static_cast<int64_t>(kMinPayloadBytes)) {
    return std::unexpected(fmt::format("batch_max_bytes: must be at least {}", kMinPayloadBytes));
  }
  c.max_payload_bytes = std::min(static_cast<size_t>(bytes), kMaxPayloadBytes);
  return c;
}

std::optional<std::string> taskIdFromMetadata(std::string_view task_json) {
  rapidjson::Document doc;
  doc.Parse(task_json.data(), task_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto it = doc.FindMember("TaskARN");
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  // arn:aws:ecs:region:account:task/cluster/0123abcd (older ARNs: task/0123abcd).
  const std::string_view arn(it->value.GetString(), it->value.GetStringLength());
  const size_t slash = arn.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == arn.size()) return std::nullopt;
  const std::string_view id = arn.substr(slash + 1);
  if (!isSafeHeaderValue(id)) return std::nullopt;
  return std::string(id);
}

std::string defaultHostname(const EnvLookup& env, const MetadataFetch& fetch) {
  if (auto uri = env("ECS_CONTAINER_METADATA_URI_V4"); uri && !uri->empty()) {
    std::string url = *uri;
    while (!url.empty() && url.back() == '/')
      url.pop_back();
    if (auto body = fetch(url + "/task", kEcsMetadataTimeoutMs)) {
      if (auto id = taskIdFromMetadata(*body)) return *id;
    }
  }
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') return name;
  return "unknown";
}

std::string defaultHostname() {
  const EnvLookup env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  const MetadataFetch fetch = [](const std::string& url,
                                 uint64_t timeout_ms) -> std::optional<std::string> {
    net::HttpRequest req;
    req.method = "GET";
    req.url = url;
    req.timeout_ms = timeout_ms;
    net::HttpResponse resp = net::httpFetch(req);
    if (resp.status != 200) return std::nullopt;
    return std::move(resp.body);
  };
  return defaultHostname(env, fetch);
}

} // namespace ferry::datadog
