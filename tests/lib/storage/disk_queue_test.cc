// Disk queues driven by scripted consumers (what the runner is in the daemon): the cursor
// never passes an unresolved batch, a kill mid-stream resumes from the files, a slow output
// never stalls another, backlogs go through the queue's own filters, dead letters, damaged
// entries are skipped and counted, and a disk that takes no writes pauses the inputs. The storage
// thread is not started: each test steps the disk reading itself, so what a consumer holds at each
// point is known.
#include "ferry/storage/disk_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "file_size_limit.h"
#include "test_support.h"

namespace ferry::storage {
namespace {

namespace fs = std::filesystem;
using core::BatchOutcome;
using test::TempDir;

StoreOptions optionsFor(const TempDir& dir) {
  StoreOptions o;
  o.path = dir.path().string();
  o.sync = SyncPolicy::kNone;
  return o;
}

DiskBufferPtr openBuffer(const TempDir& dir, obs::Metrics& metrics,
                         std::vector<std::string> outputs = {"out"}) {
  auto d = DiskBuffer::open(optionsFor(dir), outputs, metrics);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error());
  return d ? std::move(*d) : nullptr;
}

// Takes what its queue hands it and resolves it when the test says (or at once).
class ScriptedConsumer : public QueueConsumer {
public:
  void enqueue(core::BatchRef batch) override {
    got.push_back(batch);
    if (resolve_at_once) resolve(got.size() - 1, BatchOutcome::kDelivered);
  }
  bool overBudget() const override { return over_budget; }
  bool wantsBacklog() const override { return !over_budget; }

  // As the runner does: the queue hears it first, then the batch.
  void resolve(size_t i, BatchOutcome outcome) {
    queue->resolved(*got.at(i), outcome);
    got.at(i)->resolveOutput(outcome);
  }
  std::vector<uint64_t> seqs() const {
    std::vector<uint64_t> out;
    for (const auto& b : got)
      out.push_back(b->storeSeq());
    return out;
  }

  DiskQueue* queue = nullptr;
  bool over_budget = false;
  bool resolve_at_once = false;
  std::vector<core::BatchRef> got;
};

// An input's path: stored (and marked with its entry), then routed.
uint64_t push(DiskBuffer& disk, core::Router& router, core::BatchRef batch) {
  core::BatchRef handed;
  auto ok = disk.append(*batch, [&] { handed = batch; });
  EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error());
  EXPECT_TRUE(handed);
  const uint64_t seq = batch->storeSeq();
  disk.route(router, std::move(batch));
  return seq;
}

// A buffer with one output ("out") and a router in front of its queue.
struct OneOutput {
  explicit OneOutput(const TempDir& dir) : disk(openBuffer(dir, metrics)) {
    c.queue = &disk->attach(c);
    router.addOutput("*", c.queue);
  }
  uint64_t push(core::BatchRef batch) { return storage::push(*disk, router, std::move(batch)); }

  obs::Metrics metrics;
  DiskBufferPtr disk;
  ScriptedConsumer c;
  core::Router router;
};

core::BatchRef numbered(size_t k, size_t records = 2) {
  return test::makeLineBatch("app", records, "b" + std::to_string(k) + "-");
}

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t s = from; s < to; ++s)
    out.push_back(s);
  return out;
}

// Renames the tag, so a test can see which batches went through it.
class RenameFilter : public core::Filter {
public:
  core::BatchRef apply(core::BatchRef batch) override {
    batch->setTag("filtered");
    return batch;
  }
};

TEST(DiskQueueTest, CursorNeverPassesAnUnresolvedBatch) {
  TempDir dir;
  OneOutput o(dir);
  for (size_t k = 0; k < 5; ++k)
    o.push(numbered(k));
  ASSERT_EQ(o.c.seqs(), range(0, 5)); // live: straight from the router, each with its entry
  EXPECT_EQ(o.c.queue->cursor(), 0u);
  for (size_t i : {1, 3, 4})
    o.c.resolve(i, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 0u); // 0 is still out
  o.c.resolve(0, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 2u);
  o.c.resolve(2, BatchOutcome::kDropped); // refused for good by the sink: resolved all the same
  EXPECT_EQ(o.c.queue->cursor(), 5u);
  o.disk->saveCursors();
  EXPECT_EQ(o.disk->store().cursor("out"), 5u);
  EXPECT_EQ(o.disk->close(), 0u);
}

