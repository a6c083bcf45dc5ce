// Datadog intake v2 responses → the runner's verdict: the kit's status classes as they are
// (2xx delivered; 400 and other 4xx dropped; 401/403 retried and reported unhealthy; 408,
// 429 (throttled) and 5xx retried, Retry-After honoured; 413 split), with Datadog's words.
#pragma once

#include <chrono>

#include "ferry/plugin.h"

namespace ferry::datadog {

// Judges one attempt. Pure: the verdict depends only on the arguments.
void judgeResponse(const ferry_http_response& response, ferry_plugin_verdict& verdict,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace ferry::datadog
