// The sink kit's HTTP helpers: Retry-After in both forms, the status classes and the verdicts
// they give, header lookup, header values and URL checks.
#include "ferry/sink/http.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::sink {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kNow =
    system_clock::from_time_t(784'111'777); // Sun, 06 Nov 1994 08:49:37 GMT

ferry_http_response responseWith(int status, const std::vector<const char*>& headers) {
  ferry_http_response r{};
  r.status = status;
  r.headers = headers.data();
  r.header_count = headers.size();
  return r;
}

TEST(SinkHttpTest, RetryAfterInSeconds) {
  EXPECT_EQ(parseRetryAfter("3", kNow), 3000u);
  EXPECT_EQ(parseRetryAfter(" 0 ", kNow), 0u);
  EXPECT_EQ(parseRetryAfter("86400", kNow), kMaxRetryAfterMs) << "clamped";
  EXPECT_EQ(parseRetryAfter("99999999999999999999999", kNow), kMaxRetryAfterMs);
  EXPECT_EQ(parseRetryAfter("-3", kNow), std::nullopt);
  EXPECT_EQ(parseRetryAfter("3s", kNow), std::nullopt);
  EXPECT_EQ(parseRetryAfter("", kNow), std::nullopt);
}

TEST(SinkHttpTest, RetryAfterAsAnHttpDate) {
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:57 GMT", kNow), 20'000u);
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:00 GMT", kNow), 0u) << "already past";
  EXPECT_EQ(parseRetryAfter("Mon, 07 Nov 1994 08:49:37 GMT", kNow), kMaxRetryAfterMs);
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:57 PST", kNow), std::nullopt);
  EXPECT_EQ(parseRetryAfter("tomorrow", kNow), std::nullopt);
}

TEST(SinkHttpTest, RetryAfterHeaderIsFoundInAnyCase) {
  EXPECT_EQ(retryAfterMs(responseWith(429, {}), kNow), std::nullopt);
  EXPECT_EQ(retryAfterMs(responseWith(429, {"HTTP/1.1 429 Too Many", "retry-AFTER: 7"}), kNow),
            7000u);
  EXPECT_EQ(retryAfterMs(responseWith(429, {"X-Retry-After: 3"}), kNow), std::nullopt);
  EXPECT_EQ(findHeader(std::vector<const char*>{"ETag: \"x\" ", nullptr}, "etag"), "\"x\"");
}

TEST(SinkHttpTest, StatusClassesAsTheSpecStatesThem) {
  struct Row {
    int status;
    StatusClass cls;
    uint32_t kind;
    uint32_t unhealthy, throttled;
  };
  const Row rows[] = {
      {200, StatusClass::kDelivered, FERRY_VERDICT_DELIVERED, 0, 0},
      {202, StatusClass::kDelivered, FERRY_VERDICT_DELIVERED, 0, 0},
      {0, StatusClass::kTransport, FERRY_VERDICT_RETRY, 0, 0},
      {400, StatusClass::kRefused, FERRY_VERDICT_DROP, 0, 0},
      {404, StatusClass::kRefused, FERRY_VERDICT_DROP, 0, 0},
      {401, StatusClass::kUnauthorized, FERRY_VERDICT_RETRY, 1, 0},
      {403, StatusClass::kUnauthorized, FERRY_VERDICT_RETRY, 1, 0},
      {408, StatusClass::kTimeout, FERRY_VERDICT_RETRY, 0, 0},
      {413, StatusClass::kTooLarge, FERRY_VERDICT_SPLIT, 0, 0},
      {429, StatusClass::kThrottled, FERRY_VERDICT_RETRY, 0, 1},
      {500, StatusClass::kServerError, FERRY_VERDICT_RETRY, 0, 0},
      {503, StatusClass::kServerError, FERRY_VERDICT_RETRY, 0, 0},
      {302, StatusClass::kUnexpected, FERRY_VERDICT_RETRY, 1, 0},
  };
  const std::vector<const char*> headers = {"Retry-After: 2"};
  for (const Row& row : rows) {
    EXPECT_EQ(classifyStatus(row.status), row.cls) << row.status;
    ferry_plugin_verdict v{};
    applyStatusClass(classifyStatus(row.status), responseWith(row.status, headers), v, kNow);
    EXPECT_EQ(v.kind, row.kind) << row.status;
    EXPECT_EQ(v.unhealthy, row.unhealthy) << row.status;
    EXPECT_EQ(v.throttled, row.throttled) << row.status;
    // Retry-After is a retry's, never a delivery's, a split's or a drop's.
    EXPECT_EQ(v.retry_after_ms, row.kind == FERRY_VERDICT_RETRY ? 2000u : 0u) << row.status;
  }
}

