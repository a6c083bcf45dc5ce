// Time parsing against Fluent Bit's (flb_parser_time_lookup over flb_strptime): each expected
// value below is what Fluent Bit's code computes for the same format and text (text after the
// format ignored, %L through a double, the %z forms, Time_Offset, Time_System_Timezone, no
// year), and each parser's Time_Keep, Skip_Empty_Values and Types as Fluent Bit applies them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include "ferry/codec/parsers.h"
#include "test_support.h"

namespace ferry::codec {
namespace {

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t k = 1714564800 * kNs; // 2024-05-01T12:00:00Z
constexpr int64_t kFailed = INT64_MIN;

int64_t timeOf(std::string_view format, std::string_view text, TimeZoneOptions zone = {}) {
  auto p = TimeParser::create(format, zone);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error());
  int64_t ns = kFailed;
  if (!p || !p->parse(text, ns)) return kFailed;
  return ns;
}

TEST(FluentBitTimeTest, TextAfterTheFormatIsIgnored) {
  // docker's time under the docker parser's %Y-%m-%dT%H:%M:%S.%L: the Z is left over.
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%L", "2024-05-01T12:00:00.123456789Z"), k + 123456789);
  // An offset after %L that the format does not read is ignored, not applied.
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%L", "2024-05-01T12:00:00.5+0200"), k + kNs / 2);
  EXPECT_EQ(timeOf("%d/%b/%Y:%H:%M:%S", "01/May/2024:12:00:00 -0700"), k);
  EXPECT_EQ(timeOf("%F %T", "2024-05-01 12:00:00 and more"), k);
  // %S reads whole seconds: a fraction the format does not ask for is text after it.
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S", "2024-05-01T12:00:00.75Z"), k);
}

TEST(FluentBitTimeTest, TheStartMustMatch) {
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S", "2024-05-01"), kFailed) << "text ends before the format";
  EXPECT_EQ(timeOf("%Y-%m-%d", " 2024-05-01"), kFailed) << "a literal blank is not skipped";
  EXPECT_EQ(timeOf(" %Y-%m-%d", "   2024-05-01"), k - 12 * 3600 * kNs)
      << "a blank in the format skips any run of blanks";
  EXPECT_EQ(timeOf("[%Y-%m-%d]", "(2024-05-01)"), kFailed);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%L", "2024-05-01T12:00:00.Z"), kFailed) << "%L needs a digit";
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S", "2024-13-01T12:00:00"), kFailed);
}

TEST(FluentBitTimeTest, FractionsOfAnyLength) {
  const char* format = "%Y-%m-%dT%H:%M:%S.%L";
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.5"), k + 500'000'000);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.042"), k + 42'000'000);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.123456"), k + 123'456'000);
  // Fluent Bit's nanoseconds are (long)(strtod("0.000065") * 1e9): 64999, not 65000.
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.000065"), k + 64'999);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.000129Z"), k + 128'999);
  // 9 digits are read; a tenth is left for the rest of the format.
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00.1234567891"), k + 123'456'789);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%LZ", "2024-05-01T12:00:00.1234567891Z"), kFailed);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%LZ", "2024-05-01T12:00:00.123456789Z"), k + 123'456'789);
  // %L followed by a zone, as the cri parser's %Y-%m-%dT%H:%M:%S.%L%z.
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%L%z", "2024-05-01T14:00:00.25+02:00"), k + kNs / 4);
  // %f (not Fluent Bit's) reads every digit exactly.
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%f", "2024-05-01T12:00:00.000065"), k + 65'000);
}

