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
#include "test_support.h"

namespace ferry::output {
namespace {

using namespace std::chrono_literals;

// The script: one verdict per deliver() call, taken in order; DELIVERED when it runs out.
// With a url, the plugin is an HTTP sink instead: every request is POSTed there with a body of
// body_bytes, and a 200 answer delivers it.
struct Script {
  std::mutex mu;
  std::deque<ferry_plugin_verdict> verdicts;
  std::vector<std::vector<std::string>> delivered; // record payloads of each delivered request
  std::vector<size_t> attempt_sizes;               // records in each attempt
  uint32_t max_records = 100;
  uint64_t max_request_bytes = 1 << 20;
  size_t encode_cap = 0; // > 0: encode consumes at most this many records
  uint64_t held_per_record = 0; // what a request reports holding besides its body
  std::string url;
  size_t body_bytes = 0;
  uint64_t live_body_bytes = 0; // of the requests not yet freed
  uint64_t peak_body_bytes = 0;
  bool parallel_encode = false;
  std::set<std::thread::id> encode_threads;
  std::set<std::thread::id> deliver_threads;
};

Script* g_script = nullptr;

struct TestRequest {
  std::vector<std::string> records;
  std::string body;
};

const ferry_plugin_descriptor kDescriptor = {FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, "scripted",
                                             "test", nullptr, 0};

int testInit(const ferry_host_api*, const char*, size_t, ferry_plugin_instance** inst,
             ferry_plugin_limits* limits, char*, size_t) {
  *inst = reinterpret_cast<ferry_plugin_instance*>(g_script);
  limits->transport = g_script->url.empty() ? FERRY_TRANSPORT_LOCAL : FERRY_TRANSPORT_HTTP;
  limits->max_records = g_script->max_records;
  limits->max_request_bytes = g_script->max_request_bytes;
  limits->flush_interval_ms = 20;
  limits->parallel_encode = g_script->parallel_encode ? 1 : 0;
  return 0;
}
void testDestroy(ferry_plugin_instance*) {}
int testEncode(ferry_plugin_instance*, const ferry_plugin_record* records, size_t count, size_t* consumed,
               size_t* dropped, ferry_plugin_request** out, char*, size_t) {
  size_t n = g_script->encode_cap ? std::min(count, g_script->encode_cap) : count;
  {
    std::lock_guard lock(g_script->mu);
    g_script->encode_threads.insert(std::this_thread::get_id());
  }
  auto* r = new TestRequest;
  for (size_t i = 0; i < n; ++i) {
    r->records.emplace_back(reinterpret_cast<const char*>(records[i].data), records[i].data_len);
  }
  {
    std::lock_guard lock(g_script->mu);
    r->body.assign(g_script->body_bytes, 'b');
    g_script->live_body_bytes += r->body.size();
    g_script->peak_body_bytes = std::max(g_script->peak_body_bytes, g_script->live_body_bytes);
  }
  *consumed = n;
  *dropped = 0;
  *out = reinterpret_cast<ferry_plugin_request*>(r);
  return 0;
}
void testDeliver(ferry_plugin_instance*, ferry_plugin_request* req, ferry_plugin_verdict* v) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  std::lock_guard lock(g_script->mu);
  g_script->attempt_sizes.push_back(r->records.size());
  g_script->deliver_threads.insert(std::this_thread::get_id());
  if (!g_script->verdicts.empty()) {
    *v = g_script->verdicts.front();
    g_script->verdicts.pop_front();
  } else {
    v->kind = FERRY_VERDICT_DELIVERED;
  }
  if (v->kind == FERRY_VERDICT_DELIVERED) g_script->delivered.push_back(r->records);
  if (v->kind == FERRY_VERDICT_PARTIAL) {
    // Narrow the request to what was not accepted.
    r->records.erase(r->records.begin(),
                     r->records.begin() + static_cast<long>(v->records_delivered + v->records_dropped));
  }
}
void testFree(ferry_plugin_instance*, ferry_plugin_request* req) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  {
    std::lock_guard lock(g_script->mu);
    g_script->live_body_bytes -= r->body.size();
  }
  delete r;
}
uint64_t testRequestBytes(ferry_plugin_instance*, const ferry_plugin_request* req) {
  auto* r = reinterpret_cast<const TestRequest*>(req);
  return r->body.size() + r->records.size() * g_script->held_per_record;
}
int testHttpRequest(ferry_plugin_instance*, ferry_plugin_request* req, ferry_http_request* out, char*, size_t) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  out->method = "POST";
  out->url = g_script->url.c_str();
  out->body = reinterpret_cast<const uint8_t*>(r->body.data());
  out->body_len = r->body.size();
  return 0;
}
void testHttpResponse(ferry_plugin_instance*, ferry_plugin_request* req, const ferry_http_response* response,
                      ferry_plugin_verdict* v) {
  v->kind = response->status == 200 ? FERRY_VERDICT_DELIVERED : FERRY_VERDICT_RETRY;
  std::lock_guard lock(g_script->mu);
  if (v->kind == FERRY_VERDICT_DELIVERED) g_script->delivered.push_back(reinterpret_cast<TestRequest*>(req)->records);
}

