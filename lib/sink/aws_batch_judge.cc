// Batch call outcomes (PutRecordBatch: FailedPutCount, RequestResponses[i].ErrorCode;
// PutRecords: FailedRecordCount, Records[i].ErrorCode; errors ResourceNotFoundException,
// InvalidArgumentException, ProvisionedThroughputExceededException, the KMS errors, and
// common errors such as ThrottlingException and UnrecognizedClientException) → the runner's
// verdict.
#include <rapidjson/document.h>

#include <string>

#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/http.h"

namespace ferry::sink {
namespace {

constexpr size_t kSnippet = 160;

// Resending later can succeed; the sink asked us to slow down (a KMS key's throttling too).
bool isThrottling(std::string_view type) {
  return isAwsThrottling(type) || type == "KMSThrottlingException";
}

void setRetry(ferry_plugin_verdict& v, std::string_view text) {
  v.kind = FERRY_VERDICT_RETRY;
  sdk::setMessage(v, text);
}

// 200: every record put, or some failed (narrow to those), or an unreadable answer.
void judgeSuccess(AwsBatchRequest& request, const ferry_http_response& r, ferry_plugin_verdict& v) {
  const rapidjson::Document doc = awsJsonBody(r);
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
        code->value.IsString()
            ? bareAwsErrorType({code->value.GetString(), code->value.GetStringLength()})
            : "?";
    if (isThrottling(type)) throttled = true;
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
  return awsError(r).type;
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
  const AwsError error = awsError(r, kSnippet);
  const std::string& type = error.type;
  const std::string& detail = error.message;
  auto describe = [&](std::string_view what) {
    return fmt::format("{} (HTTP {}{}{}){}{}", what, status, type.empty() ? "" : " ", type,
                       detail.empty() ? "" : ": ", detail);
  };
  // The AWS error type says more than the status: a throttling 400, a missing stream 400.
  std::string text;
  if (cls == StatusClass::kThrottled || isThrottling(type)) {
    cls = StatusClass::kThrottled;
    text = describe(fmt::format("throttled by {}", api.vendor));
  } else if (type == "ResourceNotFoundException") {
    cls = StatusClass::kUnauthorized; // retried, unhealthy: an operator must act
    text = describe(fmt::format("{} '{}' not found in region {}; check {} and region",
                                api.stream_noun, request.stream, region, api.stream_option));
  } else if (cls == StatusClass::kUnauthorized || isAwsAuthError(type)) {
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
