// S3 error responses (docs: "Error responses", the ErrorCode list) → verdicts. S3 puts the
// reason in an XML body <Error><Code>...</Code><Message>...</Message></Error>; HEAD-style
// bodiless errors only have the status.
#include "response.h"

#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/http.h"

namespace ferry::s3 {
namespace {

using enum sink::StatusClass;

// S3's error codes (docs: the ErrorCode list). Codes over the status decide after throttling;
// the others refine only a status that says nothing more specific.
constexpr sink::AwsErrorRow kCodes[] = {
    {"SlowDown", kThrottled, true},
    // Someone (a lifecycle rule, another tool) aborted the upload: retried from its start.
    {"NoSuchUpload", kServerError, true},
    // Retried, unhealthy: someone must fix the config (bucket, region).
    {"NoSuchBucket|PermanentRedirect|AuthorizationHeaderMalformed", kUnauthorized, true},
    // The credentials or permissions: retrying may succeed once someone fixes them (or
    // temporary credentials refresh), and /health must say so meanwhile.
    {"AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken|"
     "TokenRefreshRequired|AccountProblem|AllAccessDisabled|RequestTimeTooSkewed|InvalidSecurity",
     kUnauthorized, true},
    // 4xx codes that are transient: the request itself was fine.
    {"RequestTimeout|IncompleteBody|BadDigest|XAmzContentSHA256Mismatch|OperationAborted",
     kServerError},
    {"EntityTooLarge", kTooLarge},
};

} // namespace

sink::StatusClass classify(const S3Error& e) {
  const sink::StatusClass cls = sink::classifyStatus(e.status);
  if (cls == kTransport || (cls == kDelivered && e.code.empty())) return cls;
  if (e.status == 503 || cls == kThrottled) return kThrottled; // S3 slows clients with 503
  const sink::AwsErrorRow* row = sink::findAwsError(kCodes, e.code);
  if (row && row->over_status) return row->cls;
  // A redirect: the bucket is in another region. Retried, unhealthy.
  if (e.status == 301 || e.status == 307 || cls == kUnauthorized) return kUnauthorized;
  // Transient codes, timeouts, 5xx, and a 200 with an <Error> body (CompleteMultipartUpload's
  // late failure: S3 says to retry).
  if ((row && row->cls == kServerError) || cls == kTimeout || cls == kServerError ||
      cls == kDelivered)
    return kServerError;
  if (row) return row->cls;
  return cls; // 413 split, other 4xx dropped, 1xx/3xx retried and unhealthy
}

void failureVerdict(sink::StatusClass cls, const S3Error& e, const ferry_http_response& r,
                    std::string_view what, std::string_view bucket, ferry_plugin_verdict& v) {
  std::string text;
  if (e.status == 0) {
    text = fmt::format("{}: transport error: {}", what, e.message);
  } else if (e.code == "NoSuchBucket") {
    text = fmt::format("{}: bucket '{}' does not exist (NoSuchBucket); create it or fix `bucket`",
                       what, bucket);
  } else if (e.code == "PermanentRedirect" || e.code == "AuthorizationHeaderMalformed" ||
             e.status == 301) {
    text = fmt::format("{}: bucket '{}' is in another region{}{} (HTTP {} {}); fix `region`", what,
                       bucket, e.region.empty() ? "" : ": ", e.region, e.status, e.code);
  } else {
    text = fmt::format("{}: HTTP {}{}{}{}{}", what, e.status, e.code.empty() ? "" : " ", e.code,
                       e.message.empty() ? "" : ": ", e.message);
    if (cls == sink::StatusClass::kUnauthorized && (e.status == 401 || e.status == 403)) {
      text += " (check the AWS credentials and the bucket policy)";
    }
  }
  sdk::setMessage(v, text);
  sink::applyStatusClass(cls, r, v);
}

} // namespace ferry::s3
