// The sink kit's AWS object-store sink: objects encoded and keyed, attempts signed, answers
// counted, abandoned uploads aborted at shutdown.
#include "ferry/sink/aws_object_sink.h"

#include <ctime>

#include <fmt/format.h>

#include "ferry/aws/sigv4.h"
#include "ferry/net/http_client.h"

namespace ferry::sink {

std::optional<AwsRestCall> abortStepCall(const MultipartUpload& u) {
  if (u.step() == UploadStep::kAbortOrphan) return abortUploadCall(u.orphan());
  if (u.step() == UploadStep::kAbort) return abortUploadCall({u.key(), u.uploadId()});
  return std::nullopt;
}

std::optional<UploadEvent> abortStepAnswered(MultipartUpload& u, const ferry_http_response& r,
                                             ferry_plugin_verdict& v) {
  const UploadStep step = u.step();
  if (step != UploadStep::kAbortOrphan && step != UploadStep::kAbort) return std::nullopt;
  UploadEvent ev;
  ev.upload_aborted = (r.status >= 200 && r.status < 300) || r.status == 404;
  ev.abort_failed = !ev.upload_aborted;
  if (step == UploadStep::kAbort) return u.abortAnswered(v), ev;
  u.orphanAnswered(ev.upload_aborted);
  v.kind = FERRY_VERDICT_CONTINUE;
  return ev;
}

AwsObjectSink::AwsObjectSink(const sdk::Host& host, AwsObjectStore store,
                             aws::CredentialsProviderPtr credentials)
    : host_(host), store_(std::move(store)), credentials_(std::move(credentials)),
      orphans_(std::make_unique<OpenUploadList>()) {}

AwsObjectSink::~AwsObjectSink() {
  abortWithin(*orphans_, kShutdownAborts, kShutdownAbortBudgetMs,
              [this](const OpenUpload& o, uint64_t ms) { abortNow(o, ms); });
}

std::expected<sdk::RequestPtr, std::string>
AwsObjectSink::encode(std::span<const ferry_plugin_record> records, size_t& consumed,
                      size_t& dropped) {
  core::ByteBuffer body;
  auto stats = buildObject(store_.object, records, scratch_, body);
  if (!stats) return std::unexpected(stats.error());
  consumed = stats->consumed;
  dropped = stats->dropped;
  if (stats->dropped > 0) host_.log(FERRY_LOG_WARN, "dropped {} malformed records", stats->dropped);
  body.shrinkToFit(); // held whole until the object exists
  // With $TAG in the key the runner partitions by tag (limits.partition_template): every
  // record offered has the tag it names.
  std::string_view tag = host_.partition();
  if (tag.empty()) tag = std::string_view(records[0].tag, records[0].tag_len);
  std::string key =
      objectKey(store_.key_format, {tag, std::time(nullptr), ++index_, "", store_.tag_delimiters});
  if (key.empty() || key.size() > store_.max_key_bytes) {
    return std::unexpected(fmt::format("key_format gives an unusable key ({} bytes)", key.size()));
  }
  auto upload = std::make_unique<AwsObjectUpload>(std::move(key), std::move(body), store_.part_size,
                                                  store_.max_parts, stats->lines, orphans_.get(),
                                                  orphans_->take(kOrphanAbortsPerRequest));
  if (upload->partCount() > 0) {
    host_.log(FERRY_LOG_DEBUG, "object {}: {} bytes in {} parts", upload->key(), upload->bodySize(),
              upload->partCount());
  }
  return sdk::RequestPtr(std::move(upload));
}

std::expected<void, std::string> AwsObjectSink::httpRequest(sdk::Request& request,
                                                            ferry_http_request& out) {
  auto& upload = static_cast<AwsObjectUpload&>(request);
  auto creds = credentials_->current();
  if (!creds) return std::unexpected("no AWS credentials available yet (see the credentials log)");
  auto abort = abortStepCall(upload);
  const AwsRestCall c = abort ? std::move(*abort) : call(upload);
  signObjectCall(store_.target, store_.service, c, *creds, upload.payloadHash(c.body),
                 upload.attempt);
  upload.attempt.describe(c.method, c.body, out);
  return {};
}

void AwsObjectSink::httpResponse(sdk::Request& request, const ferry_http_response& response,
                                 ferry_plugin_verdict& verdict) {
  auto& upload = static_cast<AwsObjectUpload&>(request);
  const UploadStep step = upload.step();
  const auto aborted = abortStepAnswered(upload, response, verdict);
  const UploadEvent ev = aborted ? *aborted : judge(upload, response, verdict);
  if (ev.object_done) {
    host_.count("objects_uploaded");
    host_.count("object_bytes", upload.bodySize());
    host_.log(FERRY_LOG_DEBUG, "uploaded {}://{}/{} ({} records, {} bytes)", store_.uri_scheme,
              store_.target.bucket, upload.key(), upload.records(), upload.bodySize());
  }
  if (ev.part_done) host_.count("parts_uploaded");
  if (ev.upload_aborted) host_.count("uploads_aborted");
  if (ev.abort_failed) {
    host_.log(FERRY_LOG_WARN, "{} failed (HTTP {}); {}", stepName(step), response.status,
              store_.abandoned_hint);
  }
  if (verdict.kind == FERRY_VERDICT_DROP) host_.count("objects_dropped");
}

// Shutdown only: a blocking, short abort of an upload nobody will finish.
void AwsObjectSink::abortNow(const OpenUpload& o, uint64_t timeout_ms) const {
  auto creds = credentials_->current();
  if (!creds) return;
  SignedCall signed_call;
  signObjectCall(store_.target, store_.service, abortUploadCall(o), *creds, aws::sha256Hex(""),
                 signed_call);
  net::HttpRequest req{.method = "DELETE",
                       .url = std::move(signed_call.url),
                       .headers = std::move(signed_call.header_lines)};
  req.body = reinterpret_cast<const uint8_t*>("");
  req.timeout_ms = timeout_ms;
  const net::HttpResponse resp = net::httpFetch(req);
  if (resp.status < 200 || resp.status >= 300) {
    host_.log(FERRY_LOG_WARN, "could not abort the multipart upload of {}://{}/{} (HTTP {})",
              store_.uri_scheme, store_.target.bucket, o.key, resp.status);
  }
}

} // namespace ferry::sink
