// Tests for ForwardBatcher: messages → batches by tag and size target, acks only after the
// push of every batch holding the message, and the max_record_bytes policies.
#include "ferry/input/forward_batcher.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "forward_test_util.h"
#include "test_support.h"

namespace ferry::input::forward {
namespace {

// Builds DecodedMessages by hand (independent of the decoder).
class MessageBuilder {
public:
  MessageBuilder& tag(std::string t) {
    tag_ = std::move(t);
    return *this;
  }
  MessageBuilder& chunk(std::string c) {
    chunk_ = std::move(c);
    return *this;
  }
  MessageBuilder& add(std::string map, int64_t ts = 1) {
    maps_.push_back(std::move(map));
    times_.push_back(ts);
    return *this;
  }
  MessageBuilder& addN(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      add(test::packMap({{"log", "line " + std::to_string(i)}}), static_cast<int64_t>(i));
    }
    return *this;
  }
  const DecodedMessage& build() {
    records_.clear();
    size_t bytes = 0;
    for (size_t i = 0; i < maps_.size(); ++i) {
      records_.push_back({times_[i], maps_[i]});
      bytes += maps_[i].size();
    }
    msg_ = DecodedMessage{};
    msg_.mode = ForwardMode::kForward;
    msg_.tag = tag_;
    msg_.records = records_;
    msg_.record_bytes = bytes;
    if (chunk_) msg_.chunk = *chunk_;
    return msg_;
  }

private:
  std::string tag_ = "app";
  std::optional<std::string> chunk_;
  std::vector<std::string> maps_;
  std::vector<int64_t> times_;
  std::vector<DecodedRecord> records_;
  DecodedMessage msg_;
};

struct Sink {
  std::vector<core::BatchRef> batches;
  bool accept = true;
  ForwardBatcher::PushFn fn() {
    return [this](core::BatchRef b) {
      if (!accept) return false;
      batches.push_back(std::move(b));
      return true;
    };
  }
};

TEST(ForwardBatcher, AThousandRecordMessageBecomesOneBatchAckedAfterItsPush) {
  BatcherSettings settings;
  settings.input_id = 3;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder m;
  ASSERT_TRUE(b.add(m.chunk("c1").addN(1000).build()));
  EXPECT_TRUE(sink.batches.empty());
  EXPECT_TRUE(b.readyAcks().empty()); // not pushed yet: no ack
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 1u);
  const auto& batch = *sink.batches[0];
  EXPECT_EQ(batch.size(), 1000u);
  EXPECT_EQ(batch.tag(), "app");
  EXPECT_EQ(batch.format(), core::RecordFormat::kMsgpackMap);
  EXPECT_EQ(batch.inputId(), 3u);
  EXPECT_EQ(batch.record(999).data, test::packMap({{"log", "line 999"}}));
  EXPECT_EQ(batch.record(999).timestamp_ns, 999);
  EXPECT_EQ(b.readyAcks(), std::vector<std::string>{"c1"});
}

TEST(ForwardBatcher, AckWaitsForEveryBatchOfABigMessage) {
  BatcherSettings settings;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder m;
  ASSERT_TRUE(b.add(m.chunk("big").addN(3000).build()));
  ASSERT_EQ(sink.batches.size(), 2u); // pushed as they filled
  EXPECT_EQ(sink.batches[0]->size(), core::Batch::kTargetRecords);
  EXPECT_TRUE(b.readyAcks().empty()); // the last batch is not pushed yet
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 3u);
  EXPECT_EQ(sink.batches[0]->size() + sink.batches[1]->size() + sink.batches[2]->size(), 3000u);
  EXPECT_EQ(b.readyAcks(), std::vector<std::string>{"big"});
}

