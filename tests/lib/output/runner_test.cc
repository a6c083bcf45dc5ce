// Output runner against a scripted in-process plugin (LOCAL transport): batching by the
// plugin's limits, verdict handling (retry, drop, split, partial), retry budget, shutdown
// deadline, finalizers and the byte budget; and against a slow HTTP sink with many requests
// allowed in flight: the bodies of encoded requests count in the budget and are capped.
#include "ferry/output/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "http_test_server.h"
#include "scripted_sink.h"

namespace ferry::output {
namespace {

using namespace std::chrono_literals;

TEST_F(RunnerTest, DeliversEverythingInOrderWithinThePluginLimits) {
  script_.max_records = 7;
  auto r = makeRunner();
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kFailed;
  int calls = 0;
  send(*r, 20, "a", &outcome, &calls);
  send(*r, 5, "b", nullptr, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, core::BatchOutcome::kDelivered);
  std::vector<std::string> all;
  for (auto& req : script_.delivered) {
    EXPECT_LE(req.size(), 7u) << "a request exceeded the plugin's max_records";
    all.insert(all.end(), req.begin(), req.end());
  }
  ASSERT_EQ(all.size(), 25u);
  for (size_t i = 0; i < 20; ++i)
    EXPECT_EQ(all[i], "a" + std::to_string(i));
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(all[20 + i], "b" + std::to_string(i));
  EXPECT_EQ(count("sent"), 25u);
  EXPECT_EQ(r->bufferedBytes(), 0u);
}

TEST_F(RunnerTest, FlushIntervalSendsAPartialRequestWithoutShutdown) {
  auto r = makeRunner();
  r->start();
  int calls = 0;
  send(*r, 3, "x", nullptr, &calls);
  for (int i = 0; i < 200 && calls == 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(calls, 1) << "3 records below max_records were never flushed";
  r->finish(std::chrono::steady_clock::now() + 1s);
  r->join();
}

TEST_F(RunnerTest, RetriesUntilDeliveredAndCountsRetries) {
  script_.verdicts = {verdict(FERRY_VERDICT_RETRY), verdict(FERRY_VERDICT_RETRY)};
  auto r = makeRunner({0, 1, 5});
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kFailed;
  send(*r, 4, "r", &outcome, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(outcome, core::BatchOutcome::kDelivered);
  EXPECT_EQ(script_.attempt_sizes.size(), 3u);
  EXPECT_EQ(metrics_.counterValue("ferry_output_retries_total", {{"output", "scripted"}}), 2u);
  EXPECT_EQ(count("sent"), 4u);
}

TEST_F(RunnerTest, DropVerdictDropsOnlyThatRequestAndCountsIt) {
  script_.max_records = 5;
  script_.verdicts = {verdict(FERRY_VERDICT_DROP)};
  auto r = makeRunner();
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kDelivered;
  send(*r, 10, "d", &outcome, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(count("dropped"), 5u);
  EXPECT_EQ(givenUp("refused"), 1u);
  EXPECT_EQ(givenUp("retries_exhausted"), 0u);
  EXPECT_EQ(count("sent"), 5u);
  EXPECT_EQ(outcome, core::BatchOutcome::kDropped);
  EXPECT_EQ(script_.attempt_sizes.size(), 2u) << "a dropped request must never be retried";
}

TEST_F(RunnerTest, SplitVerdictResendsTheRecordsInHalves) {
  script_.max_records = 8;
  script_.verdicts = {verdict(FERRY_VERDICT_SPLIT)};
  auto r = makeRunner();
  r->start();
  send(*r, 8, "s", nullptr, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  ASSERT_EQ(script_.attempt_sizes.size(), 3u);
  EXPECT_EQ(script_.attempt_sizes[0], 8u);
  EXPECT_EQ(script_.attempt_sizes[1], 4u);
  EXPECT_EQ(script_.attempt_sizes[2], 4u);
  ASSERT_EQ(script_.delivered.size(), 2u);
  EXPECT_EQ(script_.delivered[0].front(), "s0");
  EXPECT_EQ(script_.delivered[1].front(), "s4");
  EXPECT_EQ(count("sent"), 8u);
}

TEST_F(RunnerTest, SplitOfASingleRecordDropsIt) {
  script_.verdicts = {verdict(FERRY_VERDICT_SPLIT)};
  auto r = makeRunner();
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kDelivered;
  send(*r, 1, "big", &outcome, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(count("dropped"), 1u);
  EXPECT_EQ(outcome, core::BatchOutcome::kDropped);
}

TEST_F(RunnerTest, PartialVerdictResendsOnlyTheRest) {
  auto v = verdict(FERRY_VERDICT_PARTIAL);
  v.records_delivered = 7;
  script_.verdicts = {v};
  auto r = makeRunner();
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kFailed;
  send(*r, 10, "p", &outcome, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  ASSERT_EQ(script_.attempt_sizes.size(), 2u);
  EXPECT_EQ(script_.attempt_sizes[1], 3u) << "the resend must carry only the failed records";
  EXPECT_EQ(count("sent"), 10u);
  EXPECT_EQ(outcome, core::BatchOutcome::kDelivered);
}

// A request the sink narrowed (PARTIAL) and then found too large (SPLIT) is split into
// what it still holds: the records already delivered are neither sent nor counted again.
TEST_F(RunnerTest, SplitAfterPartialSendsOnlyWhatIsLeftAndCountsEachRecordOnce) {
  auto partial = verdict(FERRY_VERDICT_PARTIAL);
  partial.records_delivered = 4;
  partial.records_dropped = 1;
  script_.verdicts = {partial, verdict(FERRY_VERDICT_SPLIT)};
  auto r = makeRunner({0, 1, 5});
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kFailed;
  int calls = 0;
  send(*r, 10, "q", &outcome, &calls);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  std::multiset<std::string> all;
  for (auto& req : script_.delivered)
    all.insert(req.begin(), req.end());
  EXPECT_EQ(all.size(), 9u) << "the dropped record must not be sent again, nor any delivered one";
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size())
      << "a record was delivered twice";
  EXPECT_EQ(all.count("q4"), 0u);
  EXPECT_EQ(count("sent"), 9u);
  EXPECT_EQ(count("dropped"), 1u);
  EXPECT_EQ(count("failed"), 0u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, core::BatchOutcome::kDropped);
  ASSERT_GE(script_.attempt_sizes.size(), 3u);
  EXPECT_EQ(script_.attempt_sizes[1], 5u) << "the split request held the 5 records left";
  EXPECT_EQ(r->bufferedBytes(), 0u);
}

TEST_F(RunnerTest, RetryBudgetExhaustedFailsAndCounts) {
  script_.verdicts = {verdict(FERRY_VERDICT_RETRY), verdict(FERRY_VERDICT_RETRY),
                      verdict(FERRY_VERDICT_RETRY)};
  auto r = makeRunner({2, 1, 2});
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kDelivered;
  send(*r, 3, "f", &outcome, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(script_.attempt_sizes.size(), 2u);
  EXPECT_EQ(count("failed"), 3u);
  EXPECT_EQ(givenUp("retries_exhausted"), 1u);
  EXPECT_EQ(givenUp("refused"), 0u);
  EXPECT_EQ(outcome, core::BatchOutcome::kFailed);
}

TEST_F(RunnerTest, ShutdownDeadlineGivesUpAndReportsExactlyWhatIsLost) {
  for (int i = 0; i < 1000; ++i)
    script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  script_.max_records = 4;
  auto r = makeRunner({0, 50, 50});
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kDelivered;
  int calls = 0;
  send(*r, 10, "l", &outcome, &calls);
  std::this_thread::sleep_for(50ms);
  const auto t0 = std::chrono::steady_clock::now();
  r->finish(t0 + 300ms);
  r->join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "finish overran its deadline";
  EXPECT_EQ(count("failed"), 10u);
  EXPECT_EQ(r->failedRecords(), 10u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, core::BatchOutcome::kFailed);
}

TEST_F(RunnerTest, EncoderCoveringFewerRecordsStillDeliversAllInOrder) {
  script_.max_records = 10;
  script_.encode_cap = 3;
  auto r = makeRunner();
  r->start();
  send(*r, 10, "c", nullptr, nullptr);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  std::vector<std::string> all;
  for (auto& req : script_.delivered)
    all.insert(all.end(), req.begin(), req.end());
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 0; i < 10; ++i)
    EXPECT_EQ(all[i], "c" + std::to_string(i));
}

TEST_F(RunnerTest, OverBudgetWhileASinkHoldsRecordsAndClearsAfterDelivery) {
  for (int i = 0; i < 1000; ++i)
    script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  auto r = makeRunner({0, 20, 20}, 100);
  r->start();
  EXPECT_FALSE(r->overBudget());
  send(*r, 50, "b", nullptr, nullptr);
  EXPECT_TRUE(r->overBudget()) << "50 records exceed a 100-byte budget";
  {
    std::lock_guard lock(script_.mu);
    script_.verdicts.clear();
  }
  for (int i = 0; i < 300 && r->overBudget(); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(r->overBudget());
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();
  EXPECT_EQ(count("sent"), 50u);
}

// Over budget, the inputs feeding an output are paused: nothing more arrives until it sends,
// so it sends what it holds at once instead of waiting for a full request or the interval.
TEST_F(RunnerTest, OverBudgetSendsWhatItHoldsWithoutWaitingForTheFlushInterval) {
  auto r = makeRunner({1, 1, 5}, 100, 60'000);
  r->start();
  int calls = 0;
  send(*r, 10, "o", nullptr, &calls);
  ASSERT_TRUE(r->overBudget());
  for (int i = 0; i < 300 && calls == 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(calls, 1) << "10 records over budget waited for the 60 s flush interval";
  EXPECT_EQ(r->bufferedBytes(), 0u);
  r->finish(std::chrono::steady_clock::now() + 1s);
  r->join();
}

// What a request holds in the plugin (ferry_on_request_bytes) is part of the output's
// buffer while it waits for a retry, follows it when a partial answer narrows it, and is
// given back when it is freed.
TEST_F(RunnerTest, RequestBytesCountWhileRetryingFollowANarrowedRequestAndGoWithIt) {
  script_.held_per_record = 1000;
  auto partial = verdict(FERRY_VERDICT_PARTIAL);
  partial.records_delivered = 7;
  script_.verdicts = {partial};
  for (int i = 0; i < 1000; ++i)
    script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  auto r = makeRunner({0, 30, 30});
  r->start();
  send(*r, 10, "h", nullptr, nullptr);
  auto attempts = [&] {
    std::lock_guard lock(script_.mu);
    return script_.attempt_sizes.size();
  };
  for (int i = 0; i < 300 && attempts() < 3; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_GE(attempts(), 3u);
  EXPECT_EQ(r->requestBytes(), 3000u) << "the 3 records left, as the plugin reports them";
  EXPECT_GT(r->recordBytes(), 0u);
  EXPECT_EQ(r->bufferedBytes(), r->recordBytes() + 3000u);
  {
    std::lock_guard lock(script_.mu);
    script_.verdicts.clear();
  }
  for (int i = 0; i < 300 && r->bufferedBytes() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(r->requestBytes(), 0u);
  EXPECT_EQ(r->bufferedBytes(), 0u);
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();
  EXPECT_EQ(count("sent"), 10u);
}

} // namespace
} // namespace ferry::output

namespace ferry::output {
namespace {

// A plugin that allows parallel encoding gets its records encoded on the runner's encoder
// threads (on a machine with more than one core), and nothing changes for delivery: every
// record once, in order (one local request at a time), failures and shutdown as before.
TEST_F(RunnerTest, ParallelEncodeDeliversEverythingOnceOffTheRunnerThread) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: no encoder pool";
  script_.parallel_encode = true;
  script_.held_per_record = 100;
  script_.max_records = 16;
  script_.verdicts = {verdict(FERRY_VERDICT_RETRY), verdict(FERRY_VERDICT_SPLIT)};
  auto r = makeRunner({0, 1, 5});
  r->start();
  int calls = 0;
  for (int b = 0; b < 50; ++b)
    send(*r, 20, "p" + std::to_string(b) + "-", nullptr, &calls);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(calls, 50);
  std::vector<std::string> all;
  for (auto& req : script_.delivered)
    all.insert(all.end(), req.begin(), req.end());
  ASSERT_EQ(all.size(), 1000u);
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), 1000u) << "a record was delivered twice";
  EXPECT_EQ(count("sent"), 1000u);
  ASSERT_EQ(script_.deliver_threads.size(), 1u);
  bool encoded_elsewhere = false;
  for (auto id : script_.encode_threads)
    encoded_elsewhere |= id != *script_.deliver_threads.begin();
  EXPECT_TRUE(encoded_elsewhere)
      << "parallel_encode set, but every encode ran on the runner thread";
  EXPECT_EQ(r->bufferedBytes(), 0u);
  EXPECT_EQ(r->requestBytes(), 0u)
      << "request bytes counted on an encoder thread were not given back";
}

TEST_F(RunnerTest, ParallelEncodeShutdownDeadlineReportsExactlyWhatIsLost) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: no encoder pool";
  script_.parallel_encode = true;
  for (int i = 0; i < 1000; ++i)
    script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  script_.max_records = 4;
  auto r = makeRunner({0, 50, 50});
  r->start();
  core::BatchOutcome outcome = core::BatchOutcome::kDelivered;
  int calls = 0;
  send(*r, 10, "l", &outcome, &calls);
  std::this_thread::sleep_for(50ms);
  r->finish(std::chrono::steady_clock::now() + 300ms);
  r->join();
  EXPECT_EQ(count("failed"), 10u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, core::BatchOutcome::kFailed);
}

} // namespace
} // namespace ferry::output

namespace ferry::output {
namespace {

// The server answers nothing until open() (and always opens before it is destroyed, so its
// thread can stop).
class Gate {
public:
  ~Gate() { open(); }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A slow HTTP sink: the scripted plugin's requests go through the runner's real HTTP client
// to a local server that answers only once the test opens its gate.
class SlowSinkTest : public RunnerTest {
protected:
  void SetUp() override {
    RunnerTest::SetUp();
    script_.url = server_.url() + "/intake";
    script_.body_bytes = 64 * 1024;
    script_.max_records = 10;
    concurrency_ = 32;
  }
  void TearDown() override {
    gate_.open();
    RunnerTest::TearDown();
  }

  // 40 requests' worth of records (10 per request, ~2 KB each, a 64 KiB body each), fed like
  // an input (a batch at a time while the output is not over budget) to a sink that does not
  // answer, with 32 requests allowed in flight and a 1 MiB budget: the runner holds at most
  // half of it in bodies (plus the request that crossed the line), counts them, and pauses
  // the inputs before records and bodies together pass the budget; then every record is
  // delivered exactly once when the sink answers.
  void holdsBodiesUnderHalfTheBudget() {
    constexpr uint64_t kBudget = 1 << 20;
    auto r = makeRunner({0, 10, 10}, kBudget);
    r->start();
    const std::string pad(2000, 'p');
    int fed = 0;
    uint64_t batch_bytes = 0, most_held = 0;
    auto feed = [&](std::chrono::milliseconds patience) {
      const auto until = std::chrono::steady_clock::now() + patience;
      while (fed < 40 && std::chrono::steady_clock::now() < until) {
        if (r->overBudget()) {
          std::this_thread::sleep_for(5ms);
          continue;
        }
        auto b = send(*r, 10, "b" + std::to_string(fed++) + pad + "-", nullptr, nullptr);
        batch_bytes = std::max<uint64_t>(batch_bytes, b->byteSize());
        std::this_thread::sleep_for(2ms); // the runner encodes as it would between reads
        most_held = std::max(most_held, r->bufferedBytes());
      }
    };
    feed(1500ms);
    const uint64_t cap = kBudget / 2 + script_.body_bytes;
    auto live = [&] {
      std::lock_guard lock(script_.mu);
      return script_.live_body_bytes;
    };
    {
      std::lock_guard lock(script_.mu);
      EXPECT_GE(script_.live_body_bytes, kBudget / 2);
      EXPECT_LE(script_.peak_body_bytes, cap)
          << "bodies held past half the budget: more requests encoded than it allows";
    }
    EXPECT_LT(fed, 40) << "the inputs were never paused: bodies are not counted";
    EXPECT_TRUE(r->overBudget());
    EXPECT_EQ(r->requestBytes(), live()) << "the runner does not count what its requests hold";
    EXPECT_GT(r->recordBytes(), 0u);
    EXPECT_EQ(r->bufferedBytes(), r->recordBytes() + r->requestBytes());
    EXPECT_LE(most_held, kBudget + batch_bytes + script_.body_bytes)
        << "records and bodies passed the budget";
    EXPECT_EQ(metrics_.gaugeValue("ferry_output_request_bytes", {{"output", "scripted"}}),
              static_cast<int64_t>(r->requestBytes()));

    gate_.open();
    feed(20s);
    EXPECT_EQ(fed, 40);
    for (int i = 0; i < 1000 && r->pendingRecords() > 0; ++i)
      std::this_thread::sleep_for(10ms);
    r->finish(std::chrono::steady_clock::now() + 10s);
    r->join();
    std::lock_guard lock(script_.mu);
    std::multiset<std::string> all;
    for (auto& req : script_.delivered)
      all.insert(req.begin(), req.end());
    EXPECT_EQ(all.size(), 400u);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 400u)
        << "a record was delivered twice";
    EXPECT_EQ(count("sent"), 400u);
    EXPECT_LE(script_.peak_body_bytes, cap);
    EXPECT_LE(most_held, kBudget + batch_bytes + script_.body_bytes);
    EXPECT_EQ(script_.live_body_bytes, 0u);
    EXPECT_EQ(r->bufferedBytes(), 0u);
    EXPECT_EQ(r->requestBytes(), 0u);
  }

  Gate gate_;
  test::HttpTestServer server_{[this](const test::HttpTestRequest&) {
    gate_.wait();
    return test::HttpTestResponse{200, "{}"};
  }};
};

TEST_F(SlowSinkTest, EncodedBodiesCountInTheBudgetAndTakeAtMostHalfOfIt) {
  holdsBodiesUnderHalfTheBudget();
}

// A plugin built before ABI 1.2 (no ferry_on_request_bytes) is counted by the body of the
// attempt it last described.
TEST_F(SlowSinkTest, APluginWithoutRequestBytesIsCountedByItsBodies) {
  api_.request_bytes = nullptr;
  holdsBodiesUnderHalfTheBudget();
}

} // namespace
} // namespace ferry::output
