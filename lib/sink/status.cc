// Verdicts by the status alone: the class from the kit, the words from the sink.
#include "ferry/sink/status.h"

#include <fmt/format.h>

#include "ferry/output/plugin_sdk.h"

namespace ferry::sink {
namespace {

const StatusWord& wordOf(StatusClass cls, int status, const StatusWords& w) {
  switch (cls) {
  case StatusClass::kUnauthorized:
    return w.unauthorized;
  case StatusClass::kTimeout:
    return w.timeout;
  case StatusClass::kThrottled:
    return w.throttled;
  case StatusClass::kTooLarge:
    return w.too_large;
  case StatusClass::kServerError:
    return w.server_error;
  case StatusClass::kRefused:
    return status == 400 && w.bad_request.pattern != nullptr ? w.bad_request : w.refused;
  default:
    return w.unexpected;
  }
}

} // namespace

std::string statusMessage(StatusClass cls, const ferry_http_response& r, const StatusWords& w) {
  if (cls == StatusClass::kDelivered) return {};
  if (cls == StatusClass::kTransport)
    return fmt::format("transport error: {}", r.error != nullptr ? r.error : "unknown");
  const StatusWord& word = wordOf(cls, r.status, w);
  std::string text =
      fmt::format(fmt::runtime(word.pattern != nullptr ? word.pattern : "HTTP {}"), r.status);
  if (word.body) {
    if (const std::string body = bodySnippet(r); !body.empty()) text += ": " + body;
  }
  return text;
}

void judgeStatus(const ferry_http_response& r, ferry_plugin_verdict& v, const StatusWords& w,
                 std::chrono::system_clock::time_point now) {
  const StatusClass cls = classifyStatus(r.status);
  applyStatusClass(cls, r, v, now);
  if (cls != StatusClass::kDelivered) sdk::setMessage(v, statusMessage(cls, r, w));
}

} // namespace ferry::sink
