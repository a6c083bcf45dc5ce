// Fluent Bit's Kinesis Data Streams outputs → ferry's kinesis_streams: the C plugin
// (`kinesis_streams`: random keys, a newline after each record) and the aws-for-fluent-bit Go
// plugin (`kinesis`: partition_key, append_newline off unless set); keys that change what is
// shipped and that ferry cannot honour are errors naming file, line and key.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "ferry/config/fluent_bit.h"

namespace ferry::config {
namespace {

const std::string kHead = "[INPUT]\n    Name forward\n[OUTPUT]\n    Match *\n";

YAML::Node output(const std::string& keys) {
  const YAML::Node c = YAML::Load(convertFluentBitText("fluent-bit.conf", "/tmp", kHead + keys));
  EXPECT_EQ(c["outputs"].size(), 1u);
  return c["outputs"][0];
}

std::vector<Diagnostic> errorsOf(const std::string& keys) {
  try {
    convertFluentBitText("fluent-bit.conf", "/tmp", kHead + keys);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

TEST(FluentBitKinesis, TheCPlugin) {
  const YAML::Node o = output("    Name kinesis_streams\n    region eu-west-1\n    stream logs\n"
                              "    endpoint kinesis.local\n    Port 4567\n    time_key t\n"
                              "    time_key_format %Y-%m-%dT%H:%M:%S.%LZ\n    log_key log\n"
                              "    auto_retry_requests true\n    sts_endpoint x\n");
  EXPECT_EQ(o["type"].as<std::string>(), "kinesis_streams");
  EXPECT_EQ(o["region"].as<std::string>(), "eu-west-1");
  EXPECT_EQ(o["stream"].as<std::string>(), "logs");
  EXPECT_EQ(o["endpoint"].as<std::string>(), "https://kinesis.local:4567");
  EXPECT_EQ(o["time_key"].as<std::string>(), "t");
  EXPECT_EQ(o["log_key"].as<std::string>(), "log");
  EXPECT_TRUE(o["append_newline"].as<bool>());
  EXPECT_FALSE(o["partition_key"]);
  // Without time_key: no time field, as Fluent Bit.
  EXPECT_EQ(output("    Name kinesis_streams\n    region r\n    stream s\n")["time_key"]
                .as<std::string>(),
            "");
  EXPECT_EQ(output("    Name kinesis_streams\n    stream s\n    endpoint http://h/p\n"
                   "    Port 80\n")["endpoint"]
                .as<std::string>(),
            "http://h:80/p");
}

TEST(FluentBitKinesis, TheGoPlugin) {
  const YAML::Node o = output("    Name kinesis\n    region us-east-1\n    stream logs\n"
                              "    partition_key kubernetes->pod_name\n    append_newline true\n"
                              "    experimental_concurrency 4\n    aggregation false\n"
                              "    compression none\n");
  EXPECT_EQ(o["type"].as<std::string>(), "kinesis_streams");
  EXPECT_EQ(o["partition_key"].as<std::string>(), "kubernetes->pod_name");
  EXPECT_TRUE(o["append_newline"].as<bool>());
  EXPECT_FALSE(output("    Name kinesis\n    stream s\n")["append_newline"].as<bool>());
}

TEST(FluentBitKinesis, KeysFerryCannotHonourNameFileLineAndKey) {
  const struct {
    std::string keys, key;
  } cases[] = {
      {"    Name kinesis_streams\n    stream s\n    role_arn arn:aws:iam::1:role/x\n", "role_arn"},
      {"    Name kinesis_streams\n    stream s\n    profile other\n", "profile"},
      {"    Name kinesis_streams\n    stream s\n    time_key t\n    time_key_format %s\n",
       "time_key_format"},
      {"    Name kinesis_streams\n    stream s\n    Port 8443\n", "Port"},
      {"    Name kinesis\n    stream s\n    data_keys log\n", "data_keys"},
      {"    Name kinesis\n    stream s\n    aggregation true\n", "aggregation"},
      {"    Name kinesis\n    stream s\n    compression zlib\n", "compression"},
      {"    Name kinesis\n    stream s\n    replace_dots _\n", "replace_dots"},
      {"    Name kinesis\n    stream s\n    time_key t\n    time_key_format %Y\n",
       "time_key_format"},
      {"    Name kinesis\n    stream s\n    Port 443\n", "Port"}, // not a Go plugin key
  };
  for (const auto& c : cases) {
    const auto errors = errorsOf(c.keys);
    ASSERT_EQ(errors.size(), 1u) << c.keys;
    EXPECT_EQ(errors[0].file, "fluent-bit.conf");
    EXPECT_GE(errors[0].line, 6) << c.keys;
    EXPECT_NE(errors[0].key.find(c.key), std::string::npos) << errors[0].format();
  }
}

} // namespace
} // namespace ferry::config
