// Datadog intake v2 responses → the runner's verdict (docs: 202 accepted; 400 bad payload;
// 401/403 API key; 408 timeout; 413 over 5 MB; 429 throttled; 5xx retry later): the kit's
// status classes decide it as they are (2xx delivered; 400 and other 4xx dropped; 401/403
// retried and reported unhealthy; 408, 429 (throttled) and 5xx retried, Retry-After honoured;
// 413 split), and this table only words it in Datadog's terms.
#pragma once

#include <chrono>

#include "ferry/plugin.h"
#include "ferry/sink/status.h"

namespace ferry::datadog {

inline constexpr sink::StatusWords kStatusWords = {
    .unauthorized = {"API key rejected (HTTP {}): check api_key and site"},
    .timeout = {"intake timed out (HTTP {})"},
    .throttled = {"throttled by the intake (HTTP {})"},
    .too_large = {"payload too large (HTTP {})"},
    .server_error = {"intake error (HTTP {})", true},
    // A malformed payload never gets better by resending it.
    .bad_request = {"intake refused the payload (HTTP 400)", true},
    .refused = {"intake refused the request (HTTP {})", true},
    // 1xx/3xx: a proxy or a wrong url. Resending cannot lose anything; say so loudly.
    .unexpected = {"unexpected HTTP {} (check url)"},
};

// Judges one attempt. Pure: the verdict depends only on the arguments. The start of a body
// is quoted with secrets masked (a proxy may echo the request, DD-API-KEY included; the
// plugin registered its api_key at init).
inline void
judgeResponse(const ferry_http_response& response, ferry_plugin_verdict& verdict,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  sink::judgeStatus(response, verdict, kStatusWords, now);
}

} // namespace ferry::datadog