PluginApi testApi() {
  PluginApi api;
  api.path = "<in-process>";
  api.descriptor = &kDescriptor;
  api.init = testInit;
  api.destroy = testDestroy;
  api.encode = testEncode;
  api.deliver = testDeliver;
  api.request_free = testFree;
  api.request_bytes = testRequestBytes;
  api.http_request = testHttpRequest;
  api.http_response = testHttpResponse;
  return api;
}

ferry_plugin_verdict verdict(ferry_verdict_kind kind) {
  ferry_plugin_verdict v{};
  v.kind = kind;
  return v;
}

class RunnerTest : public ::testing::Test {
protected:
  void SetUp() override { g_script = &script_; }
  void TearDown() override { g_script = nullptr; }

  std::unique_ptr<OutputRunner> makeRunner(config::RetryPolicy retry = {1, 1, 5},
                                           uint64_t budget = 256ull << 20, uint64_t flush_interval_ms = 0) {
    config::OutputSection cfg;
    cfg.section.kind = "output";
    cfg.section.type = "scripted";
    cfg.section.name = "scripted";
    cfg.section.match = "*";
    cfg.common.retry = retry;
    cfg.common.buffer_max_bytes = budget;
    cfg.common.flush_interval_ms = flush_interval_ms;
    cfg.common.concurrency = concurrency_;
    auto r = std::make_unique<OutputRunner>(api_, cfg, metrics_);
    auto ok = r->init();
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error());
    return r;
  }

  // Routes a batch to the runner the way the router does (one output).
  core::BatchRef send(OutputRunner& r, size_t n, std::string prefix, core::BatchOutcome* outcome,
                      int* calls) {
    auto b = test::makeLineBatch("t", n, prefix);
    b->setFinalizer([outcome, calls](core::BatchOutcome o) {
      if (outcome) *outcome = o;
      if (calls) ++*calls;
    });
    b->expectOutputs(1);
    r.enqueue(b);
    return b;
  }

  uint64_t count(const char* result) {
    return metrics_.counterValue("ferry_output_records_total", {{"output", "scripted"}, {"result", result}});
  }
  // Requests, not records (Fluent Bit's errors / retries_failed, for /api/v1/health).
  uint64_t givenUp(const char* reason) {
    return metrics_.counterValue("ferry_output_requests_given_up_total",
                                 {{"output", "scripted"}, {"reason", reason}});
  }

  Script script_;
  PluginApi api_ = testApi();
  uint32_t concurrency_ = 0; // auto
  obs::Metrics metrics_;
};

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
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(all[i], "a" + std::to_string(i));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(all[20 + i], "b" + std::to_string(i));
  EXPECT_EQ(count("sent"), 25u);
  EXPECT_EQ(r->bufferedBytes(), 0u);
}

