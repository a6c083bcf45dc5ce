// The steps of a request and each answer's verdict. ResourceNotFoundException: the stream is
// created, or the group (auto_create_group; then its retention, then the stream), each step
// CONTINUE, then the put again. rejectedLogEventsInfo: those events dropped, the rest PARTIAL.
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <algorithm>

#include "cloudwatch.h"
#include "ferry/sink/aws.h"

namespace ferry::cloudwatch {
namespace {

// An index of rejectedLogEventsInfo (capped at n), or `fallback` when absent.
uint64_t indexOf(const rapidjson::Document& doc, const char* key, uint64_t fallback, size_t n) {
  const rapidjson::Value* v =
      rapidjson::Pointer(fmt::format("/rejectedLogEventsInfo/{}", key).c_str()).Get(doc);
  return v && v->IsUint64() ? std::min<uint64_t>(v->GetUint64(), n) : fallback;
}

// A 200 to PutLogEvents: every event stored, or those rejectedLogEventsInfo names dropped.
void judgePut(CloudWatchRequest& req, const ferry_http_response& r, ferry_plugin_verdict& v,
              Outcome& o) {
  o.stream_exists = true;
  const rapidjson::Document doc = sink::awsJsonBody(r);
  const size_t n = req.events.size();
  const uint64_t too_old = indexOf(doc, "tooOldLogEventEndIndex", 0, n);
  const uint64_t expired = std::max(too_old, indexOf(doc, "expiredLogEventEndIndex", 0, n));
  const uint64_t too_new = std::max(expired, indexOf(doc, "tooNewLogEventStartIndex", n, n));
  o.too_old = too_old;
  o.expired = expired - too_old;
  o.too_new = n - too_new;
  for (size_t i = 0; i < n; ++i) {
    req.resolve(req.events[i].record, i >= expired && i < too_new, v);
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
  o.group_created = req.step == Step::kCreateGroup;
  o.stream_exists = req.step == Step::kCreateStream;
  req.step = o.group_created && c.retention_days > 0 ? Step::kRetention
             : o.stream_exists                       ? Step::kPut
                                                     : Step::kCreateStream;
  v.kind = FERRY_VERDICT_CONTINUE;
}

} // namespace

std::string_view stepName(Step step) {
  constexpr std::string_view kNames[] = {"PutLogEvents", "CreateLogGroup", "PutRetentionPolicy",
                                         "CreateLogStream"};
  return kNames[static_cast<size_t>(step)];
}

std::string callBody(const CloudWatchRequest& req, const Config& c) {
  const std::string group = sink::jsonString(req.route.group);
  switch (req.step) {
  case Step::kCreateGroup:
    return "{\"logGroupName\":" + group +
           (c.group_tags.empty() ? "" : ",\"tags\":" + sink::awsTagsJson(c.group_tags)) + "}";
  case Step::kRetention:
    return fmt::format("{{\"logGroupName\":{},\"retentionInDays\":{}}}", group, c.retention_days);
  case Step::kCreateStream:
    return "{\"logGroupName\":" + group +
           ",\"logStreamName\":" + sink::jsonString(req.route.stream) + "}";
  case Step::kPut:
    break;
  }
  return req.put_body;
}

void judge(CloudWatchRequest& req, const Config& c, const ferry_http_response& r,
           ferry_plugin_verdict& v, Outcome& o) {
  using sink::StatusClass;
  const StatusClass cls = sink::classifyStatus(r.status);
  const std::string_view call = stepName(req.step);
  if (cls == StatusClass::kDelivered)
    return req.step == Step::kPut ? judgePut(req, r, v, o) : advance(req, c, v, o);
  const sink::AwsError e = cls == StatusClass::kTransport ? sink::AwsError{} : sink::awsError(r);
  if (e.type == "ResourceAlreadyExistsException" && req.step != Step::kPut) {
    return advance(req, c, v, o);
  } else if (e.type == "DataAlreadyAcceptedException") {
    v.kind = FERRY_VERDICT_DELIVERED; // this very batch was stored before
    return;
  } else if (e.type == "ResourceNotFoundException" && req.step != Step::kCreateGroup) {
    const bool stream_only = req.step == Step::kPut && e.message.find("group") == std::string::npos;
    if (stream_only || c.auto_create_group) {
      o.stream_missing = stream_only;
      req.step = stream_only ? Step::kCreateStream : Step::kCreateGroup;
      v.kind = FERRY_VERDICT_CONTINUE;
      return;
    }
    // Retried and unhealthy: an operator must create it.
    return sink::failAwsCall(
        StatusClass::kUnauthorized, call,
        fmt::format("log group '{}' does not exist and auto_create_group is off", req.route.group),
        r, e, v);
  }
  // InvalidParameterException, SerializationException, ...: the same call cannot succeed.
  const std::string permission = fmt::format("logs:{}", call);
  const std::string refused = fmt::format("CloudWatch Logs refused the events for {} / {}",
                                          req.route.group, req.route.stream);
  if (sink::judgeAwsFailure(r, e, {call, "CloudWatch Logs", permission, refused}, v) ==
      StatusClass::kRefused)
    o.invalid = req.events.size();
}

} // namespace ferry::cloudwatch
