// Each step of an S3 upload as a call, and its answer judged. Pure: it builds unsigned calls
// and reads answers; signing and sending are the sink's and the runner's.
#include "upload.h"

#include "ferry/sink/http.h"
#include "ferry/sink/xml.h"

namespace ferry::s3 {

std::string_view stepName(Step step) {
  switch (step) {
  case Step::kAbortOrphan:
    return "AbortMultipartUpload (abandoned upload)";
  case Step::kPut:
    return "PutObject";
  case Step::kCreate:
    return "CreateMultipartUpload";
  case Step::kPart:
    return "UploadPart";
  case Step::kComplete:
    return "CompleteMultipartUpload";
  case Step::kAbort:
    return "AbortMultipartUpload";
  case Step::kDone:
    break;
  }
  return "done";
}

S3Call abortCall(const sink::OpenUpload& upload) {
  return {.method = "DELETE",
          .key = upload.key,
          .query = "uploadId=" + aws::uriEncode(upload.upload_id),
          .body = {},
          .headers = {}};
}

S3Call S3Upload::call(const S3Config& config) const {
  if (step() == Step::kAbortOrphan) return abortCall(orphan());
  S3Call c = abortCall({key(), uploadId()}); // kAbort
  // Headers that describe the stored object go on PutObject and CreateMultipartUpload only.
  auto objectHeaders = [&] {
    c.headers.emplace_back("Content-Type", config.content_type);
    if (!config.storage_class.empty())
      c.headers.emplace_back("x-amz-storage-class", config.storage_class);
    if (!config.acl.empty()) c.headers.emplace_back("x-amz-acl", config.acl);
    if (!config.sse.empty()) c.headers.emplace_back("x-amz-server-side-encryption", config.sse);
    if (!config.kms_key_id.empty()) {
      c.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", config.kms_key_id);
    }
  };
  switch (step()) {
  case Step::kPut:
    c.method = "PUT";
    c.query.clear();
    c.body = body();
    objectHeaders();
    break;
  case Step::kCreate:
    c.method = "POST";
    c.query = "uploads=";
    objectHeaders();
    break;
  case Step::kPart:
    c.method = "PUT";
    c.query = fmt::format("partNumber={}&uploadId={}", partIndex() + 1, aws::uriEncode(uploadId()));
    c.body = partBody();
    c.headers.emplace_back("Content-Type", "application/octet-stream");
    break;
  case Step::kComplete:
    c.method = "POST";
    c.body = complete_body;
    c.headers.emplace_back("Content-Type", "application/xml");
    break;
  default:
    break;
  }
  return c;
}

StepEvent S3Upload::onResponse(const S3Config& config, const ferry_http_response& r,
                               ferry_plugin_verdict& v) {
  StepEvent ev;
  const Step current = step();
  const bool ok_status = r.status >= 200 && r.status < 300;
  if (current == Step::kAbortOrphan || current == Step::kAbort) {
    // Best effort: 2xx, or 404 NoSuchUpload (already gone), ends it; anything else is left
    // to a later request or the bucket's lifecycle rule rather than holding up this object.
    ev.upload_aborted = ok_status || r.status == 404;
    ev.abort_failed = !ev.upload_aborted;
    if (current == Step::kAbort) return abortAnswered(v), ev;
    orphanAnswered(ev.upload_aborted);
    v.kind = FERRY_VERDICT_CONTINUE;
    return ev;
  }
  const bool body_error = ok_status && current == Step::kComplete && bodyIsError(r);
  v.kind = FERRY_VERDICT_CONTINUE;
  if (ok_status && !body_error && (current == Step::kPut || current == Step::kComplete)) {
    delivered();
    ev.object_done = true;
    v.kind = FERRY_VERDICT_DELIVERED;
    return ev;
  }
  if (ok_status && current == Step::kCreate) {
    std::string id = sink::xmlText(sink::bodyOf(r), "UploadId");
    if (!id.empty()) return created(std::move(id)), ev;
    v.kind = FERRY_VERDICT_RETRY;
    sdk::setMessage(v, "CreateMultipartUpload: answer without an UploadId");
    return ev;
  }
  if (ok_status && current == Step::kPart) {
    const auto etag = sink::findHeader(sink::headersOf(r), "ETag");
    if (!etag || etag->empty()) {
      v.kind = FERRY_VERDICT_RETRY;
      sdk::setMessage(v, fmt::format("UploadPart {}: answer without an ETag", partIndex() + 1));
      return ev;
    }
    partUploaded(std::string(*etag));
    ev.part_done = true;
    if (step() != Step::kComplete) return ev;
    // ETags go in as S3 returned them, quotes included (quotes are legal XML text).
    complete_body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (size_t i = 0; i < etags().size(); ++i) {
      complete_body +=
          fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, etags()[i]);
    }
    complete_body += "</CompleteMultipartUpload>";
    return ev;
  }
  S3Error error = parseError(r);
  if (body_error && error.code.empty()) error.code = "InternalError";
  // Someone (a lifecycle rule, another tool) aborted our upload: start again.
  if (error.code == "NoSuchUpload") restart();
  failureVerdict(classify(error), error, r, stepName(current), config.bucket, v);
  failed(v);
  return ev;
}

} // namespace ferry::s3
