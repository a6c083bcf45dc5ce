// Datadog options: defaults, validation (site, url, compression, level, api_key), the
// vendor limits bounding user settings, the intake URL per site, and the default hostname
// (ECS task id from the task metadata endpoint, else gethostname).
#include "datadog/config.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "http_test_server.h"
#include "test_support.h"

namespace ferry::datadog {
namespace {

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

std::expected<DatadogConfig, std::string> parseJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return parseConfig(sdk::Options(doc, kDescriptor));
}

std::string withKey(const std::string& more = "") {
  return std::string("{\"api_key\":\"") + kKey + "\"" + (more.empty() ? "" : "," + more) + "}";
}

std::string localHostname() {
  char name[256] = {0};
  ::gethostname(name, sizeof name - 1);
  return name;
}

TEST(DatadogConfigTest, DefaultsFromTheKeyAlone) {
  auto c = parseJson(withKey());
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->url, "https://http-intake.logs.datadoghq.com/api/v2/logs");
  EXPECT_EQ(c->compression, codec::Compression::kGzip);
  EXPECT_EQ(c->compression_level, 0);
  EXPECT_EQ(c->message_key, "log");
  EXPECT_EQ(c->timeout_ms, 30'000u);
  EXPECT_FALSE(c->parse_json_message);
  EXPECT_EQ(c->max_entries, kMaxEntries);
  EXPECT_EQ(c->max_payload_bytes, kMaxPayloadBytes);
  EXPECT_TRUE(c->service.empty());
  EXPECT_TRUE(c->hostname.empty());
  EXPECT_TRUE(c->auto_hostname);
  EXPECT_TRUE(c->status_from_level);
}

TEST(DatadogConfigTest, EveryOptionIsRead) {
  auto c = parseJson(withKey(
      R"("site":"datadoghq.eu","service":"web","source":"nginx","tags":" env:prod,team:x ",)"
      R"("hostname":"h1","message_key":"msg","compression":"zstd","compression_level":19,)"
      R"("timeout":5000,"parse_json_message":true,"batch_max_entries":200,)"
      R"("batch_max_bytes":1000000,"provider":"ecs","auto_hostname":false,)"
      R"("status_from_level":false)"));
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->url, "https://http-intake.logs.datadoghq.eu/api/v2/logs");
  EXPECT_EQ(c->service, "web");
  EXPECT_EQ(c->source, "nginx");
  EXPECT_EQ(c->tags, "env:prod,team:x");
  EXPECT_EQ(c->hostname, "h1");
  EXPECT_FALSE(c->auto_hostname);
  EXPECT_FALSE(c->status_from_level);
  EXPECT_EQ(c->message_key, "msg");
  EXPECT_EQ(c->compression, codec::Compression::kZstd);
  EXPECT_EQ(c->compression_level, 19);
  EXPECT_EQ(c->timeout_ms, 5000u);
  EXPECT_TRUE(c->parse_json_message);
  EXPECT_EQ(c->max_entries, 200u);
  EXPECT_EQ(c->max_payload_bytes, 1'000'000u);
  EXPECT_EQ(c->provider, Provider::kEcs);
  EXPECT_EQ(parseJson(withKey())->provider, Provider::kNone) << "default";
  auto bad = parseJson(withKey(R"("provider":"eks")"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), "provider: 'eks' is not one of none|ecs");
}

TEST(DatadogConfigTest, ProviderNamesAsFluentBitHasThem) {
  EXPECT_EQ(parseJson(withKey(R"("provider":"none")"))->provider, Provider::kNone);
  EXPECT_EQ(parseJson(withKey(R"("provider":"")"))->provider, Provider::kNone) << "blank";
  auto upper = parseJson(withKey(R"("provider":"ECS")"));
  ASSERT_FALSE(upper.has_value()) << "Fluent Bit matches ecs exactly";
  EXPECT_EQ(upper.error().rfind("provider:", 0), 0u) << upper.error();
}

TEST(DatadogConfigTest, BlankCompressionIsNotTheDefault) {
  // `compression: ${X}` with X="": refused, as before the table read it (no silent gzip).
  auto c = parseJson(withKey(R"("compression":"")"));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error(), "compression: unknown compression \"\" (expected gzip, zstd or none)");
}

