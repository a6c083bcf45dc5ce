// The sink kit's AWS helpers: region resolution (option, then environment), the DNS suffix
// of the China regions, service endpoints and endpoint overrides.
#include "ferry/sink/aws.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ferry::sink {
namespace {

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SinkAwsTest, RegionFromTheOptionFirst) {
  EXPECT_EQ(resolveRegion("region", " eu-west-1 ", envOf({{"AWS_REGION", "us-east-1"}})),
            "eu-west-1");
  EXPECT_EQ(
      resolveRegion("region", "",
                    envOf({{"AWS_REGION", "us-east-2"}, {"AWS_DEFAULT_REGION", "us-west-1"}})),
      "us-east-2");
  EXPECT_EQ(resolveRegion("region", "",
                          envOf({{"AWS_REGION", " "}, {"AWS_DEFAULT_REGION", "us-west-1"}})),
            "us-west-1");
}

TEST(SinkAwsTest, MissingOrMalformedRegionsNameTheOption) {
  // Without an environment to fall back on (firehose: the option is required).
  auto missing = resolveRegion("region", "  ");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().rfind("region:", 0), 0u) << missing.error();
  EXPECT_NE(missing.error().find("AWS_REGION"), std::string::npos) << missing.error();
  EXPECT_FALSE(resolveRegion("region", "", envOf({})).has_value());
  for (const char* bad : {"EU West", "eu_west_1", "eu-west-1\nx", "us-east-1/x"}) {
    auto r = resolveRegion("bucket_region", bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().rfind("bucket_region:", 0), 0u) << r.error();
  }
}

TEST(SinkAwsTest, ServiceEndpoints) {
  EXPECT_EQ(awsServiceUrl("firehose", "eu-west-1").text(),
            "https://firehose.eu-west-1.amazonaws.com/");
  EXPECT_EQ(awsServiceUrl("firehose", "cn-north-1").text(),
            "https://firehose.cn-north-1.amazonaws.com.cn/");
  EXPECT_EQ(awsServiceUrl("logs.s3", "us-east-1").host, "logs.s3.us-east-1.amazonaws.com");
}

TEST(SinkAwsTest, EndpointOverrides) {
  auto e = parseAwsEndpoint("endpoint", "http://127.0.0.1:4573");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->text(), "http://127.0.0.1:4573/");
  EXPECT_EQ(e->host, "127.0.0.1:4573");
  e = parseAwsEndpoint("endpoint", "vpce-1.firehose.eu-west-1.vpce.amazonaws.com");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->scheme, "https");
  e = parseAwsEndpoint("endpoint", "https://proxy.local:8443/firehose");
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_EQ(e->path, "/firehose");
  for (const char* bad :
       {"ftp://x", "http://", "http://a b/", "https://h/x?y=1", "http://:80/", "http://u@h/"}) {
    auto r = parseAwsEndpoint("endpoint", bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().rfind("endpoint:", 0), 0u) << r.error();
  }
}

TEST(SinkAwsTest, JsonBodies) {
  const std::string json = R"({"FailedPutCount":2})", text = "<html>";
  ferry_http_response r{};
  r.body = reinterpret_cast<const uint8_t*>(json.data());
  r.body_len = json.size();
  const rapidjson::Document doc = awsJsonBody(r);
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(doc["FailedPutCount"].GetInt(), 2);
  r.body = reinterpret_cast<const uint8_t*>(text.data());
  r.body_len = text.size();
  EXPECT_TRUE(awsJsonBody(r).HasParseError());
  r.body = nullptr;
  r.body_len = 0;
  EXPECT_TRUE(awsJsonBody(r).HasParseError()); // no body
}

TEST(SinkAwsTest, ErrorTablesFindTheirCodes) {
  constexpr AwsErrorRow rows[] = {
      {"SlowDown", StatusClass::kThrottled, true},
      {"AccessDenied|ExpiredToken|Expired", StatusClass::kUnauthorized, true},
      {"EntityTooLarge", StatusClass::kTooLarge},
  };
  const AwsErrorRow* row = findAwsError(rows, "ExpiredToken");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row, &rows[1]);
  EXPECT_TRUE(row->over_status);
  EXPECT_EQ(findAwsError(rows, "Expired"), &rows[1]); // the last of a list
  EXPECT_EQ(findAwsError(rows, "AccessDenied"), &rows[1]);
  ASSERT_NE(findAwsError(rows, "EntityTooLarge"), nullptr);
  EXPECT_FALSE(findAwsError(rows, "EntityTooLarge")->over_status);
  // Whole codes only, and an empty code names none.
  for (const char* none : {"", "Access", "SlowDownX", "Denied", "AccessDenied|ExpiredToken"})
    EXPECT_EQ(findAwsError(rows, none), nullptr) << none;
}

} // namespace
} // namespace ferry::sink
