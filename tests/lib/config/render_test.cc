// Tests for lib/config/render.cc: the resolved config as YAML, secrets masked, loadable again.
#include <gtest/gtest.h>

#include "config_fakes.h"
#include "ferry/config/config.h"

namespace ferry::config {
namespace {

using testing::fakeEnv;
using testing::FakeTables;
using testing::yamlSource;

constexpr const char* kConfig = R"(service:
  http: { listen: "127.0.0.1:2020" }
  storage: { path: /var/lib/ferry, max_bytes: 2GiB }
  grace_period: 90s
inputs:
  - type: forward
    listen: unix:///var/run/fluent.sock
    shared_key: ${SHARED}
  - type: tail
    name: app
    path: [/var/log/app/*.log]
filters:
  - type: add_fields
    match: "app"
    fields: { env: "${ENV:-dev}" }
outputs:
  - type: datadog
    match: "*"
    api_key: ${DD_API_KEY}
    token: ${TOKEN}
    service: ""
    batch_bytes: 1048576
    timeout: 1500ms
    tags: [a, b]
    retry: { max_attempts: 4 }
    concurrency: 8
  - type: stdout
    match: "app*"
    flush_interval: 5s
)";

class RenderTest : public ::testing::Test {
protected:
  Config load(const std::string& yaml) {
    return config::load(yamlSource(yaml), tables_.lookup(), env_);
  }
  FakeTables tables_;
  EnvLookup env_ = fakeEnv(
      {{"DD_API_KEY", "dd-key-0123456789"}, {"TOKEN", "tok-abcdef"}, {"SHARED", "shh-shared"}});
};

TEST_F(RenderTest, MasksSecretsByFlagAndByName) {
  const std::string yaml = renderResolved(load(kConfig));
  EXPECT_EQ(yaml.find("dd-key-0123456789"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("tok-abcdef"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("shh-shared"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("api_key: \"********\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("token: \"********\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("shared_key: \"********\""), std::string::npos) << yaml;
}

TEST_F(RenderTest, PrintsResolvedValuesInUnits) {
  const std::string yaml = renderResolved(load(kConfig));
  for (const char* expected :
       {"resolved configuration from test.yaml", "log_level: info", "listen: 127.0.0.1:2020",
        "max_bytes: 2GiB", "grace_period: 90s", "capacity: 4096", "name: forward", "name: app",
        "env: dev", "batch_bytes: 1MiB", "timeout: 1500ms", "site: datadoghq.com",
        "max_attempts: 4", "concurrency: 8", "concurrency: auto", "flush_interval: 5s",
        "max_bytes: auto}  # = 24MiB", "match: \"*\"", "service: \"\""}) {
    EXPECT_NE(yaml.find(expected), std::string::npos) << expected << " not in:\n" << yaml;
  }
}

TEST_F(RenderTest, OutputLoadsBackToTheSameConfig) {
  const Config first = load(kConfig);
  const std::string yaml = renderResolved(first);
  const Config second = load(yaml);
  EXPECT_EQ(renderResolved(second), yaml);
  EXPECT_EQ(second.outputs[0].section.getInt("batch_bytes"), 1 << 20);
  EXPECT_EQ(second.outputs[0].common.concurrency, 8u);
  EXPECT_EQ(second.service.storage_max_bytes, 2ull << 30);
}

TEST_F(RenderTest, DollarsSurviveTheRoundTrip) {
  const Config c = load(R"(inputs:
  - type: stdin
    tag: "cost-$$-${NOPE:-x}-$UUID-$${LITERAL}"
outputs:
  - type: stdout
)");
  EXPECT_EQ(c.inputs[0].getString("tag"), "cost-$-x-$UUID-${LITERAL}");
  const Config again = load(renderResolved(c));
  EXPECT_EQ(again.inputs[0].getString("tag"), "cost-$-x-$UUID-${LITERAL}");
}

TEST_F(RenderTest, OptionalSectionsAreOmitted) {
  const std::string yaml =
      renderResolved(load("inputs:\n  - type: stdin\noutputs:\n  - type: stdout\n"));
  EXPECT_EQ(yaml.find("http:"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("storage:"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("filters:"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("flush_interval"), std::string::npos) << yaml;
}

} // namespace
} // namespace ferry::config
