// Line parsers: json (objects, nesting, numbers, non-objects, garbage), logfmt (quotes,
// escapes, bare keys), regex (named groups), time_key/time_format, and the msgpack writer.
// Records are decoded with msgpack-cxx and compared in its printed form.
#include "ferry/codec/parsers.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <fmt/format.h>

#include <chrono>
#include <sstream>

#include "test_support.h"

namespace ferry::codec {
namespace {

using test::printMsgpack;

struct Result {
  ParseStatus status;
  std::string record; // printed msgpack, "" when not parsed
  int64_t ts;
};

Result run(const ParserOptions& options, std::string_view line,
           std::span<const ExtraField> extra = {}) {
  auto parser = makeLineParser(options);
  EXPECT_TRUE(parser.has_value()) << parser.error();
  core::ByteBuffer out;
  out.append("prefix", 6); // parsers append: what is already there stays
  int64_t ts = -1;
  const ParseStatus status = (*parser)->parse(line, ts, out, extra);
  EXPECT_EQ(out.view().substr(0, 6), "prefix");
  std::string printed;
  if (status == ParseStatus::kNotParsed) {
    EXPECT_EQ(out.size(), 6u) << "a line that is not parsed leaves the buffer unchanged";
  } else {
    printed = printMsgpack(out.view().substr(6));
  }
  return {status, printed, ts};
}

ParserOptions json() {
  ParserOptions o;
  o.type = "json";
  return o;
}

TEST(ParserTest, JsonObjectBecomesTheRecord) {
  const auto r =
      run(json(), R"({"level":"info","msg":"hi \"there\"\n","n":42,"ok":true,"x":null})");
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.record, R"({"level":"info","msg":"hi \"there\"\n","n":42,"ok":true,"x":null})");
  EXPECT_EQ(r.ts, -1) << "no time_key: the time is left alone";
}

TEST(ParserTest, JsonNestingArraysAndNumbers) {
  const auto r =
      run(json(), R"( {"a":{"b":[1,-2,3.5,[],{}],"c":"\u00e9"},"big":18446744073709551615,)"
                  R"("neg":-9223372036854775808,"small":1.5e-3,"exp":2E3} )");
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.record,
            "{\"a\":{\"b\":[1,-2,3.5,[],{}],\"c\":\"\xc3\xa9\"},\"big\":18446744073709551615,"
            "\"neg\":-9223372036854775808,\"small\":0.0015,\"exp\":2000}");
}

TEST(ParserTest, JsonWideMapsAndLongStrings) {
  std::string line = "{";
  for (int i = 0; i < 20; ++i)
    line += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + std::to_string(i);
  line += ",\"long\":\"" + std::string(70000, 'x') + "\"}";
  const auto r = run(json(), line);
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_NE(r.record.find("\"k19\":19"), std::string::npos);
  EXPECT_NE(r.record.find(std::string(70000, 'x')), std::string::npos);
}

TEST(ParserTest, JsonThatIsNotAnObjectIsNotParsed) {
  for (const char* line : {"[1,2]", "42", "\"text\"", "plain text", "", "{\"a\":1",
                           "{\"a\":1} tail", "{\"a\":}", "{'a':1}", "{\"a\":1}{\"b\":2}"}) {
    EXPECT_EQ(run(json(), line).status, ParseStatus::kNotParsed) << line;
  }
}

TEST(ParserTest, JsonDeepNestingIsRefused) {
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(run(json(), deep).status, ParseStatus::kNotParsed);
  std::string ok = "{\"a\":" + std::string(50, '[') + std::string(50, ']') + "}";
  EXPECT_EQ(run(json(), ok).status, ParseStatus::kParsed);
}

TEST(ParserTest, JsonInvalidUtf8PassesThroughAsBytes) {
  const auto r = run(json(), "{\"m\":\"\xff\xfe ok\"}");
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.record, "{\"m\":\"\xff\xfe ok\"}");
}

TEST(ParserTest, ExtraFieldsFollowTheParsedOnes) {
  const ExtraField path{"path", "/var/log/a.log"};
  const auto r = run(json(), R"({"a":1})", {&path, 1});
  EXPECT_EQ(r.record, R"({"a":1,"path":"/var/log/a.log"})");
  ParserOptions none;
  const auto n = run(none, "just a line", {&path, 1});
  EXPECT_EQ(n.record, R"({"log":"just a line","path":"/var/log/a.log"})");
  core::ByteBuffer out;
  appendLogMap(out, "x");
  EXPECT_EQ(printMsgpack(out.view()), R"({"log":"x"})");
}

