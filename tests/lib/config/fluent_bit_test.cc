// Fluent Bit classic config import: FireLens-generated configs (with the user's @INCLUDE),
// @SET and ${VAR}, value conversions, and errors that name file, line, section and key.
#include "ferry/config/fluent_bit.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "ferry/app/registry.h"
#include "test_support.h"

namespace ferry::config {
namespace {

const std::string kData = std::string(FERRY_TEST_DATA_DIR) + "/fluent-bit";

// The generated config as ECS writes it, its @INCLUDE pointed at the test data directory.
std::string firelensText() {
  std::string text = test::readFile(kData + "/firelens-generated.conf");
  const std::string from = "/fluent-bit/etc/";
  text.replace(text.find(from), from.size(), kData + "/");
  return text;
}

YAML::Node convert(const std::string& text) {
  return YAML::Load(convertFluentBitText("fluent-bit.conf", kData, text));
}

std::vector<Diagnostic> errorsOf(const std::string& text) {
  try {
    convertFluentBitText("fluent-bit.conf", kData, text);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

TEST(FluentBitImport, FireLensGeneratedConfig) {
  const std::string yaml = convertFluentBitText("fluent-bit.conf", kData, firelensText());
  const YAML::Node c = YAML::Load(yaml);
  // The health-check tcp input (its nc check needs it) and both forward inputs.
  ASSERT_EQ(c["inputs"].size(), 3u);
  EXPECT_EQ(c["inputs"][0]["type"].as<std::string>(), "tcp");
  EXPECT_EQ(c["inputs"][0]["listen"].as<std::string>(), "127.0.0.1");
  EXPECT_EQ(c["inputs"][0]["port"].as<int>(), 8877);
  EXPECT_EQ(c["inputs"][0]["tag"].as<std::string>(), "firelens-healthcheck");
  EXPECT_EQ(c["inputs"][0]["buffer_size"].as<int>(), 32 * 1024); // Fluent Bit: Chunk_Size
  EXPECT_EQ(c["inputs"][1]["listen"].as<std::string>(), "unix:///var/run/fluent.sock");
  EXPECT_EQ(c["inputs"][2]["listen"].as<std::string>(), "tcp://127.0.0.1:24224");
  // record_modifier → add_fields, grep → grep, the included modify → three filters.
  const YAML::Node f = c["filters"];
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0]["type"].as<std::string>(), "add_fields");
  EXPECT_EQ(f[0]["match"].as<std::string>(), "*");
  EXPECT_EQ(f[0]["fields"]["ecs_task_definition"].as<std::string>(), "checkout-api:42");
  EXPECT_EQ(f[1]["type"].as<std::string>(), "grep");
  EXPECT_EQ(f[1]["exclude"]["field"].as<std::string>(), "log");
  // Ruby's ^ matches at line breaks: the converted pattern says so with (?m).
  EXPECT_EQ(f[1]["exclude"]["regex"].as<std::string>(), "(?m)^GET /health");
  EXPECT_EQ(f[2]["type"].as<std::string>(), "rename_fields");
  EXPECT_FALSE(f[2]["overwrite"].as<bool>());
  EXPECT_EQ(f[3]["type"].as<std::string>(), "add_fields");
  EXPECT_FALSE(f[3]["overwrite"].as<bool>());
  EXPECT_EQ(f[4]["fields"][0].as<std::string>(), "password");
  // Outputs in file order: the included firehose comes before the generated ones.
  const YAML::Node o = c["outputs"];
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0]["type"].as<std::string>(), "firehose");
  EXPECT_EQ(o[0]["delivery_stream"].as<std::string>(), "checkout-logs"); // from @SET
  EXPECT_EQ(o[0]["region"].as<std::string>(), "${AWS_REGION}");          // left for ferry
  EXPECT_EQ(o[0]["retry"]["max_attempts"].as<int>(), 6);
  EXPECT_EQ(o[0]["flush_interval"].as<std::string>(), "1s");
  EXPECT_EQ(o[1]["type"].as<std::string>(), "null");
  EXPECT_EQ(o[1]["match"].as<std::string>(), "firelens-healthcheck");
  EXPECT_EQ(o[2]["type"].as<std::string>(), "datadog");
  EXPECT_EQ(o[2]["site"].as<std::string>(), "datadoghq.eu");
  EXPECT_EQ(o[2]["api_key"].as<std::string>(), "${DD_API_KEY}");
  EXPECT_EQ(o[2]["service"].as<std::string>(), "checkout-api");
  EXPECT_EQ(o[2]["tags"].as<std::string>(), "env:prod,team:payments");
  EXPECT_EQ(o[2]["provider"].as<std::string>(), "ecs"); // the ECS fields become ddtags
  EXPECT_EQ(c["service"]["http"]["listen"].as<std::string>(), "0.0.0.0:2020");
  EXPECT_EQ(c["service"]["grace_period"].as<std::string>(), "20s");
}