TEST(ForwardBatcher, SmallMessagesOfOneTagShareABatch) {
  BatcherSettings settings;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  for (int i = 0; i < 10; ++i) {
    MessageBuilder m;
    ASSERT_TRUE(b.add(m.chunk("c" + std::to_string(i)).addN(1).build()));
  }
  EXPECT_TRUE(sink.batches.empty());
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0]->size(), 10u);
  ASSERT_EQ(b.readyAcks().size(), 10u);
  EXPECT_EQ(b.readyAcks().front(), "c0");
  EXPECT_EQ(b.readyAcks().back(), "c9");
}

TEST(ForwardBatcher, ATagChangeStartsANewBatch) {
  BatcherSettings settings;
  settings.tag_prefix = "ecs.";
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder a1, a2, other;
  ASSERT_TRUE(b.add(a1.tag("a").chunk("1").addN(2).build()));
  ASSERT_TRUE(b.add(a2.tag("a").chunk("2").addN(2).build()));
  ASSERT_TRUE(b.add(other.tag("b").chunk("3").addN(2).build()));
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0]->tag(), "ecs.a");
  EXPECT_EQ(sink.batches[0]->size(), 4u);
  EXPECT_EQ(b.readyAcks(), (std::vector<std::string>{"1", "2"}));
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[1]->tag(), "ecs.b");
  EXPECT_EQ(b.readyAcks().back(), "3");
}

TEST(ForwardBatcher, AMessageThatFitsABatchAloneIsNotSplit) {
  BatcherSettings settings;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder first, second;
  ASSERT_TRUE(b.add(first.addN(600).build()));
  ASSERT_TRUE(b.add(second.addN(600).build()));
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[0]->size(), 600u);
  EXPECT_EQ(sink.batches[1]->size(), 600u);
}

TEST(ForwardBatcher, ByteTargetBoundsABatch) {
  BatcherSettings settings;
  settings.target_bytes = 1000;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder m;
  const std::string record = std::string("\x81\xa1k\xda\x01\x00", 6) + std::string(256, 'v');
  for (int i = 0; i < 10; ++i)
    m.add(record);
  ASSERT_TRUE(b.add(m.build()));
  ASSERT_TRUE(b.flush());
  ASSERT_GT(sink.batches.size(), 1u);
  size_t total = 0;
  for (const auto& batch : sink.batches) {
    // A batch may pass the target by one record, never more.
    EXPECT_LE(batch->buffer().size(), 1000u + 262u);
    total += batch->size();
  }
  EXPECT_EQ(total, 10u);
}

TEST(ForwardBatcher, OversizedRecordsAreDroppedAndCounted) {
  obs::Counter dropped;
  BatcherSettings settings;
  settings.max_record_bytes = 100;
  settings.dropped = &dropped;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder m;
  m.chunk("k")
      .add(test::packMap({{"log", "small"}}), 1)
      .add(test::packMap({{"log", std::string(200, 'x')}}), 2)
      .add(test::packMap({{"log", "small too"}}), 3);
  ASSERT_TRUE(b.add(m.build()));
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 1u);
  ASSERT_EQ(sink.batches[0]->size(), 2u);
  EXPECT_EQ(sink.batches[0]->record(1).timestamp_ns, 3);
  EXPECT_EQ(dropped.value(), 1u);
  EXPECT_EQ(b.readyAcks(), std::vector<std::string>{"k"}); // the drop was by a limit: acked
}

std::map<std::string, msgpack::object> asMap(const msgpack::object& o) {
  std::map<std::string, msgpack::object> out;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    out[o.via.map.ptr[i].key.as<std::string>()] = o.via.map.ptr[i].val;
  }
  return out;
}