TEST(FluentBitTimeTest, ZoneForms) {
  const char* format = "%Y-%m-%dT%H:%M:%S%z";
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00+0000"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00+00:00"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00Z"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T14:00:00+02"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T06:30:00-0530"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00UTC"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00GMT"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T08:00:00EDT"), k);
  EXPECT_EQ(timeOf(format, "2024-05-01T04:00:00PST"), k);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S%z", "2024-05-01T14:00:00 +0200"), k)
      << "%z skips blanks first";
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00+2"), kFailed);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00+020"), kFailed);
  EXPECT_EQ(timeOf(format, "2024-05-01T12:00:00"), kFailed) << "%z needs text";
  // %Z: abbreviations with their offsets.
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %Z", "2024-05-01 21:00:00 JST"), k);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %Z", "2024-05-01 14:00:00 CEST"), k);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %Z", "2024-05-01 12:00:00 UTC"), k);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %Z", "2024-05-01 12:00:00 ESTX"), kFailed);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %Z", "2024-05-01 12:00:00 QQQ"), kFailed);
}

TEST(FluentBitTimeTest, TimeOffset) {
  EXPECT_EQ(parseUtcOffset("+0900"), 9 * 3600);
  EXPECT_EQ(parseUtcOffset("-05:30"), -(5 * 3600 + 1800));
  EXPECT_EQ(parseUtcOffset("Z"), 0);
  for (const char* bad : {"0900", "+9", "+09:0", "+2500", "UTC", ""}) {
    EXPECT_FALSE(parseUtcOffset(bad)) << bad;
  }
  const TimeZoneOptions tokyo{.offset_seconds = 9 * 3600};
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S", "2024-05-01 21:00:00", tokyo), k);
  // A format with a zone reads it; Time_Offset does not apply (even when the text has none
  // where the format says "Z" literally).
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %z", "2024-05-01 12:00:00 +0000", tokyo), k);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%SZ", "2024-05-01T12:00:00Z", tokyo), k);
  EXPECT_EQ(timeOf("%Y-%m-%dT%H:%M:%S.%LZ", "2024-05-01T12:00:00.5Z", tokyo), k + kNs / 2);
  // Epoch seconds are UTC whatever the offset.
  EXPECT_EQ(timeOf("%s", "1714564800", tokyo), k);
}

// TZ set for the test's duration (a POSIX rule, so no zone database is needed).
class ScopedTz {
public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_)
      setenv("TZ", old_->c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }

private:
  std::optional<std::string> old_;
};

TEST(FluentBitTimeTest, TimeSystemTimezone) {
  const ScopedTz tz("CET-1CEST,M3.5.0,M10.5.0/3");
  const TimeZoneOptions system{.system_timezone = true};
  // May: summer time, UTC+2; January: UTC+1.
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S", "2024-05-01 14:00:00", system), k);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S", "2024-01-15 13:00:00", system), 1705320000 * kNs);
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S.%L", "2024-05-01 14:00:00.25", system), k + kNs / 4);
  // Without the option the same text is UTC.
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S", "2024-05-01 12:00:00"), k);
  // A zone in the text still wins.
  EXPECT_EQ(timeOf("%Y-%m-%d %H:%M:%S %z", "2024-05-01 12:00:00 +0000", system), k);
}

TEST(FluentBitTimeTest, NoYearMeansToday) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd(today);
  const int64_t midnight =
      std::chrono::duration_cast<std::chrono::nanoseconds>(today.time_since_epoch()).count();
  // Only a time of day: today's date, as Fluent Bit presets month and day from gmtime.
  const int64_t t = timeOf("%H:%M:%S", "06:00:01");
  if (std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) == today) {
    EXPECT_EQ(t, midnight + (6 * 3600 + 1) * kNs);
  }
  // syslog's "Aug  7 06:00:01": this year.
  const int64_t aug7 =
      daysFromCivil(static_cast<int>(ymd.year()), 8, 7) * 86400 * kNs + (6 * 3600 + 1) * kNs;
  EXPECT_EQ(timeOf("%b %d %H:%M:%S", "Aug  7 06:00:01"), aug7);
  EXPECT_EQ(timeOf("%b %e %H:%M:%S", "Aug  7 06:00:01"), aug7);
}