// The budget rule: the inputs' Mem_Buf_Limit (or chunks up with filesystem storage) summed,
// split over the outputs that hold records; storage.total_limit_size summed.
TEST(FluentBitImport, MemBufLimitAndStorageLimitsBecomeBudgets) {
  const YAML::Node c = convert(R"([SERVICE]
    storage.path /var/lib/flb
    storage.max_chunks_up 4
    storage.backlog.mem_limit 5M
[INPUT]
    Name forward
    Mem_Buf_Limit 20MB
    storage.pause_on_chunks_overlimit Off
[INPUT]
    Name forward
    Port 24225
    storage.type filesystem
    Mem_Buf_Limit 99MB
[INPUT]
    Name tcp
    Port 8877
[OUTPUT]
    Name null
    Match health
[OUTPUT]
    Name stdout
    Match *
    storage.total_limit_size 1G
[OUTPUT]
    Name stdout
    Match app
    storage.total_limit_size 500M
)");
  // 20 MB + 4 chunks x 2 MiB, over the two stdout outputs; null keeps ferry's default.
  const uint64_t each = (20'000'000 + 4 * 2 * 1024 * 1024) / 2;
  const YAML::Node o = c["outputs"];
  EXPECT_FALSE(o[0]["buffer"]);
  EXPECT_EQ(o[1]["buffer"]["max_bytes"].as<uint64_t>(), each);
  EXPECT_EQ(o[2]["buffer"]["max_bytes"].as<uint64_t>(), each);
  EXPECT_EQ(c["service"]["storage"]["max_bytes"].as<uint64_t>(), 1'500'000'000u);
}

TEST(FluentBitImport, ConvertedFiltersAndInputsPassFerryValidation) {
  const std::string yaml = convertFluentBitText("fluent-bit.conf", kData, firelensText());
  static const OptionTable kAnything = {};
  std::vector<std::string> output_types;
  const TableLookup tables = [&](const std::string& kind,
                                 const std::string& type) -> const OptionTable* {
    if (kind != "output") return app::builtinOptions(kind, type);
    output_types.push_back(type);
    return &kAnything;
  };
  // Output options are the plugins' to check; strip them to validate the rest here.
  YAML::Node root = YAML::Load(yaml);
  YAML::Node slim_outputs(YAML::NodeType::Sequence);
  for (const auto& o : root["outputs"]) {
    YAML::Node slim;
    slim["type"] = o["type"].as<std::string>();
    slim["match"] = o["match"].as<std::string>();
    slim_outputs.push_back(slim);
  }
  root["outputs"] = slim_outputs;
  YAML::Emitter e;
  e << root;
  const auto env = [](const std::string&) -> std::optional<std::string> { return "x"; };
  Config c = load({"converted.yaml", "", e.c_str()}, tables, env);
  EXPECT_EQ(c.inputs.size(), 3u); // tcp (the health check) and two forward
  EXPECT_EQ(c.filters.size(), 5u);
  EXPECT_EQ(output_types, (std::vector<std::string>{"firehose", "null", "datadog"}));
}

TEST(FluentBitImport, S3ParserStdoutAndValueConversions) {
  const YAML::Node c = YAML::Load(convertFluentBitFile(kData + "/s3-and-stdout.conf"));
  EXPECT_EQ(c["inputs"][0]["listen"].as<std::string>(), "tcp://0.0.0.0:24224");
  EXPECT_EQ(c["inputs"][0]["buffer_max_size"].as<std::string>(), "6000000"); // 6M = 6×10^6
  EXPECT_EQ(c["service"]["storage"]["sync"].as<std::string>(), "always");
  EXPECT_EQ(c["filters"][0]["type"].as<std::string>(), "parse");
  EXPECT_EQ(c["filters"][0]["format"].as<std::string>(), "json");
  const YAML::Node s3 = c["outputs"][0];
  EXPECT_EQ(s3["total_file_size"].as<std::string>(), "50000000");
  EXPECT_EQ(s3["upload_timeout"].as<std::string>(), "600s");
  EXPECT_EQ(s3["key_format"].as<std::string>(), "/app/%Y/%m/%d/%H%M%S-$UUID.gz");
  EXPECT_EQ(s3["flush_interval"].as<std::string>(), "5s");
  EXPECT_EQ(c["outputs"][1]["type"].as<std::string>(), "stdout");
}

// Fluent Bit's out_datadog compresses on exactly "gzip"; any other value sends uncompressed.
TEST(FluentBitImport, DatadogCompressOtherThanGzipSendsUncompressed) {
  const auto compressionOf = [](const std::string& value) {
    const YAML::Node c = convert("[INPUT]\n    Name forward\n[OUTPUT]\n    Name datadog\n"
                                 "    Match *\n    apikey k\n    compress " +
                                 value + "\n");
    return c["outputs"][0]["compression"].as<std::string>();
  };
  EXPECT_EQ(compressionOf("gzip"), "gzip");
  EXPECT_EQ(compressionOf("GZIP"), "gzip");
  EXPECT_EQ(compressionOf("false"), "none");
  EXPECT_EQ(compressionOf("on"), "none");
  EXPECT_EQ(compressionOf("off"), "none");
}

// What Fluent Bit leaves out stays out: no hostname without dd_hostname (Datadog takes the
// host from the record), no `status` copied from level, no time field in Firehose records
// without time_key.
TEST(FluentBitImport, DatadogHostnameAndFirehoseTimeOnlyWhenConfigured) {
  const YAML::Node c = convert("[INPUT]\n    Name forward\n"
                               "[OUTPUT]\n    Name datadog\n    Match a\n    apikey k\n"
                               "[OUTPUT]\n    Name datadog\n    Match b\n    apikey k\n"
                               "    dd_hostname web-1\n"
                               "[OUTPUT]\n    Name kinesis_firehose\n    Match c\n"
                               "    region eu-west-1\n    delivery_stream s\n"
                               "[OUTPUT]\n    Name firehose\n    Match d\n"
                               "    region eu-west-1\n    delivery_stream s\n    time_key at\n");
  const YAML::Node o = c["outputs"];
  ASSERT_EQ(o.size(), 4u);
  EXPECT_FALSE(o[0]["auto_hostname"].as<bool>());
  EXPECT_FALSE(o[0]["hostname"]);
  EXPECT_FALSE(o[0]["status_from_level"].as<bool>());
  EXPECT_EQ(o[1]["hostname"].as<std::string>(), "web-1");
  EXPECT_FALSE(o[1]["auto_hostname"]);
  EXPECT_EQ(o[2]["time_key"].as<std::string>(), "");
  EXPECT_EQ(o[3]["time_key"].as<std::string>(), "at");
}

TEST(FluentBitImport, UnmappableKeysAreErrorsNamingFileLineAndKey) {
  const auto errors = errorsOf(test::readFile(kData + "/unmappable.conf"));
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(errors[0].key, "[INPUT forward] Tag");
  EXPECT_EQ(errors[1].key, "[FILTER nest]");
  EXPECT_EQ(errors[2].key, "[OUTPUT cloudwatch_logs]");
  // s3_key_format's $TAG maps (one object stream per tag); role_arn does not.
  EXPECT_EQ(errors[3].key, "[OUTPUT s3] role_arn");
  EXPECT_EQ(errors[3].line, 24);
  EXPECT_EQ(errors[3].file, "fluent-bit.conf");
}

TEST(FluentBitImport, S3KeyFormatTagsAndIndexMap) {
  const YAML::Node c = convert("[OUTPUT]\n  Name s3\n  Match *\n  bucket b\n"
                               "  s3_key_format /logs/$TAG[1]/$TAG/%Y/$INDEX-$UUID.gz\n"
                               "  s3_key_format_tag_delimiters .-\n");
  const YAML::Node s3 = c["outputs"][0];
  EXPECT_EQ(s3["key_format"].as<std::string>(), "/logs/$TAG[1]/$TAG/%Y/$INDEX-$UUID.gz");
  EXPECT_EQ(s3["tag_delimiters"].as<std::string>(), ".-");
}

TEST(FluentBitImport, ModifyRulesKeepTheirOrder) {
  const YAML::Node c = convert(
      "[INPUT]\n  Name forward\n[FILTER]\n  Name modify\n  Match *\n  Set a 1\n  Set b two words\n"
      "  Remove c\n  Hard_rename d e\n  Set a 3\n[OUTPUT]\n  Name null\n  Match *\n");
  const YAML::Node f = c["filters"];
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0]["fields"]["b"].as<std::string>(), "two words");
  EXPECT_EQ(f[1]["type"].as<std::string>(), "remove_fields");
  EXPECT_TRUE(f[2]["overwrite"].as<bool>());
  EXPECT_EQ(f[3]["fields"]["a"].as<std::string>(), "3");
}

