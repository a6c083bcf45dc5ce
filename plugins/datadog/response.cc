// Datadog intake v2 status codes (docs: 202 accepted; 400 bad payload; 401/403 API key;
// 408 timeout; 413 over 5 MB; 429 throttled; 5xx retry later): the kit decides the verdict,
// this file only says it in Datadog's terms.
#include "response.h"

#include <string>

#include "ferry/output/plugin_sdk.h"
#include "ferry/sink/http.h"

namespace ferry::datadog {

void judgeResponse(const ferry_http_response& r, ferry_plugin_verdict& v,
                   std::chrono::system_clock::time_point now) {
  using sink::StatusClass;
  const StatusClass cls = sink::classifyStatus(r.status);
  sink::applyStatusClass(cls, r, v, now);
  // The start of the body, secrets masked (a proxy may echo the request, DD-API-KEY
  // included; the plugin registered its api_key at init).
  auto withBody = [&](std::string text) {
    if (const std::string body = sink::bodySnippet(r); !body.empty()) text += ": " + body;
    return text;
  };
  switch (cls) {
  case StatusClass::kDelivered:
    return;
  case StatusClass::kTransport:
    sdk::setMessage(v,
                    fmt::format("transport error: {}", r.error != nullptr ? r.error : "unknown"));
    return;
  case StatusClass::kUnauthorized:
    sdk::setMessage(v, fmt::format("API key rejected (HTTP {}): check api_key and site", r.status));
    return;
  case StatusClass::kTimeout:
    sdk::setMessage(v, "intake timed out (HTTP 408)");
    return;
  case StatusClass::kThrottled:
    sdk::setMessage(v, "throttled by the intake (HTTP 429)");
    return;
  case StatusClass::kTooLarge:
    sdk::setMessage(v, "payload too large (HTTP 413)");
    return;
  case StatusClass::kServerError:
    sdk::setMessage(v, withBody(fmt::format("intake error (HTTP {})", r.status)));
    return;
  case StatusClass::kRefused:
    // A malformed payload never gets better by resending it.
    sdk::setMessage(v,
                    withBody(r.status == 400
                                 ? std::string("intake refused the payload (HTTP 400)")
                                 : fmt::format("intake refused the request (HTTP {})", r.status)));
    return;
  case StatusClass::kUnexpected:
    // 1xx/3xx: a proxy or a wrong url. Resending cannot lose anything; say so loudly.
    sdk::setMessage(v, fmt::format("unexpected HTTP {} (check url)", r.status));
    return;
  }
}

} // namespace ferry::datadog
