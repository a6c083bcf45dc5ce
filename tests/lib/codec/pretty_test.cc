// The pretty form's reading of a record's level and time (shared by `ferry tail`'s display
// and its --level filter), and record_time taking the time field out of the list.
#include "ferry/codec/pretty.h"

#include <gtest/gtest.h>

#include <string>

#include "ferry/codec/parsers.h"

namespace ferry::codec {
namespace {

// A JSON line as the json parser writes it.
std::string packed(std::string_view json) {
  core::ByteBuffer out;
  int64_t ts = 0;
  EXPECT_EQ((*makeLineParser({.type = "json"}))->parse(json, ts, out), ParseStatus::kParsed)
      << json;
  return std::string(out.view());
}

std::optional<int64_t> timeOf(std::string_view json) {
  const std::string data = packed(json);
  return recordTime(core::RecordFormat::kMsgpackMap, {0, data});
}

constexpr int64_t kT = 1714564800; // 2024-05-01T12:00:00Z

TEST(PrettyLevel, NamesAndNumbersAreNormalised) {
  EXPECT_EQ(parseLevel("WARNING"), Level::kWarn);
  EXPECT_EQ(parseLevel("warn"), Level::kWarn);
  EXPECT_EQ(parseLevel("Err"), Level::kError);
  EXPECT_EQ(parseLevel("critical"), Level::kFatal);
  EXPECT_EQ(parseLevel("panic"), Level::kFatal);
  EXPECT_EQ(parseLevel("notice"), Level::kInfo);
  EXPECT_EQ(parseLevel("30"), Level::kInfo);
  EXPECT_EQ(parseLevel("loud"), Level::kUnknown);
  EXPECT_LT(Level::kInfo, Level::kWarn);
  EXPECT_EQ(levelName(Level::kError), "error");
  const std::string pino = packed(R"({"level":50,"msg":"x"})");
  EXPECT_EQ(recordLevel(core::RecordFormat::kMsgpackMap, {0, pino}), Level::kError);
  const std::string severity = packed(R"({"severity":"DEBUG"})");
  EXPECT_EQ(recordLevel(core::RecordFormat::kMsgpackMap, {0, severity}), Level::kDebug);
  EXPECT_EQ(recordLevel(core::RecordFormat::kLine, {0, "level=error"}), Level::kUnknown);
}

TEST(PrettyTime, Rfc3339AndEveryEpochUnit) {
  EXPECT_EQ(timeOf(R"({"time":"2024-05-01T12:00:00.5Z"})"), kT * 1'000'000'000 + 500'000'000);
  EXPECT_EQ(timeOf(R"({"ts":1714564800})"), kT * 1'000'000'000);
  EXPECT_EQ(timeOf(R"({"ts":1714564800.25})"), kT * 1'000'000'000 + 250'000'000);
  EXPECT_EQ(timeOf(R"({"timestamp":1714564800123})"), kT * 1'000'000'000 + 123'000'000);
  EXPECT_EQ(timeOf(R"({"timestamp":"1714564800123"})"), kT * 1'000'000'000 + 123'000'000);
  EXPECT_EQ(timeOf(R"({"@timestamp":1714564800123456})"), kT * 1'000'000'000 + 123'456'000);
  EXPECT_EQ(timeOf(R"({"time":1714564800123456789})"), kT * 1'000'000'000 + 123'456'789);
  // The first key that holds a time wins; a value that is none is passed over.
  EXPECT_EQ(timeOf(R"({"time":"soon","ts":1714564800})"), kT * 1'000'000'000);
  EXPECT_EQ(timeOf(R"({"time":"soon"})"), std::nullopt);
  EXPECT_EQ(timeOf(R"({"msg":"no time"})"), std::nullopt);
}

TEST(PrettyRecordTime, ShownInPlaceOfTheReadTimeAndNotRepeated) {
  const std::string data = packed(R"({"ts":1714564800,"lvl":"warning","msg":"hi","n":1})");
  core::ByteBuffer out;
  appendPretty(out, core::RecordFormat::kMsgpackMap, {42, data},
               {.color = false, .record_time = true});
  EXPECT_EQ(out.view(), "2024-05-01 12:00:00.000 WARN  hi  n=1\n");
  out.clear();
  appendPretty(out, core::RecordFormat::kMsgpackMap, {0, data}, {});
  EXPECT_EQ(out.view(), "1970-01-01 00:00:00.000 WARN  hi  ts=1714564800 n=1\n");
}

} // namespace
} // namespace ferry::codec
