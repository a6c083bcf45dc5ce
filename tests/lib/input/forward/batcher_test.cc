// Tests for ForwardBatcher: messages → batches by tag and size target, acks only after the
// push of every batch holding the message, and the max_record_bytes policies.
#include "ferry/input/forward_batcher.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

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
  for (int i = 0; i < 10; ++i) m.add(record);
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
  m.chunk("k").add(test::packMap({{"log", "small"}}), 1)
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
  for (int i = 0; i < 400; ++i) accented += "\xc3\xa9"; // é: two bytes each
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
      for (size_t i = 0; i < extra_fields; ++i) fields.emplace_back("f" + std::to_string(i), "v");
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

} // namespace
} // namespace ferry::input::forward
