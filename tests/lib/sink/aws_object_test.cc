// The kit's AWS object-store pieces: virtual-host addressing on AWS, path style behind an
// override or for a dotted bucket; a REST call signed exactly as it is sent; the XML error of
// an answer; object keys from a template, without a leading '/', within the store's limit.
#include "ferry/sink/aws_object.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::sink {
namespace {

AwsObjectTarget target(std::string bucket, std::string region) {
  AwsObjectTarget t;
  t.bucket = std::move(bucket);
  t.region = std::move(region);
  return t;
}

ferry_http_response answer(int status, const std::string& body,
                           const std::vector<const char*>& headers = {}) {
  ferry_http_response r{};
  r.status = status;
  r.headers = headers.empty() ? nullptr : headers.data();
  r.header_count = headers.size();
  r.body = reinterpret_cast<const uint8_t*>(body.data());
  r.body_len = body.size();
  r.error = status == 0 ? "Connection refused" : nullptr;
  return r;
}

TEST(AwsObjectTest, VirtualHostOnAwsPathStyleOtherwise) {
  AwsObjectTarget aws = target("my-logs", "us-east-2");
  ASSERT_TRUE(resolveObjectTarget("endpoint", "  ", "s3", aws).has_value());
  EXPECT_FALSE(aws.path_style);
  EXPECT_EQ(aws.host, "my-logs.s3.us-east-2.amazonaws.com");
  EXPECT_EQ(aws.endpoint, "");
  EXPECT_EQ(objectUrl(aws, "a b/c+d.gz", "uploads="),
            "https://my-logs.s3.us-east-2.amazonaws.com/a%20b/c%2Bd.gz?uploads=");

  // A dotted bucket does not match the wildcard certificate: path style, on the China suffix.
  AwsObjectTarget dotted = target("b.with.dots", "cn-north-1");
  ASSERT_TRUE(resolveObjectTarget("endpoint", "", "s3", dotted).has_value());
  EXPECT_TRUE(dotted.path_style);
  EXPECT_EQ(objectUrl(dotted, "k", ""), "https://s3.cn-north-1.amazonaws.com.cn/b.with.dots/k");

  // An override keeps its path prefix (without trailing slashes) before /bucket.
  AwsObjectTarget local = target("logs", "us-east-1");
  ASSERT_TRUE(resolveObjectTarget("endpoint", " http://127.0.0.1:4568/store// ", "s3", local));
  EXPECT_TRUE(local.path_style);
  EXPECT_EQ(local.scheme, "http");
  EXPECT_EQ(local.host, "127.0.0.1:4568");
  EXPECT_EQ(local.endpoint, "http://127.0.0.1:4568/store//");
  EXPECT_EQ(objectPath(local, "x/y"), "/store/logs/x/y");

  AwsObjectTarget bad = target("logs", "us-east-1");
  auto err = resolveObjectTarget("endpoint", "ftp://x", "s3", bad);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().rfind("endpoint", 0), 0u) << err.error();
}

TEST(AwsObjectTest, SignsThePathAndQueryItSends) {
  AwsObjectTarget t = target("logs", "eu-west-1");
  ASSERT_TRUE(resolveObjectTarget("endpoint", "http://127.0.0.1:9000", "s3", t).has_value());
  const aws::Credentials creds{.access_key_id = "AKIDEXAMPLE",
                               .secret_access_key = "secret",
                               .session_token = "",
                               .expiration = std::nullopt,
                               .source = "test"};
  const auto now = std::chrono::sys_days{std::chrono::year{2024} / 3 / 5};
  const AwsRestCall call{.method = "PUT",
                         .key = "a b/k.gz",
                         .query = "partNumber=2&uploadId=u%261",
                         .body = "abc",
                         .headers = {{"Content-Type", "application/octet-stream"}}};
  const std::string hash = aws::sha256Hex("abc");
  SignedCall got;
  signObjectCall(t, "s3", call, creds, hash, got, now);
  // The same request signed by hand: what is signed is what is sent.
  SignedCall want;
  signAwsCall({.method = "PUT",
               .path = "/logs/a%20b/k.gz",
               .query = "partNumber=2&uploadId=u%261",
               .headers = call.headers,
               .payload = "abc",
               .payload_hash = hash},
              "127.0.0.1:9000", "http://127.0.0.1:9000/logs/a%20b/k.gz?partNumber=2&uploadId=u%261",
              creds, "eu-west-1", "s3", {.s3 = true}, now, want);
  EXPECT_EQ(got.url, want.url);
  EXPECT_EQ(got.header_lines, want.header_lines);
  ASSERT_GE(got.header_lines.size(), 2u);
  EXPECT_EQ(got.header_lines[1], "Host: 127.0.0.1:9000");
  // Another path gives another signature (the check above can fail).
  SignedCall other;
  AwsRestCall moved = call;
  moved.key = "a b/k2.gz";
  signObjectCall(t, "s3", moved, creds, hash, other, now);
  auto authorization = [](const SignedCall& c) {
    for (const auto& h : c.header_lines)
      if (h.starts_with("Authorization: ")) return h;
    return std::string();
  };
  EXPECT_FALSE(authorization(want).empty());
  EXPECT_NE(authorization(other), authorization(want));

  const AwsRestCall abort = abortUploadCall({"k", "up&1"});
  EXPECT_EQ(abort.method, "DELETE");
  EXPECT_EQ(abort.key, "k");
  EXPECT_EQ(abort.query, "uploadId=up%261");
  EXPECT_TRUE(abort.body.empty());
}

TEST(AwsObjectTest, XmlErrors) {
  const std::string body = "<?xml version=\"1.0\"?><Error><Code>Permanent\x01Redirect</Code>"
                           "<Message>why &amp; how</Message><Region>eu-west-1</Region></Error>";
  AwsXmlError e = awsXmlError(answer(301, body));
  EXPECT_EQ(e.status, 301);
  EXPECT_EQ(e.code, "Permanent Redirect"); // unprintable bytes blanked
  EXPECT_EQ(e.message, "why & how");
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_TRUE(hasXmlError(answer(200, body)));
  EXPECT_FALSE(hasXmlError(answer(200, "<CompleteMultipartUploadResult/>")));

  // No <Region>: the bucket's region header.
  e = awsXmlError(answer(301, "", {"x-amz-bucket-region: ap-south-1"}));
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.region, "ap-south-1");
  e = awsXmlError(answer(0, ""));
  EXPECT_EQ(e.message, "Connection refused");
  EXPECT_EQ(e.code, "");
}

TEST(AwsObjectTest, KeysFromTheTemplate) {
  EXPECT_EQ(objectExtension(codec::Compression::kGzip), ".gz");
  EXPECT_EQ(objectExtension(codec::Compression::kZstd), ".zst");
  EXPECT_EQ(objectExtension(codec::Compression::kNone), "");
  EXPECT_EQ(objectKey("//a/$TAG/%Y", {"t", 1709618828, 0, ""}), "a/t/2024");
  EXPECT_TRUE(checkObjectKeyFormat("a/$TAG/%Y", 1024, "S3").has_value());
  auto empty = checkObjectKeyFormat("/", 1024, "S3");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error(), "gives an empty key");
  auto longer = checkObjectKeyFormat(std::string(1100, 'k'), 1024, "S3");
  ASSERT_FALSE(longer.has_value());
  EXPECT_EQ(longer.error(), "gives keys of 1100 bytes; S3 allows 1024");
}

} // namespace
} // namespace ferry::sink
