// Fluent Bit's cloudwatch_logs (C) and cloudwatch (Go) outputs converted to the cloudwatch_logs
// sink: their keys, the Go plugin's default_* names as the fallback of templated names, tags,
// notes for what only tunes Fluent Bit, and the errors both plugins have too.
#include <gtest/gtest.h>

#include <algorithm>
#include <yaml-cpp/yaml.h>

#include "ferry/config/fluent_bit.h"

namespace ferry::config {
namespace {

// The output section `body` behind a forward input: the converted outputs[0], or the errors.
struct Converted {
  YAML::Node out;
  std::string yaml;
  std::vector<Diagnostic> errors;
};
Converted output(const std::string& body) {
  Converted c;
  try {
    c.yaml = convertFluentBitText("fluent-bit.conf", ".",
                                  "[INPUT]\n  Name forward\n[OUTPUT]\n  Match *\n" + body);
    c.out = YAML::Load(c.yaml)["outputs"][0];
  } catch (const ConfigError& e) {
    c.errors = e.diagnostics();
  }
  return c;
}

TEST(FluentBitCloudWatch, TheCPluginsKeysConvert) {
  const Converted c = output("  Name cloudwatch_logs\n  region us-west-2\n"
                             "  log_group_name /aws/ecs/app\n  log_stream_prefix ecs-\n"
                             "  log_key log\n  auto_create_group On\n  log_retention_days 7\n"
                             "  log_format json/emf\n  endpoint logs.example.com\n"
                             "  log_group_template /k8s/$kubernetes['namespace_name']\n"
                             "  auto_retry_requests false\n");
  ASSERT_TRUE(c.errors.empty()) << c.errors[0].format();
  EXPECT_EQ(c.out["type"].as<std::string>(), "cloudwatch_logs");
  EXPECT_EQ(c.out["log_stream_prefix"].as<std::string>(), "ecs-");
  EXPECT_EQ(c.out["log_key"].as<std::string>(), "log");
  EXPECT_TRUE(c.out["auto_create_group"].as<bool>());
  EXPECT_EQ(c.out["log_retention_days"].as<int>(), 7);
  EXPECT_EQ(c.out["log_format"].as<std::string>(), "json/emf");
  EXPECT_EQ(c.out["endpoint"].as<std::string>(), "https://logs.example.com");
  EXPECT_EQ(c.out["log_group_template"].as<std::string>(), "/k8s/$kubernetes['namespace_name']");
  EXPECT_NE(c.yaml.find("auto_retry_requests: ignored"), std::string::npos) << c.yaml;
}

TEST(FluentBitCloudWatch, TheGoPluginsDefaultsBecomeTheFallbackOfTemplatedNames) {
  const Converted c = output("  Name cloudwatch\n  region eu-west-1\n"
                             "  log_group_name /ecs/$(ecs_cluster)\n"
                             "  default_log_group_name /ecs/fallback\n"
                             "  log_stream_name $(ecs_task_id)\n  auto_create_stream true\n"
                             "  new_log_group_tags team=web, env = prod\n"
                             "  credentials_endpoint http://169.254.170.2/creds\n");
  ASSERT_TRUE(c.errors.empty()) << c.errors[0].format();
  EXPECT_EQ(c.out["log_group_template"].as<std::string>(), "/ecs/$(ecs_cluster)");
  EXPECT_EQ(c.out["log_group_name"].as<std::string>(), "/ecs/fallback");
  EXPECT_EQ(c.out["log_stream_name"].as<std::string>(), "$(ecs_task_id)");
  EXPECT_EQ(c.out["log_group_tags"]["team"].as<std::string>(), "web");
  EXPECT_EQ(c.out["log_group_tags"]["env"].as<std::string>(), "prod");
  EXPECT_NE(c.yaml.find("auto_create_stream: ignored"), std::string::npos) << c.yaml;
  EXPECT_NE(c.yaml.find("credentials_endpoint: ignored"), std::string::npos) << c.yaml;
}

// Neither a stream name nor a prefix (AWS's "send to multiple destinations" example): each
// stream is named after the tag, and convert says so.
TEST(FluentBitCloudWatch, NoStreamNameNorPrefixNamesEachStreamAfterTheTag) {
  const Converted none = output("  Name cloudwatch_logs\n  region us-east-1\n  log_group_name g\n");
  ASSERT_TRUE(none.errors.empty()) << none.errors[0].format();
  EXPECT_EQ(none.out["log_stream_name"].as<std::string>(), "$(tag)");
  EXPECT_FALSE(none.out["log_stream_prefix"]);
  EXPECT_NE(none.yaml.find("each stream is named after the record's tag"), std::string::npos)
      << none.yaml;
}

TEST(FluentBitCloudWatch, ErrorsBothPluginsHaveTooNamingTheKey) {
  const Converted both = output("  Name cloudwatch\n  region us-east-1\n  log_group_name g\n"
                                "  log_stream_name s\n  log_stream_prefix p\n");
  ASSERT_EQ(both.errors.size(), 1u);
  const Converted keys = output("  Name cloudwatch_logs\n  region us-east-1\n  log_group_name g\n"
                                "  log_stream_name s\n  role_arn arn:aws:iam::1:role/x\n"
                                "  log_format json\n  new_log_group_tags novalue\n");
  ASSERT_EQ(keys.errors.size(), 3u);
  std::vector<std::string> named;
  for (const auto& e : keys.errors)
    named.push_back(e.key);
  EXPECT_NE(std::find(named.begin(), named.end(), "[OUTPUT cloudwatch_logs] role_arn"),
            named.end());
  EXPECT_NE(std::find(named.begin(), named.end(), "[OUTPUT cloudwatch_logs] log_format"),
            named.end());
}

} // namespace
} // namespace ferry::config
