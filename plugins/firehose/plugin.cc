// The `firehose` sink: the ABI exports only. Options live in config.cc, the request body in
// encoder.cc; SigV4 per attempt and the response → verdict table are the sink kit's
// (ferry/sink/aws_batch.h: AwsBatchSink), named for the tests in signer.h and response.h.
// Credentials come from ferry::aws's default chain; its provider refreshes them on its own
// thread, so describing an attempt never waits on the network.
#include <string>

#include "config.h"
#include "encoder.h"
#include "ferry/aws/credentials.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws_batch.h"

namespace {

using namespace ferry;
using namespace ferry::firehose;

class FirehoseSink : public sink::AwsBatchSink {
public:
  FirehoseSink(const sdk::Host& host, FirehoseConfig config,
               aws::CredentialsProviderPtr credentials)
      : AwsBatchSink(host, config.endpoint, config.region, std::move(credentials)),
        config_(std::move(config)), encoder_(EncoderSettings::fromConfig(config_)) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    EncodeStats stats;
    auto request = encoder_.encode(records, stats);
    consumed = stats.consumed;
    dropped = stats.malformed + stats.too_large;
    if (stats.too_large > 0) {
      host_.count("too_large", stats.too_large);
      host_.log(FERRY_LOG_WARN,
                "dropped {} records whose JSON line is over Firehose's {} bytes per record",
                stats.too_large, encoder_.settings().max_record_bytes);
    }
    if (stats.malformed > 0)
      host_.log(FERRY_LOG_WARN, "dropped {} malformed records", stats.malformed);
    if (request) {
      host_.count("firehose_records", stats.firehose_records);
      request->stream = config_.delivery_stream;
    }
    return sdk::RequestPtr(std::move(request));
  }

private:
  FirehoseConfig config_;
  FirehoseEncoder encoder_;
};

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host& host, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto config = parseConfig(options);
  if (!config) return std::unexpected(config.error());
  auto credentials = sink::defaultAwsCredentials(host);
  limits.transport = FERRY_TRANSPORT_HTTP;
  // Record bytes offered per encode: JSON lines grow the msgpack a little and base64 by a
  // third, so offer about 3 MiB towards a 4 MiB call; the encoder stops at the limit and the
  // runner offers the rest again. Aggregation packs many records per Firehose record.
  limits.max_records = config->aggregate ? 50'000 : static_cast<uint32_t>(kMaxRecordsPerCall);
  limits.max_request_bytes = kMaxCallBytes / 4 * 3 - 64 * 1024;
  limits.max_concurrency = kMaxConcurrency;
  limits.request_timeout_ms = config->timeout_ms;
  host.log(FERRY_LOG_INFO, "firehose: sending to stream {} via {}{}", config->delivery_stream,
           config->url, config->aggregate ? " (aggregated records)" : "");
  return std::make_unique<FirehoseSink>(host, std::move(*config), std::move(credentials));
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::firehose::kDescriptor, makeSink, ferry::firehose::parseConfig)
