// The ingestion ring: exactly-once delivery with many producers, per-producer order, and
// blocking (never dropping) when full. Also run under ThreadSanitizer in CI.
#include "ferry/core/ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ferry::core {
namespace {

TEST(RingTest, RejectsCapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(MpscRing<uint64_t>(3), std::invalid_argument);
  EXPECT_THROW(MpscRing<uint64_t>(1), std::invalid_argument);
  EXPECT_NO_THROW(MpscRing<uint64_t>(4));
}

TEST(RingTest, FifoForOneProducer) {
  MpscRing<uint64_t> ring(8);
  for (uint64_t i = 0; i < 8; ++i)
    ASSERT_TRUE(ring.tryPush(i));
  EXPECT_FALSE(ring.tryPush(99)) << "a full ring must refuse, not overwrite";
  EXPECT_EQ(ring.sizeApprox(), 8u);
  for (uint64_t i = 0; i < 8; ++i) {
    uint64_t v = 0;
    ASSERT_TRUE(ring.tryPop(v));
    EXPECT_EQ(v, i);
  }
  uint64_t v;
  EXPECT_FALSE(ring.tryPop(v));
}

TEST(RingTest, WrapsAroundManyLaps) {
  MpscRing<uint64_t> ring(4);
  for (uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(ring.tryPush(i));
    uint64_t v = 0;
    ASSERT_TRUE(ring.tryPop(v));
    ASSERT_EQ(v, i);
  }
}

// Many producers, one consumer: every item exactly once, each producer's items in order.
void runProducers(int producers, size_t capacity, uint64_t per_producer) {
  MpscRing<uint64_t> ring(capacity);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (uint64_t i = 0; i < per_producer; ++i) {
        ASSERT_TRUE(ring.push((static_cast<uint64_t>(p) << 32) | i));
      }
    });
  }
  std::vector<uint64_t> next(producers, 0);
  uint64_t received = 0;
  const uint64_t total = per_producer * producers;
  while (received < total) {
    uint64_t v = 0;
    if (!ring.popWait(v, std::chrono::seconds(10))) {
      FAIL() << "consumer starved after " << received << " of " << total;
    }
    const auto p = static_cast<int>(v >> 32);
    const uint64_t i = v & 0xffffffff;
    ASSERT_LT(p, producers);
    ASSERT_EQ(i, next[p]) << "producer " << p << " out of order or duplicated";
    ++next[p];
    ++received;
  }
  for (auto& t : threads)
    t.join();
  uint64_t extra;
  EXPECT_FALSE(ring.tryPop(extra)) << "more items than were pushed";
  for (int p = 0; p < producers; ++p)
    EXPECT_EQ(next[p], per_producer);
}

TEST(RingTest, OneProducerExactlyOnceInOrder) {
  runProducers(1, 64, 200000);
}
TEST(RingTest, FourProducersExactlyOnceInOrder) {
  runProducers(4, 64, 50000);
}
TEST(RingTest, EightProducersTinyRing) {
  runProducers(8, 2, 5000);
}

TEST(RingTest, FullRingBlocksProducerUntilConsumerFreesASlot) {
  MpscRing<uint64_t> ring(2);
  ASSERT_TRUE(ring.tryPush(1));
  ASSERT_TRUE(ring.tryPush(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    ring.push(3);
    pushed.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(pushed.load()) << "push returned while the ring was full";
  uint64_t v = 0;
  ASSERT_TRUE(ring.tryPop(v));
  EXPECT_EQ(v, 1u);
  producer.join();
  EXPECT_TRUE(pushed.load());
  ASSERT_TRUE(ring.tryPop(v));
  EXPECT_EQ(v, 2u);
  ASSERT_TRUE(ring.tryPop(v));
  EXPECT_EQ(v, 3u) << "the blocked item was dropped or reordered";
}

TEST(RingTest, CancelledPushGivesUpWithoutEnqueueing) {
  MpscRing<uint64_t> ring(2);
  ASSERT_TRUE(ring.tryPush(1));
  ASSERT_TRUE(ring.tryPush(2));
  std::atomic<bool> cancel{false};
  std::atomic<int> result{-1};
  std::thread producer([&] { result.store(ring.push(3, &cancel) ? 1 : 0); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  cancel.store(true);
  producer.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_EQ(ring.sizeApprox(), 2u);
}

TEST(RingTest, PopWaitWakesOnPushAndTimesOutWhenEmpty) {
  MpscRing<uint64_t> ring(8);
  uint64_t v = 0;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(ring.popWait(v, std::chrono::milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(45));
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ring.push(42);
  });
  EXPECT_TRUE(ring.popWait(v, std::chrono::seconds(10)));
  EXPECT_EQ(v, 42u);
  producer.join();
}

} // namespace
} // namespace ferry::core
