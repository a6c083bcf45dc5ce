// The sink kit, HTTP part: what every HTTP sink needs to judge an answer and to check the
// options that end up in a request. Statuses are classified once here, as the SPEC states
// them (2xx delivered; 400 and other 4xx dropped; 401/403 retried and unhealthy; 408, 429
// and 5xx retried, 429 throttled; 413 split; transport failures retried), so a sink only
// adds what its vendor says beyond the status (an error code in the body, a partial put).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ferry/plugin.h"

namespace ferry::sink {

// The longest Retry-After we honour; a larger one is clamped (the runner's backoff still
// applies on top of it).
inline constexpr uint64_t kMaxRetryAfterMs = 10 * 60 * 1000;

// The response's header lines and body as views (empty when absent).
std::span<const char* const> headersOf(const ferry_http_response& response);
std::string_view bodyOf(const ferry_http_response& response);

// The trimmed value of the first header `name` (case-insensitive) in "Name: value" lines.
std::optional<std::string_view> findHeader(std::span<const char* const> headers,
                                           std::string_view name);

// One Retry-After value in milliseconds: delta-seconds, or an IMF-fixdate HTTP-date
// relative to `now` (0 when already past). nullopt when unreadable; clamped to
// kMaxRetryAfterMs.
std::optional<uint64_t> parseRetryAfter(std::string_view value,
                                        std::chrono::system_clock::time_point now);
// The Retry-After header of a response, parsed; nullopt when absent or unreadable.
std::optional<uint64_t> retryAfterMs(const ferry_http_response& response,
                                     std::chrono::system_clock::time_point now);

// What a status says, before any vendor detail.
enum class StatusClass {
  kDelivered,    // 2xx
  kTransport,    // 0: no answer (connect, reset, timeout)
  kUnauthorized, // 401, 403
  kTimeout,      // 408
  kTooLarge,     // 413
  kThrottled,    // 429
  kServerError,  // 5xx
  kRefused,      // 400 and every other 4xx
  kUnexpected,   // 1xx, 3xx: a proxy or a wrong URL
};
StatusClass classifyStatus(int status);

// Sets the verdict's kind and flags for a class: DELIVERED; RETRY (kTransport, kTimeout,
// kServerError); RETRY + unhealthy (kUnauthorized, kUnexpected: resending cannot lose
// anything, and someone must look); RETRY + throttled (kThrottled); SPLIT (kTooLarge);
// DROP (kRefused). Every RETRY takes the response's Retry-After. The message is left alone.
void applyStatusClass(StatusClass cls, const ferry_http_response& response,
                      ferry_plugin_verdict& verdict,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// The kind a class gives (FERRY_VERDICT_*).
uint32_t verdictKindOf(StatusClass cls);

// The start of the response body for a log line: secrets masked, unprintable bytes blanked,
// at most max_chars. Empty without a body.
std::string bodySnippet(const ferry_http_response& response, size_t max_chars = 120);

// A value that can go in a header line: no control characters (a stray newline would start
// a header of its own).
bool isSafeHeaderValue(std::string_view value);
// The same as an option check: "option: contains control characters (a stray newline?)".
std::expected<void, std::string> checkHeaderValue(std::string_view option, std::string_view value);

// A URL an option gives: scheme, host[:port] (the Host header) and path ("/" at least).
struct HttpUrl {
  std::string scheme = "https";
  std::string host;
  std::string path = "/";
  std::string query; // without '?'; only when UrlRules::allow_query
  std::string text() const;
};

struct UrlRules {
  bool bare_host = false;   // "host[:port][/path]" means https:// (Fluent Bit's `endpoint`)
  bool allow_query = false; // a ?query may follow the path
};

// Parses an http(s) URL from an option, refusing spaces, control characters, userinfo,
// fragments and anything that could end a header line or a URL part. Errors name the option.
std::expected<HttpUrl, std::string> parseHttpUrl(std::string_view option, std::string_view text,
                                                 UrlRules rules = {});

} // namespace ferry::sink