TEST(ForwardBatcher, OversizedRecordsAreTruncatedWhenAsked) {
  obs::Counter truncated, dropped;
  BatcherSettings settings;
  settings.max_record_bytes = 300;
  settings.record_too_large = RecordTooLarge::kTruncate;
  settings.truncated = &truncated;
  settings.dropped = &dropped;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  std::string accented;
  for (int i = 0; i < 400; ++i)
    accented += "\xc3\xa9"; // é: two bytes each
  MessageBuilder m;
  m.add(test::packMap({{"source", "stdout"}, {"log", accented}, {"container_id", "abc"}}));
  m.add(test::packMap({{"message", std::string(400, 'x')}})); // no `log`: dropped
  ASSERT_TRUE(b.add(m.build()));
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 1u);
  ASSERT_EQ(sink.batches[0]->size(), 1u);
  const auto data = sink.batches[0]->record(0).data;
  EXPECT_LE(data.size(), 300u);
  EXPECT_GT(data.size(), 250u); // cut close to the limit, not to nothing
  auto oh = msgpack::unpack(data.data(), data.size());
  ASSERT_EQ(oh.get().type, msgpack::type::MAP);
  auto fields = asMap(oh.get());
  EXPECT_EQ(fields["source"].as<std::string>(), "stdout");
  EXPECT_EQ(fields["container_id"].as<std::string>(), "abc");
  EXPECT_TRUE(fields["ferry.truncated"].as<bool>());
  const auto log = fields["log"].as<std::string>();
  EXPECT_EQ(log.size() % 2, 0u); // no é cut in half
  EXPECT_EQ(accented.compare(0, log.size(), log), 0);
  EXPECT_EQ(truncated.value(), 1u);
  EXPECT_EQ(dropped.value(), 1u);
}

TEST(ForwardBatcher, TruncateRecordFitsEveryLimit) {
  // Sizes around the str header boundaries (31, 255, 65535) and the fixmap boundary (15).
  for (size_t log_size : {40u, 300u, 70000u}) {
    for (size_t extra_fields : {0u, 14u, 15u}) {
      std::vector<std::pair<std::string, std::string>> fields = {
          {"log", std::string(log_size, 'a')}};
      for (size_t i = 0; i < extra_fields; ++i)
        fields.emplace_back("f" + std::to_string(i), "v");
      const auto map = test::packMap(fields);
      for (size_t max = map.size() - 1; max + 80 > map.size() && max > 20; --max) {
        core::ByteBuffer out;
        if (!truncateRecord(map, max, out)) continue; // only when even an empty log won't fit
        ASSERT_LE(out.size(), max) << log_size << " " << extra_fields;
        auto oh = msgpack::unpack(out.data(), out.size());
        ASSERT_EQ(oh.get().via.map.size, extra_fields + 2);
      }
    }
  }
}

TEST(ForwardBatcher, TruncateRecordRefusesWhatCannotFit) {
  core::ByteBuffer out;
  const auto no_log = test::packMap({{"message", std::string(100, 'x')}});
  EXPECT_FALSE(truncateRecord(no_log, 50, out));
  const auto big_other = test::packMap({{"log", "x"}, {"other", std::string(100, 'y')}});
  EXPECT_FALSE(truncateRecord(big_other, 50, out));
  EXPECT_EQ(out.size(), 0u);
}

TEST(ForwardBatcher, ARefusedPushAcksNothingMore) {
  BatcherSettings settings;
  Sink sink;
  sink.accept = false;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder m;
  ASSERT_TRUE(b.add(m.chunk("lost").addN(3).build()));
  EXPECT_FALSE(b.flush());
  EXPECT_TRUE(b.readyAcks().empty());
  EXPECT_TRUE(b.refused());
  MessageBuilder again;
  EXPECT_FALSE(b.add(again.chunk("later").addN(1).build()));
  EXPECT_TRUE(b.readyAcks().empty());
}

TEST(ForwardBatcher, AnEmptyMessageIsAckedInOrder) {
  BatcherSettings settings;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder empty_first;
  ASSERT_TRUE(b.add(empty_first.chunk("e1").build()));
  EXPECT_EQ(b.readyAcks(), std::vector<std::string>{"e1"}); // nothing to wait for
  b.readyAcks().clear();
  MessageBuilder full, empty_after;
  ASSERT_TRUE(b.add(full.chunk("f").addN(2).build()));
  ASSERT_TRUE(b.add(empty_after.chunk("e2").build()));
  EXPECT_TRUE(b.readyAcks().empty()); // behind "f", which is not pushed yet
  ASSERT_TRUE(b.flush());
  EXPECT_EQ(b.readyAcks(), (std::vector<std::string>{"f", "e2"}));
}