TEST(FluentBitImport, GrepRulesBecomeOneFilterEach) {
  const YAML::Node c = convert(
      "[INPUT]\n  Name forward\n[FILTER]\n  Name grep\n  Match app*\n  Regex $log ERROR\n"
      "  Regex level ^(warn|error)$\n  Exclude path ^/health\n[OUTPUT]\n  Name null\n  Match *\n");
  ASSERT_EQ(c["filters"].size(), 3u);
  EXPECT_EQ(c["filters"][0]["include"]["field"].as<std::string>(), "log");
  EXPECT_EQ(c["filters"][2]["exclude"]["field"].as<std::string>(), "path");
  // Look-ahead runs (on PCRE2); a pattern Onigmo refuses too stays an error.
  EXPECT_EQ(errorsOf("[INPUT]\n  Name forward\n[FILTER]\n  Name grep\n  Match *\n"
                     "  Regex log (?=lookahead)\n[OUTPUT]\n  Name null\n  Match *\n")
                .size(),
            0u);
  EXPECT_EQ(errorsOf("[INPUT]\n  Name forward\n[FILTER]\n  Name grep\n  Match *\n"
                     "  Regex log *failure*\n[OUTPUT]\n  Name null\n  Match *\n")
                .size(),
            1u);
}

TEST(FluentBitImport, DirectivesAndSyntaxErrors) {
  EXPECT_EQ(errorsOf("@INCLUDE does-not-exist.conf\n").size(), 1u);
  EXPECT_EQ(errorsOf("  Name forward\n").size(), 1u); // a key outside a section
  EXPECT_EQ(errorsOf("[INPUT\n").size(), 1u);
  EXPECT_EQ(errorsOf("@SET nothing\n").size(), 1u);
  const YAML::Node c = convert("@SET PORT=24225\n[INPUT]\n  Name forward\n  Port ${PORT}\n"
                               "[OUTPUT]\n  Name datadog\n  Match *\n  Host intake.example\n"
                               "  Port 8443\n  TLS On\n  apikey ${KEY}\n");
  EXPECT_EQ(c["inputs"][0]["listen"].as<std::string>(), "tcp://0.0.0.0:24225");
  EXPECT_EQ(c["outputs"][0]["url"].as<std::string>(), "https://intake.example:8443/api/v2/logs");
  EXPECT_EQ(c["outputs"][0]["api_key"].as<std::string>(), "${KEY}");
}

TEST(FluentBitImport, IncludeGlobsAndLoops) {
  test::TempDir dir;
  test::writeFile(dir / "a.conf", "[OUTPUT]\n  Name null\n  Match a\n");
  test::writeFile(dir / "b.conf", "[OUTPUT]\n  Name null\n  Match b\n");
  test::writeFile(dir / "loop.conf", "@INCLUDE loop.conf\n");
  const YAML::Node c = YAML::Load(convertFluentBitText(
      "main.conf", dir.path().string(), "[INPUT]\n  Name forward\n@INCLUDE ?.conf\n"));
  ASSERT_EQ(c["outputs"].size(), 2u);
  EXPECT_EQ(c["outputs"][1]["match"].as<std::string>(), "b");
  EXPECT_THROW(convertFluentBitFile((dir / "loop.conf").string()), ConfigError);
}

} // namespace
} // namespace ferry::config
