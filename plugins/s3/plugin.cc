// The `s3` sink: the ABI exports and the glue. Options and keys live in config.cc
// (templates: ferry/sink/object_key.h), the NDJSON object in ferry/sink/compressed_object.h, the
// upload steps in upload.cc and the status → verdict table in response.cc.
//
// One request = one object. The runner's limits carry the object's boundaries: it offers
// at most offerBytes() of records per encode (the plugin closes the object earlier once the
// compressed size reaches total_file_size; the rest becomes the next object) and flushes a
// partial object after upload_timeout. So records are acknowledged only when the object
// holding them exists in S3, and a retry re-sends the same key (no duplicate objects).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "ferry/aws/credentials.h"
#include "ferry/aws/sigv4.h"
#include "ferry/net/http_client.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/aws_call.h"
#include "ferry/sink/compressed_object.h"
#include "response.h"
#include "upload.h"

namespace {

using namespace ferry;
using namespace ferry::s3;

class S3Sink : public sdk::Sink {
public:
  S3Sink(const sdk::Host& host, S3Config config, aws::CredentialsProviderPtr credentials)
      : host_(host), config_(std::move(config)), credentials_(std::move(credentials)),
        orphans_(std::make_unique<OrphanList>()), settings_(objectSettings(config_)) {}

  ~S3Sink() override {
    sink::abortWithin(*orphans_, sink::kShutdownAborts, sink::kShutdownAbortBudgetMs,
                      [this](const sink::OpenUpload& o, uint64_t ms) { abortNow(o, ms); });
  }

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    core::ByteBuffer body;
    auto stats = sink::buildObject(settings_, records, scratch_, body);
    if (!stats) return std::unexpected(stats.error());
    consumed = stats->consumed;
    dropped = stats->dropped;
    if (stats->dropped > 0) {
      host_.log(FERRY_LOG_WARN, "dropped {} malformed records", stats->dropped);
    }
    body.shrinkToFit(); // held whole until the object exists
    // With $TAG in the key the runner partitions by tag (limits.partition_template): every
    // record offered has the tag it names.
    std::string_view tag = host_.partition();
    if (tag.empty()) tag = std::string_view(records[0].tag, records[0].tag_len);
    std::string key = formatKey(config_.key_format,
                                {tag, std::time(nullptr), ++index_, "", config_.tag_delimiters});
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return std::unexpected(
          fmt::format("key_format gives an unusable key ({} bytes)", key.size()));
    }
    auto upload =
        std::make_unique<S3Upload>(std::move(key), std::move(body), config_.part_size, stats->lines,
                                   orphans_.get(), orphans_->take(sink::kOrphanAbortsPerRequest));
    if (upload->partCount() > 0) {
      host_.log(FERRY_LOG_DEBUG, "object {}: {} bytes in {} parts", upload->key(),
                upload->bodySize(), upload->partCount());
    }
    return sdk::RequestPtr(std::move(upload));
  }

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override {
    auto& upload = static_cast<S3Upload&>(request);
    // Never waits on the network: the provider refreshes on its own thread.
    auto creds = credentials_->current();
    if (!creds)
      return std::unexpected("no AWS credentials available yet (see the credentials log)");
    const S3Call call = upload.call(config_);
    sign(call, *creds, upload.payloadHash(call.body), upload.attempt);
    upload.attempt.describe(call.method, call.body, out);
    return {};
  }

  void httpResponse(sdk::Request& request, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override {
    auto& upload = static_cast<S3Upload&>(request);
    const Step step = upload.step();
    const StepEvent ev = upload.onResponse(config_, response, verdict);
    if (ev.object_done) {
      host_.count("objects_uploaded");
      host_.count("object_bytes", upload.bodySize());
      host_.log(FERRY_LOG_DEBUG, "uploaded s3://{}/{} ({} records, {} bytes)", config_.bucket,
                upload.key(), upload.records(), upload.bodySize());
    }
    if (ev.part_done) host_.count("parts_uploaded");
    if (ev.upload_aborted) host_.count("uploads_aborted");
    if (ev.abort_failed) {
      host_.log(FERRY_LOG_WARN,
                "{} failed (HTTP {}); an S3 lifecycle rule "
                "(AbortIncompleteMultipartUpload) removes such uploads",
                stepName(step), response.status);
    }
    if (verdict.kind == FERRY_VERDICT_DROP) host_.count("objects_dropped");
  }

private:
  void sign(const S3Call& call, const aws::Credentials& creds, const std::string& payload_hash,
            sink::SignedCall& out) const {
    const std::string path = objectPath(config_, call.key);
    aws::SigV4Request req{.method = call.method,
                          .path = path,
                          .query = call.query,
                          .headers = call.headers,
                          .payload = call.body,
                          .payload_hash = payload_hash};
    sink::signAwsCall(std::move(req), config_.host, objectUrl(config_, call.key, call.query), creds,
                      config_.region, "s3", {.s3 = true}, std::chrono::system_clock::now(), out);
  }

  // Shutdown only: a blocking, short abort of an upload nobody will finish.
  void abortNow(const sink::OpenUpload& o, uint64_t timeout_ms) const {
    auto creds = credentials_->current();
    if (!creds) return;
    const S3Call call = abortCall(o);
    sink::SignedCall signed_call;
    sign(call, *creds, aws::sha256Hex(""), signed_call);
    net::HttpRequest req{.method = "DELETE",
                         .url = std::move(signed_call.url),
                         .headers = std::move(signed_call.header_lines)};
    req.body = reinterpret_cast<const uint8_t*>("");
    req.timeout_ms = timeout_ms;
    const net::HttpResponse resp = net::httpFetch(req);
    if (resp.status < 200 || resp.status >= 300) {
      host_.log(FERRY_LOG_WARN, "could not abort the multipart upload of s3://{}/{} (HTTP {})",
                config_.bucket, o.key, resp.status);
    }
  }

  sdk::Host host_;
  S3Config config_;
  aws::CredentialsProviderPtr credentials_;
  std::unique_ptr<OrphanList> orphans_; // outlives every request (the ABI frees them first)
  sink::ObjectSettings settings_;
  core::ByteBuffer scratch_;
  uint64_t index_ = 0; // objects opened: $INDEX (from 1, as Fluent Bit's seq_index)
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
