// Batch call outcomes (PutRecordBatch: FailedPutCount, RequestResponses[i].ErrorCode;
// PutRecords: FailedRecordCount, Records[i].ErrorCode; errors ResourceNotFoundException,
// InvalidArgumentException, ProvisionedThroughputExceededException, the KMS errors, and
// common errors such as ThrottlingException and UnrecognizedClientException) → the runner's
// verdict.
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/http.h"

namespace ferry::sink {
namespace {

constexpr size_t kSnippet = 160;

using core::trim;

// "com.amazonaws.firehose#ResourceNotFoundException" or "X:http://..." → the bare name.
std::string bareType(std::string_view t) {
  if (const size_t hash = t.rfind('#'); hash != std::string_view::npos) t.remove_prefix(hash + 1);
  if (const size_t colon = t.find(':'); colon != std::string_view::npos) t = t.substr(0, colon);
  return std::string(trim(t));
}

// The error's own message ("message" or "Message" in the body) as a log snippet.
std::string errorMessage(const ferry_http_response& r) {
  std::string text;
  rapidjson::Document doc;
  const std::string_view body = sink::bodyOf(r);
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    for (const char* key : {"message", "Message"}) {
      if (doc.HasMember(key) && doc[key].IsString()) {
        text.assign(doc[key].GetString(), doc[key].GetStringLength());
        break;
      }
    }
  } else {
    text = std::string(body);
  }
  return obs::logSnippet(text, kSnippet);
}

template <size_t N>
bool isOneOf(std::string_view type, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), type) != names.end();
}

// Resending later can succeed; the sink asked us to slow down.
constexpr std::array<std::string_view, 6> kThrottled = {
    "ThrottlingException",    "ServiceUnavailableException",
    "LimitExceededException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",   "KMSThrottlingException"};
// The credentials or their permissions: an operator must act; keep retrying meanwhile.
constexpr std::array<std::string_view, 10> kAuth = {"AccessDeniedException",
                                                    "UnrecognizedClientException",
                                                    "InvalidSignatureException",
                                                    "IncompleteSignature",
                                                    "MissingAuthenticationToken",
                                                    "InvalidClientTokenId",
                                                    "ExpiredTokenException",
                                                    "SignatureDoesNotMatch",
                                                    "NotAuthorized",
                                                    "MissingAuthenticationTokenException"};

void setRetry(ferry_plugin_verdict& v, std::string_view text) {
  v.kind = FERRY_VERDICT_RETRY;
  sdk::setMessage(v, text);
}

// 200: every record put, or some failed (narrow to those), or an unreadable answer.
void judgeSuccess(AwsBatchRequest& request, const ferry_http_response& r, ferry_plugin_verdict& v) {
  rapidjson::Document doc;
  const std::string_view body = sink::bodyOf(r);
  doc.Parse(body.data(), body.size());
  const AwsBatchApi& api = *request.api;
  const std::string count_name(api.failed_count);
  const std::string results_name(api.results);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(count_name.c_str()) ||
      !doc[count_name.c_str()].IsUint64()) {
    // We cannot tell what was put: resending may duplicate, not resending may lose.
    setRetry(v, fmt::format("{} answered 200 without a readable {}; resending", api.vendor,
                            api.failed_count));
    return;
  }
  const uint64_t failed = doc[count_name.c_str()].GetUint64();
  if (failed == 0) {
    v.kind = FERRY_VERDICT_DELIVERED;
    return;
  }
  const auto responses = doc.FindMember(results_name.c_str());
  if (responses == doc.MemberEnd() || !responses->value.IsArray() ||
      responses->value.Size() != request.records.size()) {
    setRetry(v, fmt::format("{} {} but {} does not match the {} records sent; resending all",
                            api.failed_count, failed, api.results, request.records.size()));
    return;
  }
  std::vector<bool> keep(request.records.size(), false);
  size_t marked = 0;
  std::string first_code, first_message;
  bool throttled = false;
  for (rapidjson::SizeType i = 0; i < responses->value.Size(); ++i) {
    const auto& entry = responses->value[i];
    if (!entry.IsObject()) continue;
    const auto code = entry.FindMember("ErrorCode");
    if (code == entry.MemberEnd() || code->value.IsNull()) continue;
    keep[i] = true;
    ++marked;
    const std::string type =
        code->value.IsString() ? bareType({code->value.GetString(), code->value.GetStringLength()})
                               : "?";
    if (isOneOf(type, kThrottled)) throttled = true;
    if (first_code.empty()) {
      first_code = type;
      const auto msg = entry.FindMember("ErrorMessage");
      if (msg != entry.MemberEnd() && msg->value.IsString()) {
        first_message =
            obs::logSnippet({msg->value.GetString(), msg->value.GetStringLength()}, kSnippet);
      }
    }
  }
  if (marked == 0) {
    // FailedPutCount says some failed, yet no entry names an error: trust neither, resend.
    setRetry(v, fmt::format("{} {} but no {} entry has an ErrorCode; resending all",
                            api.failed_count, failed, api.results));
    return;
  }
  const size_t total = request.records.size();
  v.kind = FERRY_VERDICT_PARTIAL;
  v.records_delivered = request.retain(keep);
  v.throttled = throttled ? 1 : 0;
  sdk::setMessage(v, fmt::format("{} of {} {} records failed ({}{}{}); resending only those",
                                 marked, total, api.vendor, first_code,
                                 first_message.empty() ? "" : ": ", first_message));
}

} // namespace