TEST(FluentBitTimeTest, TwelveHourClockAndOtherDirectives) {
  EXPECT_EQ(timeOf("%m/%d/%y %I:%M %p", "05/01/24 12:00 PM"), k);
  EXPECT_EQ(timeOf("%m/%d/%y %I:%M %p", "05/01/24 12:30 AM"), k - 11 * 3600 * kNs - 1800 * kNs);
  EXPECT_EQ(timeOf("%D %r", "05/01/24 12:00:00 PM"), k);
  EXPECT_EQ(timeOf("%a %b %e %H:%M:%S %Y", "Wed May  1 12:00:00 2024"), k);
  EXPECT_EQ(timeOf("%A, %d-%b-%y %T", "Wednesday, 01-May-24 12:00:00"), k);
  EXPECT_EQ(timeOf("%C%y-%m-%d", "1999-05-01"), 925516800 * kNs);
  EXPECT_EQ(timeOf("%s.%L", "1714564800.25"), k + kNs / 4);
  EXPECT_EQ(timeOf("%s", "1714564800.25"), k) << "%s reads whole seconds";
  EXPECT_EQ(timeOf("%Y %j %H", "2024 122 12"), k);
}

// ---- The parsers' Time_Keep, Skip_Empty_Values and Types ----

struct Parsed {
  ParseStatus status;
  std::string record;
  int64_t ts = -1;
};

Parsed parse(const ParserOptions& o, std::string_view line) {
  auto parser = makeLineParser(o);
  EXPECT_TRUE(parser) << parser.error();
  if (!parser) return {ParseStatus::kNotParsed, ""};
  core::ByteBuffer out;
  Parsed p;
  p.status = (*parser)->parse(line, p.ts, out);
  if (p.status != ParseStatus::kNotParsed) p.record = test::printMsgpack(out.view());
  return p;
}

ParserOptions withTime(std::string type, bool keep) {
  ParserOptions o;
  o.type = std::move(type);
  o.time_key = "time";
  o.time_format = "%Y-%m-%dT%H:%M:%S.%L";
  o.time_keep = keep;
  return o;
}

TEST(FluentBitTimeTest, TimeKeepOffDropsATimeThatWasRead) {
  ParserOptions re = withTime("regex", false);
  re.regex = R"(^(?P<time>\S+) (?P<msg>.*)$)";
  auto r = parse(re, "2024-05-01T12:00:00.5Z hello");
  EXPECT_EQ(r.status, ParseStatus::kParsed);
  EXPECT_EQ(r.record, R"({"msg":"hello"})");
  EXPECT_EQ(r.ts, k + kNs / 2);
  // Unreadable: the field stays (Fluent Bit's regex parser would drop it; nothing is lost here).
  r = parse(re, "yesterday hello");
  EXPECT_EQ(r.status, ParseStatus::kBadTime);
  EXPECT_EQ(r.record, R"({"time":"yesterday","msg":"hello"})");
  EXPECT_EQ(r.ts, -1);
  re.time_keep = true;
  EXPECT_EQ(parse(re, "2024-05-01T12:00:00.5Z hello").record,
            R"({"time":"2024-05-01T12:00:00.5Z","msg":"hello"})");

  const ParserOptions js = withTime("json", false);
  r = parse(js, R"({"a":1,"time":"2024-05-01T12:00:00.25Z","b":{"c":2}})");
  EXPECT_EQ(r.record, R"({"a":1,"b":{"c":2}})");
  EXPECT_EQ(r.ts, k + kNs / 4);
  r = parse(js, R"({"time":"2024-05-01T12:00:00.25Z"})");
  EXPECT_EQ(r.record, "{}");
  r = parse(js, R"({"time":"never","a":1})");
  EXPECT_EQ(r.status, ParseStatus::kBadTime);
  EXPECT_EQ(r.record, R"({"time":"never","a":1})");
  EXPECT_EQ(parse(withTime("json", true), R"({"time":"2024-05-01T12:00:00.25Z"})").record,
            R"({"time":"2024-05-01T12:00:00.25Z"})");
  // A number is no time for a pattern (Fluent Bit's json parser reads strings only): it stays.
  r = parse(js, R"({"time":1714564800,"a":1})");
  EXPECT_EQ(r.status, ParseStatus::kBadTime);
  EXPECT_EQ(r.record, R"({"time":1714564800,"a":1})");

  const ParserOptions lf = withTime("logfmt", false);
  r = parse(lf, R"(level=info time="2024-05-01T12:00:00.25Z" msg=x)");
  EXPECT_EQ(r.record, R"({"level":"info","msg":"x"})");
  EXPECT_EQ(r.ts, k + kNs / 4);
  r = parse(lf, R"(time="2024-05-01T12:00:00.25 \"local\"" msg=x)");
  EXPECT_EQ(r.record, R"({"msg":"x"})") << "an escaped value too";
  EXPECT_EQ(parse(lf, "time=soon msg=x").record, R"({"time":"soon","msg":"x"})");
}

