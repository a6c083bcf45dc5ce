// The `datadog` sink: the ABI exports only. Options and limits live in config.cc, the JSON
// body in encoder.cc, the status → verdict table in response.cc.
#include <mutex>
#include <string>
#include <vector>

#include "config.h"
#include "encoder.h"
#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "response.h"

namespace {

using namespace ferry;
using namespace ferry::datadog;

class DatadogSink : public sdk::Sink {
public:
  DatadogSink(const sdk::Host& host, DatadogConfig config, std::string hostname)
      : host_(host), config_(std::move(config)),
        settings_(EncoderSettings::fromConfig(config_, std::move(hostname))),
        headers_(requestHeaders(config_)) {
    for (const auto& h : headers_)
      header_ptrs_.push_back(h.c_str());
  }

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    // Called from several host threads at once (limits.parallel_encode): each call borrows
    // its own encoder and JSON buffer, reused across calls to avoid allocations.
    std::unique_ptr<Scratch> scratch = takeScratch();
    EncodeStats stats;
    auto request = encodeRequest(scratch->encoder, config_.compression, config_.compression_level,
                                 records, scratch->json, stats);
    giveScratch(std::move(scratch));
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
    auto& r = static_cast<DatadogRequest&>(request);
    out.method = "POST";
    out.url = config_.url.c_str();
    out.headers = header_ptrs_.data();
    out.header_count = header_ptrs_.size();
    out.body = reinterpret_cast<const uint8_t*>(r.body.data());
    out.body_len = r.body.size();
    return {};
  }

  void httpResponse(sdk::Request&, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override {
    judgeResponse(response, verdict);
  }

private:
  sdk::Host host_;
  DatadogConfig config_;
  struct Scratch {
    explicit Scratch(const EncoderSettings& settings) : encoder(settings) {}
    DatadogEncoder encoder;
    core::ByteBuffer json; // the uncompressed body
  };
  std::unique_ptr<Scratch> takeScratch() {
    {
      std::lock_guard lock(scratch_mu_);
      if (!free_scratch_.empty()) {
        auto s = std::move(free_scratch_.back());
        free_scratch_.pop_back();
        return s;
      }
    }
    return std::make_unique<Scratch>(settings_);
  }
  void giveScratch(std::unique_ptr<Scratch> s) {
    std::lock_guard lock(scratch_mu_);
    free_scratch_.push_back(std::move(s));
  }

  EncoderSettings settings_;
  std::mutex scratch_mu_;
  std::vector<std::unique_ptr<Scratch>> free_scratch_; // one per encoder thread, at most
  // Built once: every request sends the same headers. Owned here, so the pointers handed to
  // the host stay valid for the instance's lifetime.
  std::vector<std::string> headers_;
  std::vector<const char*> header_ptrs_;
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
