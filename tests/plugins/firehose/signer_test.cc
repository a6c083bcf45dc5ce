// Each attempt is signed with SigV4 for service firehose: the headers the host sends, and a
// signature cross-checked against @smithy/signature-v4 (the value below was computed by it
// for the same request: host 127.0.0.1:1234, body "{}", 2024-01-01T00:00:00Z).
#include "firehose/signer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "ferry/aws/sigv4.h"
#include "ferry/sink/aws.h"

namespace ferry::firehose {
namespace {

FirehoseConfig config(const std::string& endpoint) {
  FirehoseConfig c;
  c.delivery_stream = "s";
  c.region = "us-east-1";
  c.endpoint = *sink::parseAwsEndpoint("endpoint", endpoint);
  c.url = c.endpoint.text();
  return c;
}

std::vector<std::string> headers(const ferry_http_request& out) {
  return {out.headers, out.headers + out.header_count};
}

aws::SystemTime newYear2024() {
  return std::chrono::sys_days(std::chrono::year(2024) / 1 / 1);
}

TEST(FirehoseSignerTest, MatchesSmithySignatureV4) {
  const FirehoseConfig c = config("http://127.0.0.1:1234");
  FirehoseRequest req;
  req.body.append("{}");
  aws::Credentials creds{"AKID", "SECRET", "", std::nullopt, "test"};
  ferry_http_request out{};
  describeAttempt(req, c, creds, newYear2024(), out);
  EXPECT_STREQ(out.method, "POST");
  EXPECT_STREQ(out.url, "http://127.0.0.1:1234/");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.body), out.body_len), "{}");
  const auto h = headers(out);
  const std::vector<std::string> want = {
      "Host: 127.0.0.1:1234", "Content-Type: application/x-amz-json-1.1",
      "X-Amz-Target: Firehose_20150804.PutRecordBatch",
      "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/firehose/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature=57f48667b60bd2b00f82fea49a7428fd2e1927e244f4c34fe0730ddcf8f431da",
      "X-Amz-Date: 20240101T000000Z"};
  EXPECT_EQ(h, want);
}

TEST(FirehoseSignerTest, EachAttemptIsSignedAfreshWithTheTokenWhenThereIsOne) {
  const FirehoseConfig c = config("https://firehose.us-east-1.amazonaws.com");
  FirehoseRequest req;
  req.body.append("{\"a\":1}");
  aws::Credentials creds{"ASIA1", "S", "token-1", std::nullopt, "test"};
  ferry_http_request out{};
  describeAttempt(req, c, creds, newYear2024(), out);
  const auto first = headers(out);
  EXPECT_NE(std::find(first.begin(), first.end(), "X-Amz-Security-Token: token-1"), first.end());
  EXPECT_NE(first[3].find("x-amz-security-token"), std::string::npos) << first[3];
  const std::string hash = req.payload_hash;
  EXPECT_EQ(hash, aws::sha256Hex("{\"a\":1}"));

  describeAttempt(req, c, creds, newYear2024() + std::chrono::minutes(61), out);
  const auto second = headers(out);
  EXPECT_NE(std::find(second.begin(), second.end(), "X-Amz-Date: 20240101T010100Z"), second.end());
  EXPECT_NE(first[3], second[3]);

  // A narrowed body is hashed again.
  req.begin();
  req.finish();
  describeAttempt(req, c, creds, newYear2024(), out);
  EXPECT_EQ(req.payload_hash, aws::sha256Hex(req.body.view()));
  EXPECT_NE(req.payload_hash, hash);
}

} // namespace
} // namespace ferry::firehose
