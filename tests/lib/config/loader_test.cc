// Tests for lib/config/loader.cc and validator.cc: schema, defaults, naming, and every kind
// of error with its file, line and key (all collected before ConfigError is thrown).
#include <gtest/gtest.h>

#include "config_fakes.h"
#include "ferry/config/config.h"

namespace ferry::config {
namespace {

using testing::fakeEnv;
using testing::FakeTables;
using testing::yamlSource;

std::string dump(const std::vector<Diagnostic>& all) {
  std::string out;
  for (const auto& d : all)
    out += d.format() + "\n";
  return out;
}

constexpr const char* kMinimal = R"(inputs:
  - type: forward
    listen: tcp://127.0.0.1:24224
outputs:
  - type: stdout
)";

class LoaderTest : public ::testing::Test {
protected:
  Config load(const std::string& yaml) {
    return config::load(yamlSource(yaml), tables_.lookup(), env_);
  }
  // The diagnostics of a config that must fail.
  std::vector<Diagnostic> errors(const std::string& yaml) {
    try {
      load(yaml);
    } catch (const ConfigError& e) {
      return e.diagnostics();
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
    return {};
  }
  // The only diagnostic of a config that must fail with exactly one.
  Diagnostic error(const std::string& yaml) {
    auto all = errors(yaml);
    if (all.size() != 1) {
      std::string listed;
      for (const auto& d : all)
        listed += d.format() + "\n";
      ADD_FAILURE() << "expected one diagnostic, got " << all.size() << ":\n" << listed;
    }
    return all.empty() ? Diagnostic{} : all.front();
  }

  FakeTables tables_;
  EnvLookup env_ = fakeEnv({{"DD_API_KEY", "dd-secret-123"},
                            {"AWS_REGION", "eu-west-1"},
                            {"EMPTY", ""},
                            {"RING", "1024"}});
};

TEST_F(LoaderTest, MinimalConfigGetsEveryDefault) {
  const Config c = load(kMinimal);
  EXPECT_EQ(c.source, "test.yaml");
  EXPECT_EQ(c.service.log_level, "info");
  EXPECT_EQ(c.service.log_format, "text");
  EXPECT_FALSE(c.service.http_listen);
  EXPECT_FALSE(c.service.storage_path);
  EXPECT_EQ(c.service.ring_capacity, 4096u);
  EXPECT_EQ(c.service.grace_period_ms, 25'000u);
  EXPECT_EQ(c.service.plugin_dir, "");
  ASSERT_EQ(c.inputs.size(), 1u);
  const Section& in = c.inputs[0];
  EXPECT_EQ(in.kind, "input");
  EXPECT_EQ(in.type, "forward");
  EXPECT_EQ(in.name, "forward");
  EXPECT_EQ(in.file, "test.yaml");
  EXPECT_EQ(in.line, 2);
  EXPECT_EQ(in.table, &tables_.forward);
  EXPECT_EQ(in.getString("listen"), "tcp://127.0.0.1:24224");
  EXPECT_TRUE(in.has("tag_prefix")); // default ""
  EXPECT_FALSE(in.has("shared_key"));
  ASSERT_EQ(c.outputs.size(), 1u);
  const OutputSection& out = c.outputs[0];
  EXPECT_EQ(out.section.match, "*");
  EXPECT_EQ(out.section.getString("format"), "json");
  EXPECT_EQ(out.common.retry.max_attempts, 0u);
  EXPECT_EQ(out.common.retry.initial_backoff_ms, 1000u);
  EXPECT_EQ(out.common.retry.max_backoff_ms, 60'000u);
  EXPECT_TRUE(out.common.buffer_auto); // sized by config::planMemory()
  EXPECT_EQ(out.common.concurrency, 0u);
  EXPECT_EQ(out.common.flush_interval_ms, 0u);
}

TEST_F(LoaderTest, ServiceSection) {
  const Config c = load(R"(service:
  log_level: debug
  log_format: json
  http: { listen: "127.0.0.1:2020", unhealthy_after: 2m }
  storage: { path: /var/lib/ferry, max_bytes: 2GiB, sync: always, when_full: drop_oldest }
  ring: { capacity: "${RING}" }
  grace_period: 10s
  plugin_dir: /opt/plugins
)" + std::string(kMinimal));
  EXPECT_EQ(c.service.log_level, "debug");
  EXPECT_EQ(c.service.log_format, "json");
  EXPECT_EQ(c.service.http_listen, "127.0.0.1:2020");
  EXPECT_EQ(c.service.http_unhealthy_after_ms, 120'000u);
  EXPECT_EQ(c.service.storage_path, "/var/lib/ferry");
  EXPECT_EQ(c.service.storage_max_bytes, 2ull << 30);
  EXPECT_EQ(c.service.storage_sync, "always");
  EXPECT_EQ(c.service.storage_when_full, "drop_oldest");
  EXPECT_EQ(c.service.ring_capacity, 1024u);
  EXPECT_EQ(c.service.grace_period_ms, 10'000u);
  EXPECT_EQ(c.service.plugin_dir, "/opt/plugins");
}

TEST_F(LoaderTest, ServiceErrors) {
  const auto all = errors(R"(service:
  log_level: verbose
  http: { unhealthy_after: 5s }
  storage: { path: /x, sync: sometimes }
  ring: { capacity: 1000 }
  grace_period: forever
)" + std::string(kMinimal));
  ASSERT_EQ(all.size(), 5u) << dump(all);
  EXPECT_EQ(all[0].key, "service.log_level");
  EXPECT_EQ(all[0].line, 2);
  EXPECT_NE(all[0].message.find("debug|info|warn|error"), std::string::npos);
  EXPECT_EQ(all[1].key, "service.http.listen");
  EXPECT_EQ(all[1].line, 3);
  EXPECT_NE(all[1].message.find("missing required option 'listen'"), std::string::npos);
  EXPECT_EQ(all[2].key, "service.storage.sync");
  EXPECT_EQ(all[3].key, "service.ring.capacity");
  EXPECT_NE(all[3].message.find("power of two"), std::string::npos);
  EXPECT_EQ(all[4].key, "service.grace_period");
  EXPECT_EQ(all[4].line, 6);
}

TEST_F(LoaderTest, HttpListenMustBeHostPort) {
  const Diagnostic d = error("service:\n  http:\n    listen: localhost\n" + std::string(kMinimal));
  EXPECT_EQ(d.key, "service.http.listen");
  EXPECT_EQ(d.line, 3);
}

TEST_F(LoaderTest, UnknownKeyReportsItsLineAndASuggestion) {
  const Diagnostic d = error(R"(inputs:
  - type: forward
    listen: tcp://127.0.0.1:24224
outputs:
  - type: datadog
    api_key: x
    compresion: zstd
)");
  EXPECT_EQ(d.file, "test.yaml");
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.key, "outputs[0].compresion");
  EXPECT_NE(d.message.find("unknown key 'compresion' for output 'datadog'"), std::string::npos);
  EXPECT_NE(d.message.find("did you mean 'compression'?"), std::string::npos) << d.message;
  EXPECT_EQ(d.format().rfind("test.yaml:7: outputs[0].compresion: unknown key", 0), 0u)
      << d.format();
}

TEST_F(LoaderTest, UnknownKeyWithoutCloseMatchListsKnownKeys) {
  const Diagnostic d =
      error("inputs:\n  - type: stdin\n    zzzzzz: 1\noutputs:\n  - type: stdout\n");
  EXPECT_EQ(d.key, "inputs[0].zzzzzz");
  EXPECT_NE(d.message.find("known keys: name, tag, type"), std::string::npos) << d.message;
}

TEST_F(LoaderTest, UnknownTopLevelKeyAndMatchOnAnInput) {
  const auto all = errors("output:\n  - type: stdout\n" + std::string(kMinimal) +
                          "  - type: stdout\n    name: two\n");
  ASSERT_GE(all.size(), 1u);
  EXPECT_EQ(all[0].key, "output");
  EXPECT_NE(all[0].message.find("did you mean 'outputs'?"), std::string::npos);

  const Diagnostic d =
      error("inputs:\n  - type: stdin\n    match: '*'\noutputs:\n  - type: stdout\n");
  EXPECT_EQ(d.key, "inputs[0].match");
  EXPECT_EQ(d.line, 3);
}

TEST_F(LoaderTest, WrongTypes) {
  const auto all = errors(R"(inputs:
  - type: forward
    listen: { host: 127.0.0.1 }
outputs:
  - type: datadog
    api_key: x
    max_records: yes
    verbose: maybe
    tags: { a: b }
    headers: [a, b]
)");
  ASSERT_EQ(all.size(), 5u) << dump(all);
  EXPECT_EQ(all[0].key, "inputs[0].listen");
  EXPECT_EQ(all[0].line, 3);
  EXPECT_EQ(all[0].message, "expected a string, got a map");
  EXPECT_EQ(all[1].key, "outputs[0].max_records");
  EXPECT_EQ(all[1].line, 7);
  EXPECT_NE(all[1].message.find("'yes' is not an integer"), std::string::npos);
  EXPECT_EQ(all[2].key, "outputs[0].verbose");
  EXPECT_NE(all[2].message.find("not a boolean"), std::string::npos);
  EXPECT_EQ(all[3].key, "outputs[0].tags");
  EXPECT_EQ(all[4].key, "outputs[0].headers");
}

TEST_F(LoaderTest, MissingVariableNamesItWithLineAndKey) {
  const Diagnostic d = error(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
  - type: datadog
    api_key: ${DD_API_KEY}
    service: ${DD_SERVICE}
)");
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.key, "outputs[1].service");
  EXPECT_NE(d.message.find("DD_SERVICE is not set"), std::string::npos) << d.message;
}

TEST_F(LoaderTest, InterpolationHappensBeforeParsing) {
  env_ = fakeEnv({{"BATCH", "1MiB"}, {"TIMEOUT", "45s"}, {"VERBOSE", "on"}, {"KEY", "k"}});
  const Config c = load(R"(inputs:
  - type: stdin
outputs:
  - type: datadog
    api_key: ${KEY}
    batch_bytes: ${BATCH}
    timeout: ${TIMEOUT}
    verbose: ${VERBOSE}
    max_records: ${MAX:-500}
    tags: ["env:${ENV:-dev}", b]
    headers: { X-Region: "${REGION:-none}" }
)");
  const Section& s = c.outputs[0].section;
  EXPECT_EQ(s.getInt("batch_bytes"), 1 << 20);
  EXPECT_EQ(s.getInt("timeout"), 45'000);
  EXPECT_TRUE(s.getBool("verbose"));
  EXPECT_EQ(s.getInt("max_records"), 500);
  EXPECT_EQ(s.getList("tags"), (std::vector<std::string>{"env:dev", "b"}));
  EXPECT_EQ(s.getMap("headers").at("X-Region"), "none");
}

TEST_F(LoaderTest, BadSizeAndBadDurationAndOutOfRange) {
  const auto all = errors(R"(inputs:
  - type: tail
    path: /var/log/*.log
    refresh: 10ms
outputs:
  - type: datadog
    api_key: x
    batch_bytes: 5 lots
    timeout: -5s
    max_records: 5000
    compression: brotli
)");
  ASSERT_EQ(all.size(), 5u) << dump(all);
  EXPECT_EQ(all[0].key, "inputs[0].refresh");
  EXPECT_EQ(all[0].line, 4);
  EXPECT_NE(all[0].message.find("must be between 100ms and 1h"), std::string::npos)
      << all[0].message;
  EXPECT_EQ(all[1].key, "outputs[0].batch_bytes");
  EXPECT_EQ(all[1].line, 8);
  EXPECT_NE(all[1].message.find("'5 lots' is not a size"), std::string::npos);
  EXPECT_EQ(all[2].key, "outputs[0].timeout");
  EXPECT_NE(all[2].message.find("negative"), std::string::npos);
  EXPECT_EQ(all[3].key, "outputs[0].max_records");
  EXPECT_NE(all[3].message.find("between 1 and 1000"), std::string::npos);
  EXPECT_EQ(all[4].key, "outputs[0].compression");
  EXPECT_NE(all[4].message.find("'brotli' is not one of gzip|zstd|none"), std::string::npos);
}

TEST_F(LoaderTest, DuplicateKeyPointsAtBothLines) {
  const Diagnostic d = error(R"(inputs:
  - type: forward
    listen: tcp://127.0.0.1:1
    tag: a
    listen: tcp://127.0.0.1:2
outputs:
  - type: stdout
)");
  EXPECT_EQ(d.line, 5);
  EXPECT_EQ(d.key, "inputs[0].listen");
  EXPECT_EQ(d.message, "duplicate key (first given on line 3)");
}

TEST_F(LoaderTest, RequiredOptionMissingEmptyOrInterpolatedEmpty) {
  auto all = errors(R"(inputs:
  - type: forward
outputs:
  - type: datadog
    api_key: ${EMPTY}
  - type: datadog
    api_key: ""
  - type: datadog
    api_key:
)");
  ASSERT_EQ(all.size(), 4u) << dump(all);
  EXPECT_EQ(all[0].key, "inputs[0].listen");
  EXPECT_EQ(all[0].line, 2);
  EXPECT_EQ(all[0].message, "missing required option 'listen' for input 'forward'");
  EXPECT_EQ(all[1].key, "outputs[0].api_key");
  EXPECT_EQ(all[1].line, 5);
  EXPECT_NE(all[1].message.find("interpolated to an empty string"), std::string::npos);
  EXPECT_EQ(all[2].key, "outputs[1].api_key");
  EXPECT_EQ(all[2].line, 7);
  EXPECT_EQ(all[3].key, "outputs[2].api_key");
  EXPECT_EQ(all[3].line, 9);
}

TEST_F(LoaderTest, EmptyInterpolationMeansDefaultButLiteralEmptyStringIsKept) {
  const Config c = load(R"(inputs:
  - type: forward
    listen: ${SOCKET:-unix:///tmp/f.sock}
    tag_prefix: ""
outputs:
  - type: datadog
    api_key: k
    site: ${DD_SITE:-}
    service: ${DD_SERVICE:-}
    timeout: ${TIMEOUT:-}
)");
  EXPECT_EQ(c.inputs[0].getString("listen"), "unix:///tmp/f.sock");
  EXPECT_TRUE(c.inputs[0].has("tag_prefix"));
  EXPECT_EQ(c.inputs[0].getString("tag_prefix"), "");
  const Section& s = c.outputs[0].section;
  EXPECT_EQ(s.getString("site"), "datadoghq.com");
  EXPECT_FALSE(s.has("service")); // no default: left unset
  EXPECT_EQ(s.getInt("timeout"), 30'000);
}

TEST_F(LoaderTest, NamesAreTypeOrTypeDotIndex) {
  const Config c = load(R"(inputs:
  - type: stdin
  - type: forward
    listen: a
  - type: forward
    name: socket
    listen: b
  - type: forward
    listen: c
outputs:
  - type: datadog
    api_key: k
  - type: stdout
    match: "app.*"
  - type: datadog
    api_key: k
)");
  ASSERT_EQ(c.inputs.size(), 4u);
  EXPECT_EQ(c.inputs[0].name, "stdin");
  EXPECT_EQ(c.inputs[1].name, "forward.0");
  EXPECT_EQ(c.inputs[2].name, "socket");
  EXPECT_EQ(c.inputs[3].name, "forward.2");
  EXPECT_EQ(c.outputs[0].section.name, "datadog.0");
  EXPECT_EQ(c.outputs[1].section.name, "stdout");
  EXPECT_EQ(c.outputs[1].section.match, "app.*");
  EXPECT_EQ(c.outputs[2].section.name, "datadog.1");
  EXPECT_EQ(c.outputs[2].section.line, 15);
}

TEST_F(LoaderTest, DuplicateNamesAreErrors) {
  const Diagnostic d = error(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
    name: out
  - type: datadog
    name: out
    api_key: k
)");
  EXPECT_EQ(d.key, "outputs[1].name");
  EXPECT_NE(d.message.find("duplicate outputs name 'out'"), std::string::npos) << d.message;
}

TEST_F(LoaderTest, UnknownTypeAndMissingType) {
  const auto all = errors(R"(inputs:
  - type: kafka
    brokers: x
  - tag: x
filters:
  - type: add_fields
    fields: { env: prod }
outputs:
  - type: stdout
)");
  ASSERT_EQ(all.size(), 2u) << dump(all);
  EXPECT_EQ(all[0].key, "inputs[0].type");
  EXPECT_EQ(all[0].line, 2);
  EXPECT_EQ(all[0].message, "unknown input type 'kafka'");
  EXPECT_EQ(all[1].key, "inputs[1].type");
  EXPECT_EQ(all[1].line, 4);
}

// Fluent Bit users write `type: null`, which YAML reads as null: it names the null output.
TEST_F(LoaderTest, UnquotedNullTypeIsTheNullOutput) {
  const Config c = load(R"(inputs:
  - type: stdin
outputs:
  - type: null
  - type: NULL
    name: b
  - type: ~   # the other spelling
    name: c
  - {type: null, name: d}
  - type: "null"
    name: e
)");
  ASSERT_EQ(c.outputs.size(), 5u);
  for (const auto& o : c.outputs) {
    EXPECT_EQ(o.section.type, "null") << o.section.name;
    EXPECT_EQ(o.section.table, &tables_.null_output) << o.section.name;
  }
  EXPECT_EQ(c.outputs[0].section.name, "null.0");
}

TEST_F(LoaderTest, NullTypeOfAnInputOrFilterAndAnEmptyTypeAreClearErrors) {
  const auto all = errors(R"(inputs:
  - type: null
filters:
  - type: ~
outputs:
  - type:
  - type:   # nothing here either
  - type: nullish
)");
  ASSERT_EQ(all.size(), 5u) << dump(all);
  EXPECT_EQ(all[0].format(),
            "test.yaml:2: inputs[0].type: inputs have no null type (null names an output)");
  EXPECT_EQ(all[1].format(),
            "test.yaml:4: filters[0].type: filters have no null type (null names an output)");
  EXPECT_EQ(all[2].format(), "test.yaml:6: outputs[0].type: must not be empty");
  EXPECT_EQ(all[3].format(), "test.yaml:7: outputs[1].type: must not be empty");
  EXPECT_EQ(all[4].format(), "test.yaml:8: outputs[2].type: unknown output type 'nullish'");
}

TEST_F(LoaderTest, FiltersTakeMatchAndMaps) {
  const Config c = load(R"(inputs:
  - type: stdin
filters:
  - type: add_fields
    match: app
    fields: { env: "${ENV:-dev}", region: "${AWS_REGION}" }
outputs:
  - type: stdout
)");
  ASSERT_EQ(c.filters.size(), 1u);
  EXPECT_EQ(c.filters[0].kind, "filter");
  EXPECT_EQ(c.filters[0].match, "app");
  EXPECT_EQ(c.filters[0].getMap("fields"),
            (std::map<std::string, std::string>{{"env", "dev"}, {"region", "eu-west-1"}}));
}

TEST_F(LoaderTest, StringListFromAScalarOrASequence) {
  const Config c = load(R"(inputs:
  - type: tail
    path: /var/log/a.log
  - type: tail
    path: [/var/log/a.log, /var/log/b.log]
outputs:
  - type: stdout
)");
  EXPECT_EQ(c.inputs[0].getList("path"), std::vector<std::string>{"/var/log/a.log"});
  EXPECT_EQ(c.inputs[1].getList("path"),
            (std::vector<std::string>{"/var/log/a.log", "/var/log/b.log"}));
  EXPECT_EQ(c.inputs[0].getString("parser"), "none");
  EXPECT_FALSE(c.inputs[0].getBool("read_from_head"));
}

TEST_F(LoaderTest, ListAndMapDefaultsUseFlowStyleButUserScalarsDoNot) {
  tables_.stdout_output = {
      testing::spec("fields", OptionType::kStringList, "[a, b]"),
      testing::spec("labels", OptionType::kStringMap, "{k: v}"),
      testing::spec("one", OptionType::kStringList, "single"),
      testing::spec("paths", OptionType::kStringList),
  };
  const Config c = load(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
    paths: "[a].log"
)");
  const Section& s = c.outputs[0].section;
  EXPECT_EQ(s.getList("fields"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.getMap("labels"), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(s.getList("one"), std::vector<std::string>{"single"});
  EXPECT_EQ(s.getList("paths"), std::vector<std::string>{"[a].log"});
}

TEST_F(LoaderTest, InvalidDefaultInATableIsReported) {
  tables_.stdout_output = {testing::spec("timeout", OptionType::kDuration, "soon")};
  const Diagnostic d = error("inputs:\n  - type: stdin\noutputs:\n  - type: stdout\n");
  EXPECT_EQ(d.key, "outputs[0].timeout");
  EXPECT_EQ(d.line, 4);
  EXPECT_NE(d.message.find("the default of output 'stdout' is invalid"), std::string::npos)
      << d.message;
}

TEST_F(LoaderTest, OutputCommonKeys) {
  const Config c = load(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
    retry: { max_attempts: 5, initial_backoff: 250ms, max_backoff: 10s }
    buffer: { max_bytes: 64MiB }
    concurrency: 4
    flush_interval: 2s
  - type: stdout
    concurrency: auto
)");
  const OutputCommon& a = c.outputs[0].common;
  EXPECT_EQ(a.retry.max_attempts, 5u);
  EXPECT_EQ(a.retry.initial_backoff_ms, 250u);
  EXPECT_EQ(a.retry.max_backoff_ms, 10'000u);
  EXPECT_EQ(a.buffer_max_bytes, 64ull << 20);
  EXPECT_FALSE(a.buffer_auto);
  EXPECT_EQ(a.concurrency, 4u);
  EXPECT_EQ(a.flush_interval_ms, 2000u);
  EXPECT_EQ(c.outputs[1].common.concurrency, 0u);
  // Common keys are not plugin options: they stay out of the section's values.
  EXPECT_FALSE(c.outputs[0].section.has("retry"));
}

TEST_F(LoaderTest, OutputCommonKeyErrorsHaveDottedPaths) {
  const auto all = errors(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
  - type: stdout
    retry:
      max_attempts: -1
      max_backoff: 1 minute
      jitter: true
    buffer: { max_bytes: lots }
    concurrency: many
    flush_interval: 0s
  - type: stdout
    retry: { initial_backoff: 1m, max_backoff: 1s }
)");
  ASSERT_EQ(all.size(), 7u) << dump(all);
  EXPECT_EQ(all[0].key, "outputs[1].retry.max_attempts");
  EXPECT_EQ(all[0].line, 7);
  EXPECT_EQ(all[1].key, "outputs[1].retry.max_backoff");
  EXPECT_EQ(all[1].line, 8);
  EXPECT_EQ(all[2].key, "outputs[1].retry.jitter");
  EXPECT_EQ(all[3].key, "outputs[1].buffer.max_bytes");
  EXPECT_EQ(all[3].line, 10);
  EXPECT_NE(all[3].message.find("'lots' is neither 'auto' nor a size"), std::string::npos)
      << all[3].message;
  EXPECT_EQ(all[4].key, "outputs[1].concurrency");
  EXPECT_EQ(all[5].key, "outputs[1].flush_interval");
  EXPECT_EQ(all[6].key, "outputs[2].retry");
  EXPECT_NE(all[6].message.find("initial_backoff (1m) is longer than max_backoff (1s)"),
            std::string::npos);
}

TEST_F(LoaderTest, BufferMaxBytesAutoOrASize) {
  const Config c = load(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
    buffer: { max_bytes: auto }
  - type: stdout
    buffer:
      max_bytes: ${BUF:-8MiB}
)");
  EXPECT_TRUE(c.outputs[0].common.buffer_auto);
  EXPECT_FALSE(c.outputs[1].common.buffer_auto);
  EXPECT_EQ(c.outputs[1].common.buffer_max_bytes, 8ull << 20);
  const auto all = errors(R"(inputs:
  - type: stdin
outputs:
  - type: stdout
    buffer:
      max_bytes: 0
)");
  ASSERT_EQ(all.size(), 1u) << dump(all);
  EXPECT_EQ(all[0].key, "outputs[0].buffer.max_bytes");
  EXPECT_EQ(all[0].line, 6);
}

TEST_F(LoaderTest, CollectsEveryErrorBeforeThrowing) {
  try {
    load(R"(service:
  log_level: loud
inputs:
  - type: forward
    listen: x
    bogus: 1
outputs:
  - type: datadog
    api_key: ${NOT_SET}
)");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u);
    const std::string what = e.what();
    EXPECT_NE(what.find("test.yaml:2: service.log_level:"), std::string::npos) << what;
    EXPECT_NE(what.find("test.yaml:6: inputs[0].bogus:"), std::string::npos) << what;
    EXPECT_NE(what.find("test.yaml:9: outputs[0].api_key:"), std::string::npos) << what;
  }
}

TEST_F(LoaderTest, MalformedYamlIsOneDiagnosticWithTheParsersLine) {
  const Diagnostic d = error("inputs:\n  - type: stdin\noutputs: [\n  - type: stdout\n");
  EXPECT_GT(d.line, 2);
  EXPECT_EQ(d.key, "");
  EXPECT_NE(d.message.find("invalid YAML"), std::string::npos);
  EXPECT_EQ(error("- just\n- a list\n").message,
            "expected a map with the keys service, inputs, filters and outputs");
}

TEST_F(LoaderTest, EmptyConfigNeedsAnInputAndAnOutput) {
  auto all = errors("");
  ASSERT_EQ(all.size(), 2u) << dump(all);
  EXPECT_EQ(all[0].key, "inputs");
  EXPECT_EQ(all[1].key, "outputs");
  EXPECT_EQ(error("inputs: {a: 1}\noutputs:\n  - type: stdout\n").message,
            "expected a list of inputs (\"- type: ...\" items)");
}

TEST_F(LoaderTest, SecretValuesNeverAppearInDiagnostics) {
  env_ = fakeEnv({{"PIN", "hunter2"}});
  const Diagnostic d = error(R"(inputs:
  - type: tail
    path: /x
    pin: ${PIN}
outputs:
  - type: stdout
)");
  EXPECT_EQ(d.key, "inputs[0].pin");
  EXPECT_EQ(d.format().find("hunter2"), std::string::npos) << d.format();
  EXPECT_NE(d.message.find("secret"), std::string::npos) << d.message;
}

TEST(ConfigDiagnosticTest, FormatsFileLineKeyMessage) {
  EXPECT_EQ((Diagnostic{"a.yaml", 3, "outputs[1].retry.max_backoff", "too long"}).format(),
            "a.yaml:3: outputs[1].retry.max_backoff: too long");
  EXPECT_EQ((Diagnostic{"a.yaml", 0, "", "cannot read"}).format(), "a.yaml: cannot read");
  const ConfigError e({Diagnostic{"f", 1, "k", "m1"}, Diagnostic{"f", 2, "k2", "m2"}});
  EXPECT_STREQ(e.what(), "f:1: k: m1\nf:2: k2: m2");
  EXPECT_EQ(e.diagnostics().size(), 2u);
}

} // namespace
} // namespace ferry::config
