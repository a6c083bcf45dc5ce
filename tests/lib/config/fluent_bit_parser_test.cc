// Fluent Bit's parser filter and [PARSER] sections converted, then run: the converted parse
// filter is built from the YAML and given records, which come out with the fields and time
// Fluent Bit gives them (Reserve_Data, Preserve_Key, Time_Keep, Time_Offset,
// Skip_Empty_Values, Types, a time that does not parse), and the errors for what does not map.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <sstream>

#include "../filter/filter_test_util.h"
#include "ferry/codec/parsers.h"
#include "ferry/config/fluent_bit.h"
#include "ferry/obs/log.h"
#include "test_support.h"

namespace ferry::config {
namespace {

using test::mapBatch;
using test::packFields;
using test::recordsJson;
using V = std::vector<std::string>;

constexpr int64_t kNs = 1'000'000'000;

// A forward input, `parsers` ([PARSER] sections), one parser filter of `parser` with
// `filter_keys`, a null output.
std::string configText(const std::string& parsers, const std::string& filter_keys,
                       const std::string& parser = "apache") {
  return "[INPUT]\n    Name forward\n\n" + parsers +
         "\n[FILTER]\n    Name parser\n    Match *\n    Key_Name log\n    Parser " + parser + "\n" +
         filter_keys + "\n[OUTPUT]\n    Name null\n    Match *\n";
}

std::string convertText(const std::string& text) {
  return convertFluentBitText("fluent-bit.conf", FERRY_TEST_DATA_DIR, text);
}

std::vector<Diagnostic> errorsOf(const std::string& text) {
  try {
    convertText(text);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

// The converted config's first filter, built through the loader as ferry runs it.
filter::FilterPtr convertedFilter(const std::string& text) {
  const YAML::Node f = YAML::Load(convertText(text))["filters"][0];
  EXPECT_EQ(f["type"].as<std::string>(), "parse");
  YAML::Node list(YAML::NodeType::Sequence);
  list.push_back(f);
  YAML::Emitter e;
  e << list;
  std::string yaml;
  // loadFilters wants the list indented under `filters:`.
  std::istringstream lines(e.c_str());
  for (std::string line; std::getline(lines, line);)
    yaml += "  " + line + "\n";
  return test::makeFilter(yaml);
}

const std::string kApache = R"([PARSER]
    Name   apache
    Format regex
    Regex  ^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^ ]*) +\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)$
    Time_Key time
    Time_Format %d/%b/%Y:%H:%M:%S %z
)";

const std::string kLine =
    R"(192.168.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326)";
constexpr int64_t kLineTime = 971211336 * kNs;

TEST(FluentBitParserFilter, ReserveDataOffKeepsOnlyTheParsedFields) {
  auto f = convertedFilter(configText(kApache, ""));
  auto out = f->apply(mapBatch("t", {packFields({{"log", kLine}, {"source", "stdout"}}),
                                     packFields({{"log", "not apache"}, {"source", "stderr"}})}));
  // Time_Keep Off (the default): the time that was read leaves the record.
  EXPECT_EQ(recordsJson(*out),
            (V{R"({"host":"192.168.0.1","user":"frank","method":"GET","path":"/a.gif",)"
               R"("code":"200","size":"2326"})",
               R"({"log":"not apache","source":"stderr"})"}));
  EXPECT_EQ(out->record(0).timestamp_ns, kLineTime);
  EXPECT_EQ(out->record(1).timestamp_ns, 2 * kNs) << "a record that does not parse keeps its time";
}

TEST(FluentBitParserFilter, ReserveDataAndPreserveKey) {
  const std::string parser = kApache + "    Time_Keep On\n";
  auto f = convertedFilter(configText(parser, "    Reserve_Data On\n    Preserve_Key On\n"));
  auto out = f->apply(mapBatch("t", {packFields({{"log", kLine}, {"source", "stdout"}})}));
  const std::string log = R"({"log":"192.168.0.1 - frank [10/Oct/2000:13:55:36 -0700] )"
                          R"(\"GET /a.gif HTTP/1.0\" 200 2326",)";
  EXPECT_EQ(recordsJson(*out),
            (V{log + R"("source":"stdout","host":"192.168.0.1","user":"frank",)"
                     R"("time":"10/Oct/2000:13:55:36 -0700","method":"GET","path":"/a.gif",)"
                     R"("code":"200","size":"2326"})"}));
  // Preserve_Key without Reserve_Data: the parsed fields and the key.
  f = convertedFilter(configText(kApache, "    Preserve_Key On\n"));
  out = f->apply(mapBatch("t", {packFields({{"log", kLine}, {"source", "stdout"}})}));
  EXPECT_EQ(recordsJson(*out), (V{log + R"("host":"192.168.0.1","user":"frank","method":"GET",)"
                                        R"("path":"/a.gif","code":"200","size":"2326"})"}));
}

