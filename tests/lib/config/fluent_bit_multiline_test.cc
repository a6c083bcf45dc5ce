// Fluent Bit's multiline filter and [MULTILINE_PARSER] sections converted: the corpus's two
// FireLens multiline configs (they convert whole, cloudwatch_logs output included), the
// converted filter validated and built, and the errors for what does not map.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "ferry/app/registry.h"
#include "ferry/config/fluent_bit.h"

namespace ferry::config {
namespace {

const std::string kCorpus = std::string(FERRY_TEST_DATA_DIR) + "/firelens";

std::vector<Diagnostic> errorsOf(const std::string& path) {
  try {
    convertFluentBitFile(path);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

// The user's extra.conf of a corpus config, between a forward input and a null output.
std::string convertExtra(const std::string& dir, const std::string& extra = "extra.conf") {
  return convertFluentBitText("fluent-bit.conf", kCorpus + "/" + dir,
                              "[INPUT]\n    Name forward\n\n@INCLUDE " + extra +
                                  "\n\n[OUTPUT]\n    Name null\n    Match *\n");
}

// Loads converted YAML with the built-in tables and builds its filters (compiles the rules).
void buildFilters(const std::string& yaml) {
  static const OptionTable kAnything = {};
  const TableLookup tables = [](const std::string& kind,
                                const std::string& type) -> const OptionTable* {
    return kind == "output" ? &kAnything : app::builtinOptions(kind, type);
  };
  const auto env = [](const std::string&) -> std::optional<std::string> { return "x"; };
  const Config c = load({"converted.yaml", "", yaml}, tables, env);
  for (const auto& f : c.filters)
    EXPECT_NE(app::findFilterType(f.type)->make(f), nullptr);
}

TEST(FluentBitMultiline, CorpusConfigsConvertWithTheirCloudWatchOutput) {
  for (const char* dir : {"ecs-file-multiline", "ecs-file-multiline-partial"}) {
    const auto errors = errorsOf(kCorpus + "/" + dir + "/fluent-bit.conf");
    std::string all;
    for (const auto& e : errors)
      all += e.format() + "\n";
    EXPECT_TRUE(errors.empty()) << dir << ":\n" << all;
  }
}

TEST(FluentBitMultiline, ParserFilterWithACustomMultilineParser) {
  const std::string yaml = convertExtra("ecs-file-multiline");
  const YAML::Node f = YAML::Load(yaml)["filters"][0];
  EXPECT_EQ(f["type"].as<std::string>(), "multiline");
  EXPECT_EQ(f["key_content"].as<std::string>(), "log");
  EXPECT_EQ(f["parser"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"go", "multiline-regex-test"}));
  // The parser's flush_timeout is a note: Fluent Bit's filter flushes by its own flush_ms.
  EXPECT_FALSE(f["flush_ms"]);
  EXPECT_NE(yaml.find("flush_timeout: ignored"), std::string::npos) << yaml;
  EXPECT_EQ(f["custom"]["multiline-regex-test"].as<std::string>(),
            "\"start_state\" \"(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)\" \"cont\"\n"
            "\"cont\" \"(?m)^\\s+at.*\" \"cont\"\n");
  buildFilters(yaml);
}

// Several [MULTILINE_PARSER]s in one filter, in the order named, of each type Fluent Bit has.
TEST(FluentBitMultiline, SeveralCustomParsersOfEachType) {
  const std::string yaml = convertFluentBitText(
      "fluent-bit.conf", kCorpus,
      "[INPUT]\n    Name forward\n"
      "[MULTILINE_PARSER]\n    name backslash\n    type endswith\n    match_string \\\n"
      "    negate false\n"
      "[MULTILINE_PARSER]\n    name until_end\n    type equal\n    match_string END\n"
      "    negate on\n"
      "[MULTILINE_PARSER]\n    name dated\n    type regex\n"
      "    rule \"start_state\" \"/^\\d{4}-/\" \"cont\"\n    rule \"cont\" \"/^ /\" \"cont\"\n"
      "[FILTER]\n    Name multiline\n    Match *\n"
      "    multiline.parser dated, java, backslash, until_end\n"
      "[OUTPUT]\n    Name null\n    Match *\n");
  const YAML::Node f = YAML::Load(yaml)["filters"][0];
  EXPECT_EQ(f["parser"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"dated", "java", "backslash", "until_end"}));
  EXPECT_EQ(f["custom"]["backslash"].as<std::string>(), R"(endswith "\")");
  EXPECT_EQ(f["custom"]["until_end"].as<std::string>(), R"(equal "END" negate)");
  EXPECT_EQ(f["custom"]["dated"].as<std::string>(),
            "\"start_state\" \"(?m)^\\d{4}-\" \"cont\"\n\"cont\" \"(?m)^ \" \"cont\"\n");
  buildFilters(yaml);
}

TEST(FluentBitMultiline, PartialMessageMode) {
  const std::string yaml = convertExtra("ecs-file-multiline-partial");
  const YAML::Node f = YAML::Load(yaml)["filters"][0];
  EXPECT_EQ(f["type"].as<std::string>(), "multiline");
  EXPECT_EQ(f["mode"].as<std::string>(), "partial_message");
  EXPECT_FALSE(f["parser"]);
  buildFilters(yaml);
}

TEST(FluentBitMultiline, WhatDoesNotMapIsAnError) {
  auto errors = [](const std::string& text) {
    try {
      convertFluentBitText("fluent-bit.conf", kCorpus, text);
    } catch (const ConfigError& e) {
      return e.diagnostics();
    }
    return std::vector<Diagnostic>{};
  };
  const std::string head = "[INPUT]\n    Name forward\n[OUTPUT]\n    Name null\n    Match *\n";
  EXPECT_EQ(errors(head + "[FILTER]\n    Name multiline\n    Match *\n"
                          "    multiline.parser nope\n")
                .size(),
            1u);
  EXPECT_EQ(errors(head + "[MULTILINE_PARSER]\n    name m\n    type endswith\n"
                          "[FILTER]\n    Name multiline\n    Match *\n    multiline.parser m\n")
                .size(),
            1u);
  EXPECT_EQ(errors(head + "[MULTILINE_PARSER]\n    name m\n    type regex\n"
                          "    rule \"start_state\" \"/a/\" \"cont\"\n    key_group x\n"
                          "[FILTER]\n    Name multiline\n    Match *\n    multiline.parser m\n")
                .size(),
            1u);
  EXPECT_EQ(errors(head + "[FILTER]\n    Name multiline\n    Match *\n    mode partial_message\n"
                          "    multiline.parser go\n")
                .size(),
            1u);
  EXPECT_TRUE(errors(head + "[FILTER]\n    Name multiline\n    Match *\n"
                            "    multiline.parser java, python\n    buffer on\n")
                  .empty());
}

} // namespace
} // namespace ferry::config
