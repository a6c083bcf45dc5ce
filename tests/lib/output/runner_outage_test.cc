// Retry scheduling at the output: while its sink fails, the runner probes it with one
// request at a time at the backoff rate, however many requests wait, and the first success
// releases them all at once instead of each waiting out its own backoff.
#include "scripted_sink.h"

namespace ferry::output {
namespace {

class OutageTest : public RunnerTest {};

TEST_F(OutageTest, ProbesAFailingSinkAtTheBackoffRateAndDrainsAtOnceWhenItRecovers) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kOutage = 1000ms;
  script_.max_records = 10;
  std::vector<Clock::time_point> failed_at, delivered_at;
  const auto start = Clock::now();
  const auto back_at = start + kOutage;
  script_.judge = [&](TestRequest& r, ferry_plugin_verdict& v) {
    const auto now = Clock::now();
    if (now < back_at) {
      v.kind = FERRY_VERDICT_RETRY;
      failed_at.push_back(now);
      return;
    }
    v.kind = FERRY_VERDICT_DELIVERED;
    delivered_at.push_back(now);
    g_script->delivered.push_back(r.records);
  };
  // 30 requests' worth of records wait while the sink is down.
  auto r = makeRunner({0, 50, 200});
  for (int b = 0; b < 30; ++b)
    send(*r, 10, "o" + std::to_string(b) + "-", nullptr, nullptr);
  r->start();
  for (int i = 0; i < 500 && r->pendingRecords() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  r->finish(Clock::now() + 5s);
  r->join();
  std::lock_guard lock(script_.mu);
  // Probes: one at once, then at least 25, 50, 100, 100, ... ms apart (equal jitter on 50,
  // 100, 200, 200, ...): at most 1 + 3 + (1000 - 175) / 100 = 12 in a 1 s outage. Per request
  // backoff sent each of the 30 requests on its own timer: well over a hundred.
  EXPECT_LE(failed_at.size(), 13u) << "requests sent while the sink was down";
  EXPECT_GE(failed_at.size(), 3u);
  ASSERT_EQ(delivered_at.size(), 30u);
  EXPECT_EQ(count("sent"), 300u);
  // The backlog goes as soon as the first probe succeeds, not on 29 backoff timers.
  EXPECT_LT(delivered_at.back() - delivered_at.front(), 100ms)
      << "the backlog drained on its own timers";
  EXPECT_LT(delivered_at.front() - back_at, 250ms) << "the first probe after recovery came late";
}

} // namespace
} // namespace ferry::output
