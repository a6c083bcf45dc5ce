// S3 error responses (docs: "Error responses", the ErrorCode list) → verdicts. S3 puts the
// reason in an XML body <Error><Code>...</Code><Message>...</Message></Error>; HEAD-style
// bodiless errors only have the status.
#include "response.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/http.h"
#include "ferry/sink/xml.h"

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

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (const char ch : s.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(c >= 0x20 && c < 0x7f ? ch : ' ');
  }
  return out;
}

} // namespace

bool bodyIsError(const ferry_http_response& r) {
  const std::string_view body = sink::bodyOf(r);
  return body.find("<Error>") != std::string_view::npos;
}

S3Error parseError(const ferry_http_response& r) {
  S3Error e;
  e.status = r.status;
  if (r.status == 0) {
    e.message = r.error != nullptr ? r.error : "transport error";
    return e;
  }
  const std::string_view body = sink::bodyOf(r);
  e.code = printable(sink::xmlText(body, "Code"), 64);
  e.message = obs::logSnippet(sink::xmlText(body, "Message"), 160);
  e.region = printable(sink::xmlText(body, "Region"), 32);
  if (e.region.empty()) {
    if (auto h = sink::findHeader(sink::headersOf(r), "x-amz-bucket-region")) {
      e.region = printable(*h, 32);
    }
  }
  return e;
}

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
