// Verdicts by the status alone: every class gets its verdict from the kit and its words from
// the sink's table (the defaults where the sink sets none), the body's start only where the
// table asks for it, with secrets masked.
#include "ferry/sink/status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/obs/redact.h"

namespace ferry::sink {
namespace {

ferry_plugin_verdict judge(int status, const StatusWords& words, const char* body = "why",
                           std::vector<const char*> headers = {}, const char* error = nullptr) {
  ferry_http_response r{};
  r.status = status;
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = reinterpret_cast<const uint8_t*>(body);
  r.body_len = body ? std::char_traits<char>::length(body) : 0;
  r.error = error;
  ferry_plugin_verdict v{};
  judgeStatus(r, v, words, std::chrono::system_clock::from_time_t(0));
  return v;
}

TEST(StatusWordsTest, DefaultWordsForEveryClass) {
  const StatusWords words;
  const std::vector<std::pair<int, const char*>> table = {
      {401, "credentials rejected (HTTP 401)"},
      {403, "credentials rejected (HTTP 403)"},
      {408, "timed out (HTTP 408)"},
      {413, "payload too large (HTTP 413)"},
      {429, "throttled (HTTP 429)"},
      {500, "server error (HTTP 500): why"},
      {400, "request refused (HTTP 400): why"},
      {422, "request refused (HTTP 422): why"},
      {307, "unexpected HTTP 307 (check url)"},
      {101, "unexpected HTTP 101 (check url)"},
      {200, ""},
  };
  for (const auto& [status, text] : table)
    EXPECT_STREQ(judge(status, words).message, text) << status;
}

TEST(StatusWordsTest, VerdictsAreTheKitsClasses) {
  const StatusWords words;
  EXPECT_EQ(judge(202, words).kind, static_cast<uint32_t>(FERRY_VERDICT_DELIVERED));
  EXPECT_EQ(judge(400, words).kind, static_cast<uint32_t>(FERRY_VERDICT_DROP));
  EXPECT_EQ(judge(413, words).kind, static_cast<uint32_t>(FERRY_VERDICT_SPLIT));
  const ferry_plugin_verdict auth = judge(403, words);
  EXPECT_EQ(auth.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_EQ(auth.unhealthy, 1u);
  const ferry_plugin_verdict slow = judge(429, words, nullptr, {"Retry-After: 3"});
  EXPECT_EQ(slow.throttled, 1u);
  EXPECT_EQ(slow.retry_after_ms, 3000u);
  EXPECT_EQ(judge(503, words, nullptr, {"Retry-After: 2"}).retry_after_ms, 2000u);
  EXPECT_EQ(judge(400, words, nullptr, {"Retry-After: 2"}).retry_after_ms, 0u) << "not a retry";
}

TEST(StatusWordsTest, ASinksOwnWords) {
  const StatusWords words = {.unauthorized = {"key refused (HTTP {}): check key"},
                             .server_error = {"vendor down (HTTP {})"},
                             .bad_request = {"bad payload (HTTP 400)", true},
                             .refused = {"refused (HTTP {})"}};
  EXPECT_STREQ(judge(401, words).message, "key refused (HTTP 401): check key");
  EXPECT_STREQ(judge(502, words).message, "vendor down (HTTP 502)") << "no body unless asked";
  EXPECT_STREQ(judge(400, words).message, "bad payload (HTTP 400): why");
  EXPECT_STREQ(judge(404, words).message, "refused (HTTP 404)") << "other 4xx: refused";
  EXPECT_STREQ(judge(408, words).message, "timed out (HTTP 408)") << "unset: the default";
  EXPECT_STREQ(judge(500, words, nullptr).message, "vendor down (HTTP 500)");
}

TEST(StatusWordsTest, TransportFailuresSayWhatFailed) {
  const StatusWords words;
  const ferry_plugin_verdict v = judge(0, words, nullptr, {}, "Connection reset by peer");
  EXPECT_EQ(v.kind, static_cast<uint32_t>(FERRY_VERDICT_RETRY));
  EXPECT_STREQ(v.message, "transport error: Connection reset by peer");
  EXPECT_STREQ(judge(0, words, nullptr).message, "transport error: unknown");
}

TEST(StatusWordsTest, QuotedBodiesAreMaskedAndShort) {
  obs::addSecret("status-test-secret-9f3a");
  const StatusWords words;
  const std::string echoed = judge(500, words, "echo: status-test-secret-9f3a").message;
  EXPECT_EQ(echoed.find("status-test-secret-9f3a"), std::string::npos) << echoed;
  EXPECT_EQ(echoed.rfind("server error (HTTP 500): echo: ", 0), 0u) << echoed;
  const std::string long_body(5000, 'z');
  const std::string cut = judge(500, words, long_body.c_str()).message;
  EXPECT_LT(cut.size(), 200u);
}

} // namespace
} // namespace ferry::sink
