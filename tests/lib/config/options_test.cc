// Tests for lib/config/options.cc: plugin tables from the C ABI, typed getters, toJson().
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "config_fakes.h"
#include "ferry/config/config.h"
#include "ferry/config/options.h"

namespace ferry::config {
namespace {

using testing::fakeEnv;
using testing::FakeTables;
using testing::yamlSource;

TEST(ConfigOptionsTest, TableFromPluginCopiesEveryField) {
  static const ferry_plugin_option kOptions[] = {
      {"api_key", FERRY_OPTION_STRING, nullptr, 1, 1, nullptr, 1, 0, "The key."},
      {"compression", FERRY_OPTION_ENUM, "gzip", 0, 0, "gzip|zstd|none", 1, 0, nullptr},
      {"batch", FERRY_OPTION_SIZE, "5MiB", 0, 0, nullptr, 1024, 5 << 20, "Batch size."},
  };
  const ferry_plugin_descriptor descriptor{
      FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, "dd", "test", kOptions, 3};
  const OptionTable table = tableFromPlugin(descriptor);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[0].name, "api_key");
  EXPECT_EQ(table[0].type, OptionType::kString);
  EXPECT_FALSE(table[0].default_value);
  EXPECT_TRUE(table[0].required);
  EXPECT_TRUE(table[0].secret);
  EXPECT_EQ(table[0].doc, "The key.");
  EXPECT_EQ(table[1].type, OptionType::kEnum);
  EXPECT_EQ(table[1].default_value, "gzip");
  EXPECT_EQ(table[1].enum_values, (std::vector<std::string>{"gzip", "zstd", "none"}));
  EXPECT_EQ(table[1].doc, "");
  EXPECT_EQ(table[2].type, OptionType::kSize);
  EXPECT_EQ(table[2].min_value, 1024);
  EXPECT_EQ(table[2].max_value, 5 << 20);
  EXPECT_FALSE(table[2].required);
}

TEST(ConfigOptionsTest, SecretsByFlagOrByName) {
  OptionSpec spec;
  spec.name = "token";
  EXPECT_FALSE(isSecretOption(spec));
  spec.secret = true;
  EXPECT_TRUE(isSecretOption(spec));
  for (const char* name : {"api_key", "shared_key", "aws_secret_access_key", "aws_session_token"}) {
    OptionSpec named;
    named.name = name;
    EXPECT_TRUE(isSecretOption(named)) << name;
  }
  EXPECT_FALSE(isSecretKey("site"));
}

TEST(ConfigOptionsTest, GettersOnUnsetKeysReturnEmptyValues) {
  Section s;
  EXPECT_FALSE(s.has("x"));
  EXPECT_EQ(s.getString("x"), "");
  EXPECT_FALSE(s.getBool("x"));
  EXPECT_EQ(s.getInt("x"), 0);
  EXPECT_TRUE(s.getList("x").empty());
  EXPECT_TRUE(s.getMap("x").empty());
  OptionValue unset;
  unset.text = "ignored";
  s.values["y"] = unset; // is_set false
  EXPECT_FALSE(s.has("y"));
  EXPECT_EQ(s.getString("y"), "");
}

TEST(ConfigOptionsTest, ToJsonHasTypedValuesDefaultsAndNoUnsetOptions) {
  FakeTables tables;
  const Config c = load(yamlSource(R"(inputs:
  - type: stdin
outputs:
  - type: datadog
    api_key: ${KEY}
    batch_bytes: 1MiB
    verbose: yes
    tags: [a, "b c"]
    headers: { X-A: "1", X-B: two }
    retry: { max_attempts: 3 }
)"),
                        tables.lookup(), fakeEnv({{"KEY", "s3cr3t"}}));
  const std::string json = c.outputs[0].section.toJson();
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(json.c_str()).HasParseError()) << json;
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["api_key"].GetString(), "s3cr3t"); // the plugin needs the real secret
  EXPECT_STREQ(doc["site"].GetString(), "datadoghq.com");
  EXPECT_STREQ(doc["compression"].GetString(), "gzip");
  ASSERT_TRUE(doc["batch_bytes"].IsInt64());
  EXPECT_EQ(doc["batch_bytes"].GetInt64(), 1 << 20);
  ASSERT_TRUE(doc["timeout"].IsInt64());
  EXPECT_EQ(doc["timeout"].GetInt64(), 30'000); // ms
  EXPECT_EQ(doc["max_records"].GetInt64(), 1000);
  ASSERT_TRUE(doc["verbose"].IsBool());
  EXPECT_TRUE(doc["verbose"].GetBool());
  ASSERT_TRUE(doc["tags"].IsArray());
  ASSERT_EQ(doc["tags"].Size(), 2u);
  EXPECT_STREQ(doc["tags"][1].GetString(), "b c");
  ASSERT_TRUE(doc["headers"].IsObject());
  EXPECT_STREQ(doc["headers"]["X-B"].GetString(), "two");
  EXPECT_FALSE(doc.HasMember("service")); // no value, no default
  EXPECT_FALSE(doc.HasMember("token"));
  EXPECT_FALSE(doc.HasMember("retry")); // a host key, not a plugin option
  // Table order, so plugin authors see their own declaration order.
  EXPECT_EQ(json.find("\"api_key\""), 1u) << json;
}

TEST(ConfigOptionsTest, ToJsonOfAnEmptySection) {
  EXPECT_EQ(Section{}.toJson(), "{}");
}

} // namespace
} // namespace ferry::config
