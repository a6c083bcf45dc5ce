// Tests for the forward protocol decoder: each mode, time format, option and error; every frame
// split at every byte boundary decodes exactly as when fed whole.
#include "ferry/input/forward_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "forward_test_util.h"

namespace ferry::input::forward {
namespace {

using namespace testing;

struct Message {
  ForwardMode mode;
  std::string tag;
  std::vector<std::pair<int64_t, std::string>> records;
  std::optional<std::string> chunk;
  std::optional<uint64_t> size;
  bool operator==(const Message&) const = default;
};

struct Result {
  std::vector<Message> messages;
  std::optional<DecodeError> error;
  bool operator==(const Result&) const = default;
};

void drain(ForwardDecoder& d, Result& r) {
  while (!r.error) {
    DecodedMessage m;
    auto s = d.next(m);
    if (!s) {
      r.error = s.error().error;
      return;
    }
    if (*s == ForwardDecoder::Status::kNeedMore) return;
    Message copy{m.mode, std::string(m.tag), {}, std::nullopt, m.size};
    size_t bytes = 0;
    for (const auto& rec : m.records) {
      copy.records.emplace_back(rec.timestamp_ns, std::string(rec.map));
      bytes += rec.map.size();
    }
    EXPECT_EQ(bytes, m.record_bytes);
    if (m.chunk) copy.chunk = std::string(*m.chunk);
    r.messages.push_back(std::move(copy));
  }
}

Result decode(std::string_view bytes, DecoderLimits limits = {}) {
  ForwardDecoder d(limits);
  Result r;
  d.feed(bytes);
  drain(d, r);
  return r;
}

Result decodeSplit(std::string_view bytes, size_t at, DecoderLimits limits = {}) {
  ForwardDecoder d(limits);
  Result r;
  d.feed(bytes.substr(0, at));
  drain(d, r);
  d.feed(bytes.substr(at));
  drain(d, r);
  return r;
}

Result decodeBytewise(std::string_view bytes, DecoderLimits limits = {}) {
  ForwardDecoder d(limits);
  Result r;
  for (char c : bytes) {
    d.feed(std::string_view(&c, 1));
    drain(d, r);
  }
  return r;
}

constexpr int64_t kSec = 1'000'000'000;

// ---- Modes -------------------------------------------------------------------------------

TEST(ForwardDecoder, MessageModeWithIntegerTime) {
  const auto r = decode(messageFrame("app", packTime(TimeFormat::kInt, 1700000000), record(1)));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  const auto& m = r.messages[0];
  EXPECT_EQ(m.mode, ForwardMode::kMessage);
  EXPECT_EQ(m.tag, "app");
  ASSERT_EQ(m.records.size(), 1u);
  EXPECT_EQ(m.records[0].first, 1700000000 * kSec);
  EXPECT_EQ(m.records[0].second, record(1)); // the map's bytes exactly as sent
  EXPECT_FALSE(m.chunk);
}

TEST(ForwardDecoder, MessageModeWithOptions) {
  const auto r = decode(messageFrame("app", packTime(TimeFormat::kInt, 5), record(1),
                                     Options{.chunk = "c1", .size = 1}));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].chunk, "c1");
  EXPECT_EQ(r.messages[0].size, 1u);
}

TEST(ForwardDecoder, EventTimeKeepsNanoseconds) {
  const auto r =
      decode(messageFrame("t", packTime(TimeFormat::kEventTime, 1700000000, 123456789), record(1)));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].first, 1700000000 * kSec + 123456789);
}

TEST(ForwardDecoder, EventTimeAsExt8IsTolerated) {
  const auto r = decode(messageFrame("t", packTime(TimeFormat::kExt8, 1700000000, 42), record(1)));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].first, 1700000000 * kSec + 42);
}