TEST(DatadogConfigTest, IntakeUrlForEverySite) {
  const std::vector<std::pair<std::string, std::string>> sites = {
      {"datadoghq.com", "http-intake.logs.datadoghq.com"},
      {"datadoghq.eu", "http-intake.logs.datadoghq.eu"},
      {"us3.datadoghq.com", "http-intake.logs.us3.datadoghq.com"},
      {"us5.datadoghq.com", "http-intake.logs.us5.datadoghq.com"},
      {"ap1.datadoghq.com", "http-intake.logs.ap1.datadoghq.com"},
      {"ap2.datadoghq.com", "http-intake.logs.ap2.datadoghq.com"},
      {"uk1.datadoghq.com", "http-intake.logs.uk1.datadoghq.com"},
      {"ddog-gov.com", "http-intake.logs.ddog-gov.com"},
      {"us2.ddog-gov.com", "http-intake.logs.us2.ddog-gov.com"},
      {"app.datadoghq.eu", "http-intake.logs.datadoghq.eu"},
      {" DatadogHQ.com ", "http-intake.logs.datadoghq.com"},
  };
  for (const auto& [site, host] : sites) {
    auto url = intakeUrlForSite(site);
    ASSERT_TRUE(url.has_value()) << site << ": " << url.error();
    EXPECT_EQ(*url, "https://" + host + "/api/v2/logs") << site;
  }
}

TEST(DatadogConfigTest, UnknownSiteIsAnErrorListingTheKnownOnes) {
  for (const char* site : {"datadoghq.org", "us4.datadoghq.com", "evil.com/x"}) {
    auto c = parseJson(withKey(std::string("\"site\":\"") + site + "\""));
    ASSERT_FALSE(c.has_value()) << site;
    EXPECT_EQ(c.error().rfind("site:", 0), 0u) << c.error();
    EXPECT_NE(c.error().find("datadoghq.eu"), std::string::npos) << c.error();
  }
}

TEST(DatadogConfigTest, UrlOverridesSite) {
  auto c = parseJson(withKey(R"("url":"http://127.0.0.1:8080/api/v2/logs","site":"datadoghq.eu")"));
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->url, "http://127.0.0.1:8080/api/v2/logs");
  auto empty_site = parseJson(withKey(R"("site":"")"));
  ASSERT_TRUE(empty_site.has_value()) << empty_site.error();
  EXPECT_EQ(empty_site->url, "https://http-intake.logs.datadoghq.com/api/v2/logs");
  for (const char* bad :
       {"ftp://x/y", "127.0.0.1:8080", "http://", "http:///path", "http://host/a b"}) {
    auto e = parseJson(withKey(std::string("\"url\":\"") + bad + "\""));
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().rfind("url:", 0), 0u) << e.error();
  }
}

TEST(DatadogConfigTest, BadCompressionAndLevelsAreErrors) {
  auto c = parseJson(withKey(R"("compression":"brotli")"));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().rfind("compression:", 0), 0u) << c.error();
  auto gz = parseJson(withKey(R"("compression":"gzip","compression_level":13)"));
  ASSERT_FALSE(gz.has_value());
  EXPECT_EQ(gz.error().rfind("compression_level:", 0), 0u) << gz.error();
  EXPECT_TRUE(parseJson(withKey(R"("compression":"gzip","compression_level":12)")).has_value());
  EXPECT_TRUE(parseJson(withKey(R"("compression":"zstd","compression_level":22)")).has_value());
  EXPECT_FALSE(parseJson(withKey(R"("compression":"zstd","compression_level":-1)")).has_value());
  EXPECT_TRUE(parseJson(withKey(R"("compression":"none")")).has_value());
}

TEST(DatadogConfigTest, ApiKeyIsRequiredCleanAndNeverEchoed) {
  auto missing = parseJson("{}");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().rfind("api_key:", 0), 0u);
  EXPECT_FALSE(parseJson(R"({"api_key":"  "})").has_value());
  auto injected = parseJson(R"({"api_key":"secret-abc\r\nX-Evil: 1"})");
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(injected.error().find("secret-abc"), std::string::npos) << injected.error();
  auto c = parseJson(R"({"api_key":" padded-key \n"})");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->api_key, "padded-key") << "a trailing newline from a secret file is trimmed";
  auto other = parseJson(withKey(R"("site":"bad")"));
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().find(kKey), std::string::npos) << other.error();
}

