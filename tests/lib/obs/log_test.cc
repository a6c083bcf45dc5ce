// ferry's own log: levels, text and JSON lines (one line per message, whatever it holds),
// and rate-limited repeats summarised as "same warning repeated N more times".
#include "ferry/obs/log.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace ferry::obs {
namespace {

using Clock = std::chrono::steady_clock;

class LogTest : public ::testing::Test {
protected:
  void SetUp() override {
    saved_level_ = logLevel();
    setLogLevel(LogLevel::kDebug);
    setLogFormat(LogFormat::kText);
    setLogClockForTesting([this] { return now_; });
    setLogWriterForTesting([this](std::string_view line) { lines_.emplace_back(line); });
  }
  void TearDown() override {
    setLogWriterForTesting(nullptr);
    setLogClockForTesting(nullptr);
    setLogFormat(LogFormat::kText);
    setLogLevel(saved_level_);
  }
  void advance(std::chrono::milliseconds d) { now_ += d; }

  LogLevel saved_level_ = LogLevel::kInfo;
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1000));
  std::vector<std::string> lines_;
};

TEST_F(LogTest, TextLineHasTimeLevelComponentAndMessage) {
  FERRY_LOG_WARN("forward", "connection from {} closed: {}", "10.0.0.1", "bad gzip");
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& l = lines_[0];
  // 2026-11-22T21:19:11.123Z WARN  forward: message
  ASSERT_GE(l.size(), 25u);
  EXPECT_EQ(l[4], '-');
  EXPECT_EQ(l[10], 'T');
  EXPECT_EQ(l[23], 'Z');
  EXPECT_EQ(l.substr(25), "WARN  forward: connection from 10.0.0.1 closed: bad gzip\n");
}

TEST_F(LogTest, LevelFiltersBelowThreshold) {
  setLogLevel(LogLevel::kWarn);
  FERRY_LOG_DEBUG("x", "debug {}", 1);
  FERRY_LOG_INFO("x", "info {}", 1);
  FERRY_LOG_WARN("x", "warn {}", 1);
  FERRY_LOG_ERROR("x", "error {}", 1);
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_NE(lines_[0].find("WARN  x: warn 1"), std::string::npos);
  EXPECT_NE(lines_[1].find("ERROR x: error 1"), std::string::npos);
}

TEST_F(LogTest, MultiLineMessageStaysOneLine) {
  logMessage(LogLevel::kError, "s3", "first\nsecond\r\nthird");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("first\\nsecond\\r\\nthird\n"), std::string::npos);
  EXPECT_EQ(lines_[0].find('\n'), lines_[0].size() - 1);
}

TEST_F(LogTest, JsonLinesParseAndCarryFields) {
  setLogFormat(LogFormat::kJson);
  const std::string message = "tab\there \"quoted\" nl\n ctl\x01";
  logMessage(LogLevel::kInfo, "data\"dog", message);
  ASSERT_EQ(lines_.size(), 1u);
  ASSERT_EQ(lines_[0].back(), '\n');
  EXPECT_EQ(lines_[0].find('\n'), lines_[0].size() - 1);
  rapidjson::Document d;
  d.Parse(lines_[0].data(), lines_[0].size() - 1);
  ASSERT_FALSE(d.HasParseError()) << lines_[0];
  EXPECT_STREQ(d["level"].GetString(), "info");
  EXPECT_STREQ(d["component"].GetString(), "data\"dog");
  EXPECT_EQ(std::string(d["message"].GetString(), d["message"].GetStringLength()), message);
  EXPECT_TRUE(d["time"].IsString());
  EXPECT_FALSE(d.HasMember("repeated"));
}

