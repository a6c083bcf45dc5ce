// Fluent Bit's multiline filter and [MULTILINE_PARSER] sections converted: the corpus's two
// FireLens multiline configs (their one error is the cloudwatch_logs output ferry lacks), the
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

TEST(FluentBitMultiline, CorpusConfigsFailOnlyOnTheCloudWatchOutput) {
  for (const char* dir : {"ecs-file-multiline", "ecs-file-multiline-partial"}) {
    const auto errors = errorsOf(kCorpus + "/" + dir + "/fluent-bit.conf");
    std::string all;
    for (const auto& e : errors)
      all += e.format() + "\n";
    ASSERT_EQ(errors.size(), 1u) << dir << ":\n" << all;
    EXPECT_NE(errors[0].message.find("cloudwatch_logs"), std::string::npos)
        << dir << ": " << errors[0].message;
  }
}

TEST(FluentBitMultiline, ParserFilterWithACustomMultilineParser) {
  const std::string yaml = convertExtra("ecs-file-multiline");
  const YAML::Node f = YAML::Load(yaml)["filters"][0];
  EXPECT_EQ(f["type"].as<std::string>(), "multiline");
  EXPECT_EQ(f["key_content"].as<std::string>(), "log");
  EXPECT_EQ(f["parser"].as<std::vector<std::string>>(), (std::vector<std::string>{"go", "custom"}));
  EXPECT_EQ(f["flush_ms"].as<std::string>(), "1000ms"); // the parser's flush_timeout
  const auto rules = f["rules"].as<std::vector<std::string>>();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0], R"r("start_state" "(Dec \d+ \d+\:\d+\:\d+)(.*)" "cont")r");
  EXPECT_EQ(rules[1], R"r("cont" "(?m)^\s+at.*" "cont")r");
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
