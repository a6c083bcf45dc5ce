// Tests for the tcp input's decoder: concatenated JSON cut anywhere by the reads, arrays
// under "msg", malformed JSON skipped and counted without losing what follows, the
// none format's separators (also split across reads), and the pending-bytes bound.
#include "ferry/input/tcp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/codec/json.h"

namespace ferry::input::tcp {
namespace {

core::BatchRef jsonBatch() {
  return core::Batch::create("t", core::RecordFormat::kMsgpackMap);
}
core::BatchRef lineBatch() {
  return core::Batch::create("t", core::RecordFormat::kLine);
}

// Each record as JSON text.
std::vector<std::string> records(const core::Batch& batch) {
  std::vector<std::string> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    core::ByteBuffer json;
    codec::appendRecordJson(json, batch.format(), batch.record(i), {.time_key = ""});
    out.emplace_back(json.view());
  }
  return out;
}

TEST(TcpDecoder, JsonObjectsConcatenatedOrOneALine) {
  TcpDecoder d(Format::kJson, "\n", 1024);
  auto batch = jsonBatch();
  ASSERT_TRUE(d.feed("{\"health\": \"check\"}\n{\"a\":1}{\"b\":\"}{\\\"\"}  \r\n", *batch, 1));
  EXPECT_EQ(records(*batch), (std::vector<std::string>{"{\"health\":\"check\"}", "{\"a\":1}",
                                                       "{\"b\":\"}{\\\"\"}"}));
  EXPECT_EQ(d.malformed(), 0u);
  EXPECT_EQ(d.pending(), 0u);
}

TEST(TcpDecoder, JsonCutAnywhereByTheReads) {
  const std::string text = "{\"k\":{\"n\":[1,2,{\"s\":\"a]}\\\\\"}]}}\n{\"x\":true}";
  for (size_t cut = 1; cut < text.size(); ++cut) {
    TcpDecoder d(Format::kJson, "\n", 1024);
    auto batch = jsonBatch();
    ASSERT_TRUE(d.feed(text.substr(0, cut), *batch, 1));
    ASSERT_TRUE(d.feed(text.substr(cut), *batch, 1));
    ASSERT_EQ(records(*batch).size(), 2u) << "cut at " << cut;
    EXPECT_EQ(records(*batch)[1], "{\"x\":true}");
    EXPECT_EQ(d.malformed(), 0u);
  }
}

TEST(TcpDecoder, ArrayBecomesMsg) {
  TcpDecoder d(Format::kJson, "\n", 1024);
  auto batch = jsonBatch();
  ASSERT_TRUE(d.feed("[1,\"two\"]\n", *batch, 1));
  EXPECT_EQ(records(*batch), (std::vector<std::string>{"{\"msg\":[1,\"two\"]}"}));
}

TEST(TcpDecoder, MalformedJsonIsSkippedToTheNextLineAndCounted) {
  TcpDecoder d(Format::kJson, "\n", 1024);
  auto batch = jsonBatch();
  ASSERT_TRUE(d.feed("not json {\"no\":1}\n{\"a\":1}\n{\"bad\":}\n42\n{\"b\":2}\n", *batch, 1));
  EXPECT_EQ(records(*batch), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(d.malformed(), 3u);
}

TEST(TcpDecoder, UnfinishedJsonAtTheEndIsCounted) {
  TcpDecoder d(Format::kJson, "\n", 1024);
  auto batch = jsonBatch();
  ASSERT_TRUE(d.feed("{\"a\":1}{\"b\":", *batch, 1));
  d.finish(*batch, 1);
  EXPECT_EQ(records(*batch).size(), 1u);
  EXPECT_EQ(d.malformed(), 1u);
}

TEST(TcpDecoder, PendingRecordOverTheBoundFails) {
  TcpDecoder d(Format::kJson, "\n", 16);
  auto batch = jsonBatch();
  EXPECT_TRUE(d.feed("{\"a\":1}", *batch, 1));
  EXPECT_FALSE(d.feed("{\"long\":\"0123456789abcdef", *batch, 1));
  EXPECT_EQ(batch->size(), 1u);
}

TEST(TcpDecoder, NoneSplitsOnTheSeparatorAcrossReads) {
  TcpDecoder d(Format::kNone, "\r\n", 1024);
  auto batch = lineBatch();
  ASSERT_TRUE(d.feed("one\r", *batch, 1));
  ASSERT_TRUE(d.feed("\ntwo\r\n\r\nthr", *batch, 1));
  ASSERT_TRUE(d.feed("ee", *batch, 1));
  d.finish(*batch, 1); // a last line without separator is still a record
  EXPECT_EQ(records(*batch), (std::vector<std::string>{"{\"log\":\"one\"}", "{\"log\":\"two\"}",
                                                       "{\"log\":\"three\"}"}));
}

TEST(TcpDecoder, NoneLineOverTheBoundFails) {
  TcpDecoder d(Format::kNone, "\n", 8);
  auto batch = lineBatch();
  EXPECT_TRUE(d.feed("short\n", *batch, 1));
  EXPECT_FALSE(d.feed("much too long", *batch, 1));
}

TEST(TcpDecoder, SeparatorEscapes) {
  EXPECT_EQ(unescapeSeparator("\\n"), "\n");
  EXPECT_EQ(unescapeSeparator("\\r\\n"), "\r\n");
  EXPECT_EQ(unescapeSeparator("||"), "||");
  EXPECT_EQ(unescapeSeparator("\\t\\\\"), "\t\\");
}

} // namespace
} // namespace ferry::input::tcp