TEST_F(LogTest, ParsesLevelAndFormatNames) {
  LogLevel l;
  EXPECT_TRUE(parseLogLevel("warn", l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(parseLogLevel("loud", l));
  LogFormat f;
  EXPECT_TRUE(parseLogFormat("json", f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(parseLogFormat("text", f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(parseLogFormat("xml", f));
}

TEST_F(LogTest, RepeatsWithinTheWindowAreSummarisedWhenItEnds) {
  for (int i = 0; i < 1235; ++i) {
    FERRY_LOG_WARN("datadog", "request failed (503), retrying in {} ms", 100 + i);
    advance(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(lines_.size(), 1u); // only the first is printed
  EXPECT_NE(lines_[0].find("retrying in 100 ms"), std::string::npos);
  advance(kLogRepeatWindow);
  sweepLogRepeats();
  ASSERT_EQ(lines_.size(), 2u);
  // The summary shows the latest text and the count, grouped for reading.
  EXPECT_NE(lines_[1].find("WARN  datadog: request failed (503), retrying in 1334 ms "
                           "(same warning repeated 1,234 more times)\n"),
            std::string::npos)
      << lines_[1];
  // The window is over: the next occurrence is printed again.
  FERRY_LOG_WARN("datadog", "request failed (503), retrying in {} ms", 7);
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_EQ(lines_[2].find("repeated"), std::string::npos);
}

TEST_F(LogTest, NextOccurrenceAfterTheWindowReportsTheCountFirst) {
  logMessage(LogLevel::kError, "s3", "upload failed");
  logMessage(LogLevel::kError, "s3", "upload failed");
  advance(kLogRepeatWindow + std::chrono::milliseconds(1));
  // A message arriving before any sweep still sees the old window's count printed first.
  logMessage(LogLevel::kError, "s3", "upload failed");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_NE(lines_[1].find("upload failed (same error repeated 1 more time)\n"), std::string::npos)
      << lines_[1];
  EXPECT_NE(lines_[2].find("ERROR s3: upload failed\n"), std::string::npos);
}

TEST_F(LogTest, DistinctMessagesComponentsAndLevelsAreNotMerged) {
  logMessage(LogLevel::kWarn, "a", "same text");
  logMessage(LogLevel::kWarn, "b", "same text");
  logMessage(LogLevel::kError, "a", "same text");
  logMessage(LogLevel::kWarn, "a", "other text");
  EXPECT_EQ(lines_.size(), 4u);
}

TEST_F(LogTest, FlushReportsPendingCountsInJson) {
  setLogFormat(LogFormat::kJson);
  for (int i = 0; i < 3; ++i)
    logMessage(LogLevel::kWarn, "forward", "bad frame");
  ASSERT_EQ(lines_.size(), 1u);
  flushLogRepeats();
  ASSERT_EQ(lines_.size(), 2u);
  rapidjson::Document d;
  d.Parse(lines_[1].c_str());
  ASSERT_FALSE(d.HasParseError()) << lines_[1];
  EXPECT_EQ(d["repeated"].GetUint64(), 2u);
  EXPECT_STREQ(d["message"].GetString(), "bad frame");
  flushLogRepeats(); // nothing pending any more
  EXPECT_EQ(lines_.size(), 2u);
}

TEST_F(LogTest, SweepBeforeTheWindowEndsPrintsNothing) {
  logMessage(LogLevel::kWarn, "x", "m");
  logMessage(LogLevel::kWarn, "x", "m");
  advance(std::chrono::seconds(5));
  sweepLogRepeats();
  EXPECT_EQ(lines_.size(), 1u);
}

TEST_F(LogTest, InfoLinesAreNeverSuppressed) {
  // Two inputs starting: the same text from one component, both must be seen at once.
  logMessage(LogLevel::kInfo, "forward", "listening");
  logMessage(LogLevel::kInfo, "forward", "listening");
  logMessage(LogLevel::kWarn, "forward", "slow");
  logMessage(LogLevel::kWarn, "forward", "slow");
  EXPECT_EQ(lines_.size(), 3u);
}

TEST_F(LogTest, ManyDistinctMessagesStayBounded) {
  // More distinct texts than the table holds: all are printed, none is lost or merged.
  for (int i = 0; i < 5000; ++i)
    logMessage(LogLevel::kInfo, "x", "message " + std::to_string(i));
  EXPECT_EQ(lines_.size(), 5000u);
}

} // namespace
} // namespace ferry::obs