TEST(FluentBitParserFilter, SkipEmptyValuesTypesAndTimeOffset) {
  const std::string parser = R"([PARSER]
    Name   kv
    Format regex
    Regex  ^(?<time>\S+ \S+) (?<code>\d+) (?<note>[a-z]*) (?<ok>\S+)$
    Time_Format %Y-%m-%d %H:%M:%S
    Time_Offset +0900
    Types  code:integer ok:bool
)";
  auto f = convertedFilter(configText(parser, "", "kv"));
  auto out = f->apply(mapBatch("t", {packFields({{"log", "2024-05-01 21:00:00 503  true"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"code":503,"ok":true})"}))
      << "the empty note is skipped (Skip_Empty_Values On), the time dropped (Time_Keep Off)";
  EXPECT_EQ(out->record(0).timestamp_ns, 1714564800 * kNs) << "21:00 at +09:00 is 12:00Z";

  f = convertedFilter(
      configText(parser + "    Skip_Empty_Values Off\n    Time_Keep On\n", "", "kv"));
  out = f->apply(mapBatch("t", {packFields({{"log", "2024-05-01 21:00:00 503  yes"}})}));
  EXPECT_EQ(recordsJson(*out),
            (V{R"({"time":"2024-05-01 21:00:00","code":503,"note":"","ok":"yes"})"}));
}

TEST(FluentBitParserFilter, ATimeThatDoesNotParseKeepsTheRecordAndItsTime) {
  std::vector<std::string> logged;
  obs::setLogWriterForTesting([&](std::string_view line) { logged.emplace_back(line); });
  auto f = convertedFilter(configText(kApache, "    Reserve_Data On\n"));
  const std::string bad = R"(10.0.0.1 - - [yesterday] "GET / HTTP/1.1" 404 0)";
  auto out = f->apply(mapBatch("t", {packFields({{"log", bad}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"host":"10.0.0.1","user":"-","time":"yesterday",)"
                                  R"("method":"GET","path":"/","code":"404","size":"0"})"}));
  EXPECT_EQ(out->record(0).timestamp_ns, 1 * kNs);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("time is not a time of time_format"), std::string::npos) << logged[0];
  // A record without the time field is no news (Fluent Bit says nothing either).
  const std::string json = "[PARSER]\n    Name j\n    Format json\n    Time_Key time\n"
                           "    Time_Format %Y-%m-%dT%H:%M:%S\n";
  f = convertedFilter(configText(json, "    Reserve_Data On\n", "j"));
  out = f->apply(mapBatch("t", {packFields({{"log", R"({"msg":"no time here"})"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"msg":"no time here"})"}));
  EXPECT_EQ(logged.size(), 1u);
  obs::setLogWriterForTesting(nullptr);
}

TEST(FluentBitParserFilter, DockerParserWithoutAParsersFile) {
  auto f = convertedFilter(
      "[INPUT]\n    Name forward\n[FILTER]\n    Name parser\n    Match *\n    Key_Name log\n"
      "    Parser docker\n    Reserve_Data On\n[OUTPUT]\n    Name null\n    Match *\n");
  auto out = f->apply(mapBatch(
      "t", {packFields({{"log", R"({"log":"hi","time":"2024-05-01T12:00:00.123456789Z"})"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"log":"hi","time":"2024-05-01T12:00:00.123456789Z"})"}));
  EXPECT_EQ(out->record(0).timestamp_ns, 1714564800 * kNs + 123456789);
}

// The aws-for-fluent-bit image's syslog-rfc3164 has two Time_Format lines; Fluent Bit reads
// a [PARSER]'s keys with flb_cf_section_property_get, which gives the first.
TEST(FluentBitParserFilter, ARepeatedParserKeyTakesItsFirstValue) {
  const std::string image = test::readFile(std::string(FERRY_TEST_DATA_DIR) +
                                           "/firelens/ecs-s3-parse-apache/parsers.conf");
  const size_t at = image.find("Name        syslog-rfc3164\n");
  ASSERT_NE(at, std::string::npos);
  const size_t start = image.rfind("[PARSER]", at);
  const std::string parser = image.substr(start, image.find("[PARSER]", at) - start);
  ASSERT_NE(parser.find("Time_Format %Y-%m-%dT%H:%M:%S.%L"), std::string::npos) << parser;
  auto f = convertedFilter(configText(parser, "    Reserve_Data On\n", "syslog-rfc3164"));
  auto out = f->apply(
      mapBatch("t", {packFields({{"log", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed"}})}));
  ASSERT_EQ(recordsJson(*out).size(), 1u);
  const std::chrono::year_month_day today(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  const int64_t oct11 = codec::daysFromCivil(static_cast<int>(today.year()), 10, 11) * 86400;
  EXPECT_EQ(out->record(0).timestamp_ns, (oct11 + 22 * 3600 + 14 * 60 + 15) * kNs)
      << "read with %b %d %H:%M:%S, the first Time_Format";
}

TEST(FluentBitParserFilter, WhatDoesNotMapIsAnErrorOrANote) {
  auto errors = errorsOf(configText(kApache + "    Time_Offset 9 hours\n", ""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "[PARSER apache] Time_Offset");
  errors = errorsOf(configText(kApache + "    Types code:number\n", ""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "[PARSER apache] Types");
  std::string unknown_directive = kApache;
  unknown_directive.replace(unknown_directive.find("%d/%b"), 20, "%Q");
  errors = errorsOf(configText(unknown_directive, ""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "[PARSER apache] Time_Format");
  // Notes, not errors: what only tunes Fluent Bit or ferry does not do.
  const std::string yaml = convertText(
      configText(kApache + "    Time_Strict Off\n    Decode_Field_As escaped log\n", ""));
  EXPECT_NE(yaml.find("Time_Strict: ignored"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("Decode_Field_As: ignored"), std::string::npos) << yaml;
  // A Time_Key without Time_Format reads no time, as in Fluent Bit.
  const std::string no_format = R"([PARSER]
    Name   t
    Format json
    Time_Key ts
)";
  const YAML::Node f = YAML::Load(convertText(configText(no_format, "", "t")))["filters"][0];
  EXPECT_FALSE(f["time_key"]);
}

} // namespace
} // namespace ferry::config
