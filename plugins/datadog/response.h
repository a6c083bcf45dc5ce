// Datadog intake v2 responses → the runner's verdict. 2xx delivered; 400 and other 4xx
// dropped; 401/403 retried and reported unhealthy; 408, 429 (Retry-After), 5xx and
// transport failures retried; 413 split.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ferry/plugin.h"

namespace ferry::datadog {

// The longest Retry-After we honour; a larger one is clamped (the runner's backoff still
// applies on top of it).
inline constexpr uint64_t kMaxRetryAfterMs = 10 * 60 * 1000;

// The Retry-After header in milliseconds: delta-seconds, or an HTTP-date relative to `now`.
// nullopt when absent or unreadable; clamped to kMaxRetryAfterMs.
std::optional<uint64_t> retryAfterMs(std::span<const char* const> headers,
                                     std::chrono::system_clock::time_point now);

// Judges one attempt. Pure: the verdict depends only on the arguments.
void judgeResponse(const ferry_http_response& response, ferry_plugin_verdict& verdict,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

} // namespace ferry::datadog
