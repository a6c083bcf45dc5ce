// Firehose sink options: the option table (the one place options are declared) and their
// validation: stream name and region as AWS allows them, the endpoint override, time fields.
#include "config.h"
#include "ferry/core/strings.h"

#include <algorithm>
#include <cctype>

#include "ferry/output/local_sink.h"

namespace ferry::firehose {
namespace {

const ferry_plugin_option kOptions[] = {
    {"delivery_stream", FERRY_OPTION_STRING, nullptr, 1, 0, nullptr, 1, 0,
     "Name of the Firehose delivery stream (1-64 characters: letters, digits, _ . -)."},
    {"region", FERRY_OPTION_STRING, nullptr, 1, 0, nullptr, 1, 0,
     "AWS region of the stream, e.g. eu-west-1 (signing scope and default endpoint)."},
    {"endpoint", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Endpoint override (tests, VPC endpoints): http(s)://host[:port] or a host name; "
     "default https://firehose.<region>.amazonaws.com."},
    {"aggregate", FERRY_OPTION_BOOL, "false", 0, 0, nullptr, 1, 0,
     "Pack several newline-separated JSON records into each Firehose record (up to "
     "1,000 KiB); Firehose bills per 5 KB record, so this cuts the bill."},
    {"time_key", FERRY_OPTION_STRING, "date", 0, 0, nullptr, 1, 0,
     "Field that carries the record time in each JSON line; empty for none."},
    {"time_format", FERRY_OPTION_ENUM, "iso8601", 0, 0, "iso8601|epoch|epoch_ms", 1, 0,
     "iso8601 (UTC, nanoseconds), epoch (seconds as a decimal) or epoch_ms (integer)."},
    {"timeout", FERRY_OPTION_DURATION, "30s", 0, 0, nullptr, 100, 600'000,
     "HTTP timeout of one request attempt."},
};

using core::trim;

bool allOf(std::string_view s, bool (*ok)(unsigned char)) {
  return std::all_of(s.begin(), s.end(),
                     [ok](char c) { return ok(static_cast<unsigned char>(c)); });
}

bool streamChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '.' || c == '-';
}
bool regionChar(unsigned char c) {
  return std::islower(c) || std::isdigit(c) || c == '-';
}
bool hostChar(unsigned char c) {
  // Names, IPv4, [IPv6] and :port; nothing that could end a header line or a URL part.
  return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
}
bool pathChar(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '?' && c != '#';
}

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    FERRY_PLUGIN_ABI_MAJOR,
    FERRY_PLUGIN_ABI_MINOR,
    "firehose",
    "Sends records to an Amazon Data Firehose delivery stream with PutRecordBatch "
    "(SigV4; up to 500 records / 4 MiB per call; optional aggregation).",
    kOptions,
    sizeof kOptions / sizeof kOptions[0]};

std::expected<Endpoint, std::string> parseEndpoint(std::string_view text) {
  text = trim(text);
  std::string_view scheme = "https://";
  if (text.starts_with("http://")) {
    scheme = "http://";
    text.remove_prefix(7);
  } else if (text.starts_with("https://")) {
    text.remove_prefix(8);
  } else if (text.find("://") != std::string_view::npos) {
    return std::unexpected("endpoint: only http:// and https:// are supported");
  }
  const size_t slash = text.find('/');
  const std::string_view host = text.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "/" : text.substr(slash);
  if (host.empty() || !allOf(host, hostChar) || host.front() == ':' || host.back() == ':') {
    return std::unexpected(fmt::format("endpoint: expected http(s)://host[:port], got '{}'", text));
  }
  if (!allOf(path, pathChar)) {
    return std::unexpected("endpoint: the path must not hold spaces, control characters, ? or #");
  }
  Endpoint e;
  e.host = std::string(host);
  e.path = std::string(path);
  e.url = fmt::format("{}{}{}", scheme, host, path);
  return e;
}

Endpoint defaultEndpoint(std::string_view region) {
  const std::string_view suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  Endpoint e;
  e.host = fmt::format("firehose.{}.{}", region, suffix);
  e.url = fmt::format("https://{}/", e.host);
  return e;
}

std::expected<FirehoseConfig, std::string> parseConfig(const sdk::Options& options) {
  FirehoseConfig c;
  c.delivery_stream = std::string(trim(options.string("delivery_stream")));
  if (c.delivery_stream.empty())
    return std::unexpected("delivery_stream: required and must not be empty");
  if (c.delivery_stream.size() > 64 || !allOf(c.delivery_stream, streamChar)) {
    return std::unexpected(
        fmt::format("delivery_stream: '{}' is not a stream name (1-64 of letters, digits, _ . -)",
                    c.delivery_stream));
  }
  c.region = std::string(trim(options.string("region")));
  if (c.region.empty())
    return std::unexpected("region: required (set AWS_REGION) and must not be empty");
  if (!allOf(c.region, regionChar)) {
    return std::unexpected(fmt::format("region: '{}' is not an AWS region name", c.region));
  }
  const std::string endpoint(trim(options.string("endpoint")));
  if (endpoint.empty()) {
    c.endpoint = defaultEndpoint(c.region);
  } else {
    auto e = parseEndpoint(endpoint);
    if (!e) return std::unexpected(e.error());
    c.endpoint = std::move(*e);
  }
  c.aggregate = options.boolean("aggregate", false);

  // The same time_key/time_format rules as the local sinks' JSON lines.
  auto lines = output::lineEncodingFromOptions(options);
  if (!lines) return std::unexpected(lines.error());
  c.json = lines->json;

  const int64_t timeout = options.integer("timeout", static_cast<int64_t>(kDefaultTimeoutMs));
  if (timeout <= 0) return std::unexpected("timeout: must be positive");
  c.timeout_ms = static_cast<uint64_t>(timeout);
  return c;
}

} // namespace ferry::firehose