TEST(ForwardDecoder, FloatTimesKeepTheirFraction) {
  auto r =
      decode(messageFrame("t", packTime(TimeFormat::kFloat64, 1700000000, 250000000), record(1)));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_NEAR(static_cast<double>(r.messages[0].records[0].first), 1700000000.25e9, 1000.0);
  r = decode(messageFrame("t", packTime(TimeFormat::kFloat32, 1, 500000000), record(1)));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].first, 1'500'000'000);
}

TEST(ForwardDecoder, NegativeIntegerTime) {
  Packer p;
  p.pk().pack_int64(-5);
  const auto r = decode(messageFrame("t", p.str(), record(1)));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].first, -5 * kSec);
}

TEST(ForwardDecoder, ForwardModeEntriesAndOptions) {
  const auto entries = makeEntries(3);
  const auto r = decode(forwardFrame("fw", entries, Options{.chunk = "abc", .size = 3}));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  const auto& m = r.messages[0];
  EXPECT_EQ(m.mode, ForwardMode::kForward);
  EXPECT_EQ(m.tag, "fw");
  EXPECT_EQ(m.chunk, "abc");
  EXPECT_EQ(m.size, 3u);
  ASSERT_EQ(m.records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(m.records[i].first, (1700000000 + i) * kSec + i * 1000);
    EXPECT_EQ(m.records[i].second, record(i));
  }
}

TEST(ForwardDecoder, ForwardModeWithoutEntriesStillCarriesItsChunk) {
  const auto r = decode(forwardFrame("fw", {}, Options{.chunk = "empty"}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.messages[0].records.empty());
  EXPECT_EQ(r.messages[0].chunk, "empty");
}

TEST(ForwardDecoder, PackedForwardAsBinAndAsStr) {
  const auto entries = makeEntries(5, TimeFormat::kInt);
  for (bool as_str : {false, true}) {
    const auto r = decode(packedFrame("pk", packedEntries(entries), Options{.chunk = "x"}, as_str));
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.messages.size(), 1u);
    const auto& m = r.messages[0];
    EXPECT_EQ(m.mode, ForwardMode::kPackedForward);
    EXPECT_EQ(m.chunk, "x");
    ASSERT_EQ(m.records.size(), 5u);
    EXPECT_EQ(m.records[4].first, 1700000004 * kSec);
    EXPECT_EQ(m.records[4].second, record(4));
  }
}

TEST(ForwardDecoder, PackedForwardOfAThousandRecords) {
  const auto entries = makeEntries(1000);
  const auto r = decode(packedFrame("pk", packedEntries(entries)));
  ASSERT_EQ(r.messages.size(), 1u);
  ASSERT_EQ(r.messages[0].records.size(), 1000u);
  EXPECT_EQ(r.messages[0].records[999].second, record(999));
}

TEST(ForwardDecoder, CompressedPackedForward) {
  const auto entries = makeEntries(20);
  const auto r = decode(packedFrame("gz", gzip(packedEntries(entries)),
                                    Options{.chunk = "z", .size = 20, .compressed = "gzip"}));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  const auto& m = r.messages[0];
  EXPECT_EQ(m.mode, ForwardMode::kCompressedPackedForward);
  EXPECT_EQ(m.chunk, "z");
  ASSERT_EQ(m.records.size(), 20u);
  EXPECT_EQ(m.records[7].second, record(7));
  EXPECT_EQ(m.records[7].first, 1700000007 * kSec + 7000);
}

TEST(ForwardDecoder, CompressedPackedForwardOfConcatenatedMembers) {
  const auto entries = makeEntries(10);
  const Entries first(entries.begin(), entries.begin() + 4);
  const Entries second(entries.begin() + 4, entries.end());
  const auto payload = gzip(packedEntries(first)) + gzip(packedEntries(second));
  const auto r = decode(packedFrame("gz", payload, Options{.compressed = "gzip"}));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  ASSERT_EQ(r.messages[0].records.size(), 10u);
  EXPECT_EQ(r.messages[0].records[9].second, record(9));
}

