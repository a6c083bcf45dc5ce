// S3 options: defaults, region from the environment, addressing (virtual host, dotted
// bucket, endpoint override with path style), validation errors naming the option, and the
// runner offer derived from total_file_size.
#include "s3/config.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace ferry::s3 {
namespace {

std::optional<std::string> noEnv(const char*) {
  return std::nullopt;
}
std::optional<std::string> regionEnv(const char* name) {
  if (std::string(name) == "AWS_DEFAULT_REGION") return std::string("eu-west-3");
  return std::nullopt;
}

std::expected<S3Config, std::string> parse(const std::string& json, sink::EnvLookup env = noEnv) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseConfig(sdk::Options(doc, kDescriptor), env);
}

TEST(S3ConfigTest, DefaultsAndVirtualHost) {
  auto c = parse(R"({"bucket":"my-logs","region":"us-east-2"})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->host, "my-logs.s3.us-east-2.amazonaws.com");
  EXPECT_FALSE(c->path_style);
  EXPECT_EQ(c->scheme, "https");
  EXPECT_EQ(c->compression, codec::Compression::kGzip);
  EXPECT_EQ(c->key_format, "ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson.gz");
  EXPECT_EQ(objectUrl(*c, "a b/c.gz", "uploads="),
            "https://my-logs.s3.us-east-2.amazonaws.com/a%20b/c.gz?uploads=");
  EXPECT_EQ(c->total_file_size, 64ull << 20);
  EXPECT_EQ(c->part_size, kMinPartBytes);
  EXPECT_EQ(offerBytes(*c), kMaxOfferBytes); // 64 MiB gzip would be 320 MiB raw: clamped
}

TEST(S3ConfigTest, RegionFromEnvironmentAndChina) {
  auto c = parse(R"({"bucket":"my-logs"})", regionEnv);
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->region, "eu-west-3");
  auto missing = parse(R"({"bucket":"my-logs"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("region"), std::string::npos);
  auto cn = parse(R"({"bucket":"b.with.dots","region":"cn-north-1"})");
  ASSERT_TRUE(cn.has_value());
  EXPECT_TRUE(cn->path_style);
  EXPECT_EQ(objectUrl(*cn, "k", ""), "https://s3.cn-north-1.amazonaws.com.cn/b.with.dots/k");
}

TEST(S3ConfigTest, EndpointMeansPathStyle) {
  auto c = parse(R"({"bucket":"logs","region":"us-east-1","endpoint":"http://127.0.0.1:4568/base/",
                     "compression":"zstd"})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_TRUE(c->path_style);
  EXPECT_EQ(c->host, "127.0.0.1:4568");
  EXPECT_EQ(objectUrl(*c, "x/y.zst", "partNumber=1&uploadId=u"),
            "http://127.0.0.1:4568/base/logs/x/y.zst?partNumber=1&uploadId=u");
  EXPECT_EQ(c->key_format, "ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson.zst");
}

TEST(S3ConfigTest, ErrorsNameTheOption) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"bucket":"Bad_Bucket","region":"us-east-1"})", "bucket"},
      {R"({"bucket":"logs","region":"us-east-1","endpoint":"ftp://x"})", "endpoint"},
      {R"({"bucket":"logs","region":"us-east-1","storage_class":"COLD"})", "storage_class"},
      {R"({"bucket":"logs","region":"us-east-1","acl":"everyone"})", "acl"},
      {R"({"bucket":"logs","region":"us-east-1","sse":"DES"})", "sse"},
      {R"({"bucket":"logs","region":"us-east-1","kms_key_id":"k"})", "kms_key_id"},
      {R"({"bucket":"logs","region":"us-east-1","part_size":1048576})", "part_size"},
      {R"({"bucket":"logs","region":"us-east-1","total_file_size":10})", "total_file_size"},
      {R"({"bucket":"logs","region":"us-east-1","compression":"gzip","compression_level":13})",
       "compression_level"},
      {R"({"bucket":"logs","region":"us-east-1","key_format":"/"})", "key_format"},
  };
  // Over S3's 1,024 bytes of key.
  const std::string long_key =
      R"({"bucket":"logs","region":"us-east-1","key_format":")" + std::string(1100, 'k') + "\"}";
  EXPECT_EQ(parse(long_key).error(), "key_format: gives keys of 1100 bytes; S3 allows 1024");
  for (const auto& [json, option] : cases) {
    auto c = parse(json);
    ASSERT_FALSE(c.has_value()) << json;
    EXPECT_EQ(c.error().rfind(option, 0), 0u) << c.error();
  }
}

TEST(S3ConfigTest, ObjectOptions) {
  auto c = parse(R"({"bucket":"logs","region":"us-east-1","storage_class":"STANDARD_IA",
                     "acl":"bucket-owner-full-control","sse":"aws:kms","kms_key_id":"arn:k",
                     "compression":"none","total_file_size":1048576,"json_date_key":""})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->storage_class, "STANDARD_IA");
  EXPECT_EQ(c->key_format, "ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson");
  EXPECT_EQ(c->json.time_format, codec::TimeFormat::kNone);
  EXPECT_EQ(offerBytes(*c), 786432u); // JSON outgrows the records: offer 3/4
}

} // namespace
} // namespace ferry::s3
