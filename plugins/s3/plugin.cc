// The `s3` sink: the ABI exports and the glue. Options and keys live in config.cc, the
// upload steps in upload.cc and the status → verdict table in response.cc; what every
// object-store sink does alike (one request = one object, encoded, keyed, signed, counted, and
// abandoned uploads aborted) is the kit's AwsObjectSink (ferry/sink/aws_object_sink.h).
#include <memory>
#include <string>

#include "config.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/aws_object_sink.h"
#include "upload.h"

namespace {

using namespace ferry;
using namespace ferry::s3;

class S3Sink : public sink::AwsObjectSink {
public:
  S3Sink(const sdk::Host& host, S3Config config, aws::CredentialsProviderPtr credentials)
      : AwsObjectSink(host, objectStore(config), std::move(credentials)),
        config_(std::move(config)) {}

private:
  std::string_view stepName(sink::UploadStep step) const override { return s3::stepName(step); }
  sink::AwsRestCall call(const sink::AwsObjectUpload& upload) const override {
    return uploadCall(upload, config_);
  }
  sink::UploadEvent judge(sink::AwsObjectUpload& upload, const ferry_http_response& response,
                          ferry_plugin_verdict& verdict) override {
    return onResponse(upload, config_, response, verdict);
  }

  S3Config config_;
};

// The options as start-up reads them (ferry_on_check): nothing is opened or resolved.
std::expected<S3Config, std::string> checkConfig(const sdk::Options& options) {
  return parseConfig(options, sink::processEnv);
}

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host& host, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto config = checkConfig(options);
  if (!config) return std::unexpected(config.error());
  // Not fatal when none yet (an ECS role may appear a moment later): requests wait, retried
  // with backoff, and /health reports it.
  auto credentials = sink::defaultAwsCredentials(host);
  limits.transport = FERRY_TRANSPORT_HTTP;
  limits.max_records = 1u << 24; // bytes bound an object, not a record count
  limits.max_request_bytes = offerBytes(*config);
  limits.flush_interval_ms = config->upload_timeout_ms;
  limits.max_concurrency = kMaxConcurrency;
  limits.request_timeout_ms = config->timeout_ms;
  // One object stream per tag, as Fluent Bit keeps one buffer file per tag.
  if (config->key_format.find("$TAG") != std::string::npos) limits.partition_template = "$TAG";
  host.log(FERRY_LOG_INFO,
           "s3: uploading to bucket {} via {}://{} ({}, region {}, {}), objects of {} bytes",
           config->bucket, config->scheme, config->host,
           config->path_style ? "path-style" : "virtual-host style", config->region,
           codec::compressionName(config->compression), config->total_file_size);
  return std::make_unique<S3Sink>(host, std::move(*config), std::move(credentials));
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::s3::kDescriptor, makeSink, checkConfig)
