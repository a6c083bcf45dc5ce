// S3 error responses (docs: "Error responses", the ErrorCode list) → verdicts. S3 puts the
// reason in an XML body <Error><Code>...</Code><Message>...</Message></Error>; HEAD-style
// bodiless errors only have the status.
#include "response.h"

#include <algorithm>
#include <array>

#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/http.h"

namespace ferry::s3 {
namespace {

// Codes that mean "your credentials or permissions": retrying may succeed once someone
// fixes them (or temporary credentials refresh), and /health must say so meanwhile.
constexpr std::array<std::string_view, 10> kAuthCodes = {
    "AccessDenied",         "InvalidAccessKeyId",   "SignatureDoesNotMatch", "ExpiredToken",
    "InvalidToken",         "TokenRefreshRequired", "AccountProblem",        "AllAccessDisabled",
    "RequestTimeTooSkewed", "InvalidSecurity"};
// 4xx codes that are transient: the request itself was fine.
constexpr std::array<std::string_view, 5> kTransientCodes = {
    "RequestTimeout", "IncompleteBody", "BadDigest", "XAmzContentSHA256Mismatch",
    "OperationAborted"};

template <size_t N> bool among(std::string_view code, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), code) != set.end();
}

} // namespace

sink::StatusClass classify(const S3Error& e) {
  using sink::StatusClass;
  const StatusClass cls = sink::classifyStatus(e.status);
  if (cls == StatusClass::kDelivered && e.code.empty()) return cls;
  if (cls == StatusClass::kTransport) return cls;
  if (e.code == "SlowDown" || e.status == 503 || cls == StatusClass::kThrottled) {
    return StatusClass::kThrottled;
  }
  // Someone (a lifecycle rule, another tool) aborted the upload: retried from its start.
  if (e.code == "NoSuchUpload") return StatusClass::kServerError;
  if (e.code == "NoSuchBucket" || e.code == "PermanentRedirect" ||
      e.code == "AuthorizationHeaderMalformed" || e.status == 301 || e.status == 307) {
    return StatusClass::kUnauthorized; // retried, unhealthy: someone must fix the config
  }
  if (among(e.code, kAuthCodes) || cls == StatusClass::kUnauthorized) {
    return StatusClass::kUnauthorized;
  }
  if (among(e.code, kTransientCodes) || cls == StatusClass::kTimeout ||
      cls == StatusClass::kServerError) {
    return StatusClass::kServerError;
  }
  // A 200 with an <Error> body (CompleteMultipartUpload's late failure): S3 says to retry.
  if (cls == StatusClass::kDelivered) return StatusClass::kServerError;
  if (e.code == "EntityTooLarge") return StatusClass::kTooLarge;
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
