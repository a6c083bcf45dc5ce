// Kinesis options: required stream and region, the default and overridden endpoint, the
// partition key path, log_key, append_newline.
#include "kinesis_streams/config.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

namespace ferry::kinesis {
namespace {

std::expected<KinesisConfig, std::string> parseJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseConfig(sdk::Options(doc, kDescriptor));
}

TEST(KinesisConfigTest, Defaults) {
  auto c = parseJson(R"({"stream":"app-logs","region":"eu-west-1"})");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->stream, "app-logs");
  EXPECT_EQ(c->url, "https://kinesis.eu-west-1.amazonaws.com/");
  EXPECT_TRUE(c->partition_key.empty());
  EXPECT_TRUE(c->log_key.empty());
  EXPECT_TRUE(c->append_newline);
  EXPECT_EQ(c->timeout_ms, 30'000u);
  c = parseJson(R"({"stream":"s","region":"cn-north-1"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->url, "https://kinesis.cn-north-1.amazonaws.com.cn/");
}

TEST(KinesisConfigTest, StreamAndRegionAreChecked) {
  for (const char* json :
       {R"({"region":"eu-west-1"})", R"({"stream":"s"})",
        R"({"stream":"bad name!","region":"eu-west-1"})", R"({"stream":"s","region":"EU West"})"}) {
    EXPECT_FALSE(parseJson(json)) << json;
  }
  auto c = parseJson(R"({"stream":")" + std::string(129, 'a') + R"(","region":"eu-west-1"})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("stream"), std::string::npos) << c.error();
  EXPECT_TRUE(parseJson(R"({"stream":")" + std::string(128, 'a') + R"(","region":"eu-west-1"})"));
}

TEST(KinesisConfigTest, EndpointOverride) {
  auto c = parseJson(R"({"stream":"s","region":"us-east-1","endpoint":"http://127.0.0.1:4567"})");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->url, "http://127.0.0.1:4567/");
  EXPECT_EQ(c->endpoint.host, "127.0.0.1:4567");
  c = parseJson(R"({"stream":"s","region":"us-east-1","endpoint":"vpce.example.com"})");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->url, "https://vpce.example.com/");
  c = parseJson(R"({"stream":"s","region":"us-east-1","endpoint":"gopher://x"})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("endpoint"), std::string::npos);
}

TEST(KinesisConfigTest, PartitionKeyPathsAndDataOptions) {
  auto c = parseJson(R"({"stream":"s","region":"us-east-1","partition_key":"kubernetes->pod",)"
                     R"("log_key":"log","append_newline":false})");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->partition_key, (std::vector<std::string>{"kubernetes", "pod"}));
  EXPECT_EQ(c->log_key, "log");
  EXPECT_FALSE(c->append_newline);
  c = parseJson(R"({"stream":"s","region":"us-east-1","partition_key":"container_id"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->partition_key, (std::vector<std::string>{"container_id"}));
  for (const char* key : {"a->", "->a", "a->->b"}) {
    c = parseJson(std::string(R"({"stream":"s","region":"us-east-1","partition_key":")") + key +
                  "\"}");
    ASSERT_FALSE(c) << key;
    EXPECT_NE(c.error().find("partition_key"), std::string::npos) << c.error();
  }
}

} // namespace
} // namespace ferry::kinesis