std::string awsErrorType(const ferry_http_response& r) {
  rapidjson::Document doc;
  const std::string_view body = sink::bodyOf(r);
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (doc.HasMember(key) && doc[key].IsString()) {
        const std::string t = bareType({doc[key].GetString(), doc[key].GetStringLength()});
        if (!t.empty()) return t;
      }
    }
  }
  if (auto h = sink::findHeader(sink::headersOf(r), "x-amzn-ErrorType")) return bareType(*h);
  return {};
}

void judgeBatchResponse(AwsBatchRequest& request, const ferry_http_response& r,
                        ferry_plugin_verdict& v, std::string_view region) {
  const AwsBatchApi& api = *request.api;
  using sink::StatusClass;
  const int status = r.status;
  StatusClass cls = sink::classifyStatus(status);
  if (cls == StatusClass::kDelivered) {
    judgeSuccess(request, r, v);
    return;
  }
  if (cls == StatusClass::kTransport) {
    sink::applyStatusClass(cls, r, v);
    sdk::setMessage(v,
                    fmt::format("transport error: {}", r.error != nullptr ? r.error : "unknown"));
    return;
  }
  const std::string type = awsErrorType(r);
  const std::string detail = errorMessage(r);
  auto describe = [&](std::string_view what) {
    return fmt::format("{} (HTTP {}{}{}){}{}", what, status, type.empty() ? "" : " ", type,
                       detail.empty() ? "" : ": ", detail);
  };
  // The AWS error type says more than the status: a throttling 400, a missing stream 400.
  std::string text;
  if (cls == StatusClass::kThrottled || isOneOf(type, kThrottled)) {
    cls = StatusClass::kThrottled;
    text = describe(fmt::format("throttled by {}", api.vendor));
  } else if (type == "ResourceNotFoundException") {
    cls = StatusClass::kUnauthorized; // retried, unhealthy: an operator must act
    text = describe(fmt::format("{} '{}' not found in region {}; check {} and region",
                                api.stream_noun, request.stream, region, api.stream_option));
  } else if (cls == StatusClass::kUnauthorized || isOneOf(type, kAuth)) {
    cls = StatusClass::kUnauthorized;
    text = describe(
        fmt::format("AWS refused the credentials or their permission ({})", api.permission));
  } else if (type == "InvalidKMSResourceException" || type.starts_with("KMS")) {
    cls = StatusClass::kUnauthorized;
    text = describe("the stream's KMS key is unusable");
  } else if (cls == StatusClass::kTooLarge || type == "RequestEntityTooLargeException") {
    cls = StatusClass::kTooLarge;
    text = describe("request too large");
  } else if (cls == StatusClass::kServerError || cls == StatusClass::kTimeout) {
    text = describe(fmt::format("{} error", api.vendor));
  } else if (cls == StatusClass::kRefused) {
    // ValidationException, InvalidArgumentException, SerializationException...: resending
    // the same request cannot succeed.
    text = describe(fmt::format("{} refused the request", api.vendor));
  } else {
    // 1xx, 3xx: a proxy or a wrong endpoint. Resending loses nothing.
    text = describe("unexpected answer (check endpoint)");
  }
  sink::applyStatusClass(cls, r, v);
  sdk::setMessage(v, text);
}

} // namespace ferry::sink