TEST(ForwardBatcher, BatchesCarryThePartialHint) {
  BatcherSettings settings;
  Sink sink;
  ForwardBatcher b(settings, sink.fn());
  MessageBuilder plain;
  ASSERT_TRUE(b.add(plain.tag("a").addN(2).build()));
  MessageBuilder split;
  DecodedMessage with_partial = split.tag("b").addN(2).build();
  with_partial.has_partial = true;
  ASSERT_TRUE(b.add(with_partial));
  ASSERT_TRUE(b.flush());
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[0]->partialHint(), core::Batch::PartialHint::kNone);
  EXPECT_EQ(sink.batches[1]->partialHint(), core::Batch::PartialHint::kSome);
}

// ---- Zero-copy: a large message keeps the decoder's bytes ------------------------------

using namespace ferry::input::forward::testing;

// Entries whose records are `bytes` long each (a `log` of x's), so a frame crosses the
// decoder's min_take_bytes with few records.
Entries bigEntries(int n, size_t bytes = 600) {
  Entries e = makeEntries(n);
  for (int i = 0; i < n; ++i) {
    e[static_cast<size_t>(i)].second =
        record(i, std::string(bytes, static_cast<char>('a' + i % 26)));
  }
  return e;
}

// Decodes `wire` (fed at once), adding every message with the decoder as source; returns the
// batches pushed.
struct ZeroCopyRun {
  BatcherSettings settings;
  Sink sink;
  ForwardDecoder decoder;
  ForwardBatcher batcher{settings, sink.fn()};
  DecodedMessage message;
  size_t messages = 0;

  void feedAndDrain(std::string_view wire) {
    decoder.feed(wire);
    while (true) {
      auto status = decoder.next(message);
      ASSERT_TRUE(status.has_value()) << status.error().detail;
      if (*status == ForwardDecoder::Status::kNeedMore) break;
      ++messages;
      ASSERT_TRUE(batcher.add(message, &decoder));
    }
    ASSERT_TRUE(batcher.flush());
  }
};

void expectRecords(const core::Batch& batch, const Entries& entries, size_t first) {
  for (size_t i = 0; i < batch.size(); ++i) {
    ASSERT_EQ(batch.record(i).data, entries[first + i].second) << "record " << first + i;
  }
}

TEST(ForwardBatcherZeroCopy, APackedFrameBecomesABatchOverTheReceivedBytes) {
  ZeroCopyRun run;
  const Entries first = bigEntries(100), second = bigEntries(100);
  const std::string frame1 = packedFrame("app", packedEntries(first), Options{.chunk = "k1"});
  const std::string frame2 = packedFrame("app", packedEntries(second), Options{.chunk = "k2"});
  // The first frame and a few bytes of the second arrive together; the rest later.
  run.feedAndDrain(frame1 + frame2.substr(0, 100));
  ASSERT_EQ(run.sink.batches.size(), 1u);
  const core::Batch& b1 = *run.sink.batches[0];
  ASSERT_EQ(b1.size(), 100u);
  expectRecords(b1, first, 0);
  // The batch holds the frame as received (header and times around the records), not more:
  // the bytes of the next frame were moved out.
  EXPECT_EQ(b1.buffer().size(), frame1.size());
  EXPECT_EQ(b1.buffer().view(), frame1);
  EXPECT_EQ(run.batcher.readyAcks(), std::vector<std::string>{"k1"});
  run.batcher.readyAcks().clear();
  run.feedAndDrain(frame2.substr(100));
  ASSERT_EQ(run.sink.batches.size(), 2u);
  ASSERT_EQ(run.sink.batches[1]->size(), 100u);
  expectRecords(*run.sink.batches[1], second, 0);
  EXPECT_EQ(run.batcher.readyAcks(), std::vector<std::string>{"k2"});
  EXPECT_EQ(run.decoder.buffered(), 0u);
}

