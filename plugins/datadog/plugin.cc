// The `datadog` sink: the ABI exports only. Options and limits live in config.cc, the JSON
// body in encoder.cc, the status → verdict words in response.h.
#include <string>

#include "config.h"
#include "encoder.h"
#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/http_body.h"
#include "ferry/sink/scratch_pool.h"
#include "response.h"

namespace {

using namespace ferry;
using namespace ferry::datadog;

// What one encode() call borrows: an encoder and the uncompressed body.
struct Scratch {
  explicit Scratch(const EncoderSettings& settings) : encoder(settings) {}
  DatadogEncoder encoder;
  core::ByteBuffer json;
};

class DatadogSink : public sdk::Sink {
public:
  DatadogSink(const sdk::Host& host, DatadogConfig config, std::string hostname)
      : host_(host), config_(std::move(config)),
        settings_(EncoderSettings::fromConfig(config_, std::move(hostname))),
        target_(config_.url, requestHeaders(config_)),
        scratch_([this] { return std::make_unique<Scratch>(settings_); }) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    // Called from several host threads at once (limits.parallel_encode).
    EncodeStats stats;
    auto request = [&] {
      auto scratch = scratch_.borrow();
      return encodeRequest(scratch->encoder, config_.compression, config_.compression_level,
                           records, scratch->json, stats);
    }();
    if (!request) return std::unexpected(request.error());
    consumed = stats.consumed;
    dropped = stats.dropped;
    if (stats.truncated > 0) {
      host_.count("truncated", stats.truncated);
      host_.log(FERRY_LOG_WARN, "{} entries over {} bytes had their message truncated",
                stats.truncated, settings_.max_entry_bytes);
    }
    if (stats.dropped > 0) {
      host_.log(FERRY_LOG_WARN,
                "dropped {} records: malformed, or over {} bytes without their message",
                stats.dropped, settings_.max_entry_bytes);
    }
    return sdk::RequestPtr(std::move(*request));
  }

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override {
    target_.describe(static_cast<DatadogRequest&>(request).body, out);
    return {};
  }

  void httpResponse(sdk::Request&, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override {
    judgeResponse(response, verdict);
  }

private:
  sdk::Host host_;
  DatadogConfig config_;
  EncoderSettings settings_;
  sink::PostTarget target_; // every request goes to the same URL with the same headers
  sink::ScratchPool<Scratch> scratch_;
};

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
  return std::make_unique<DatadogSink>(host, std::move(*config), std::move(hostname));
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::datadog::kDescriptor, makeSink, ferry::datadog::parseConfig)
