// Datadog intake v2 status codes (docs: 202 accepted; 400 bad payload; 401/403 API key;
// 408 timeout; 413 over 5 MB; 429 throttled; 5xx retry later) → the runner's verdict.
#include "response.h"
#include "ferry/core/strings.h"

#include <ctime>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "ferry/obs/redact.h"
#include "ferry/output/plugin_sdk.h"

namespace ferry::datadog {
namespace {

constexpr size_t kBodySnippet = 120;

using core::iequals;

using core::trim;

// The start of the response body for the log line, secrets masked (a proxy may echo the
// request, DD-API-KEY included; the plugin registered its api_key at init).
std::string bodySnippet(const ferry_http_response& r) {
  if (r.body == nullptr) return {};
  return obs::logSnippet({reinterpret_cast<const char*>(r.body), r.body_len}, kBodySnippet);
}

std::string withBody(std::string text, const ferry_http_response& r) {
  const std::string body = bodySnippet(r);
  if (!body.empty()) text += ": " + body;
  return text;
}

} // namespace

std::optional<uint64_t> retryAfterMs(std::span<const char* const> headers,
                                     std::chrono::system_clock::time_point now) {
  for (const char* line : headers) {
    if (line == nullptr) continue;
    const std::string_view h(line);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || !iequals(trim(h.substr(0, colon)), "retry-after")) {
      continue;
    }
    const std::string_view value = trim(h.substr(colon + 1));
    uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size()) {
      return std::min(seconds, kMaxRetryAfterMs / 1000) * 1000;
    }
    // HTTP-date (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
    std::tm tm{};
    const std::string text(value);
    const char* parsed = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (parsed == nullptr || *parsed != '\0') return std::nullopt;
    const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    if (at <= now) return 0;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at - now).count();
    return std::min(static_cast<uint64_t>(ms), kMaxRetryAfterMs);
  }
  return std::nullopt;
}

void judgeResponse(const ferry_http_response& r, ferry_plugin_verdict& v,
                   std::chrono::system_clock::time_point now) {
  const int status = r.status;
  auto retry = [&](std::string text) {
    v.kind = FERRY_VERDICT_RETRY;
    if (auto after = retryAfterMs(std::span(r.headers, r.headers ? r.header_count : 0), now)) {
      v.retry_after_ms = *after;
    }
    sdk::setMessage(v, text);
  };

  if (status >= 200 && status < 300) {
    v.kind = FERRY_VERDICT_DELIVERED;
    return;
  }
  if (status == 0) {
    retry(fmt::format("transport error: {}", r.error != nullptr ? r.error : "unknown"));
    return;
  }
  if (status == 401 || status == 403) {
    retry(fmt::format("API key rejected (HTTP {}): check api_key and site", status));
    v.unhealthy = 1;
    return;
  }
  if (status == 408) {
    retry("intake timed out (HTTP 408)");
    return;
  }
  if (status == 429) {
    retry("throttled by the intake (HTTP 429)");
    v.throttled = 1;
    return;
  }
  if (status == 413) {
    v.kind = FERRY_VERDICT_SPLIT;
    sdk::setMessage(v, "payload too large (HTTP 413)");
    return;
  }
  if (status >= 500) {
    retry(withBody(fmt::format("intake error (HTTP {})", status), r));
    return;
  }
  if (status == 400) {
    v.kind = FERRY_VERDICT_DROP; // a malformed payload never gets better by resending it
    sdk::setMessage(v, withBody("intake refused the payload (HTTP 400)", r));
    return;
  }
  if (status >= 400) {
    v.kind = FERRY_VERDICT_DROP;
    sdk::setMessage(v, withBody(fmt::format("intake refused the request (HTTP {})", status), r));
    return;
  }
  // 1xx/3xx: a proxy or a wrong url. Resending cannot lose anything; say so loudly.
  retry(fmt::format("unexpected HTTP {} (check url)", status));
  v.unhealthy = 1;
}

} // namespace ferry::datadog
