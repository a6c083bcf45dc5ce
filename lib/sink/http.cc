// The sink kit's HTTP helpers: status classes, Retry-After, header and URL checks.
#include "ferry/sink/http.h"

#include <ctime>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"

namespace ferry::sink {
namespace {

using core::iequals;
using core::trim;

bool isControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// Host names, IPv4, [IPv6] and :port; nothing that could end a header line or a URL part
// ('@' would smuggle in userinfo, so "http://evil@real" is refused).
bool hostChar(unsigned char c) {
  return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
}
bool pathChar(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '?' && c != '#';
}
bool queryChar(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '#';
}

template <typename Pred> bool allOf(std::string_view s, Pred ok) {
  return std::all_of(s.begin(), s.end(), [&](char c) { return ok(static_cast<unsigned char>(c)); });
}

} // namespace

std::span<const char* const> headersOf(const ferry_http_response& r) {
  if (r.headers == nullptr) return {};
  return {r.headers, r.header_count};
}

std::string_view bodyOf(const ferry_http_response& r) {
  if (r.body == nullptr) return {};
  return {reinterpret_cast<const char*>(r.body), r.body_len};
}

std::optional<std::string_view> findHeader(std::span<const char* const> headers,
                                           std::string_view name) {
  for (const char* line : headers) {
    if (line == nullptr) continue;
    const std::string_view h(line);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || !iequals(trim(h.substr(0, colon)), name)) continue;
    return trim(h.substr(colon + 1));
  }
  return std::nullopt;
}

std::optional<uint64_t> parseRetryAfter(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    return std::min(seconds, kMaxRetryAfterMs / 1000) * 1000;
  }
  if (ec == std::errc::result_out_of_range) return kMaxRetryAfterMs;
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

std::optional<uint64_t> retryAfterMs(const ferry_http_response& r,
                                     std::chrono::system_clock::time_point now) {
  const auto value = findHeader(headersOf(r), "retry-after");
  if (!value) return std::nullopt;
  return parseRetryAfter(*value, now);
}

StatusClass classifyStatus(int status) {
  if (status >= 200 && status < 300) return StatusClass::kDelivered;
  if (status <= 0) return StatusClass::kTransport;
  if (status == 401 || status == 403) return StatusClass::kUnauthorized;
  if (status == 408) return StatusClass::kTimeout;
  if (status == 413) return StatusClass::kTooLarge;
  if (status == 429) return StatusClass::kThrottled;
  if (status >= 500) return StatusClass::kServerError;
  if (status >= 400) return StatusClass::kRefused;
  return StatusClass::kUnexpected;
}

uint32_t verdictKindOf(StatusClass cls) {
  switch (cls) {
  case StatusClass::kDelivered:
    return FERRY_VERDICT_DELIVERED;
  case StatusClass::kTooLarge:
    return FERRY_VERDICT_SPLIT;
  case StatusClass::kRefused:
    return FERRY_VERDICT_DROP;
  case StatusClass::kTransport:
  case StatusClass::kUnauthorized:
  case StatusClass::kTimeout:
  case StatusClass::kThrottled:
  case StatusClass::kServerError:
  case StatusClass::kUnexpected:
    break;
  }
  return FERRY_VERDICT_RETRY;
}

void applyStatusClass(StatusClass cls, const ferry_http_response& r, ferry_plugin_verdict& v,
                      std::chrono::system_clock::time_point now) {
  v.kind = verdictKindOf(cls);
  if (cls == StatusClass::kUnauthorized || cls == StatusClass::kUnexpected) v.unhealthy = 1;
  if (cls == StatusClass::kThrottled) v.throttled = 1;
  if (v.kind == FERRY_VERDICT_RETRY) {
    if (auto after = retryAfterMs(r, now)) v.retry_after_ms = *after;
  }
}

std::string bodySnippet(const ferry_http_response& r, size_t max_chars) {
  const std::string_view body = bodyOf(r);
  if (body.empty()) return {};
  return obs::logSnippet(body, max_chars);
}

bool isSafeHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return isControl(static_cast<unsigned char>(c)); });
}

std::expected<void, std::string> checkHeaderValue(std::string_view option, std::string_view value) {
  if (isSafeHeaderValue(value)) return {};
  return std::unexpected(fmt::format("{}: contains control characters (a stray newline?)", option));
}

std::string HttpUrl::text() const {
  return fmt::format("{}://{}{}{}{}", scheme, host, path, query.empty() ? "" : "?", query);
}

std::expected<HttpUrl, std::string> parseHttpUrl(std::string_view option, std::string_view text,
                                                 UrlRules rules) {
  text = trim(text);
  HttpUrl url;
  std::string_view rest = text;
  if (rest.starts_with("http://")) {
    url.scheme = "http";
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.find("://") != std::string_view::npos) {
    return std::unexpected(fmt::format("{}: only http:// and https:// are supported, got '{}'",
                                       option, obs::logSnippet(text, 120)));
  } else if (!rules.bare_host) {
    return std::unexpected(fmt::format("{}: expected http(s)://host/path, got '{}'", option,
                                       obs::logSnippet(text, 120)));
  }
  const size_t slash = rest.find_first_of("/?#");
  const std::string_view host = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (host.empty() || !allOf(host, hostChar) || host.front() == ':' || host.back() == ':') {
    return std::unexpected(fmt::format("{}: expected http(s)://host/path, got '{}'", option,
                                       obs::logSnippet(text, 120)));
  }
  const size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  if (!allOf(path, pathChar) || (question != std::string_view::npos && !rules.allow_query) ||
      !allOf(query, queryChar)) {
    return std::unexpected(fmt::format("{}: must not contain spaces, control characters{} or '#'",
                                       option, rules.allow_query ? "" : ", '?'"));
  }
  url.host = std::string(host);
  url.path = path.empty() ? "/" : std::string(path);
  url.query = std::string(query);
  return url;
}

} // namespace ferry::sink
