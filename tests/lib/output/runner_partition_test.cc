// Partitioned batching (limits.partition_template): records of interleaved tags go out in
// requests of one tag each, in order within a tag; per-record keys from fields split one
// batch over several requests and it is still resolved once; the bound on open partitions
// flushes the oldest; the budget is one for all partitions; a bad template fails init.
#include <map>

#include "ferry/output/partition.h"
#include "scripted_sink.h"

namespace ferry::output {
namespace {

class PartitionRunner : public RunnerTest {
protected:
  size_t deliveredRequests() {
    std::lock_guard lock(script_.mu);
    return script_.delivered.size();
  }
  bool waitForRequests(size_t n, std::chrono::milliseconds limit = 3000ms) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (deliveredRequests() < n && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(5ms);
    return deliveredRequests() >= n;
  }
};

TEST_F(PartitionRunner, InterleavedTagsGoOutOneTagPerRequestInOrder) {
  script_.partition_template = "$TAG";
  script_.max_records = 7;
  auto r = makeRunner();
  std::vector<core::BatchOutcome> outcomes(12, core::BatchOutcome::kFailed);
  std::vector<int> calls(12, 0);
  std::map<std::string, std::vector<std::string>> sent; // by tag, in order
  for (int i = 0; i < 12; ++i) {
    const std::string tag = "app.t" + std::to_string(i % 3);
    const std::string prefix = tag + "/b" + std::to_string(i) + "/";
    send(*r, 5, prefix, &outcomes[i], &calls[i], tag);
    for (int k = 0; k < 5; ++k)
      sent[tag].push_back(prefix + std::to_string(k));
  }
  r->start();
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();

  ASSERT_EQ(script_.delivered.size(), script_.delivered_partitions.size());
  std::map<std::string, std::vector<std::string>> got;
  for (size_t q = 0; q < script_.delivered.size(); ++q) {
    const std::string& key = script_.delivered_partitions[q];
    EXPECT_LE(script_.delivered[q].size(), 7u);
    for (const auto& rec : script_.delivered[q]) {
      EXPECT_EQ(rec.substr(0, key.size() + 1), key + "/") << "request " << q << " mixes tags";
      got[key].push_back(rec);
    }
  }
  EXPECT_EQ(got, sent); // every record once, in order within its tag
  // 20 records per tag in requests of at most 7: 3 each.
  EXPECT_EQ(script_.delivered.size(), 9u);
  EXPECT_EQ(script_.partition_violations, 0u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(calls[i], 1) << "batch " << i;
    EXPECT_EQ(outcomes[i], core::BatchOutcome::kDelivered) << "batch " << i;
  }
  EXPECT_EQ(count("sent"), 60u);
  EXPECT_EQ(r->bufferedBytes(), 0u);
}

TEST_F(PartitionRunner, FieldKeysSplitOneBatchAndItResolvesOnce) {
  script_.partition_template = "$(stream)";
  auto r = makeRunner();
  auto b = core::Batch::create("t", core::RecordFormat::kMsgpackMap);
  std::map<std::string, std::string> stream_of; // record bytes → expected key
  for (int i = 0; i < 30; ++i) {
    const std::string stream = i % 5 == 4 ? "" : (i % 2 ? "stderr" : "stdout");
    const std::string rec = stream.empty()
                                ? test::packMap({{"n", std::to_string(i)}})
                                : test::packMap({{"stream", stream}, {"n", std::to_string(i)}});
    b->append(i + 1, rec);
    stream_of[rec] = stream;
  }
  int calls = 0;
  core::BatchOutcome outcome = core::BatchOutcome::kFailed;
  b->setFinalizer([&](core::BatchOutcome o) {
    outcome = o;
    ++calls;
  });
  b->expectOutputs(1);
  r->enqueue(b);
  r->start();
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome, core::BatchOutcome::kDelivered);
  EXPECT_EQ(script_.delivered.size(), 3u); // stdout, stderr and "" (no stream field)
  size_t n = 0;
  for (size_t q = 0; q < script_.delivered.size(); ++q) {
    for (const auto& rec : script_.delivered[q]) {
      EXPECT_EQ(stream_of[rec], script_.delivered_partitions[q]);
      ++n;
    }
  }
  EXPECT_EQ(n, 30u);
}

TEST_F(PartitionRunner, TheBoundFlushesTheOldestPartitions) {
  script_.partition_template = "$TAG";
  script_.max_partitions = 2;
  auto r = makeRunner({1, 1, 5}, 256ull << 20, 60'000); // nothing is due by the interval
  r->start();
  for (int i = 0; i < 5; ++i) {
    send(*r, 2, "p" + std::to_string(i) + "-", nullptr, nullptr, "p" + std::to_string(i));
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(waitForRequests(3));
  std::this_thread::sleep_for(100ms); // and no more: two partitions may stay open
  {
    std::lock_guard lock(script_.mu);
    EXPECT_EQ(script_.delivered_partitions, (std::vector<std::string>{"p0", "p1", "p2"}));
  }
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();
  EXPECT_EQ(script_.delivered_partitions, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"}));
  EXPECT_EQ(count("sent"), 10u);
}

TEST_F(PartitionRunner, OneBudgetForAllPartitions) {
  script_.partition_template = "$TAG";
  const uint64_t batch_bytes = test::makeLineBatch("a", 10, "record-of-some-length-")->byteSize();
  // Each partition alone is well within the budget; together they are over it. Over budget,
  // the oldest partition is sent at once (not after the 60 s interval, nor when full), then
  // the next, until what is left fits: a and b go, c waits.
  auto r = makeRunner({1, 1, 5}, batch_bytes * 3 / 2, 60'000);
  for (const char* tag : {"a", "b", "c"})
    send(*r, 10, "record-of-some-length-", nullptr, nullptr, tag);
  EXPECT_EQ(r->recordBytes(), 3 * batch_bytes);
  EXPECT_TRUE(r->overBudget());
  r->start();
  ASSERT_TRUE(waitForRequests(2, 2000ms));
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(script_.mu);
    EXPECT_EQ(script_.delivered_partitions, (std::vector<std::string>{"a", "b"}));
  }
  EXPECT_FALSE(r->overBudget());
  EXPECT_EQ(r->recordBytes(), batch_bytes);
  r->finish(std::chrono::steady_clock::now() + 5s);
  r->join();
  EXPECT_EQ(script_.delivered_partitions, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r->bufferedBytes(), 0u);
}

TEST_F(PartitionRunner, ABadTemplateFailsInit) {
  script_.partition_template = "$(stream";
  config::OutputSection cfg;
  cfg.section.type = "scripted";
  cfg.section.name = "scripted";
  OutputRunner r(api_, cfg, metrics_);
  auto ok = r.init();
  ASSERT_FALSE(ok.has_value());
  EXPECT_NE(ok.error().find("unterminated"), std::string::npos) << ok.error();
  EXPECT_NE(ok.error().find("output scripted"), std::string::npos) << ok.error();
}

} // namespace
} // namespace ferry::output
