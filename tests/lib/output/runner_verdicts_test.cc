// The output runner against a sink whose verdicts are random: delivered, partial (any
// records taken or refused, any left), split, retry (throttled, Retry-After, timeouts),
// drop, continue, and an encoder that refuses some records, in any order (seeded, bounded).
// Whatever the sequence, every record ends exactly once (delivered, dropped or failed),
// every batch is resolved once with the outcome its records earned, and the counters say
// the same. Run with and without the plugin naming the records a verdict resolved, and with
// the output partitioned by tag (every request one tag's records, a bound on open partitions
// that forces early flushes). Also:
// retry scheduling at the output, during and after an outage.
#include <cstdio>
#include <map>
#include <random>

#include "scripted_sink.h"

namespace ferry::output {
namespace {

core::BatchOutcome worse(core::BatchOutcome a, core::BatchOutcome b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

struct Trial {
  uint64_t seed;
  bool names_records;       // the plugin exports ferry_on_request_records
  bool partitioned = false; // limits.partition_template "$TAG", batches of three tags
};

void PrintTo(const Trial& t, std::ostream* os) {
  *os << "seed " << t.seed << (t.names_records ? ", records named" : ", counts only")
      << (t.partitioned ? ", partitioned" : "");
}

class VerdictProperty : public RunnerTest, public ::testing::WithParamInterface<Trial> {};

// One random verdict for the request as it is now; narrows it like a sink would.
void judgeAtRandom(std::mt19937_64& rng, size_t& attempts, size_t calm_after, TestRequest& r,
                   ferry_plugin_verdict& v) {
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  if (++attempts > calm_after) { // bounded: the sink settles down in the end
    v.kind = FERRY_VERDICT_DELIVERED;
    g_script->delivered.push_back(r.records);
    return;
  }
  const uint64_t roll = pick(100);
  if (roll < 20) {
    v.kind = FERRY_VERDICT_DELIVERED;
    g_script->delivered.push_back(r.records);
  } else if (roll < 45) {
    v.kind = FERRY_VERDICT_PARTIAL;
    std::vector<uint8_t> fate(r.records.size());
    for (auto& f : fate)
      f = static_cast<uint8_t>(pick(3)); // held, delivered, dropped
    for (auto f : fate) {
      v.records_delivered += f == FERRY_RECORD_DELIVERED;
      v.records_dropped += f == FERRY_RECORD_DROPPED;
    }
    v.throttled = pick(2);
    settle(r, fate);
  } else if (roll < 60) {
    v.kind = FERRY_VERDICT_SPLIT; // a single record too large is dropped by the runner
    if (r.records.size() <= 1)
      g_script->dropped.insert(g_script->dropped.end(), r.records.begin(), r.records.end());
  } else if (roll < 85) {
    v.kind = FERRY_VERDICT_RETRY; // 5xx, 429 (throttled, Retry-After) or a timeout
    v.throttled = pick(2);
    v.retry_after_ms = pick(3);
    std::snprintf(v.message, sizeof v.message, "%s", roll % 3 == 0 ? "timeout" : "503");
  } else if (roll < 95) {
    v.kind = FERRY_VERDICT_DROP;
    g_script->dropped.insert(g_script->dropped.end(), r.records.begin(), r.records.end());
  } else {
    v.kind = FERRY_VERDICT_CONTINUE;
  }
}

TEST_P(VerdictProperty, EveryRecordEndsExactlyOnceWhateverTheVerdicts) {
  const Trial trial = GetParam();
  std::mt19937_64 rng(trial.seed);
  if (!trial.names_records) api_.request_records = nullptr;
  script_.max_records = static_cast<uint32_t>(3 + rng() % 30);
  size_t attempts = 0;
  const size_t calm_after = 150 + rng() % 150;
  script_.judge = [&](TestRequest& r, ferry_plugin_verdict& v) {
    judgeAtRandom(rng, attempts, calm_after, r, v);
  };
  // The same records are refused at every encode, as a real encoder would.
  script_.refuse = [](std::string_view record) {
    return std::hash<std::string_view>{}(record) % 13 == 0;
  };
  const uint32_t max_attempts = rng() % 2 ? 0 : static_cast<uint32_t>(2 + rng() % 4);
  if (trial.partitioned) {
    script_.partition_template = "$TAG";
    script_.max_partitions = static_cast<uint32_t>(1 + rng() % 3);
  }
  auto r = makeRunner({max_attempts, 1, 2});

  struct Sent {
    std::vector<std::string> records;
    std::vector<core::BatchOutcome> outcomes; // each finalizer call
  };
  const size_t batches = 4 + rng() % 8;
  std::vector<Sent> sent(batches);
  std::mutex outcomes_mu;
  size_t total = 0;
  for (size_t b = 0; b < batches; ++b) {
    const size_t n = 1 + rng() % 40;
    auto batch =
        test::makeLineBatch(trial.partitioned ? "t" + std::to_string(b % 3) : "t", n,
                            "s" + std::to_string(trial.seed) + "b" + std::to_string(b) + "r");
    for (size_t i = 0; i < n; ++i)
      sent[b].records.emplace_back(batch->record(static_cast<uint32_t>(i)).data);
    batch->setFinalizer([&outcomes_mu, &sent, b](core::BatchOutcome o) {
      std::lock_guard lock(outcomes_mu);
      sent[b].outcomes.push_back(o);
    });
    batch->expectOutputs(1);
    r->enqueue(batch);
    total += n;
  }
  r->start(); // the batches are made first: the judge draws from the same generator
  r->finish(std::chrono::steady_clock::now() + 20s);
  r->join();

  std::map<std::string, int> delivered, dropped;
  for (auto& req : script_.delivered) {
    for (auto& rec : req)
      ++delivered[rec];
  }
  for (auto& rec : script_.dropped)
    ++dropped[rec];
  uint64_t n_delivered = 0, n_dropped = 0, n_failed = 0;
  for (size_t b = 0; b < batches; ++b) {
    core::BatchOutcome earned = core::BatchOutcome::kDelivered;
    for (auto& rec : sent[b].records) {
      const int d = delivered.count(rec) ? delivered[rec] : 0;
      const int x = dropped.count(rec) ? dropped[rec] : 0;
      ASSERT_LE(d, 1) << rec << " was delivered " << d << " times";
      // The encoder refuses a record again each time it is offered again, so only refusals
      // by the sink must be unique; a refused record is never delivered.
      ASSERT_FALSE(d == 1 && x > 0) << rec << " was both delivered and dropped";
      if (d) {
        ++n_delivered;
      } else if (x) {
        ++n_dropped;
        earned = worse(earned, core::BatchOutcome::kDropped);
      } else {
        ++n_failed;
        earned = core::BatchOutcome::kFailed;
      }
    }
    ASSERT_EQ(sent[b].outcomes.size(), 1u)
        << "batch " << b << " resolved " << sent[b].outcomes.size() << " times";
    if (trial.names_records) {
      EXPECT_EQ(sent[b].outcomes[0], earned) << "batch " << b;
    } else {
      // Records the plugin could not name fare as badly as their request's worst.
      EXPECT_GE(static_cast<int>(sent[b].outcomes[0]), static_cast<int>(earned)) << "batch " << b;
    }
  }
  EXPECT_EQ(n_delivered + n_dropped + n_failed, total);
  EXPECT_EQ(count("sent"), n_delivered);
  EXPECT_EQ(count("dropped"), n_dropped);
  EXPECT_EQ(count("failed"), n_failed);
  EXPECT_EQ(r->failedRecords(), n_failed);
  if (max_attempts == 0) {
    EXPECT_EQ(n_failed, 0u) << "nothing is given up without a retry budget";
  }
  EXPECT_EQ(r->pendingRecords(), 0u);
  EXPECT_EQ(r->bufferedBytes(), 0u);
  EXPECT_EQ(r->requestBytes(), 0u);
  EXPECT_EQ(script_.partition_violations, 0u) << "an encode mixed partitions";
}

std::vector<Trial> trials() {
  std::vector<Trial> out;
  for (uint64_t seed = 1; seed <= 24; ++seed)
    out.push_back({seed, seed % 3 != 0});
  for (uint64_t seed = 101; seed <= 112; ++seed)
    out.push_back({seed, seed % 3 != 0, true});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Seeds, VerdictProperty, ::testing::ValuesIn(trials()),
                         [](const ::testing::TestParamInfo<Trial>& info) {
                           return "seed" + std::to_string(info.param.seed) +
                                  (info.param.names_records ? "_named" : "_counted") +
                                  (info.param.partitioned ? "_partitioned" : "");
                         });

} // namespace
} // namespace ferry::output