// Passes batches on but keeps their finalizers, as a multiline filter does while it holds
// some of a batch's records.
class FinalizerKeeper : public core::Filter {
public:
  core::BatchRef apply(core::BatchRef batch) override {
    kept.push_back(batch->takeFinalizer());
    return batch;
  }
  std::vector<core::BatchFinalizer> kept;
};

TEST(DiskQueueTest, EntriesAFilterStillHoldsKeepTheCursorBack) {
  TempDir dir;
  OneOutput o(dir);
  o.disk->setHoldsEntries(true);
  auto keeper = std::make_unique<FinalizerKeeper>();
  FinalizerKeeper& filter = *keeper;
  o.router.addFilter("*", std::move(keeper));
  for (size_t k = 0; k < 3; ++k)
    o.push(numbered(k));
  ASSERT_EQ(filter.kept.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    o.c.resolve(i, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 0u); // the filter may still hold records of every entry
  filter.kept[0](BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 1u);
  o.disk->beginStop();
  filter.kept[1](BatchOutcome::kFailed); // given up at shutdown: read again after the start
  filter.kept[2](BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 1u);
  EXPECT_EQ(o.disk->close(), 4u);
}

TEST(DiskQueueTest, KilledMidStreamResumesFromItsFiles) {
  TempDir dir;
  {
    OneOutput o(dir);
    for (size_t k = 0; k < 6; ++k)
      o.push(numbered(k, k + 1));
    for (size_t i = 0; i < 3; ++i)
      o.c.resolve(i, BatchOutcome::kDelivered);
    o.disk->saveCursors(); // as the storage thread does every second
    o.push(numbered(6, 7));
    o.c.resolve(3, BatchOutcome::kDelivered); // resolved after the last save: sent again
    // Killed here: no close(), the cursor on disk stays at 3. Unresolved batches die with
    // the process (their finalizers say failed; nothing was acknowledged by them).
  }
  OneOutput o(dir);
  EXPECT_FALSE(o.c.queue->live()); // behind: it reads its backlog before new batches
  EXPECT_EQ(o.c.queue->cursor(), 3u);
  EXPECT_TRUE(o.disk->step());
  ASSERT_EQ(o.c.seqs(), range(3, 7));
  for (size_t i = 0; i < o.c.got.size(); ++i) {
    const size_t k = 3 + i;
    const core::Batch& b = *o.c.got[i];
    ASSERT_EQ(b.size(), k + 1);
    EXPECT_EQ(b.tag(), "app");
    EXPECT_EQ(b.record(k).data, "b" + std::to_string(k) + "-" + std::to_string(k));
  }
  EXPECT_TRUE(o.c.queue->live());
  EXPECT_EQ(o.c.queue->cursor(), 3u);
  o.push(numbered(7)); // new batches follow the backlog, live
  ASSERT_EQ(o.c.seqs(), range(3, 8));
  for (size_t i = 0; i < o.c.got.size(); ++i)
    o.c.resolve(i, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 8u);
  EXPECT_EQ(o.disk->close(), 0u);
}

TEST(DiskQueueTest, ASlowOutputNeverStallsAnother) {
  TempDir dir;
  obs::Metrics metrics;
  auto disk = openBuffer(dir, metrics, {"slow", "fast"});
  ScriptedConsumer slow, fast;
  slow.queue = &disk->attach(slow);
  fast.queue = &disk->attach(fast);
  slow.over_budget = true;
  fast.resolve_at_once = true;
  core::Router router;
  router.addFilter("*", std::make_unique<RenameFilter>());
  slow.queue->addFilter("*", std::make_unique<RenameFilter>());
  router.addOutput("*", slow.queue);
  router.addOutput("*", fast.queue);
  for (size_t k = 0; k < 20; ++k) {
    push(*disk, router, numbered(k));
    EXPECT_FALSE(disk->mustPause()); // the disk takes what the slow output cannot
  }
  EXPECT_EQ(fast.seqs(), range(0, 20));
  EXPECT_EQ(fast.queue->cursor(), 20u);
  EXPECT_TRUE(slow.got.empty());
  EXPECT_FALSE(slow.queue->live());
  EXPECT_EQ(slow.queue->cursor(), 0u);
  EXPECT_FALSE(disk->step()); // no room yet: its backlog waits on disk
  EXPECT_TRUE(slow.got.empty());
  slow.over_budget = false;
  EXPECT_TRUE(disk->step());
  ASSERT_EQ(slow.seqs(), range(0, 20));
  for (const auto& b : slow.got)
    EXPECT_EQ(b->tag(), "filtered"); // its own filters ran
  EXPECT_TRUE(slow.queue->live());
  push(*disk, router, numbered(20));
  EXPECT_EQ(slow.seqs(), range(0, 21));
  EXPECT_EQ(slow.got.back().get(), fast.got.back().get()); // live again: the router's batch
  EXPECT_EQ(slow.queue->cursor(), 0u);
  for (size_t i = 0; i < slow.got.size(); ++i)
    slow.resolve(i, BatchOutcome::kDelivered);
  EXPECT_EQ(slow.queue->cursor(), 21u);
  EXPECT_EQ(disk->close(), 0u);
}

TEST(DiskQueueTest, GivenUpBatchesGoToDeadLettersUnlessTheDaemonIsStopping) {
  TempDir dir;
  OneOutput o(dir);
  for (size_t k = 0; k < 3; ++k)
    o.push(numbered(k, 3));
  o.c.resolve(0, BatchOutcome::kDelivered);
  o.c.resolve(1, BatchOutcome::kFailed); // retry.max_attempts spent
  o.c.resolve(2, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 3u); // kept aside, not holding the queue back
  EXPECT_EQ(o.metrics.counterValue("ferry_storage_dead_letter_records_total"), 3u);
  o.disk->beginStop();
  o.push(numbered(3, 4));
  o.c.resolve(3, BatchOutcome::kFailed); // given up at shutdown: stays queued for the next start
  EXPECT_EQ(o.c.queue->cursor(), 3u);
  EXPECT_EQ(o.metrics.counterValue("ferry_storage_dead_letter_records_total"), 3u);
  EXPECT_EQ(o.disk->close(), 4u);

  auto dead = DeadLetters::open(dir.path().string(), "out");
  ASSERT_TRUE(dead.has_value()) << dead.error();
  ASSERT_NE(*dead, nullptr);
  auto first = (*dead)->next();
  ASSERT_TRUE(first.has_value()) << first.error();
  ASSERT_TRUE(first->has_value());
  ASSERT_EQ((**first)->size(), 3u);
  EXPECT_EQ((**first)->record(2).data, "b1-2");
  auto end = (*dead)->next();
  ASSERT_TRUE(end.has_value()) << end.error();
  EXPECT_FALSE(end->has_value());
  (*dead)->remove();
  EXPECT_FALSE(fs::exists(dir / DeadLetters::subdir("out")));
  auto none = DeadLetters::open(dir.path().string(), "other");
  ASSERT_TRUE(none.has_value()) << none.error();
  EXPECT_EQ(*none, nullptr); // nothing given up: no queue
}

TEST(DiskQueueTest, DamagedEntriesInABacklogAreSkippedAndCounted) {
  TempDir dir;
  OneOutput o(dir);
  o.c.over_budget = true; // everything stays on disk
  for (size_t k = 0; k < 5; ++k)
    o.push(numbered(k, k + 1));
  ASSERT_TRUE(o.c.got.empty());
  // Entry 2 is damaged on disk after it was written: one byte of its records.
  fs::path segment;
  for (const auto& e : fs::directory_iterator(dir / "queue")) {
    if (e.path().extension() == ".seg") segment = e.path();
  }
  std::string data = test::readFile(segment);
  const size_t at = data.find("b2-1");
  ASSERT_NE(at, std::string::npos);
  data[at] ^= 1;
  test::writeFile(segment, data);
  o.c.over_budget = false;
  EXPECT_TRUE(o.disk->step());
  EXPECT_EQ(o.c.seqs(), (std::vector<uint64_t>{0, 1, 3, 4}));
  EXPECT_EQ(o.metrics.counterValue("ferry_storage_lost_entries_total"), 1u);
  EXPECT_EQ(o.metrics.counterValue("ferry_storage_lost_records_total"), 3u);
  for (size_t i = 0; i < o.c.got.size(); ++i)
    o.c.resolve(i, BatchOutcome::kDelivered);
  EXPECT_EQ(o.c.queue->cursor(), 5u); // past the lost entry: nothing more can come of it
  EXPECT_EQ(o.disk->close(), 0u);
}

TEST(DiskQueueTest, ADiskThatTakesNoWritesPausesInputsUntilItDoes) {
  TempDir dir;
  OneOutput o(dir);
  std::vector<std::string> faults;
  o.disk->onFault([&](const std::string& reason) { faults.push_back(reason); });
  o.push(numbered(0));
  const auto batch = test::makeLineBatch("app", 50, "a longer record to cross the limit ");
  bool handed = false;
  {
    test::FileSizeLimit limit(o.disk->store().bytes() + 100);
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto stored = o.disk->append(*batch, [&] { handed = true; });
      ASSERT_FALSE(stored.has_value());
      EXPECT_FALSE(handed); // not stored: not handed on (nor acknowledged)
      EXPECT_EQ(batch->storeSeq(), core::Batch::kNotStored);
      EXPECT_TRUE(o.disk->mustPause());
    }
    ASSERT_EQ(faults.size(), 1u); // said once, however often the input retries
    EXPECT_EQ(faults[0].rfind("disk buffer cannot take writes: ", 0), 0u) << faults[0];
    EXPECT_EQ(o.metrics.gaugeValue("ferry_storage_degraded"), 1);
    EXPECT_EQ(o.metrics.counterValue("ferry_storage_errors_total"), 2u);
  }
  ASSERT_TRUE(o.disk->append(*batch, [&] { handed = true; }).has_value());
  EXPECT_TRUE(handed);
  EXPECT_EQ(batch->storeSeq(), 1u); // the same batch, the next entry
  EXPECT_FALSE(o.disk->mustPause());
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[1], ""); // healthy again
  EXPECT_EQ(o.metrics.gaugeValue("ferry_storage_degraded"), 0);
}