TEST(ForwardDecoder, CompressedTextMeansUncompressed) {
  const auto r =
      decode(packedFrame("t", packedEntries(makeEntries(2)), Options{.compressed = "text"}));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].mode, ForwardMode::kPackedForward);
  EXPECT_EQ(r.messages[0].records.size(), 2u);
}

TEST(ForwardDecoder, FluentBitMetadataTimeIsAccepted) {
  // Fluent Bit 2.x may send [[time, metadata], record] entries.
  Packer time;
  time.pk().pack_array(2);
  time.raw(packTime(TimeFormat::kEventTime, 1700000000, 9));
  time.pk().pack_map(1).pack(std::string("k")).pack(std::string("v"));
  const auto r = decode(forwardFrame("fb", {{time.str(), record(1)}}));
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].first, 1700000000 * kSec + 9);
}

TEST(ForwardDecoder, HeartbeatsAreSkipped) {
  const std::string frames = std::string("\xc0", 1) +
                             messageFrame("a", packTime(TimeFormat::kInt, 1), record(1)) +
                             std::string("\xc0", 1);
  const auto r = decode(frames);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].tag, "a");
}

TEST(ForwardDecoder, SeveralFramesInOneChunk) {
  const auto entries = makeEntries(3);
  const std::string frames =
      messageFrame("m", packTime(TimeFormat::kInt, 1), record(1)) + forwardFrame("f", entries) +
      packedFrame("p", packedEntries(entries)) +
      packedFrame("c", gzip(packedEntries(entries)), Options{.compressed = "gzip"});
  const auto r = decode(frames);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].tag, "m");
  EXPECT_EQ(r.messages[1].mode, ForwardMode::kForward);
  EXPECT_EQ(r.messages[2].mode, ForwardMode::kPackedForward);
  EXPECT_EQ(r.messages[3].mode, ForwardMode::kCompressedPackedForward);
  EXPECT_EQ(r.messages[3].records, r.messages[1].records);
}

TEST(ForwardDecoder, NeedMoreUntilTheFrameIsWhole) {
  const auto frame = forwardFrame("f", makeEntries(2));
  ForwardDecoder d;
  d.feed(std::string_view(frame).substr(0, frame.size() - 1));
  DecodedMessage m;
  auto s = d.next(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ForwardDecoder::Status::kNeedMore);
  EXPECT_EQ(d.buffered(), frame.size() - 1);
  d.feed(std::string_view(frame).substr(frame.size() - 1));
  s = d.next(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, ForwardDecoder::Status::kMessage);
  EXPECT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.frame_bytes, frame.size());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(ForwardDecoder, ZeroCopyPrepareAndCommit) {
  const auto frame = messageFrame("z", packTime(TimeFormat::kInt, 3), record(3));
  ForwardDecoder d;
  char* p = d.prepare(65536);
  std::memcpy(p, frame.data(), frame.size());
  d.commit(frame.size());
  Result r;
  drain(d, r);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].records[0].second, record(3));
}

TEST(ForwardDecoder, NextValueYieldsRawValues) {
  Packer p;
  p.pk().pack_array(2).pack(std::string("PING")).pack(std::string("host"));
  const auto bytes = p.str();
  ForwardDecoder d;
  d.feed(std::string_view(bytes).substr(0, 3));
  auto v = d.nextValue();
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  d.feed(std::string_view(bytes).substr(3));
  v = d.nextValue();
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, bytes);
}

// ---- Errors ------------------------------------------------------------------------------

TEST(ForwardDecoder, MalformedMsgpack) {
  // 0xc1 is never valid msgpack.
  EXPECT_EQ(decode(std::string("\x93\xa3"
                               "app\xc1",
                               6))
                .error,
            DecodeError::kMalformed);
  EXPECT_EQ(decode(std::string("\xc1", 1)).error, DecodeError::kMalformed);
}

TEST(ForwardDecoder, TagMustBeAString) {
  Packer p;
  p.pk().pack_array(3).pack(1);
  p.raw(packTime(TimeFormat::kInt, 1)).raw(record(1));
  EXPECT_EQ(decode(p.str()).error, DecodeError::kMalformed);
}