TEST(SinkHttpTest, BodySnippetMasksAndCuts) {
  const std::string body =
      "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, sig " + std::string(400, 'z');
  ferry_http_response r{};
  r.status = 500;
  r.body = reinterpret_cast<const uint8_t*>(body.data());
  r.body_len = body.size();
  const std::string s = bodySnippet(r, 80);
  EXPECT_LE(s.size(), 83u);
  EXPECT_EQ(s.find("AKID"), std::string::npos) << s;
  EXPECT_TRUE(bodySnippet(ferry_http_response{}).empty());
}

TEST(SinkHttpTest, HeaderValues) {
  EXPECT_TRUE(isSafeHeaderValue("plain value, with: punctuation"));
  EXPECT_FALSE(isSafeHeaderValue("a\r\nX-Evil: 1"));
  EXPECT_FALSE(isSafeHeaderValue(std::string_view("a\0b", 3)));
  auto bad = checkHeaderValue("api_key", "secret-123\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().rfind("api_key:", 0), 0u);
  EXPECT_EQ(bad.error().find("secret-123"), std::string::npos) << "never echo the value";
}

TEST(SinkHttpTest, UrlsFromOptions) {
  auto u = parseHttpUrl("url", " http://127.0.0.1:8080/api/v2/logs ");
  ASSERT_TRUE(u.has_value()) << u.error();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1:8080");
  EXPECT_EQ(u->path, "/api/v2/logs");
  EXPECT_EQ(u->text(), "http://127.0.0.1:8080/api/v2/logs");
  u = parseHttpUrl("url", "https://[::1]:9/");
  ASSERT_TRUE(u.has_value()) << u.error();
  EXPECT_EQ(u->host, "[::1]:9");
  EXPECT_EQ(parseHttpUrl("url", "https://h")->text(), "https://h/");

  for (const char* bad : {"ftp://x/y", "127.0.0.1:8080", "http://", "http:///path",
                          "http://host/a b", "http://user@host/", "http://h/x#frag",
                          "http://h\r\nX-Evil: 1/", "http://:80/", "https://h/x?y=1"}) {
    auto e = parseHttpUrl("url", bad);
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().rfind("url:", 0), 0u) << e.error();
  }
  auto q = parseHttpUrl("url", "https://h/p?a=1&b=2", UrlRules{.allow_query = true});
  ASSERT_TRUE(q.has_value()) << q.error();
  EXPECT_EQ(q->query, "a=1&b=2");
  EXPECT_EQ(q->text(), "https://h/p?a=1&b=2");
  EXPECT_FALSE(parseHttpUrl("url", "https://h/p?a= 1", UrlRules{.allow_query = true}));

  auto bare = parseHttpUrl("endpoint", "vpce-1.example.com/x", UrlRules{.bare_host = true});
  ASSERT_TRUE(bare.has_value()) << bare.error();
  EXPECT_EQ(bare->text(), "https://vpce-1.example.com/x");
  EXPECT_FALSE(parseHttpUrl("endpoint", "gopher://x", UrlRules{.bare_host = true}));
}

} // namespace
} // namespace ferry::sink
