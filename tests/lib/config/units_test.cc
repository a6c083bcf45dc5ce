// Tests for lib/config/units.cc: sizes, durations, booleans and integers as users write them.
#include <gtest/gtest.h>

#include <limits>

#include "ferry/config/units.h"

namespace ferry::config {
namespace {

TEST(SizeTest, ParsesBinaryDecimalAndBareBytes) {
  EXPECT_EQ(parseSize("512KiB").value(), 512 * 1024);
  EXPECT_EQ(parseSize("64MiB").value(), 64ll << 20);
  EXPECT_EQ(parseSize("1GiB").value(), 1ll << 30);
  EXPECT_EQ(parseSize("2TiB").value(), 2ll << 40);
  EXPECT_EQ(parseSize("5MB").value(), 5'000'000);
  EXPECT_EQ(parseSize("1KB").value(), 1000);
  EXPECT_EQ(parseSize("1K").value(), 1000);
  EXPECT_EQ(parseSize("3G").value(), 3'000'000'000);
  EXPECT_EQ(parseSize("100B").value(), 100);
  EXPECT_EQ(parseSize("1048576").value(), 1048576);
  EXPECT_EQ(parseSize("0").value(), 0);
}

TEST(SizeTest, AcceptsCaseFractionsAndOneSpace) {
  EXPECT_EQ(parseSize("64mib").value(), 64ll << 20);
  EXPECT_EQ(parseSize("1.5KiB").value(), 1536);
  EXPECT_EQ(parseSize("0.5GiB").value(), 512ll << 20);
  EXPECT_EQ(parseSize("64 MiB").value(), 64ll << 20);
  EXPECT_EQ(parseSize(" 10KB ").value(), 10'000);
}

TEST(SizeTest, RejectsNegativesGarbageAndOverflow) {
  for (const char* bad : {"", "-1", "-5MiB", "abc", "MiB", "12XB", "1.", "1.2.3", "1 2", "1e6",
                          "1.5", "99999999999999999999", "9000000TiB", "5 MiB extra"}) {
    const auto r = parseSize(bad);
    EXPECT_FALSE(r.has_value()) << "'" << bad << "' gave " << r.value_or(-1);
  }
  const auto r = parseSize("-5MiB");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("'-5MiB'"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("negative"), std::string::npos) << r.error();
  EXPECT_NE(parseSize("12XB").error().find("unknown unit 'XB'"), std::string::npos);
}

TEST(SizeTest, FormatsTheShortestExactSpellingThatParsesBack) {
  EXPECT_EQ(formatSize(64ll << 20), "64MiB");
  EXPECT_EQ(formatSize(5'000'000), "5MB");
  EXPECT_EQ(formatSize(1000), "1KB");
  EXPECT_EQ(formatSize(1536), "1536B");
  EXPECT_EQ(formatSize(0), "0B");
  EXPECT_EQ(formatSize(1ll << 30), "1GiB");
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1023}, int64_t{1536}, int64_t{3} << 40,
                    int64_t{123456789}}) {
    EXPECT_EQ(parseSize(formatSize(n)).value(), n) << formatSize(n);
  }
}

TEST(DurationTest, ParsesUnitsAndCompounds) {
  EXPECT_EQ(parseDuration("500ms").value(), 500);
  EXPECT_EQ(parseDuration("5s").value(), 5000);
  EXPECT_EQ(parseDuration("2m").value(), 120'000);
  EXPECT_EQ(parseDuration("1h").value(), 3'600'000);
  EXPECT_EQ(parseDuration("1d").value(), 86'400'000);
  EXPECT_EQ(parseDuration("1h30m").value(), 5'400'000);
  EXPECT_EQ(parseDuration("1m 30s").value(), 90'000);
  EXPECT_EQ(parseDuration("1.5s").value(), 1500);
  EXPECT_EQ(parseDuration("0s").value(), 0);
  EXPECT_EQ(parseDuration("5S").value(), 5000);
}

TEST(DurationTest, BareNumberIsSeconds) {
  EXPECT_EQ(parseDuration("5").value(), 5000);
  EXPECT_EQ(parseDuration("0.25").value(), 250);
  EXPECT_EQ(parseDuration("0").value(), 0);
}

TEST(DurationTest, RejectsNegativesGarbageAndMissingUnits) {
  for (const char* bad : {"", "-1s", "-5", "soon", "5x", "5us", "1h30", "ms", "1..5s", "5s5",
                          "999999999999999999d"}) {
    const auto r = parseDuration(bad);
    EXPECT_FALSE(r.has_value()) << "'" << bad << "' gave " << r.value_or(-1);
  }
  const auto r = parseDuration("5x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("'5x' is not a duration"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("unknown unit 'x'"), std::string::npos) << r.error();
}

TEST(DurationTest, FormatsTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(500), "500ms");
  EXPECT_EQ(formatDuration(25'000), "25s");
  EXPECT_EQ(formatDuration(90'000), "90s");
  EXPECT_EQ(formatDuration(120'000), "2m");
  EXPECT_EQ(formatDuration(3'600'000), "1h");
  EXPECT_EQ(formatDuration(1'500), "1500ms");
  for (int64_t ms : {int64_t{1}, int64_t{999}, int64_t{61'000}, int64_t{86'400'000}}) {
    EXPECT_EQ(parseDuration(formatDuration(ms)).value(), ms);
  }
}

TEST(ConfigScalarTest, BooleansInEveryUsualSpelling) {
  for (const char* yes : {"true", "yes", "on", "True", "YES", "On"}) {
    EXPECT_TRUE(parseBool(yes).value()) << yes;
  }
  for (const char* no : {"false", "no", "off", "FALSE", "No"}) {
    EXPECT_FALSE(parseBool(no).value()) << no;
  }
  for (const char* bad : {"", "1", "0", "y", "maybe"}) {
    EXPECT_FALSE(parseBool(bad).has_value()) << bad;
  }
}

TEST(ConfigScalarTest, IntegersWithSignAndFullRange) {
  EXPECT_EQ(parseInt("42").value(), 42);
  EXPECT_EQ(parseInt("-7").value(), -7);
  EXPECT_EQ(parseInt("+7").value(), 7);
  EXPECT_EQ(parseInt("9223372036854775807").value(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parseInt("-9223372036854775808").value(), std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", "-", "yes", "1.5", "12a", "0x10", "9223372036854775808"}) {
    EXPECT_FALSE(parseInt(bad).has_value()) << bad;
  }
  EXPECT_NE(parseInt("yes").error().find("'yes' is not an integer"), std::string::npos);
}

} // namespace
} // namespace ferry::config
