// Each step of an S3 upload as a call, and its answer judged. Pure: it builds unsigned calls
// and reads answers; signing and sending are the kit's and the runner's.
#include "upload.h"

#include "ferry/sink/http.h"
#include "ferry/sink/xml.h"

namespace ferry::s3 {

std::string_view stepName(Step step) { // in UploadStep's order
  constexpr std::string_view kNames[] = {"AbortMultipartUpload (abandoned upload)",
                                         "PutObject",
                                         "CreateMultipartUpload",
                                         "UploadPart",
                                         "CompleteMultipartUpload",
                                         "AbortMultipartUpload",
                                         "done"};
  return kNames[static_cast<size_t>(step)];
}

S3Call uploadCall(const S3Upload& u, const S3Config& config) {
  S3Call c{.method = "POST", .key = u.key(), .query = "uploadId=" + aws::uriEncode(u.uploadId())};
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
  switch (u.step()) {
  case Step::kPut:
    c.method = "PUT";
    c.query.clear();
    c.body = u.body();
    objectHeaders();
    break;
  case Step::kCreate:
    c.query = "uploads=";
    objectHeaders();
    break;
  case Step::kPart:
    c.method = "PUT";
    c.query = fmt::format("partNumber={}&{}", u.partIndex() + 1, c.query);
    c.body = u.partBody();
    c.headers.emplace_back("Content-Type", "application/octet-stream");
    break;
  case Step::kComplete:
    c.body = u.complete_body;
    c.headers.emplace_back("Content-Type", "application/xml");
    break;
  default:
    break;
  }
  return c;
}

sink::UploadEvent onResponse(S3Upload& u, const S3Config& config, const ferry_http_response& r,
                             ferry_plugin_verdict& v) {
  sink::UploadEvent ev;
  const Step current = u.step();
  const bool ok_status = r.status >= 200 && r.status < 300;
  const bool body_error = ok_status && current == Step::kComplete && sink::hasXmlError(r);
  v.kind = FERRY_VERDICT_CONTINUE;
  if (ok_status && !body_error && (current == Step::kPut || current == Step::kComplete)) {
    u.delivered();
    ev.object_done = true;
    v.kind = FERRY_VERDICT_DELIVERED;
    return ev;
  }
  if (ok_status && current == Step::kCreate) {
    std::string id = sink::xmlText(sink::bodyOf(r), "UploadId");
    if (!id.empty()) return u.created(std::move(id)), ev;
    v.kind = FERRY_VERDICT_RETRY;
    sdk::setMessage(v, "CreateMultipartUpload: answer without an UploadId");
    return ev;
  }
  if (ok_status && current == Step::kPart) {
    const auto etag = sink::findHeader(sink::headersOf(r), "ETag");
    if (!etag || etag->empty()) {
      v.kind = FERRY_VERDICT_RETRY;
      sdk::setMessage(v, fmt::format("UploadPart {}: answer without an ETag", u.partIndex() + 1));
      return ev;
    }
    u.partUploaded(std::string(*etag));
    ev.part_done = true;
    if (u.step() != Step::kComplete) return ev;
    // ETags go in as S3 returned them, quotes included (quotes are legal XML text).
    u.complete_body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (size_t i = 0; i < u.etags().size(); ++i) {
      u.complete_body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                                     i + 1, u.etags()[i]);
    }
    u.complete_body += "</CompleteMultipartUpload>";
    return ev;
  }
  S3Error error = sink::awsXmlError(r);
  if (body_error && error.code.empty()) error.code = "InternalError";
  // Someone (a lifecycle rule, another tool) aborted our upload: start again.
  if (error.code == "NoSuchUpload") u.restart();
  failureVerdict(classify(error), error, r, stepName(current), config.bucket, v);
  u.failed(v);
  return ev;
}

} // namespace ferry::s3
