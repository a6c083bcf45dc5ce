// Secrets out of ferry's own log. Every line the logger writes passes through redact(), and
// every place that quotes a peer's answer (a response body, header or error message) cuts
// it with logSnippet(), which masks before it truncates (so a secret cut in half by the
// limit cannot leak its first half). What is masked, each replaced by kMask:
//  - every value registered with addSecret(): secret options (Datadog api_key, forward
//    shared_key, anything a plugin's option table marks secret), AWS secret keys, session
//    and web identity tokens as they are obtained;
//  - the value after a credential-bearing name, whatever the case: a header ("DD-API-KEY: v",
//    "Authorization: AWS4-HMAC-SHA256 ..."), a query or form field ("X-Amz-Security-Token=v"),
//    a JSON member ("SessionToken":"v") or an XML element (<SecretAccessKey>v<).
// The registry is per copy of libferry: the daemon's, and each plugin's private one, so a
// plugin registers what it holds itself, and the host registers the plugin's secret options.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ferry::obs {

inline constexpr std::string_view kMask = "***";
// Shorter values are not registered: masking every "ab" would garble the log, and nothing
// that short protects anything.
inline constexpr size_t kMinSecretLength = 4;

// Remembers a value to mask in every later log line (thread-safe; the most recent 64 are
// kept besides the first 64, enough for a config's secrets and a day of credential refreshes).
void addSecret(std::string_view value);

// `text` with the registered secrets and the credential-bearing fields masked.
std::string redact(std::string_view text);
// The same against an explicit list (the registry is not consulted): for tests and callers
// holding their secrets at hand.
std::string redact(std::string_view text, std::span<const std::string> secrets);

// A peer's text as a log snippet: redacted, control and non-ASCII bytes turned to spaces,
// trimmed, at most max_chars (then "..." appended).
std::string logSnippet(std::string_view text, size_t max_chars);

} // namespace ferry::obs
