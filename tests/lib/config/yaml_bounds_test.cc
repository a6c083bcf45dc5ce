// Tests for lib/config/yaml_bounds.cc (alias bombs, oversized texts and node counts refused
// before a tree is built), for the loader's use of it, for sectionDiagnostic (a component's
// own check named by file, line and key), and for the Fluent Bit reader's bounds.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "config_fakes.h"
#include "ferry/config/config.h"
#include "ferry/config/fluent_bit.h"
#include "ferry/config/validator.h"
#include "test_support.h"

namespace ferry::config {
namespace {

using testing::fakeEnv;
using testing::FakeTables;
using testing::yamlSource;

// The one diagnostic a refused text gives, or an empty one when it was accepted.
Diagnostic refusal(const std::string& text, uint64_t max_nodes = kMaxYamlNodes) {
  try {
    checkYamlBounds("bomb.yaml", text, max_nodes);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    return e.diagnostics().front();
  }
  return {};
}

// `levels` lists of ten aliases to the list before: 10^(levels+1) scalars once expanded.
std::string billionLaughs(int levels) {
  std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= levels; ++i) {
    text += fmt::format("a{}: &a{} [", i, i);
    for (int j = 0; j < 10; ++j)
      text += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    text += "]\n";
  }
  return text;
}

// One long anchored scalar and a flat list of `count` aliases to it.
std::string flatAliases(size_t scalar_bytes, size_t count) {
  std::string text = "inputs:\n  - type: tail\n    path: &p /var/log/" +
                     std::string(scalar_bytes, 'x') + "\n  - type: tail\n    path: [";
  for (size_t i = 0; i < count; ++i)
    text += i ? ", *p" : "*p";
  return text + "]\noutputs:\n  - type: stdout\n";
}

TEST(YamlBounds, NestedAliasesAreRefusedWithTheLineOfTheAliasThatCrossesTheLimit) {
  const auto start = std::chrono::steady_clock::now();
  const Diagnostic d = refusal(billionLaughs(9)); // 10^10 nodes once expanded
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(d.file, "bomb.yaml");
  EXPECT_EQ(d.line, 5); // a4 holds 10^5 scalars: the first list past 100,000 nodes
  EXPECT_NE(d.message.find("too many aliases expanded (limit 100000 nodes"), std::string::npos)
      << d.format();
}

TEST(YamlBounds, FlatAliasesToALongScalarAreRefusedByTheirExpandedText) {
  // 28,000 × 4 KB = 112 MB of paths from a 116 KB text; fewer than 100,000 nodes.
  const Diagnostic d = refusal(flatAliases(4000, 28'000));
  EXPECT_EQ(d.line, 5);
  EXPECT_NE(d.message.find("too many aliases expanded (limit 4MiB of text"), std::string::npos)
      << d.format();
}

TEST(YamlBounds, AFewAliasesAreFine) {
  const std::string text = "tags: &t [a, b, c]\nfirst: *t\nsecond: *t\n";
  EXPECT_TRUE(refusal(text).message.empty());
  const YAML::Node n = loadBoundedYaml("ok.yaml", text);
  EXPECT_EQ(n["second"][2].as<std::string>(), "c");
  // Exactly at the limit is accepted: 1 map + 3 keys + 1 list + 3 items + 2 × 4 = 16.
  EXPECT_TRUE(refusal(text, 16).message.empty());
  EXPECT_FALSE(refusal(text, 15).message.empty());
}

TEST(YamlBounds, ManyPlainNodesAreRefusedToo) {
  std::string text = "list: [";
  for (int i = 0; i < 1000; ++i)
    text += i ? ", x" : "x";
  text += "]\n";
  const Diagnostic d = refusal(text, 500);
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.message, "too many YAML nodes (limit 500 nodes)");
}

TEST(YamlBounds, AnAliasInsideItsOwnAnchorIsRefused) {
  const Diagnostic d = refusal("a: &x\n  b: *x\n");
  EXPECT_EQ(d.line, 2);
  EXPECT_NE(d.message.find("an alias inside the node it refers to"), std::string::npos)
      << d.format();
}

TEST(YamlBounds, TextOverTheSizeLimitIsRefusedBeforeParsing) {
  const Diagnostic d = refusal("# " + std::string(kMaxConfigBytes, 'x'));
  EXPECT_EQ(d.file, "bomb.yaml");
  EXPECT_NE(d.message.find("over the limit of 4MiB"), std::string::npos) << d.format();
}

TEST(YamlBounds, InvalidYamlNamesItsLine) {
  const Diagnostic d = refusal("a: 1\nb: [\n");
  EXPECT_GE(d.line, 2);
  EXPECT_NE(d.message.find("invalid YAML"), std::string::npos) << d.format();
}

TEST(YamlBounds, TheLoaderRefusesABombWithItsOwnError) {
  FakeTables tables;
  try {
    load(yamlSource(flatAliases(4000, 28'000), "FERRY_CONFIG_YAML"), tables.lookup(), fakeEnv({}));
    FAIL() << "the bomb was loaded";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].format().rfind("FERRY_CONFIG_YAML:5: too many aliases", 0), 0u)
        << e.what();
  }
}

TEST(SectionDiagnostic, NamesTheOptionItsLineAndItsFullKey) {
  FakeTables tables;
  const Config c = load(yamlSource("inputs:\n  - type: stdin\noutputs:\n  - type: stdout\n"
                                   "  - type: datadog\n    site: nowhere\n    api_key: k\n"),
                        tables.lookup(), fakeEnv({}));
  const Section& dd = c.outputs[1].section;
  const Diagnostic d = sectionDiagnostic(dd, "site: unknown Datadog site 'nowhere'");
  EXPECT_EQ(d.format(), "test.yaml:6: outputs[1].site: unknown Datadog site 'nowhere'");
  // A declared option left to its default: the section's line.
  EXPECT_EQ(sectionDiagnostic(dd, "compression: not here").format(),
            "test.yaml:5: outputs[1].compression: not here");
  // Free text, or a word that is no option: the section itself.
  EXPECT_EQ(sectionDiagnostic(dd, "cannot work: because").format(),
            "test.yaml:5: outputs[1]: cannot work: because");
  EXPECT_EQ(sectionDiagnostic(dd, "no reason").format(), "test.yaml:5: outputs[1]: no reason");
}

std::vector<Diagnostic> fluentBitErrors(const std::string& path) {
  try {
    convertFluentBitFile(path);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

TEST(FluentBitBounds, SetThatDoublesItselfIsRefused) {
  test::TempDir dir;
  std::string text = "@SET A=xxxxxxxxxxxxxxxx\n";
  for (int i = 0; i < 40; ++i) // 16 B × 2^40 if nothing stopped it
    text += "@SET A=${A}${A}\n";
  text += "[INPUT]\n    Name stdin\n[OUTPUT]\n    Name stdout\n    Match *\n";
  test::writeFile(dir.path() / "fluent-bit.conf", text);
  const auto start = std::chrono::steady_clock::now();
  const auto errors = fluentBitErrors((dir.path() / "fluent-bit.conf").string());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "@SET");
  EXPECT_GT(errors[0].line, 10); // about where 16 B doubled reaches 4 MiB
  EXPECT_LT(errors[0].line, 30);
  EXPECT_NE(errors[0].message.find("over the limit of 4MiB"), std::string::npos)
      << errors[0].format();
}

TEST(FluentBitBounds, AnIncludeLoopThatFansOutGivesOneError) {
  test::TempDir dir;
  // Each file includes itself twice: 2^16 reads if only the depth stopped each branch.
  test::writeFile(dir.path() / "loop.conf", "@INCLUDE loop.conf\n@INCLUDE loop.conf\n");
  const auto start = std::chrono::steady_clock::now();
  const auto errors = fluentBitErrors((dir.path() / "loop.conf").string());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].format(), (dir.path() / "loop.conf").string() +
                                    ":1: @INCLUDE: includes nested too deeply (a loop?)");
}

TEST(FluentBitBounds, IncludingTooManyFilesIsRefused) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "parts");
  for (size_t i = 0; i < 266; ++i)
    test::writeFile(dir.path() / "parts" / fmt::format("{}.conf", i), "# empty\n");
  test::writeFile(dir.path() / "fluent-bit.conf", "@INCLUDE parts/*.conf\n");
  const auto errors = fluentBitErrors((dir.path() / "fluent-bit.conf").string());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_NE(errors[0].message.find("more than 256 files read"), std::string::npos)
      << errors[0].format();
}

} // namespace
} // namespace ferry::config
