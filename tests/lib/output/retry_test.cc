// The retry policies on their own, with made-up clocks: backoff bounds, the output's retry
// gate (one probe at the backoff rate while the sink fails, released by its first answer),
// and adaptive concurrency (grows while latency holds, halves on throttling, within its cap).
#include "ferry/output/retry.h"

#include <gtest/gtest.h>

namespace ferry::output {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Backoff, DoublesWithEqualJitterUpToItsCap) {
  Backoff b({0, 100, 1000}, 42);
  for (int round = 0; round < 200; ++round) {
    for (uint32_t n = 1; n <= 8; ++n) {
      const int64_t d = std::min<int64_t>(100ll << (n - 1), 1000);
      const auto got = b.delay(n).count();
      ASSERT_GE(got, d / 2) << "attempt " << n;
      ASSERT_LE(got, d) << "attempt " << n;
    }
  }
  EXPECT_LE(b.delay(4000000000u).count(), 1000) << "a huge attempt count overflowed the cap";
  EXPECT_GE(b.delay(0).count(), 50) << "no attempt yet counts as the first";
}

TEST(Backoff, ExhaustedOnlyWithABudget) {
  Backoff forever({0, 1, 1}, 1);
  EXPECT_FALSE(forever.exhausted(1000000));
  Backoff three({3, 1, 1}, 1);
  EXPECT_FALSE(three.exhausted(2));
  EXPECT_TRUE(three.exhausted(3));
}

TEST(RetryGate, OneProbeAtATimeAtTheBackoffRateWhileTheSinkFails) {
  Backoff b({0, 100, 400}, 7);
  RetryGate gate(b);
  const auto t0 = Clock::now();
  EXPECT_TRUE(gate.maySend(t0));
  // Four requests are out when the sink starts failing.
  for (uint64_t id = 1; id <= 4; ++id)
    gate.sent(id);
  const auto first = gate.failed(1, t0, 0ms);
  EXPECT_TRUE(gate.failing());
  EXPECT_GE(first - t0, 50ms);
  EXPECT_LE(first - t0, 100ms);
  // The others were sent before the outage was seen: they wait for the same probe time and
  // do not push it further.
  EXPECT_EQ(gate.failed(2, t0 + 1ms, 0ms), first);
  EXPECT_EQ(gate.failed(3, t0 + 2ms, 0ms), first);
  EXPECT_EQ(gate.failures(), 1u);
  EXPECT_FALSE(gate.maySend(first - 1ms));
  EXPECT_TRUE(gate.maySend(first));
  gate.sent(9); // the probe
  EXPECT_FALSE(gate.maySend(first + 1h)) << "a second request went out while the probe was";
  // A late failure of a request sent before the outage does not count as the probe's.
  EXPECT_EQ(gate.failed(4, first + 1ms, 0ms), first);
  EXPECT_TRUE(gate.probing());
  const auto second = gate.failed(9, first + 2ms, 0ms);
  EXPECT_EQ(gate.failures(), 2u);
  EXPECT_GE(second - (first + 2ms), 100ms);
  EXPECT_LE(second - (first + 2ms), 200ms);
  // The delay between probes is capped.
  auto at = second;
  for (uint64_t id = 10; id < 20; ++id) {
    ASSERT_TRUE(gate.maySend(at));
    gate.sent(id);
    const auto next = gate.failed(id, at, 0ms);
    ASSERT_LE(next - at, 400ms);
    ASSERT_GE(next - at, 200ms);
    at = next;
  }
}

TEST(RetryGate, HonoursRetryAfterAndTheFirstAnswerEndsTheOutage) {
  Backoff b({0, 10, 20}, 3);
  RetryGate gate(b);
  const auto t0 = Clock::now();
  gate.sent(1);
  EXPECT_EQ(gate.failed(1, t0, 5s), t0 + 5s) << "Retry-After longer than the backoff wins";
  gate.sent(2);
  // Another request's Retry-After pushes the probe time out too.
  EXPECT_EQ(gate.failed(3, t0 + 1s, 7s), t0 + 8s);
  EXPECT_TRUE(gate.answered()) << "there was an outage to end";
  EXPECT_FALSE(gate.failing());
  EXPECT_FALSE(gate.probing());
  EXPECT_TRUE(gate.maySend(t0));
  EXPECT_FALSE(gate.answered()) << "no outage to end";
}

TEST(RetryGate, AProbeThatEndsWithoutAnAnswerLetsTheNextOneGo) {
  Backoff b({0, 10, 10}, 3);
  RetryGate gate(b);
  const auto t0 = Clock::now();
  gate.sent(1);
  const auto at = gate.failed(1, t0, 0ms);
  gate.sent(2);
  EXPECT_FALSE(gate.maySend(at + 1s));
  gate.forget(2); // given up, or split into new requests
  EXPECT_TRUE(gate.maySend(at));
  EXPECT_TRUE(gate.failing());
}

TEST(ConcurrencyLimit, GrowsWhileLatencyHoldsHalvesOnBackpressureNeverAboveItsCap) {
  ConcurrencyLimit c(0, 16);
  EXPECT_EQ(c.current(), 4u);
  for (int i = 0; i < 2000; ++i)
    c.onSuccess(10ms, c.current());
  EXPECT_EQ(c.current(), 16u) << "steady latency with the limit in use should grow it to its cap";
  c.onBackpressure();
  EXPECT_EQ(c.current(), 8u);
  c.onBackpressure();
  EXPECT_EQ(c.current(), 4u);
  for (int i = 0; i < 10; ++i)
    c.onBackpressure();
  EXPECT_EQ(c.current(), 1u) << "never below one request in flight";
}

TEST(ConcurrencyLimit, DoesNotGrowWhenLatencyDegradesOrTheLimitIsNotInUse) {
  ConcurrencyLimit idle(0, 64);
  for (int i = 0; i < 500; ++i)
    idle.onSuccess(10ms, 0);
  EXPECT_EQ(idle.current(), 4u) << "grew although one request in flight never met the limit";
  ConcurrencyLimit slow(0, 64);
  slow.onSuccess(10ms, 3);
  for (int i = 0; i < 500; ++i)
    slow.onSuccess(100ms, slow.current());
  EXPECT_LE(slow.current(), 5u) << "grew while latency was ten times its best";
}

TEST(ConcurrencyLimit, AFixedLimitNeverMoves) {
  ConcurrencyLimit c(6, 0);
  for (int i = 0; i < 500; ++i)
    c.onSuccess(1ms, 6);
  c.onBackpressure();
  EXPECT_EQ(c.current(), 6u);
  EXPECT_FALSE(c.adaptive());
  ConcurrencyLimit small_cap(0, 2);
  EXPECT_EQ(small_cap.current(), 2u) << "the initial limit is clamped to the cap";
}

} // namespace
} // namespace ferry::output