TEST(ForwardDecoder, UnknownModes) {
  Packer map;
  map.pk().pack_map(1).pack(std::string("a")).pack(1);
  EXPECT_EQ(decode(map.str()).error, DecodeError::kUnknownMode);
  Packer str;
  str.pk().pack(std::string("hello"));
  EXPECT_EQ(decode(str.str()).error, DecodeError::kUnknownMode);
  Packer one;
  one.pk().pack_array(1).pack(std::string("tag"));
  EXPECT_EQ(decode(one.str()).error, DecodeError::kUnknownMode);
  Packer nil_second;
  nil_second.pk().pack_array(3).pack(std::string("tag")).pack_nil();
  nil_second.raw(record(1));
  EXPECT_EQ(decode(nil_second.str()).error, DecodeError::kUnknownMode);
  Packer map_second;
  map_second.pk().pack_array(2).pack(std::string("tag"));
  map_second.raw(record(1));
  EXPECT_EQ(decode(map_second.str()).error, DecodeError::kUnknownMode);
  Packer five;
  five.pk().pack_array(5).pack(std::string("tag"));
  five.raw(packTime(TimeFormat::kInt, 1)).raw(record(1)).raw(packOptions({})).raw(record(2));
  EXPECT_EQ(decode(five.str()).error, DecodeError::kUnknownMode);
}

TEST(ForwardDecoder, BadGzip) {
  const auto r =
      decode(packedFrame("gz", "this is not gzip at all", Options{.compressed = "gzip"}));
  EXPECT_EQ(r.error, DecodeError::kBadGzip);
  EXPECT_TRUE(r.messages.empty());
}

TEST(ForwardDecoder, TruncatedGzip) {
  auto compressed = gzip(packedEntries(makeEntries(50)));
  compressed.resize(compressed.size() - 12);
  const auto r = decode(packedFrame("gz", compressed, Options{.compressed = "gzip"}));
  EXPECT_EQ(r.error, DecodeError::kBadGzip);
}

TEST(ForwardDecoder, GzipInflatingPastTheLimitIsRefused) {
  const std::string zeros(1 << 20, '\0');
  const auto r = decode(packedFrame("gz", gzip(zeros), Options{.compressed = "gzip"}),
                        DecoderLimits{.max_frame_bytes = 1 << 20, .max_decompressed_bytes = 4096});
  EXPECT_EQ(r.error, DecodeError::kBadGzip);
}

TEST(ForwardDecoder, FrameOverTheLimit) {
  const DecoderLimits limits{.max_frame_bytes = 1024};
  const auto big = packedFrame("pk", packedEntries(makeEntries(100)));
  ASSERT_GT(big.size(), 1024u);
  EXPECT_EQ(decode(big, limits).error, DecodeError::kFrameTooLarge);
  // A frame exactly at the limit is fine.
  const auto small = packedFrame("pk", packedEntries(makeEntries(3)));
  EXPECT_FALSE(decode(small, DecoderLimits{.max_frame_bytes = small.size()}).error);
  EXPECT_EQ(decode(small, DecoderLimits{.max_frame_bytes = small.size() - 1}).error,
            DecodeError::kFrameTooLarge);
}

TEST(ForwardDecoder, OversizedFrameIsRefusedFromItsHeaderAlone) {
  // A bin32 header announcing 100 MB: refused before the bytes arrive (nothing is buffered).
  const std::string head = std::string("\x92\xa1t\xc6", 4) + be32(100'000'000);
  ForwardDecoder d(DecoderLimits{.max_frame_bytes = 6 << 20});
  d.feed(head);
  DecodedMessage m;
  auto s = d.next(m);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().error, DecodeError::kFrameTooLarge);
}

