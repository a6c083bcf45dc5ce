// Firehose options: required stream and region, the default and overridden endpoint, time
// fields.
#include "firehose/config.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "ferry/sink/aws.h"

namespace ferry::firehose {
namespace {

std::expected<FirehoseConfig, std::string> parseJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseConfig(sdk::Options(doc, kDescriptor));
}

TEST(FirehoseConfigTest, DefaultsFromStreamAndRegion) {
  auto c = parseJson(R"({"delivery_stream":"logs-to-s3","region":"eu-west-1"})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->delivery_stream, "logs-to-s3");
  EXPECT_EQ(c->url, "https://firehose.eu-west-1.amazonaws.com/");
  EXPECT_EQ(c->endpoint.host, "firehose.eu-west-1.amazonaws.com");
  EXPECT_EQ(c->endpoint.path, "/");
  EXPECT_FALSE(c->aggregate);
  EXPECT_EQ(c->json.time_key, "date");
  EXPECT_EQ(c->json.time_format, codec::TimeFormat::kIso8601);
  EXPECT_EQ(c->timeout_ms, kDefaultTimeoutMs);
}

TEST(FirehoseConfigTest, ChinaRegionsUseTheirOwnDomain) {
  EXPECT_EQ(sink::awsServiceUrl("firehose", "cn-north-1").text(),
            "https://firehose.cn-north-1.amazonaws.com.cn/");
}

TEST(FirehoseConfigTest, RequiresStreamAndRegionNamingThem) {
  auto c = parseJson(R"({"region":"eu-west-1"})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("delivery_stream"), std::string::npos);
  c = parseJson(R"({"delivery_stream":"s","region":"  "})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("region"), std::string::npos);
  c = parseJson(R"({"delivery_stream":"bad name!","region":"eu-west-1"})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("delivery_stream"), std::string::npos);
  c = parseJson(R"({"delivery_stream":")" + std::string(65, 'a') + R"(","region":"eu-west-1"})");
  ASSERT_FALSE(c.has_value());
  c = parseJson(R"({"delivery_stream":"s","region":"EU West"})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("region"), std::string::npos);
}

TEST(FirehoseConfigTest, EndpointOverrides) {
  auto e = sink::parseAwsEndpoint("endpoint", "http://127.0.0.1:4573");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->text(), "http://127.0.0.1:4573/");
  EXPECT_EQ(e->host, "127.0.0.1:4573");
  EXPECT_EQ(e->path, "/");
  e = sink::parseAwsEndpoint("endpoint", "vpce-1.firehose.eu-west-1.vpce.amazonaws.com");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->text(), "https://vpce-1.firehose.eu-west-1.vpce.amazonaws.com/");
  e = sink::parseAwsEndpoint("endpoint", "https://proxy.local:8443/firehose");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->path, "/firehose");
  EXPECT_EQ(e->host, "proxy.local:8443");
  for (const char* bad : {"ftp://x", "http://", "http://a b/", "https://h/x?y=1", "http://:80/",
                          "http://h\r\nX-Evil: 1/"}) {
    EXPECT_FALSE(sink::parseAwsEndpoint("endpoint", bad).has_value()) << bad;
  }
  auto c = parseJson(R"({"delivery_stream":"s","region":"us-east-1","endpoint":"gopher://x"})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("endpoint"), std::string::npos);
}

TEST(FirehoseConfigTest, TimeFieldAndAggregate) {
  auto c = parseJson(R"({"delivery_stream":"s","region":"us-east-1","aggregate":true,)"
                     R"("time_key":"ts","time_format":"epoch_ms","timeout":5000})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_TRUE(c->aggregate);
  EXPECT_EQ(c->json.time_key, "ts");
  EXPECT_EQ(c->json.time_format, codec::TimeFormat::kEpochMillis);
  EXPECT_EQ(c->timeout_ms, 5000u);
  c = parseJson(R"({"delivery_stream":"s","region":"us-east-1","time_key":""})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->json.time_format, codec::TimeFormat::kNone);
  c = parseJson(R"({"delivery_stream":"s","region":"us-east-1","time_format":"rfc822"})");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("time_format"), std::string::npos);
}

} // namespace
} // namespace ferry::firehose