// Resolves what it gets on a thread of its own, as a runner does; over budget at will.
class ThreadedConsumer : public QueueConsumer {
public:
  void enqueue(core::BatchRef batch) override {
    std::lock_guard lock(mu);
    waiting.push_back(std::move(batch));
  }
  bool overBudget() const override { return over_budget.load(); }
  bool wantsBacklog() const override { return !over_budget.load(); }
  // One round of the runner: resolves everything waiting, in order.
  size_t resolveWaiting() {
    std::vector<core::BatchRef> batches;
    {
      std::lock_guard lock(mu);
      batches.swap(waiting);
    }
    for (auto& b : batches) {
      seqs.push_back(b->storeSeq());
      queue->resolved(*b, BatchOutcome::kDelivered);
      b->resolveOutput(BatchOutcome::kDelivered);
    }
    return batches.size();
  }

  bool drained() {
    std::lock_guard lock(mu);
    return waiting.empty();
  }

  DiskQueue* queue = nullptr;
  std::atomic<bool> over_budget{false};
  std::mutex mu;
  std::vector<core::BatchRef> waiting;
  std::vector<uint64_t> seqs; // resolver thread
};

TEST(DiskQueueTest, BacklogAndLiveBatchesReachAThreadedConsumerEachOnceInOrder) {
  TempDir dir;
  obs::Metrics metrics;
  auto disk = openBuffer(dir, metrics);
  ThreadedConsumer c;
  c.queue = &disk->attach(c);
  core::Router router;
  router.addOutput("*", c.queue);
  disk->start(); // the storage thread reads the backlog while batches are routed
  constexpr uint64_t kBatches = 300;
  std::atomic<bool> stop{false};
  std::thread resolver([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      if (c.resolveWaiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (uint64_t k = 0; k < kBatches; ++k) {
    if (k % 40 == 0) c.over_budget.store(k % 80 == 0); // to disk and back, several times
    push(*disk, router, numbered(k));
  }
  c.over_budget.store(false);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!c.queue->live() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  disk->drain(until); // stops the storage thread
  for (int i = 0; i < 100 && !c.drained(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop.store(true);
  resolver.join();
  c.resolveWaiting();
  EXPECT_EQ(c.seqs, range(0, kBatches));
  EXPECT_EQ(c.queue->cursor(), kBatches);
  EXPECT_EQ(disk->close(), 0u);
}

} // namespace
} // namespace ferry::storage
