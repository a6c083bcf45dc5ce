// S3 responses → verdicts: delivered, retried (5xx, network, RequestTimeout), throttled
// (SlowDown, 503), unhealthy (403 AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
// NoSuchBucket, wrong region), dropped (other 4xx); XML text and header helpers.
#include "s3/response.h"

#include <gtest/gtest.h>

#include "ferry/sink/http.h"

#include <string>

namespace ferry::s3 {
namespace {

ferry_plugin_verdict judge(int status, const std::string& code, const char* header = nullptr) {
  const std::string body =
      code.empty()
          ? ""
          : "<Error><Code>" + code +
                "</Code><Message>why &amp; how</Message><Region>eu-west-1</Region></Error>";
  const char* headers[] = {header};
  ferry_http_response r{};
  r.status = status;
  r.headers = header ? headers : nullptr;
  r.header_count = header ? 1 : 0;
  r.body = reinterpret_cast<const uint8_t*>(body.data());
  r.body_len = body.size();
  r.error = status == 0 ? "Connection refused" : nullptr;
  const S3Error e = sink::awsXmlError(r);
  ferry_plugin_verdict v{};
  failureVerdict(classify(e), e, r, "PutObject", "my-logs", v);
  return v;
}

TEST(S3ResponseTest, Classification) {
  EXPECT_EQ(judge(200, "").kind, FERRY_VERDICT_DELIVERED);
  for (int s : {500, 502, 504})
    EXPECT_EQ(judge(s, "InternalError").kind, FERRY_VERDICT_RETRY) << s;
  EXPECT_EQ(judge(0, "").kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(judge(400, "RequestTimeout").kind, FERRY_VERDICT_RETRY);
  auto slow = judge(503, "SlowDown");
  EXPECT_EQ(slow.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(slow.throttled, 1u);
  for (const char* code :
       {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}) {
    auto v = judge(403, code);
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY) << code;
    EXPECT_EQ(v.unhealthy, 1u) << code;
    EXPECT_NE(std::string(v.message).find(code), std::string::npos) << v.message;
  }
  auto bucket = judge(404, "NoSuchBucket");
  EXPECT_EQ(bucket.kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(bucket.unhealthy, 1u);
  EXPECT_NE(std::string(bucket.message).find("bucket 'my-logs' does not exist"), std::string::npos);
  auto region = judge(301, "PermanentRedirect");
  EXPECT_EQ(region.unhealthy, 1u);
  EXPECT_NE(std::string(region.message).find("eu-west-1"), std::string::npos) << region.message;
  auto bad = judge(400, "InvalidArgument");
  EXPECT_EQ(bad.kind, FERRY_VERDICT_DROP);
  EXPECT_NE(std::string(bad.message).find("why & how"), std::string::npos) << bad.message;
  EXPECT_EQ(judge(403, "").unhealthy, 1u); // no body (e.g. a proxy's 403)
  // Too large, as every sink judges it: the runner halves the object and resends the halves.
  EXPECT_EQ(judge(413, "EntityTooLarge").kind, FERRY_VERDICT_SPLIT);
  EXPECT_EQ(judge(400, "EntityTooLarge").kind, FERRY_VERDICT_SPLIT);
  // Codes over the status decide after throttling; the others only refine a plain status.
  EXPECT_EQ(judge(503, "NoSuchBucket").throttled, 1u);
  EXPECT_EQ(judge(403, "SlowDown").throttled, 1u);
  EXPECT_EQ(judge(301, "NoSuchUpload").unhealthy, 0u);
  EXPECT_EQ(judge(301, "RequestTimeout").unhealthy, 1u);
  EXPECT_EQ(judge(403, "RequestTimeout").unhealthy, 1u);
  EXPECT_EQ(judge(500, "EntityTooLarge").kind, FERRY_VERDICT_RETRY);
  EXPECT_EQ(judge(200, "EntityTooLarge").kind, FERRY_VERDICT_RETRY); // a 200 with an <Error>
}

TEST(S3ResponseTest, Helpers) {
  const char* headers[] = {"Content-Length: 0", "ETAG:  \"abc\"  "};
  ferry_http_response r{};
  r.status = 200;
  r.headers = headers;
  r.header_count = 2;
  EXPECT_EQ(sink::findHeader(sink::headersOf(r), "etag").value_or(""), "\"abc\"");
  EXPECT_FALSE(sink::findHeader(sink::headersOf(r), "x-amz-request-id").has_value());
}

} // namespace
} // namespace ferry::s3
