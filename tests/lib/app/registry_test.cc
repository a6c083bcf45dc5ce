// Tests for lib/app/registry.cc: the built-in inputs' and filters' settings checks run at
// config load name the file, line and key of what their factories would refuse at start-up,
// and accept what the factories accept, so `ferry validate` and `ferry run` cannot disagree.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "ferry/app/registry.h"
#include "ferry/config/config.h"

namespace ferry::app {
namespace {

// Inputs and filters as given, one output of a type with no options.
config::Config load(const std::string& inputs_and_filters) {
  static const config::OptionTable kNoOptions;
  const config::TableLookup tables = [](const std::string& kind,
                                        const std::string& type) -> const config::OptionTable* {
    return kind == "output" ? &kNoOptions : builtinOptions(kind, type);
  };
  const config::ConfigSource source{"ferry.yaml", "",
                                    inputs_and_filters + "outputs:\n  - type: sink\n"};
  return config::load(source, tables, [](const std::string&) { return std::nullopt; });
}

std::vector<std::string> formatted(const std::vector<config::Diagnostic>& all) {
  std::vector<std::string> out;
  for (const auto& d : all)
    out.push_back(d.format());
  return out;
}

// What the factory of the section's type says: "" when it builds the component.
std::string factoryError(const config::Section& s) {
  try {
    if (s.kind == "input") {
      findInputType(s.type)->make(s, InputEnvironment{"/nonexistent"});
    } else {
      findFilterType(s.type)->make(s);
    }
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(RegistryChecks, NameTheFileLineAndKeyOfEachRefusedSetting) {
  const auto c = load(R"(inputs:
  - type: forward
    listen: [unix:///tmp/ferry-registry.sock, 'tcp://127.0.0.1:70000']
  - type: tail
    path: /var/log/app.log
    multiline: {start: '^(\d+'}
  - type: tail
    path: /var/log/other.log
    parser: regex
    regex: '(?P<a>x'
  - type: stdin
filters:
  - type: grep
    exclude: {field: log, regex: 'a{2,1}'}
  - type: parse
    format: json
    time_key: t
    time_format: '%Q'
  - type: rename_fields
    fields: {a: ''}
  - type: ecs_metadata
    metadata_uri: 169.254.170.2/v4
  - type: sample
    rate: 2
)");
  const auto all = formatted(checkBuiltins(c));
  ASSERT_EQ(all.size(), 7u) << ::testing::PrintToString(all);
  EXPECT_EQ(all[0], "ferry.yaml:3: inputs[0].listen: 'tcp://127.0.0.1:70000': the port must be a "
                    "number from 0 to 65535");
  EXPECT_EQ(all[1].rfind("ferry.yaml:6: inputs[1].multiline.start: ", 0), 0u) << all[1];
  EXPECT_EQ(all[2].rfind("ferry.yaml:10: inputs[2].regex: ", 0), 0u) << all[2];
  EXPECT_EQ(all[3].rfind("ferry.yaml:14: filters[0].exclude.regex: ", 0), 0u) << all[3];
  EXPECT_EQ(all[4], "ferry.yaml:18: filters[1].time_format: '%Q': unsupported directive %Q");
  EXPECT_EQ(all[5], "ferry.yaml:20: filters[2].fields.a: the new name must not be empty");
  EXPECT_EQ(all[6].rfind("ferry.yaml:22: filters[3].metadata_uri: '169.254.170.2/v4' is not", 0),
            0u)
      << all[6];
}

TEST(RegistryChecks, AcceptWhatTheFactoriesBuild) {
  const auto c = load(R"(inputs:
  - type: forward
    listen: tcp://127.0.0.1:0
    shared_key: k
  - type: tail
    path: /var/log/app.log
    multiline: {preset: java, timeout: 1s}
    parser: regex
    regex: '^(?P<level>\w+) (?P<msg>.*)$'
    time_key: ts
    time_format: epoch
  - type: stdin
filters:
  - type: grep
    include: {field: level, regex: '^(ERROR|WARN)$'}
  - type: parse
    format: logfmt
  - type: add_fields
    fields: {env: prod}
  - type: remove_fields
    fields: [secret]
  - type: rename_fields
    fields: {msg: message}
  - type: concat_partial
)");
  EXPECT_TRUE(checkBuiltins(c).empty()) << ::testing::PrintToString(formatted(checkBuiltins(c)));
  for (const auto& s : c.inputs)
    EXPECT_EQ(factoryError(s), "") << s.path;
  for (const auto& s : c.filters)
    EXPECT_EQ(factoryError(s), "") << s.path;
}

// The check and the factory are one reading: each refuses exactly what the other does, with
// the same message (the factory's std::invalid_argument, should start-up ever meet it).
TEST(RegistryChecks, TheFactoryRefusesWithTheSameMessage) {
  const std::vector<std::string> bad = {
      "inputs:\n  - type: forward\n    listen: udp://127.0.0.1:1\n",
      "inputs:\n  - type: forward\n    listen: unix:///tmp/x.sock\n    tls_cert: /c.pem\n",
      "inputs:\n  - type: tail\n    path: /x.log\n    multiline: {preset: ruby}\n",
      "inputs:\n  - type: tail\n    path: /x.log\n    multiline: {start: a, preset: go}\n",
      "inputs:\n  - type: tail\n    path: /x.log\n    parser: json\n    regex: a\n",
      "inputs:\n  - type: tail\n    path: /x.log\n    time_key: t\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: grep\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: grep\n    include: {field: log, rx: a}\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: parse\n    format: regex\n    regex: abc\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: rename_fields\n    fields: {a: ''}\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: ecs_metadata\n    metadata_uri: ftp://x\n",
      "inputs:\n  - type: tcp\n    port: 0\n    separator: \"\"\n",
      "inputs:\n  - type: stdin\nfilters:\n  - type: multiline\n    parser: nosuch\n",
  };
  for (const auto& yaml : bad) {
    const auto c = load(yaml);
    const auto all = checkBuiltins(c);
    ASSERT_EQ(all.size(), 1u) << yaml << ::testing::PrintToString(formatted(all));
    const config::Section& s = c.filters.empty() ? c.inputs.at(0) : c.filters.at(0);
    EXPECT_EQ(factoryError(s), all[0].format()) << yaml;
  }
}

TEST(RegistryChecks, EveryTypeIsListedAndNewOnesMayGoWithoutACheck) {
  // stdin, sample and concat_partial: their option tables say everything.
  EXPECT_FALSE(findInputType("stdin")->check);
  EXPECT_FALSE(findFilterType("sample")->check);
  for (const char* t : {"forward", "tail"})
    EXPECT_TRUE(findInputType(t)->check) << t;
  for (const char* t : {"grep", "parse", "add_fields", "remove_fields", "rename_fields",
                        "ecs_metadata", "multiline"}) {
    EXPECT_TRUE(findFilterType(t)->check) << t;
  }
}

} // namespace
} // namespace ferry::app
