// Datadog response judging as a table: status (and headers) → verdict (Retry-After parsing
// itself is the kit's: tests/lib/sink/http_test.cc).
#include "datadog/response.h"

#include <gtest/gtest.h>

#include "ferry/sink/http.h"

#include <string>
#include <vector>

namespace ferry::datadog {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kNow =
    system_clock::from_time_t(784'111'777); // 1994-11-06 08:49:37Z

struct Row {
  int status;
  std::vector<const char*> headers;
  uint32_t kind;
  uint32_t unhealthy;
  uint32_t throttled;
  uint64_t retry_after_ms;
  const char* message_has; // substring of the verdict message ("" = anything)
};

ferry_plugin_verdict judge(const Row& row, const char* body = nullptr,
                           const char* error = nullptr) {
  ferry_http_response r{};
  r.status = row.status;
  r.headers = row.headers.data();
  r.header_count = row.headers.size();
  r.body = reinterpret_cast<const uint8_t*>(body);
  r.body_len = body ? std::char_traits<char>::length(body) : 0;
  r.error = error;
  ferry_plugin_verdict v{};
  judgeResponse(r, v, kNow);
  return v;
}

TEST(DatadogResponseTest, StatusToVerdictTable) {
  const std::vector<Row> table = {
      {200, {}, FERRY_VERDICT_DELIVERED, 0, 0, 0, ""},
      {202, {}, FERRY_VERDICT_DELIVERED, 0, 0, 0, ""},
      {204, {}, FERRY_VERDICT_DELIVERED, 0, 0, 0, ""},
      {400, {}, FERRY_VERDICT_DROP, 0, 0, 0, "HTTP 400"},
      {401, {}, FERRY_VERDICT_RETRY, 1, 0, 0, "API key rejected"},
      {403, {}, FERRY_VERDICT_RETRY, 1, 0, 0, "API key rejected"},
      {404, {}, FERRY_VERDICT_DROP, 0, 0, 0, "HTTP 404"},
      {405, {}, FERRY_VERDICT_DROP, 0, 0, 0, "HTTP 405"},
      {408, {}, FERRY_VERDICT_RETRY, 0, 0, 0, "408"},
      {413, {}, FERRY_VERDICT_SPLIT, 0, 0, 0, "too large"},
      {415, {}, FERRY_VERDICT_DROP, 0, 0, 0, "HTTP 415"},
      {422, {}, FERRY_VERDICT_DROP, 0, 0, 0, "HTTP 422"},
      {429, {}, FERRY_VERDICT_RETRY, 0, 1, 0, "throttled"},
      {429, {"Retry-After: 1"}, FERRY_VERDICT_RETRY, 0, 1, 1000, "throttled"},
      {429, {"retry-after:  7 \r\n"}, FERRY_VERDICT_RETRY, 0, 1, 7000, ""},
      {429, {"Retry-After: Sun, 06 Nov 1994 08:49:40 GMT"}, FERRY_VERDICT_RETRY, 0, 1, 3000, ""},
      {429, {"Retry-After: Sun, 06 Nov 1994 08:49:30 GMT"}, FERRY_VERDICT_RETRY, 0, 1, 0, ""},
      {429, {"Retry-After: soon"}, FERRY_VERDICT_RETRY, 0, 1, 0, ""},
      {429, {"Retry-After: 86400"}, FERRY_VERDICT_RETRY, 0, 1, sink::kMaxRetryAfterMs, ""},
      {500, {}, FERRY_VERDICT_RETRY, 0, 0, 0, "HTTP 500"},
      {502, {}, FERRY_VERDICT_RETRY, 0, 0, 0, "HTTP 502"},
      {503, {"Content-Type: text/plain", "Retry-After: 2"}, FERRY_VERDICT_RETRY, 0, 0, 2000, "503"},
      {504, {}, FERRY_VERDICT_RETRY, 0, 0, 0, "HTTP 504"},
      {301, {}, FERRY_VERDICT_RETRY, 1, 0, 0, "check url"},
  };
  for (const Row& row : table) {
    const ferry_plugin_verdict v = judge(row);
    const std::string where = "HTTP " + std::to_string(row.status) +
                              (row.headers.empty() ? "" : std::string(" ") + row.headers.back());
    EXPECT_EQ(v.kind, row.kind) << where;
    EXPECT_EQ(v.unhealthy, row.unhealthy) << where;
    EXPECT_EQ(v.throttled, row.throttled) << where;
    EXPECT_EQ(v.retry_after_ms, row.retry_after_ms) << where;
    EXPECT_NE(std::string(v.message).find(row.message_has), std::string::npos)
        << where << ": " << v.message;
  }
}

TEST(DatadogResponseTest, NetworkErrorsAreRetriedWithTheirReason) {
  const ferry_plugin_verdict v = judge({0, {}, 0, 0, 0, 0, ""}, nullptr, "Connection refused");
  EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(v.unhealthy, 0u);
  EXPECT_NE(std::string(v.message).find("Connection refused"), std::string::npos) << v.message;
  EXPECT_EQ(judge({0, {}, 0, 0, 0, 0, ""}).kind, FERRY_VERDICT_RETRY) << "no error text";
}

TEST(DatadogResponseTest, RefusalMessagesQuoteTheBodySafely) {
  const ferry_plugin_verdict v =
      judge({400, {}, 0, 0, 0, 0, ""}, "{\"errors\":[\"bad\x01payload\"]}\n");
  EXPECT_EQ(v.kind, FERRY_VERDICT_DROP);
  EXPECT_STREQ(v.message, "intake refused the payload (HTTP 400): {\"errors\":[\"bad payload\"]}");
  const std::string long_body(5000, 'z');
  const ferry_plugin_verdict w = judge({500, {}, 0, 0, 0, 0, ""}, long_body.c_str());
  EXPECT_LT(std::string(w.message).size(), 200u);
  EXPECT_NE(std::string(w.message).find("..."), std::string::npos);
}

TEST(DatadogResponseTest, EveryClassInDatadogsWords) {
  const std::vector<std::pair<int, const char*>> words = {
      {401, "API key rejected (HTTP 401): check api_key and site"},
      {403, "API key rejected (HTTP 403): check api_key and site"},
      {408, "intake timed out (HTTP 408)"},
      {413, "payload too large (HTTP 413)"},
      {429, "throttled by the intake (HTTP 429)"},
      {500, "intake error (HTTP 500): busy"},
      {503, "intake error (HTTP 503): busy"},
      {400, "intake refused the payload (HTTP 400): busy"},
      {404, "intake refused the request (HTTP 404): busy"},
      {302, "unexpected HTTP 302 (check url)"},
      {202, ""},
  };
  for (const auto& [status, text] : words) {
    EXPECT_STREQ(judge({status, {}, 0, 0, 0, 0, ""}, "busy").message, text) << status;
  }
  EXPECT_STREQ(judge({500, {}, 0, 0, 0, 0, ""}).message, "intake error (HTTP 500)") << "no body";
  EXPECT_STREQ(judge({0, {}, 0, 0, 0, 0, ""}, nullptr, "reset").message, "transport error: reset");
  EXPECT_STREQ(judge({0, {}, 0, 0, 0, 0, ""}).message, "transport error: unknown");
}

} // namespace
} // namespace ferry::datadog
