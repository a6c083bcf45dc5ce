// Fluent Bit's own parsers.conf (tests/data/fluent-bit-parsers, upstream conf/parsers.conf):
// every regex parser compiles through fromFluentBit + the regex line parser, and a sample line
// of each format gives the fields and the time that Fluent Bit extracts, with Fluent Bit's
// defaults: Time_Keep Off (the time field leaves the record unless Time_Keep On) and
// Skip_Empty_Values On (the kmsg-netfilter-log sample's empty OUT= and protolen go). Times are
// read as Fluent Bit reads them: text after the format is ignored (docker-daemon's "...789Z"
// and mongodb's "+0000" after %L), %L through a double.
//
// Known difference: a time that does not parse stays in the record here; Fluent Bit's regex
// parser drops the field (no sample has one).
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "ferry/codec/parsers.h"
#include "ferry/codec/regex.h"
#include "test_support.h"

namespace ferry::codec {
namespace {

using Section = std::map<std::string, std::string>; // lower-cased key → first value

std::map<std::string, Section>
readParsers(const std::string& path = "fluent-bit-parsers/parsers.conf") {
  std::ifstream in(std::string(FERRY_TEST_DATA_DIR) + "/" + path);
  EXPECT_TRUE(in) << path << " is missing";
  std::map<std::string, Section> parsers;
  Section current;
  auto flush = [&] {
    if (current.contains("name")) parsers[current["name"]] = current;
    current.clear();
  };
  std::string line;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (line.compare(start, 8, "[PARSER]") == 0) {
      flush();
      continue;
    }
    const size_t space = line.find_first_of(" \t", start);
    std::string key = line.substr(start, space - start);
    for (char& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t value = line.find_first_not_of(" \t", space);
    if (value != std::string::npos) current.emplace(key, line.substr(value));
  }
  flush();
  return parsers;
}

constexpr int64_t kNoYear = -2; // the format has no year: Fluent Bit takes the current one

struct Sample {
  const char* parser;
  const char* line;
  const char* record;
  int64_t ts;
  struct {
    unsigned month, day;
    int64_t second_of_day;
  } no_year = {};
};

// Nanoseconds of month/day at second_of_day in the current UTC year.
int64_t thisYear(unsigned month, unsigned day, int64_t second_of_day) {
  const std::chrono::year_month_day today(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  return (daysFromCivil(static_cast<int>(today.year()), month, day) * 86400 + second_of_day) *
         1'000'000'000;
}

void compileAll(const std::map<std::string, Section>& parsers);

// Both the upstream file and the older one the aws-for-fluent-bit image ships (@02bb6480, in
// the FireLens configs of tests/data/firelens).
TEST(FluentBitParsersTest, EveryRegexParserCompiles) {
  for (const char* path :
       {"fluent-bit-parsers/parsers.conf", "firelens/ecs-s3-parse-apache/parsers.conf"}) {
    SCOPED_TRACE(path);
    compileAll(readParsers(path));
  }
}

void compileAll(const std::map<std::string, Section>& parsers) {
  ASSERT_GE(parsers.size(), 15u);
  size_t regexes = 0;
  for (const auto& [name, p] : parsers) {
    if (p.at("format") != "regex") continue;
    ++regexes;
    auto native = fromFluentBit(p.at("regex"));
    ASSERT_TRUE(native) << name << ": " << native.error();
    auto re = Regex::compile(*native, {.log_engine = false});
    ASSERT_TRUE(re) << name << ": " << re.error();
    EXPECT_EQ(re->engine(), RegexEngine::kRe2) << name << " needs " << re->fallbackReason();
    EXPECT_FALSE(re->namedGroups().empty()) << name;
  }
  EXPECT_GE(regexes, 13u);
}

TEST(FluentBitParsersTest, SampleLinesGiveFluentBitsFieldsAndTime) {
  const auto parsers = readParsers();
  const Sample samples[] = {
#include "fluent_bit_parsers_samples.inc"
  };
  size_t checked = 0;
  for (const auto& s : samples) {
    SCOPED_TRACE(s.parser);
    ASSERT_TRUE(parsers.contains(s.parser));
    const Section& p = parsers.at(s.parser);
    ParserOptions o;
    o.type = "regex";
    auto native = fromFluentBit(p.at("regex"));
    ASSERT_TRUE(native) << native.error();
    o.regex = *native;
    if (p.contains("time_format")) {
      o.time_key = p.contains("time_key") ? p.at("time_key") : "time";
      o.time_format = p.at("time_format");
      o.time_keep = p.contains("time_keep") && p.at("time_keep") == "On";
    }
    o.skip_empty = !p.contains("skip_empty_values") || p.at("skip_empty_values") != "Off";
    auto parser = makeLineParser(o);
    ASSERT_TRUE(parser) << parser.error();
    core::ByteBuffer out;
    int64_t ts = -1;
    const ParseStatus status = (*parser)->parse(s.line, ts, out);
    ASSERT_EQ(status, ParseStatus::kParsed) << s.line;
    EXPECT_EQ(test::printMsgpack(out.view()), s.record);
    const int64_t want =
        s.ts == kNoYear ? thisYear(s.no_year.month, s.no_year.day, s.no_year.second_of_day) : s.ts;
    EXPECT_EQ(ts, want);
    ++checked;
  }
  EXPECT_EQ(checked, std::size(samples));
}

TEST(FluentBitParsersTest, JsonAndDockerParsers) {
  const auto parsers = readParsers();
  for (const char* name : {"json", "docker"}) {
    SCOPED_TRACE(name);
    const bool json = std::string(name) == "json";
    const Section& p = parsers.at(name);
    ASSERT_EQ(p.at("format"), "json");
    ParserOptions o;
    o.type = "json";
    o.time_key = p.at("time_key");
    o.time_format = p.at("time_format");
    o.time_keep = p.contains("time_keep") && p.at("time_keep") == "On";
    auto parser = makeLineParser(o);
    ASSERT_TRUE(parser) << parser.error();
    // docker's own time: nanoseconds and a Z that the format leaves over.
    const std::string line =
        json ? R"({"time":"10/Oct/2000:13:55:36 -0700","msg":"hi"})"
             : R"({"log":"hi\n","stream":"stdout","time":"2000-10-10T20:55:36.500000001Z"})";
    core::ByteBuffer out;
    int64_t ts = -1;
    ASSERT_EQ((*parser)->parse(line, ts, out), ParseStatus::kParsed);
    // json has no Time_Keep: the time it read leaves the record; docker keeps it.
    EXPECT_EQ(test::printMsgpack(out.view()), json ? R"({"msg":"hi"})" : line);
    EXPECT_EQ(ts, json ? 971211336'000'000'000 : 971211336'500'000'001);
  }
}

} // namespace
} // namespace ferry::codec