TEST_F(RunnerTest, FlushIntervalSendsAPartialRequestWithoutShutdown) {
  auto r = makeRunner();
  r->start();
  int calls = 0;
  send(*r, 3, "x", nullptr, &calls);
  for (int i = 0; i < 200 && calls == 0; ++i) std::this_thread::sleep_for(10ms);
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

TEST_F(RunnerTest, RetryBudgetExhaustedFailsAndCounts) {
  script_.verdicts = {verdict(FERRY_VERDICT_RETRY), verdict(FERRY_VERDICT_RETRY), verdict(FERRY_VERDICT_RETRY)};
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
  for (int i = 0; i < 1000; ++i) script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
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
  for (auto& req : script_.delivered) all.insert(all.end(), req.begin(), req.end());
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(all[i], "c" + std::to_string(i));
}

TEST_F(RunnerTest, OverBudgetWhileASinkHoldsRecordsAndClearsAfterDelivery) {
  for (int i = 0; i < 1000; ++i) script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  auto r = makeRunner({0, 20, 20}, 100);
  r->start();
  EXPECT_FALSE(r->overBudget());
  send(*r, 50, "b", nullptr, nullptr);
  EXPECT_TRUE(r->overBudget()) << "50 records exceed a 100-byte budget";
  {
    std::lock_guard lock(script_.mu);
    script_.verdicts.clear();
  }
  for (int i = 0; i < 300 && r->overBudget(); ++i) std::this_thread::sleep_for(10ms);
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
  for (int i = 0; i < 300 && calls == 0; ++i) std::this_thread::sleep_for(10ms);
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
  for (int i = 0; i < 1000; ++i) script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
  auto r = makeRunner({0, 30, 30});
  r->start();
  send(*r, 10, "h", nullptr, nullptr);
  auto attempts = [&] {
    std::lock_guard lock(script_.mu);
    return script_.attempt_sizes.size();
  };
  for (int i = 0; i < 300 && attempts() < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(attempts(), 3u);
  EXPECT_EQ(r->requestBytes(), 3000u) << "the 3 records left, as the plugin reports them";
  EXPECT_GT(r->recordBytes(), 0u);
  EXPECT_EQ(r->bufferedBytes(), r->recordBytes() + 3000u);
  {
    std::lock_guard lock(script_.mu);
    script_.verdicts.clear();
  }
  for (int i = 0; i < 300 && r->bufferedBytes() > 0; ++i) std::this_thread::sleep_for(10ms);
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
  for (int b = 0; b < 50; ++b) send(*r, 20, "p" + std::to_string(b) + "-", nullptr, &calls);
  r->finish(std::chrono::steady_clock::now() + 10s);
  r->join();
  EXPECT_EQ(calls, 50);
  std::vector<std::string> all;
  for (auto& req : script_.delivered) all.insert(all.end(), req.begin(), req.end());
  ASSERT_EQ(all.size(), 1000u);
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), 1000u) << "a record was delivered twice";
  EXPECT_EQ(count("sent"), 1000u);
  ASSERT_EQ(script_.deliver_threads.size(), 1u);
  bool encoded_elsewhere = false;
  for (auto id : script_.encode_threads) encoded_elsewhere |= id != *script_.deliver_threads.begin();
  EXPECT_TRUE(encoded_elsewhere) << "parallel_encode set, but every encode ran on the runner thread";
  EXPECT_EQ(r->bufferedBytes(), 0u);
  EXPECT_EQ(r->requestBytes(), 0u) << "request bytes counted on an encoder thread were not given back";
}

TEST_F(RunnerTest, ParallelEncodeShutdownDeadlineReportsExactlyWhatIsLost) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: no encoder pool";
  script_.parallel_encode = true;
  for (int i = 0; i < 1000; ++i) script_.verdicts.push_back(verdict(FERRY_VERDICT_RETRY));
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
      EXPECT_LE(script_.peak_body_bytes, cap) << "bodies held past half the budget: more requests encoded than it allows";
    }
    EXPECT_LT(fed, 40) << "the inputs were never paused: bodies are not counted";
    EXPECT_TRUE(r->overBudget());
    EXPECT_EQ(r->requestBytes(), live()) << "the runner does not count what its requests hold";
    EXPECT_GT(r->recordBytes(), 0u);
    EXPECT_EQ(r->bufferedBytes(), r->recordBytes() + r->requestBytes());
    EXPECT_LE(most_held, kBudget + batch_bytes + script_.body_bytes) << "records and bodies passed the budget";
    EXPECT_EQ(metrics_.gaugeValue("ferry_output_request_bytes", {{"output", "scripted"}}),
              static_cast<int64_t>(r->requestBytes()));

    gate_.open();
    feed(20s);
    EXPECT_EQ(fed, 40);
    for (int i = 0; i < 1000 && r->pendingRecords() > 0; ++i) std::this_thread::sleep_for(10ms);
    r->finish(std::chrono::steady_clock::now() + 10s);
    r->join();
    std::lock_guard lock(script_.mu);
    std::multiset<std::string> all;
    for (auto& req : script_.delivered) all.insert(req.begin(), req.end());
    EXPECT_EQ(all.size(), 400u);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 400u) << "a record was delivered twice";
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

TEST_F(SlowSinkTest, EncodedBodiesCountInTheBudgetAndTakeAtMostHalfOfIt) { holdsBodiesUnderHalfTheBudget(); }

// A plugin built before ABI 1.2 (no ferry_on_request_bytes) is counted by the body of the
// attempt it last described.
TEST_F(SlowSinkTest, APluginWithoutRequestBytesIsCountedByItsBodies) {
  api_.request_bytes = nullptr;
  holdsBodiesUnderHalfTheBudget();
}

} // namespace
} // namespace ferry::output
