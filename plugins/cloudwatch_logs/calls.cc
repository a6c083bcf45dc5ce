// The steps of one request and the judgement of each answer. A request starts with
// CreateLogStream when the sink does not know its stream yet (as Fluent Bit does), else with
// PutLogEvents. ResourceNotFoundException: a missing stream is created; a missing group is
// created when auto_create_group allows (then its retention, then the stream), each step
// answered CONTINUE, and the events are put again. rejectedLogEventsInfo drops the events it
// names (too old, expired, too new) and delivers the rest (PARTIAL, states per record).
#include <rapidjson/document.h>

#include <algorithm>

#include "cloudwatch.h"
#include "ferry/codec/json.h"
#include "ferry/sink/aws.h"

namespace ferry::cloudwatch {
namespace {

std::string jsonString(std::string_view s) {
  core::ByteBuffer b;
  codec::appendJsonString(b, s);
  return std::string(b.view());
}

bool isThrottling(std::string_view t) {
  return t == "ThrottlingException" || t == "ServiceUnavailableException" ||
         t == "LimitExceededException" || t == "RequestLimitExceeded";
}

bool isAuth(std::string_view t) {
  return t == "AccessDeniedException" || t == "UnrecognizedClientException" ||
         t == "InvalidSignatureException" || t == "IncompleteSignature" ||
         t == "MissingAuthenticationToken" || t == "InvalidClientTokenId" ||
         t == "ExpiredTokenException" || t == "SignatureDoesNotMatch" || t == "NotAuthorized";
}

uint64_t indexOf(const rapidjson::Value& info, const char* key, uint64_t fallback, size_t n) {
  const auto m = info.FindMember(key);
  if (m == info.MemberEnd() || !m->value.IsUint64()) return fallback;
  return std::min<uint64_t>(m->value.GetUint64(), n);
}

// A 200 to PutLogEvents: every event stored, or those rejectedLogEventsInfo names dropped.
void judgePut(CloudWatchRequest& req, const ferry_http_response& r, ferry_plugin_verdict& v,
              Outcome& o) {
  o.stream_exists = true;
  rapidjson::Document doc;
  const std::string_view body = sink::bodyOf(r);
  doc.Parse(body.data(), body.size());
  const auto info = doc.IsObject() ? doc.FindMember("rejectedLogEventsInfo") : doc.MemberEnd();
  if (!doc.IsObject() || info == doc.MemberEnd() || !info->value.IsObject()) {
    v.kind = FERRY_VERDICT_DELIVERED;
    return;
  }
  const size_t n = req.events.size();
  const uint64_t too_old = indexOf(info->value, "tooOldLogEventEndIndex", 0, n);
  const uint64_t expired = std::max(too_old, indexOf(info->value, "expiredLogEventEndIndex", 0, n));
  const uint64_t too_new =
      std::max(expired, indexOf(info->value, "tooNewLogEventStartIndex", n, n));
  o.too_old = too_old;
  o.expired = expired - too_old;
  o.too_new = n - too_new;
  for (size_t i = 0; i < n; ++i) {
    const bool kept = i >= expired && i < too_new;
    req.states[req.events[i].record] = kept ? FERRY_RECORD_DELIVERED : FERRY_RECORD_DROPPED;
    (kept ? v.records_delivered : v.records_dropped) += 1;
  }
  v.kind = v.records_dropped == 0 ? FERRY_VERDICT_DELIVERED : FERRY_VERDICT_PARTIAL;
  if (v.records_dropped > 0) {
    sdk::setMessage(v, fmt::format("CloudWatch rejected {} of {} events ({} too old, {} expired, "
                                   "{} too new); the rest stored",
                                   v.records_dropped, n, o.too_old, o.expired, o.too_new));
  }
}

// A create step done (or found done already): the next step.
void advance(CloudWatchRequest& req, const Config& c, ferry_plugin_verdict& v, Outcome& o) {
  switch (req.step) {
  case Step::kCreateGroup:
    o.group_created = true;
    req.step = c.retention_days > 0 ? Step::kRetention : Step::kCreateStream;
    break;
  case Step::kRetention:
    req.step = Step::kCreateStream;
    break;
  default:
    o.stream_exists = true;
    req.step = Step::kPut;
    break;
  }
  v.kind = FERRY_VERDICT_CONTINUE;
}

} // namespace

std::string_view stepName(Step step) {
  switch (step) {
  case Step::kCreateGroup:
    return "CreateLogGroup";
  case Step::kRetention:
    return "PutRetentionPolicy";
  case Step::kCreateStream:
    return "CreateLogStream";
  case Step::kPut:
    break;
  }
  return "PutLogEvents";
}

std::string callBody(const CloudWatchRequest& req, const Config& c) {
  const std::string group = jsonString(req.route.group);
  switch (req.step) {
  case Step::kCreateGroup: {
    std::string tags;
    for (const auto& [k, val] : c.group_tags)
      tags += (tags.empty() ? "" : ",") + jsonString(k) + ":" + jsonString(val);
    return "{\"logGroupName\":" + group + (tags.empty() ? "" : ",\"tags\":{" + tags + "}") + "}";
  }
  case Step::kRetention:
    return fmt::format("{{\"logGroupName\":{},\"retentionInDays\":{}}}", group, c.retention_days);
  case Step::kCreateStream:
    return "{\"logGroupName\":" + group + ",\"logStreamName\":" + jsonString(req.route.stream) +
           "}";
  case Step::kPut:
    break;
  }
  return req.put_body;
}

void judge(CloudWatchRequest& req, const Config& c, const ferry_http_response& r,
           ferry_plugin_verdict& v, Outcome& o) {
  using sink::StatusClass;
  StatusClass cls = sink::classifyStatus(r.status);
  const std::string_view call = stepName(req.step);
  if (cls == StatusClass::kTransport) {
    sink::applyStatusClass(cls, r, v);
    sdk::setMessage(v, fmt::format("{}: transport error: {}", call, r.error ? r.error : "unknown"));
    return;
  }
  if (cls == StatusClass::kDelivered) {
    if (req.step == Step::kPut) return judgePut(req, r, v, o);
    return advance(req, c, v, o);
  }
  const sink::AwsError e = sink::awsError(r);
  auto describe = [&](std::string_view what) {
    return fmt::format("{}: {} (HTTP {}{}{}){}{}", call, what, r.status, e.type.empty() ? "" : " ",
                       e.type, e.message.empty() ? "" : ": ", e.message);
  };
  const std::string where = fmt::format("'{}' / '{}'", req.route.group, req.route.stream);
  std::string text;
  if (e.type == "ResourceAlreadyExistsException" && req.step != Step::kPut) {
    return advance(req, c, v, o);
  } else if (e.type == "DataAlreadyAcceptedException") {
    v.kind = FERRY_VERDICT_DELIVERED; // this very batch was stored before
    return;
  } else if (e.type == "ResourceNotFoundException" && req.step != Step::kCreateGroup) {
    const bool group_missing =
        req.step != Step::kPut || e.message.find("group") != std::string::npos;
    if (!group_missing) {
      o.stream_missing = true;
      req.step = Step::kCreateStream;
      v.kind = FERRY_VERDICT_CONTINUE;
      return;
    }
    if (c.auto_create_group) {
      req.step = Step::kCreateGroup;
      v.kind = FERRY_VERDICT_CONTINUE;
      return;
    }
    cls = StatusClass::kUnauthorized; // retried and unhealthy: an operator must create it
    text = describe(
        fmt::format("log group '{}' does not exist and auto_create_group is off", req.route.group));
  } else if (cls == StatusClass::kThrottled || isThrottling(e.type)) {
    cls = StatusClass::kThrottled;
    text = describe("throttled by CloudWatch Logs");
  } else if (cls == StatusClass::kUnauthorized || isAuth(e.type)) {
    cls = StatusClass::kUnauthorized;
    text = describe(fmt::format("AWS refused the credentials or their permission (logs:{})", call));
  } else if (cls == StatusClass::kTooLarge || e.type == "RequestEntityTooLargeException") {
    cls = StatusClass::kTooLarge;
    text = describe("request too large");
  } else if (cls == StatusClass::kRefused) {
    // InvalidParameterException, SerializationException, ...: the same call cannot succeed.
    o.invalid = req.events.size();
    text = describe("CloudWatch Logs refused the events for " + where);
  } else {
    text = describe("CloudWatch Logs error");
  }
  sink::applyStatusClass(cls, r, v);
  sdk::setMessage(v, text);
}

} // namespace ferry::cloudwatch