TEST(ForwardBatcherZeroCopy, ACompressedFrameKeepsTheInflatedPayload) {
  ZeroCopyRun run;
  const Entries entries = bigEntries(80);
  const std::string payload = packedEntries(entries);
  run.feedAndDrain(packedFrame("app", gzip(payload), Options{.compressed = "gzip"}) +
                   packedFrame("app", gzip(payload), Options{.compressed = "gzip"}));
  ASSERT_EQ(run.sink.batches.size(), 2u);
  for (const auto& batch : run.sink.batches) {
    ASSERT_EQ(batch->size(), 80u);
    expectRecords(*batch, entries, 0);
    EXPECT_EQ(batch->buffer().view(), payload);
  }
}

TEST(ForwardBatcherZeroCopy, FramesBehindTheTakenOneStillDecode) {
  // Many frames in one feed: when the bytes after a frame outweigh it, it is copied instead;
  // either way every record arrives once, in order.
  ZeroCopyRun run;
  std::string wire;
  std::vector<Entries> sent;
  for (int f = 0; f < 6; ++f) {
    sent.push_back(bigEntries(60 + f));
    wire += packedFrame("app", packedEntries(sent.back()));
  }
  run.feedAndDrain(wire);
  ASSERT_EQ(run.messages, 6u);
  std::vector<std::string> got, want;
  for (const auto& b : run.sink.batches) {
    for (size_t i = 0; i < b->size(); ++i)
      got.emplace_back(b->record(i).data);
  }
  for (const auto& e : sent) {
    for (const auto& [t, m] : e)
      want.push_back(m);
  }
  EXPECT_EQ(got, want);
  // Each frame had the others around it in the receive buffer: all were copied, none taken,
  // so the batches hold the records' bytes and nothing else.
  size_t held = 0, records = 0;
  for (const auto& b : run.sink.batches)
    held += b->buffer().size();
  for (const auto& r : want)
    records += r.size();
  EXPECT_EQ(held, records);
}

TEST(ForwardBatcherZeroCopy, SmallFramesAndOversizedRecordsAreCopied) {
  ZeroCopyRun run;
  run.settings.max_record_bytes = 500;
  run.settings.record_too_large = RecordTooLarge::kDrop;
  const Entries small = makeEntries(10);     // under min_take_bytes: copied, shares a batch
  const Entries oversized = bigEntries(100); // records of ~650 bytes > 500: dropped
  run.feedAndDrain(packedFrame("app", packedEntries(small)) +
                   packedFrame("app", packedEntries(oversized)));
  ASSERT_EQ(run.sink.batches.size(), 1u);
  ASSERT_EQ(run.sink.batches[0]->size(), 10u);
  expectRecords(*run.sink.batches[0], small, 0);
  // Copied records only: no frame bytes around them.
  size_t bytes = 0;
  for (const auto& [t, m] : small)
    bytes += m.size();
  EXPECT_EQ(run.sink.batches[0]->buffer().size(), bytes);
}

TEST(ForwardBatcherZeroCopy, TheBatchBeingFilledIsPushedFirst) {
  ZeroCopyRun run;
  const Entries small = makeEntries(3);
  const Entries big = bigEntries(100);
  run.feedAndDrain(messageFrame("app", small[0].first, small[0].second, Options{.chunk = "m"}) +
                   packedFrame("other", packedEntries(big), Options{.chunk = "p"}));
  ASSERT_EQ(run.sink.batches.size(), 2u);
  EXPECT_EQ(run.sink.batches[0]->tag(), "app");
  EXPECT_EQ(run.sink.batches[0]->size(), 1u);
  EXPECT_EQ(run.sink.batches[1]->tag(), "other");
  expectRecords(*run.sink.batches[1], big, 0);
  EXPECT_EQ(run.batcher.readyAcks(), (std::vector<std::string>{"m", "p"}));
}

} // namespace
} // namespace ferry::input::forward