TEST(ParserTest, JsonTimeKey) {
  ParserOptions o = json();
  o.time_key = "time";
  auto r = run(o, R"({"time":"2024-05-01T12:00:00.123Z","msg":"x"})");
  EXPECT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.ts, 1714564800'123'000'000);
  EXPECT_EQ(r.record, R"({"time":"2024-05-01T12:00:00.123Z","msg":"x"})") << "the field is kept";
  r = run(o, R"({"time":1714564800.5})");
  EXPECT_EQ(r.ts, 1714564800'500'000'000);
  r = run(o, R"({"time":1714564800})");
  EXPECT_EQ(r.ts, 1714564800'000'000'000);
  r = run(o, R"({"time":1714564800.123456789})");
  EXPECT_EQ(r.ts, 1714564800'123'456'789) << "exact, not through a double";
  r = run(o, R"({"time":1.7145648e9})");
  EXPECT_EQ(r.ts, 1714564800'000'000'000);
  r = run(o, R"({"time":"yesterday"})");
  EXPECT_EQ(r.status, ParseStatus::kBadTime);
  EXPECT_EQ(r.ts, -1);
  r = run(o, R"({"other":1})");
  EXPECT_EQ(r.status, ParseStatus::kBadTime);
  r = run(o, R"({"nested":{"time":"2024-05-01T12:00:00Z"}})");
  EXPECT_EQ(r.status, ParseStatus::kBadTime) << "only a top-level field is the time";
  o.time_format = "epoch_ms";
  r = run(o, R"({"time":1714564800123})");
  EXPECT_EQ(r.ts, 1714564800'123'000'000);
}

TEST(ParserTest, LogfmtWithQuotesEscapesAndBareKeys) {
  ParserOptions o;
  o.type = "logfmt";
  auto r = run(o, R"(level=info msg="hello \"world\"\n" path=/api empty= debug  count=3)");
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.record, R"({"level":"info","msg":"hello \"world\"\n","path":"/api","empty":"",)"
                      R"("debug":true,"count":"3"})");
  r = run(o, "\tat=12:00 x=\"a b\"");
  EXPECT_EQ(r.record, R"({"at":"12:00","x":"a b"})");
}

TEST(ParserTest, LogfmtThatIsNotLogfmt) {
  ParserOptions o;
  o.type = "logfmt";
  for (const char* line : {"hello world", "", "a=\"unterminated", "=value", "k\"ey=1"}) {
    EXPECT_EQ(run(o, line).status, ParseStatus::kNotParsed) << line;
  }
}

TEST(ParserTest, LogfmtTimeKey) {
  ParserOptions o;
  o.type = "logfmt";
  o.time_key = "ts";
  o.time_format = "%Y-%m-%d %H:%M:%S%z";
  auto r = run(o, R"(ts="2024-05-01 14:00:00+02:00" msg=x)");
  EXPECT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.ts, 1714564800'000'000'000);
  r = run(o, R"(ts="2024-05-01 14:00:00\+02:00" msg=x)"); // escaped quote body
  EXPECT_EQ(r.ts, 1714564800'000'000'000);
}

TEST(ParserTest, RegexNamedGroups) {
  ParserOptions o;
  o.type = "regex";
  o.regex = R"(^(?P<time>\S+) (?P<level>[A-Z]+)(?: \[(?P<thread>[^\]]+)\])? (?P<msg>.*)$)";
  o.time_key = "time";
  auto r = run(o, "2024-05-01T12:00:00Z INFO [main] server started");
  ASSERT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(
      r.record,
      R"({"time":"2024-05-01T12:00:00Z","level":"INFO","thread":"main","msg":"server started"})");
  EXPECT_EQ(r.ts, 1714564800'000'000'000);
  r = run(o, "2024-05-01T12:00:00Z WARN no thread here");
  EXPECT_EQ(r.record, R"({"time":"2024-05-01T12:00:00Z","level":"WARN","msg":"no thread here"})")
      << "a group that did not take part is left out";
  EXPECT_EQ(run(o, "not matching").status, ParseStatus::kNotParsed);
}

TEST(ParserTest, RegexIsSearchedNotAnchored) {
  ParserOptions o;
  o.type = "regex";
  o.regex = R"(status=(?P<status>\d+))";
  EXPECT_EQ(run(o, "GET / status=200 in 3ms").record, R"({"status":"200"})");
}

TEST(ParserTest, FactoryErrorsNameTheOption) {
  ParserOptions o;
  o.type = "regex";
  o.regex = "(?P<a>unclosed";
  auto p = makeLineParser(o);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().starts_with("regex:")) << p.error();
  o.regex = "(no named)";
  EXPECT_FALSE(makeLineParser(o));
  o.type = "json";
  o.time_key = "t";
  o.time_format = "%Y-%Q";
  p = makeLineParser(o);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().starts_with("time_format:")) << p.error();
  o.type = "xml";
  o.time_key.clear();
  EXPECT_FALSE(makeLineParser(o));
}

int64_t parseTime(std::string_view format, std::string_view text) {
  auto p = TimeParser::create(format);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error());
  int64_t ns = INT64_MIN;
  if (!p->parse(text, ns)) return INT64_MIN;
  return ns;
}

TEST(ParserTest, TimeFormats) {
  constexpr int64_t k = 1714564800'000'000'000; // 2024-05-01T12:00:00Z
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T12:00:00Z"), k);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01 12:00:00"), k);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T12:00:00.123456789Z"), k + 123456789);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T14:30:00.5+02:30"), k + 500'000'000);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T07:00:00-0500"), k);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T12:00:00.1234567891234Z"), k + 123456789);
  EXPECT_EQ(parseTime("iso8601", "2024-5-01T12:00:00Z"), INT64_MIN);
  EXPECT_EQ(parseTime("iso8601", "2024-05-01T12:00:00Zjunk"), INT64_MIN);
  EXPECT_EQ(parseTime("epoch", "1714564800.25"), k + 250'000'000);
  EXPECT_EQ(parseTime("epoch", "1714564800"), k);
  EXPECT_EQ(parseTime("epoch", "17145x"), INT64_MIN);
  EXPECT_EQ(parseTime("epoch_ms", "1714564800001"), k + 1'000'000);
  EXPECT_EQ(parseTime("%d/%b/%Y:%H:%M:%S %z", "01/May/2024:14:00:00 +0200"), k); // nginx
  EXPECT_EQ(parseTime("%Y-%m-%d %H:%M:%S.%L", "2024-05-01 12:00:00.042"), k + 42'000'000);
  EXPECT_EQ(parseTime("%Y-%m-%d %H:%M:%S,%f", "2024-05-01 12:00:00,5"), k + 500'000'000);
  EXPECT_EQ(parseTime("%Y-%m-%dT%H:%M:%S%z", "2024-05-01T12:00:00.75Z"), INT64_MIN)
      << "%S reads whole seconds, as Fluent Bit: the fraction is not a zone";
  const std::chrono::year_month_day today(
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  EXPECT_EQ(parseTime("%b %e %T", "May  1 12:00:00"),
            parseTime("%Y-%m-%d", fmt::format("{}-05-01", static_cast<int>(today.year()))) +
                12 * 3600 * 1'000'000'000ll)
      << "syslog: no year means the current one, as Fluent Bit reads it";
  EXPECT_EQ(parseTime("%m/%d/%y %I:%M %p", "05/01/24 12:00 PM"), k);
  EXPECT_EQ(parseTime("%m/%d/%y %I:%M %p", "05/01/24 12:00 AM"), k - 12 * 3600 * 1'000'000'000ll);
  EXPECT_EQ(parseTime("%s", "1714564800"), k);
  EXPECT_EQ(parseTime("%Y %j", "2024 122"), k - 12 * 3600 * 1'000'000'000ll);
  EXPECT_EQ(parseTime("%a, %d %B %Y %H:%M:%S %Z", "Wed, 01 May 2024 12:00:00 GMT"), k);
  EXPECT_EQ(parseTime("%F %T", "2024-05-01 12:00:00 extra"), k) << "text after it is ignored";
  EXPECT_EQ(parseTime("%F %T", "2024-05-01 12:00"), INT64_MIN);
  EXPECT_FALSE(TimeParser::create("%Q"));
  EXPECT_FALSE(TimeParser::create("no directives"));
  EXPECT_FALSE(TimeParser::create("%Y-%"));
}

TEST(ParserTest, CivilDates) {
  EXPECT_EQ(daysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(daysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(daysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(daysFromCivil(2024, 2, 29) + 1, daysFromCivil(2024, 3, 1));
}

TEST(ParserTest, MsgpackAppenderUsesShortestForms) {
  core::ByteBuffer out;
  const auto arr = MsgpackAppender::beginContainer(out);
  const int64_t values[] = {
      0,   127, 128,  255,  256,    65535,  65536,         4294967295ll,  4294967296ll, -1,
      -32, -33, -128, -129, -32768, -32769, -2147483648ll, -2147483649ll, INT64_MIN,    INT64_MAX};
  for (int64_t v : values)
    MsgpackAppender::integer(out, v);
  MsgpackAppender::unsignedInteger(out, UINT64_MAX);
  MsgpackAppender::float64(out, 0.5);
  MsgpackAppender::boolean(out, false);
  MsgpackAppender::nil(out);
  MsgpackAppender::string(out, std::string(40, 'a'));
  MsgpackAppender::string(out, std::string(300, 'b'));
  MsgpackAppender::endArray(out, arr, 26);
  const std::string printed = printMsgpack(out.view());
  EXPECT_TRUE(printed.starts_with(
      "[0,127,128,255,256,65535,65536,4294967295,4294967296,-1,-32,-33,-128,-129,-32768,"
      "-32769,-2147483648,-2147483649,-9223372036854775808,9223372036854775807,"
      "18446744073709551615,0.5,false,null,\"aaaa"))
      << printed.substr(0, 200);
  core::ByteBuffer small;
  MsgpackAppender::integer(small, -32);
  MsgpackAppender::integer(small, 100);
  EXPECT_EQ(small.size(), 2u);
  core::ByteBuffer big_map;
  const auto m = MsgpackAppender::beginContainer(big_map);
  for (int i = 0; i < 70000; ++i) {
    MsgpackAppender::integer(big_map, i);
    MsgpackAppender::nil(big_map);
  }
  MsgpackAppender::endMap(big_map, m, 70000);
  EXPECT_EQ(static_cast<uint8_t>(big_map.data()[0]), 0xdf) << "map32 header after the move";
  size_t off = 0;
  auto oh = msgpack::unpack(big_map.data(), big_map.size(), off);
  EXPECT_EQ(oh.get().via.map.size, 70000u);
}

} // namespace
} // namespace ferry::codec