TEST(ForwardDecoder, NonMapRecords) {
  Packer str;
  str.pk().pack(std::string("just a line"));
  EXPECT_EQ(decode(messageFrame("t", packTime(TimeFormat::kInt, 1), str.str())).error,
            DecodeError::kNonMapRecord);
  Packer arr;
  arr.pk().pack_array(1).pack(1);
  EXPECT_EQ(decode(forwardFrame("t", {{packTime(TimeFormat::kInt, 1), arr.str()}})).error,
            DecodeError::kNonMapRecord);
  Packer num;
  num.pk().pack(7);
  const Entries packed = {{packTime(TimeFormat::kInt, 1), record(1)},
                          {packTime(TimeFormat::kInt, 2), num.str()}};
  const auto r = decode(packedFrame("t", packedEntries(packed)));
  EXPECT_EQ(r.error, DecodeError::kNonMapRecord);
  EXPECT_TRUE(r.messages.empty()); // the message fails whole: no partial records
}

TEST(ForwardDecoder, BadTimes) {
  Packer str;
  str.pk().pack(std::string("2024-01-01"));
  EXPECT_EQ(decode(forwardFrame("t", {{str.str(), record(1)}})).error, DecodeError::kBadTime);
  Packer ext5;
  ext5.pk().pack_ext(8, 5);
  ext5.pk().pack_ext_body("\0\0\0\1\0\0\0\0", 8);
  EXPECT_EQ(decode(messageFrame("t", ext5.str(), record(1))).error, DecodeError::kBadTime);
  Packer ext4;
  ext4.pk().pack_ext(4, 0);
  ext4.pk().pack_ext_body("\0\0\0\1", 4);
  EXPECT_EQ(decode(messageFrame("t", ext4.str(), record(1))).error, DecodeError::kBadTime);
  EXPECT_EQ(decode(messageFrame("t", packTime(TimeFormat::kEventTime, 1, 1'000'000'000), record(1)))
                .error,
            DecodeError::kBadTime);
  Packer nan;
  nan.pk().pack_double(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(decode(messageFrame("t", nan.str(), record(1))).error, DecodeError::kBadTime);
  Packer huge;
  huge.pk().pack_uint64(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(decode(messageFrame("t", huge.str(), record(1))).error, DecodeError::kBadTime);
  Packer nil;
  nil.pk().pack_nil();
  EXPECT_EQ(decode(packedFrame("t", packedEntries({{nil.str(), record(1)}}))).error,
            DecodeError::kBadTime);
}

TEST(ForwardDecoder, BadOptions) {
  Packer chunk_int;
  chunk_int.pk().pack_map(1).pack(std::string("chunk")).pack(12);
  Packer frame;
  frame.pk().pack_array(4).pack(std::string("t"));
  frame.raw(packTime(TimeFormat::kInt, 1)).raw(record(1)).raw(chunk_int.str());
  EXPECT_EQ(decode(frame.str()).error, DecodeError::kBadOption);
  EXPECT_EQ(
      decode(packedFrame("t", packedEntries(makeEntries(1)), Options{.compressed = "zstd"})).error,
      DecodeError::kBadOption);
  // Message mode with a list where the option map goes.
  Packer with_list;
  with_list.pk().pack_array(4).pack(std::string("t"));
  with_list.raw(packTime(TimeFormat::kInt, 1)).raw(record(1));
  with_list.pk().pack_array(0);
  EXPECT_EQ(decode(with_list.str()).error, DecodeError::kBadOption);
  // A nil option is no option.
  Packer nil_option;
  nil_option.pk().pack_array(4).pack(std::string("t"));
  nil_option.raw(packTime(TimeFormat::kInt, 1)).raw(record(1));
  nil_option.pk().pack_nil();
  EXPECT_FALSE(decode(nil_option.str()).error);
}

TEST(ForwardDecoder, MalformedEntries) {
  Packer short_entry;
  short_entry.pk().pack_array(1);
  short_entry.raw(packTime(TimeFormat::kInt, 1));
  EXPECT_EQ(decode(packedFrame("t", short_entry.str())).error, DecodeError::kMalformed);
  // Packed entries cut in the middle of a record.
  auto payload = packedEntries(makeEntries(3));
  payload.resize(payload.size() - 5);
  EXPECT_EQ(decode(packedFrame("t", payload)).error, DecodeError::kMalformed);
  // A Forward entry that is not an array.
  Packer frame;
  frame.pk().pack_array(2).pack(std::string("t")).pack_array(1).pack(5);
  EXPECT_EQ(decode(frame.str()).error, DecodeError::kMalformed);
}

TEST(ForwardDecoder, DeepNestingIsRefused) {
  std::string deep;
  for (int i = 0; i < 500; ++i)
    deep.push_back('\x91');
  deep.push_back('\x01');
  EXPECT_EQ(decode(deep).error, DecodeError::kMalformed);
  // Inside an opaque PackedForward payload too.
  std::string inner = "\x92\x01\x81\xa1k";
  for (int i = 0; i < 500; ++i)
    inner.push_back('\x91');
  inner.push_back('\x01');
  EXPECT_EQ(decode(packedFrame("t", inner)).error, DecodeError::kMalformed);
}

TEST(ForwardDecoder, AnErrorIsFinal) {
  ForwardDecoder d;
  d.feed(std::string("\xc1", 1));
  DecodedMessage m;
  ASSERT_FALSE(d.next(m));
  d.feed(messageFrame("t", packTime(TimeFormat::kInt, 1), record(1)));
  auto s = d.next(m);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().error, DecodeError::kMalformed);
  EXPECT_TRUE(d.failed());
}

TEST(ForwardDecoder, ErrorReasonsAreMetricLabels) {
  EXPECT_EQ(decodeErrorReason(DecodeError::kMalformed), "malformed");
  EXPECT_EQ(decodeErrorReason(DecodeError::kUnknownMode), "unknown_mode");
  EXPECT_EQ(decodeErrorReason(DecodeError::kBadGzip), "bad_gzip");
  EXPECT_EQ(decodeErrorReason(DecodeError::kFrameTooLarge), "frame_too_large");
  EXPECT_EQ(decodeErrorReason(DecodeError::kBadTime), "bad_time");
  EXPECT_EQ(decodeErrorReason(DecodeError::kNonMapRecord), "non_map_record");
  EXPECT_EQ(decodeErrorReason(DecodeError::kBadOption), "bad_option");
}

// ---- Splits ------------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> framesOfEveryMode() {
  const auto entries = makeEntries(4);
  const Entries mixed = {{packTime(TimeFormat::kInt, 10), record(1)},
                         {packTime(TimeFormat::kFloat64, 11, 500000000), record(2)},
                         {packTime(TimeFormat::kExt8, 12, 7), record(3, std::string(300, 'x'))}};
  return {
      {"message", messageFrame("m.tag", packTime(TimeFormat::kEventTime, 1, 2), record(1))},
      {"message+options", messageFrame("m", packTime(TimeFormat::kInt, 1), record(2),
                                       Options{.chunk = "k", .size = 1})},
      {"forward", forwardFrame("f", mixed, Options{.chunk = "fw-chunk"})},
      {"packed", packedFrame("p", packedEntries(entries), Options{.chunk = "p1", .size = 4})},
      {"packed-str", packedFrame("p", packedEntries(mixed), std::nullopt, true)},
      {"compressed",
       packedFrame("c", gzip(packedEntries(entries)), Options{.chunk = "c", .compressed = "gzip"})},
      {"heartbeat+message",
       std::string("\xc0", 1) + messageFrame("h", packTime(TimeFormat::kInt, 1), record(1))},
  };
}

TEST(ForwardDecoder, EveryModeSplitAtEveryByteBoundary) {
  for (const auto& [name, frame] : framesOfEveryMode()) {
    SCOPED_TRACE(name);
    const Result whole = decode(frame);
    ASSERT_FALSE(whole.error);
    ASSERT_EQ(whole.messages.size(), 1u);
    for (size_t at = 1; at < frame.size(); ++at) {
      ASSERT_EQ(decodeSplit(frame, at), whole) << "split at " << at;
    }
    ASSERT_EQ(decodeBytewise(frame), whole);
  }
}

TEST(ForwardDecoder, AllModesBackToBackSplitAtEveryByteBoundary) {
  std::string stream;
  for (const auto& [name, frame] : framesOfEveryMode())
    stream += frame;
  const Result whole = decode(stream);
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.messages.size(), framesOfEveryMode().size());
  for (size_t at = 1; at < stream.size(); ++at) {
    ASSERT_EQ(decodeSplit(stream, at), whole) << "split at " << at;
  }
  ASSERT_EQ(decodeBytewise(stream), whole);
}

TEST(ForwardDecoder, ErrorsAreTheSameHoweverSplit) {
  const std::vector<std::string> bad = {
      messageFrame("t", packTime(TimeFormat::kInt, 1), record(1)) + std::string("\xc1", 1),
      packedFrame("gz", "not gzip", Options{.compressed = "gzip"}),
      messageFrame("t", packTime(TimeFormat::kEventTime, 1, 2'000'000'000), record(1)),
  };
  for (const auto& frame : bad) {
    const Result whole = decode(frame);
    ASSERT_TRUE(whole.error);
    for (size_t at = 1; at < frame.size(); ++at)
      ASSERT_EQ(decodeSplit(frame, at), whole);
  }
}

TEST(ForwardDecoder, FrameLimitHoldsHoweverSplit) {
  const auto frame = forwardFrame("f", makeEntries(30));
  const DecoderLimits limits{.max_frame_bytes = frame.size() - 1};
  for (size_t at = 1; at < frame.size(); ++at) {
    ASSERT_EQ(decodeSplit(frame, at, limits).error, DecodeError::kFrameTooLarge);
  }
}

TEST(ForwardDecoder, WantedTellsHowMuchOfALargeFrameIsMissing) {
  const std::string frame = packedFrame("app", packedEntries(makeEntries(500)));
  ForwardDecoder decoder;
  DecodedMessage out;
  decoder.feed(std::string_view(frame).substr(0, 3)); // not even the payload's length yet
  ASSERT_EQ(decoder.next(out).value(), ForwardDecoder::Status::kNeedMore);
  EXPECT_GE(decoder.wanted(), 1u);
  EXPECT_LT(decoder.wanted(), frame.size() - 3);
  decoder.feed(std::string_view(frame).substr(3, 97)); // the payload's length is known now
  ASSERT_EQ(decoder.next(out).value(), ForwardDecoder::Status::kNeedMore);
  EXPECT_EQ(decoder.wanted(), frame.size() - 100);
  decoder.feed(std::string_view(frame).substr(100, decoder.wanted()));
  ASSERT_EQ(decoder.next(out).value(), ForwardDecoder::Status::kMessage);
  EXPECT_EQ(out.records.size(), 500u);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(ForwardDecoder, SaysWhetherARecordHasAPartialMessageKey) {
  const auto decode = [](const std::string& map) {
    ForwardDecoder decoder;
    DecodedMessage out;
    decoder.feed(packedFrame("app", packedEntries({{packTime(TimeFormat::kEventTime, 1), record(1)},
                                                   {packTime(TimeFormat::kEventTime, 2), map}})));
    EXPECT_EQ(decoder.next(out).value(), ForwardDecoder::Status::kMessage);
    return out.has_partial;
  };
  EXPECT_TRUE(decode(ferry::test::packMap({{"log", "x"}, {"partial_message", "true"}})));
  // As a str8 key (a non-minimal encoding) too.
  EXPECT_TRUE(decode(std::string("\x81\xd9\x0fpartial_message\xa4true", 23)));
  // Not a top-level key: in a value, or nested deeper.
  EXPECT_FALSE(decode(ferry::test::packMap({{"log", "partial_message"}})));
  EXPECT_FALSE(decode(std::string("\x81\xa1m\x81\xafpartial_message\xc3", 21)));
  EXPECT_FALSE(decode(record(2)));
}

} // namespace
} // namespace ferry::input::forward
