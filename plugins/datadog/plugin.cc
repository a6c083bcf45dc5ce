// The `datadog` sink: the ABI exports only. Options and limits live in config.cc, the JSON
// body in encoder.cc, the status → verdict words in response.h; encode()'s plumbing (a pooled
// encoder per call, compression, the request as POSTed) is the sink kit's PostSink.
#include <string>

#include "config.h"
#include "encoder.h"
#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/post_sink.h"
#include "response.h"

namespace {

using namespace ferry;
using namespace ferry::datadog;

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host& host, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto config = parseConfig(options);
  if (!config) return std::unexpected(config.error());
  // This copy of libferry masks it in the snippets the plugin quotes; the host masks it too.
  obs::addSecret(config->api_key);
  std::string hostname = config->hostname;
  if (hostname.empty() && config->auto_hostname) hostname = defaultHostname();
  limits.transport = FERRY_TRANSPORT_HTTP;
  limits.max_records = static_cast<uint32_t>(config->max_entries);
  // Record bytes offered per encode: JSON adds escaping and the reserved attributes, so
  // offer somewhat less than the payload limit; the encoder stops at the limit anyway and
  // the runner offers the rest again.
  limits.max_request_bytes = config->max_payload_bytes / 5 * 4;
  limits.max_concurrency = kMaxConcurrency;
  limits.parallel_encode = 1; // encode() borrows per-call scratch: safe on several threads
  limits.request_timeout_ms = config->timeout_ms;
  host.log(FERRY_LOG_INFO, "datadog: sending to {} ({}), hostname {}", config->url,
           codec::compressionName(config->compression), hostname.empty() ? "none" : hostname);
  const EncoderSettings settings = EncoderSettings::fromConfig(*config, std::move(hostname));
  return std::make_unique<sink::PostSink<DatadogEncoder>>(
      host,
      sink::PostSettings{.url = config->url,
                         .headers = requestHeaders(*config),
                         .compression = config->compression,
                         .level = config->compression_level,
                         .max_entry_bytes = settings.max_entry_bytes,
                         .words = &kStatusWords},
      [settings] { return std::make_unique<DatadogEncoder>(settings); });
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::datadog::kDescriptor, makeSink, ferry::datadog::parseConfig)