TEST(FluentBitTimeTest, SkipEmptyValues) {
  ParserOptions o;
  o.type = "regex";
  o.regex = R"(^(?P<a>[^,]*),(?P<b>[^,]*),(?P<c>.*)$)";
  EXPECT_EQ(parse(o, "x,,z").record, R"({"a":"x","b":"","c":"z"})");
  o.skip_empty = true;
  EXPECT_EQ(parse(o, "x,,z").record, R"({"a":"x","c":"z"})");
  EXPECT_EQ(parse(o, ",,").record, "{}");
  o.type = "json";
  auto p = makeLineParser(o);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().starts_with("skip_empty:")) << p.error();
}

TEST(FluentBitTimeTest, Types) {
  ParserOptions o;
  o.type = "regex";
  o.regex = R"(^(?P<code>\S+) (?P<size>\S+) (?P<ratio>\S+) (?P<ok>\S+) (?P<id>\S+) (?P<s>\S+)$)";
  o.types = "code:integer size:integer ratio:float ok:bool id:hex s:string";
  EXPECT_EQ(parse(o, "200 -17 0.25 TRUE 0xff 12").record,
            R"({"code":200,"size":-17,"ratio":0.25,"ok":true,"id":255,"s":"12"})");
  // Fluent Bit's bool compares 4/5 bytes; hex takes no prefix too.
  EXPECT_EQ(parse(o, "1 2 3 falsehood ff x").record,
            R"({"code":1,"size":2,"ratio":3,"ok":false,"id":255,"s":"x"})");
  // Text that is not the type stays a string (Fluent Bit writes 0 for atoll("abc")).
  EXPECT_EQ(parse(o, "abc 12abc 1.5x maybe zz 1").record,
            R"({"code":"abc","size":"12abc","ratio":"1.5x","ok":"maybe","id":"zz","s":"1"})");
  EXPECT_FALSE(parseTypes("code:int"));
  EXPECT_FALSE(parseTypes("code"));
  EXPECT_TRUE(parseTypes("  a:integer   b:FLOAT "));
  o.types = "code:number";
  auto p = makeLineParser(o);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().starts_with("types:")) << p.error();
  // logfmt casts too (an escaped value included); json does not, as in Fluent Bit.
  o.type = "logfmt";
  o.types = "n:integer ok:bool r:float";
  EXPECT_EQ(parse(o, R"(n=42 ok="true" r="1\.5" s=7)").record,
            R"({"n":42,"ok":true,"r":1.5,"s":"7"})");
  EXPECT_EQ(parse(o, R"(n="4\2" ok=no)").record, R"({"n":42,"ok":"no"})") << "unescaped first";
  o.type = "json";
  EXPECT_FALSE(makeLineParser(o));
}

} // namespace
} // namespace ferry::codec
