// The `kinesis_streams` sink: the ABI exports only. Options live in config.cc, the request
// body in encoder.cc; SigV4 per attempt and the response → verdict table are the sink kit's
// (ferry/sink/aws_batch.h: AwsBatchSink), shared with firehose. Credentials come from ferry::aws's
// default chain; its provider refreshes them on its own thread, so describing an attempt never
// waits on the network.
#include <string>

#include "config.h"
#include "encoder.h"
#include "ferry/aws/credentials.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws_batch.h"

namespace {

using namespace ferry;
using namespace ferry::kinesis;

class KinesisSink : public sink::AwsBatchSink {
public:
  KinesisSink(const sdk::Host& host, KinesisConfig config, aws::CredentialsProviderPtr credentials)
      : AwsBatchSink(host, config.endpoint, config.region, std::move(credentials)),
        config_(std::move(config)), encoder_(EncoderSettings::fromConfig(config_)) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    EncodeStats stats;
    auto request = encoder_.encode(records, stats);
    consumed = stats.consumed;
    dropped = stats.malformed + stats.too_large + stats.no_log_key;
    if (stats.too_large > 0) {
      host_.count("too_large", stats.too_large);
      host_.log(FERRY_LOG_WARN,
                "dropped {} records whose data and partition key are over Kinesis's {} bytes "
                "per record",
                stats.too_large, encoder_.settings().max_record_bytes);
    }
    if (stats.malformed > 0)
      host_.log(FERRY_LOG_WARN, "dropped {} malformed records", stats.malformed);
    if (stats.no_log_key > 0) {
      host_.count("missing_log_key", stats.no_log_key);
      host_.log(FERRY_LOG_WARN, "dropped {} records without the log_key field '{}'",
                stats.no_log_key, config_.log_key);
    }
    if (stats.random_keys > 0) host_.count("random_partition_keys", stats.random_keys);
    return sdk::RequestPtr(std::move(request));
  }

private:
  KinesisConfig config_;
  KinesisEncoder encoder_;
};

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host& host, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto config = parseConfig(options);
  if (!config) return std::unexpected(config.error());
  auto credentials = sink::defaultAwsCredentials(host);
  limits.transport = FERRY_TRANSPORT_HTTP;
  // Record bytes offered per encode: JSON grows msgpack a little, so offer about 4 MiB
  // towards a 5 MiB call; the encoder stops at a limit and the runner offers the rest again.
  limits.max_records = static_cast<uint32_t>(kMaxRecordsPerCall);
  limits.max_request_bytes = kMaxCallBytes / 5 * 4;
  limits.max_concurrency = kMaxConcurrency;
  limits.request_timeout_ms = config->timeout_ms;
  host.log(FERRY_LOG_INFO, "sending to stream {} via {} ({} partition keys)", config->stream,
           config->url, config->partition_key.empty() ? "random" : "field");
  return std::make_unique<KinesisSink>(host, std::move(*config), std::move(credentials));
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::kinesis::kDescriptor, makeSink, ferry::kinesis::parseConfig)