TEST(DatadogConfigTest, VendorLimitsBoundUserSettings) {
  // The table's bounds are Datadog's limits: a setting past them is refused, naming it.
  auto entries = parseJson(withKey(R"("batch_max_entries":5000)"));
  ASSERT_FALSE(entries.has_value());
  EXPECT_EQ(entries.error().rfind("batch_max_entries:", 0), 0u) << entries.error();
  auto bytes = parseJson(withKey(R"("batch_max_bytes":9000000)"));
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().rfind("batch_max_bytes:", 0), 0u) << bytes.error();
  auto c = parseJson(withKey(R"("batch_max_entries":1000,"batch_max_bytes":5000000)"));
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->max_entries, kMaxEntries);
  EXPECT_EQ(c->max_payload_bytes, kMaxPayloadBytes);
  EXPECT_FALSE(parseJson(withKey(R"("batch_max_entries":0)")).has_value());
  EXPECT_FALSE(parseJson(withKey(R"("batch_max_bytes":100)")).has_value());
  EXPECT_FALSE(parseJson(withKey(R"("message_key":"")")).has_value());
}

TEST(DatadogConfigTest, DescriptorDeclaresTheOptionTable) {
  EXPECT_STREQ(kDescriptor.type_name, "datadog");
  EXPECT_EQ(kDescriptor.abi_major, static_cast<uint32_t>(FERRY_PLUGIN_ABI_MAJOR));
  std::vector<std::string> names;
  for (size_t i = 0; i < kDescriptor.option_count; ++i) {
    const ferry_plugin_option& o = kDescriptor.options[i];
    names.emplace_back(o.name);
    EXPECT_NE(o.doc, nullptr);
    if (names.back() == "api_key") {
      EXPECT_TRUE(o.required);
      EXPECT_TRUE(o.secret);
    } else {
      EXPECT_FALSE(o.secret) << o.name;
    }
  }
  for (size_t i = 0; i < kDescriptor.option_count; ++i) {
    const ferry_plugin_option& o = kDescriptor.options[i];
    if (std::string(o.name) != "site") continue;
    // The enum lets `ferry validate` refuse an unknown site; it must list every known one.
    ASSERT_EQ(o.type, static_cast<uint32_t>(FERRY_OPTION_ENUM));
    const std::string values = std::string("|") + o.enum_values + "|";
    for (const char* site : {"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com",
                             "datadoghq.eu", "ap1.datadoghq.com", "ap2.datadoghq.com",
                             "uk1.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com"}) {
      EXPECT_NE(values.find(std::string("|") + site + "|"), std::string::npos) << site;
      EXPECT_TRUE(intakeUrlForSite(site).has_value()) << site;
    }
  }
  for (const char* want :
       {"api_key", "site", "url", "service", "source", "tags", "hostname", "message_key",
        "compression", "compression_level", "timeout", "parse_json_message"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

TEST(DatadogConfigTest, DefaultHostnameAsksARealMetadataEndpoint) {
  test::HttpTestServer server([](const test::HttpTestRequest& req) {
    test::HttpTestResponse resp;
    if (req.method == "GET" && req.path == "/v4/xyz/task") {
      resp.content_type = "application/json";
      resp.body = R"({"TaskARN":"arn:aws:ecs:us-east-1:1:task/cluster/0a1b2c"})";
    } else {
      resp.status = 404;
    }
    return resp;
  });
  ::setenv("ECS_CONTAINER_METADATA_URI_V4", (server.url() + "/v4/xyz").c_str(), 1);
  const std::string from_ecs = defaultHostname();
  ::setenv("ECS_CONTAINER_METADATA_URI_V4", (server.url() + "/v4/missing").c_str(), 1);
  const std::string fallback = defaultHostname();
  ::unsetenv("ECS_CONTAINER_METADATA_URI_V4");
  EXPECT_EQ(from_ecs, "0a1b2c");
  EXPECT_EQ(fallback, localHostname());
}

} // namespace
} // namespace ferry::datadog
