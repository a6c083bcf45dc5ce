// Line framing: records are the same whatever the read boundaries (every split point, every
// pair of split points), \r\n, a held last line, long lines split or truncated.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/core/buffer.h"
#include "ferry/input/tail_lines.h"

namespace ferry::input {
namespace {

struct Framed {
  std::vector<std::string> records;
  std::vector<size_t> nexts; // line_start after each record
  size_t line_start = 0;
};

// Feeds `input` in reads cut at `cuts`, the way the tail input grows its buffer, then (if
// flush) takes the held last line.
Framed frame(std::string_view input, const std::vector<size_t>& cuts, size_t max_line,
             LongLineMode mode, bool flush) {
  LineSplitter splitter(max_line, mode);
  core::ByteBuffer buf;
  Framed out;
  size_t scan = 0;
  auto emit = [&](size_t start, size_t length, size_t next) {
    out.records.emplace_back(buf.data() + start, length);
    out.nexts.push_back(next);
  };
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    buf.append(input.substr(from, end - from));
    from = end;
    splitter.scan(buf.data(), buf.size(), out.line_start, scan, emit);
    EXPECT_LE(scan, buf.size());
    EXPECT_LE(out.line_start, scan);
  }
  if (flush) splitter.flushPartial(buf.data(), buf.size(), out.line_start, scan, emit);
  return out;
}

using Lines = std::vector<std::string>;

TEST(TailLineSplitterTest, EverySplitPointGivesTheSameLines) {
  const std::string input = "alpha\nbeta\r\n\ngamma\r\ndelta";
  const Lines held = {"alpha", "beta", "", "gamma"};
  const Lines flushed = {"alpha", "beta", "", "gamma", "delta"};
  for (size_t i = 0; i <= input.size(); ++i) {
    EXPECT_EQ(frame(input, {i}, 1024, LongLineMode::kSplit, false).records, held) << "cut at " << i;
    EXPECT_EQ(frame(input, {i}, 1024, LongLineMode::kSplit, true).records, flushed)
        << "cut at " << i;
    for (size_t j = i; j <= input.size(); ++j) {
      EXPECT_EQ(frame(input, {i, j}, 1024, LongLineMode::kSplit, true).records, flushed)
          << "cuts at " << i << ", " << j;
    }
  }
}

TEST(TailLineSplitterTest, LineStartCountsTerminators) {
  const auto f = frame("ab\r\ncd\n", {}, 1024, LongLineMode::kSplit, false);
  EXPECT_EQ(f.records, (Lines{"ab", "cd"}));
  EXPECT_EQ(f.nexts, (std::vector<size_t>{4, 7}));
  EXPECT_EQ(f.line_start, 7u);
}

TEST(TailLineSplitterTest, HeldLastLineIsNotARecordUntilFlushed) {
  auto f = frame("one\ntwo", {}, 1024, LongLineMode::kSplit, false);
  EXPECT_EQ(f.records, (Lines{"one"}));
  EXPECT_EQ(f.line_start, 4u) << "the held line starts here";
  f = frame("one\ntwo\r", {}, 1024, LongLineMode::kSplit, true);
  EXPECT_EQ(f.records, (Lines{"one", "two"}));
}

TEST(TailLineSplitterTest, LongLinesSplitAtEveryBoundary) {
  const std::string input = "abcdefghij\nxy\nABCDEFGH\n12345678\r\nz";
  const Lines expected = {"abcd", "efgh", "ij", "xy", "ABCD", "EFGH", "1234", "5678", "z"};
  for (size_t i = 0; i <= input.size(); ++i) {
    for (size_t j = i; j <= input.size(); ++j) {
      EXPECT_EQ(frame(input, {i, j}, 4, LongLineMode::kSplit, true).records, expected)
          << "cuts at " << i << ", " << j;
    }
  }
}

TEST(TailLineSplitterTest, LongLinesTruncateAtEveryBoundary) {
  const std::string input = "abcdefghij\nxy\nABCDEFGHIJKLMNOP\n1234\r\nlast-long-line";
  const Lines expected = {"abcd", "xy", "ABCD", "1234", "last"};
  for (size_t i = 0; i <= input.size(); ++i) {
    for (size_t j = i; j <= input.size(); ++j) {
      EXPECT_EQ(frame(input, {i, j}, 4, LongLineMode::kTruncate, true).records, expected)
          << "cuts at " << i << ", " << j;
    }
  }
}

TEST(TailLineSplitterTest, IncompleteLongLineNeverHoldsMoreThanTheLimit) {
  LineSplitter splitter(8, LongLineMode::kSplit);
  core::ByteBuffer buf;
  size_t line_start = 0, scan = 0, records = 0;
  for (int i = 0; i < 100; ++i) {
    buf.append("0123456", 7);
    splitter.scan(buf.data(), buf.size(), line_start, scan, [&](size_t, size_t len, size_t) {
      EXPECT_EQ(len, 8u);
      ++records;
    });
    EXPECT_LE(buf.size() - line_start, 8u);
  }
  EXPECT_EQ(records, 700u / 8);
  EXPECT_EQ(splitter.takeSplit(), 700u / 8);
  EXPECT_EQ(splitter.takeSplit(), 0u);
}

TEST(TailLineSplitterTest, TruncatedRestIsSkippedAcrossReads) {
  LineSplitter splitter(4, LongLineMode::kTruncate);
  core::ByteBuffer buf;
  size_t line_start = 0, scan = 0;
  Lines got;
  auto emit = [&](size_t s, size_t l, size_t) { got.emplace_back(buf.data() + s, l); };
  buf.append("abcdefgh");
  splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
  EXPECT_TRUE(splitter.discarding());
  EXPECT_EQ(line_start, buf.size()) << "the skipped bytes are consumed at once";
  buf.append("ijklmnop");
  splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
  buf.append("qr\nok\n");
  splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
  EXPECT_EQ(got, (Lines{"abcd", "ok"}));
  EXPECT_EQ(splitter.takeTruncated(), 1u);
}

TEST(TailLineSplitterTest, SplitLineEndingInCrLfHasNoEmptyTail) {
  // "abcd\r\n" with max 4: the head "abcd" goes out while the line is incomplete; the "\r"
  // that follows is the line ending, not a record.
  for (size_t i = 0; i <= 6; ++i) {
    EXPECT_EQ(frame("abcd\r\nef\n", {i}, 4, LongLineMode::kSplit, true).records,
              (Lines{"abcd", "ef"}))
        << "cut at " << i;
  }
}

// idle_flush sent "part" before its newline came: the newline (alone, or as \r\n) ends that
// line without an empty record; what follows it frames as ever, empty lines included.
TEST(TailLineSplitterTest, NewlineAfterAFlushedPartialLineIsNoRecord) {
  for (const std::string rest : {"\n", "\r\n"}) {
    LineSplitter splitter(1024, LongLineMode::kSplit);
    core::ByteBuffer buf;
    size_t line_start = 0, scan = 0;
    Lines got;
    auto emit = [&](size_t s, size_t l, size_t) { got.emplace_back(buf.data() + s, l); };
    buf.append("one\npart");
    splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
    splitter.flushPartial(buf.data(), buf.size(), line_start, scan, emit);
    EXPECT_EQ(got, (Lines{"one", "part"}));
    buf.append(rest + "\n\nx\n");
    splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
    EXPECT_EQ(got, (Lines{"one", "part", "", "", "x"})) << "rest " << rest.size();
    // A line that goes on after the flush is a record of its own.
    buf.append("tail");
    splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
    splitter.flushPartial(buf.data(), buf.size(), line_start, scan, emit);
    buf.append(" more\n");
    splitter.scan(buf.data(), buf.size(), line_start, scan, emit);
    EXPECT_EQ(got, (Lines{"one", "part", "", "", "x", "tail", " more"}));
  }
}

TEST(TailLineSplitterTest, InvalidUtf8AndNulBytesPassThrough) {
  const std::string input("\xff\xfe\x00x\n\xc3\x28\n", 8);
  const auto f = frame(input, {3}, 1024, LongLineMode::kSplit, false);
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0], std::string("\xff\xfe\x00x", 4));
  EXPECT_EQ(f.records[1], "\xc3\x28");
}

} // namespace
} // namespace ferry::input
