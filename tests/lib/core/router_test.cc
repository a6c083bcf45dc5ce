// Router: glob matching, fan-out by reference, filters in order, finalizers.
#include "ferry/core/router.h"

#include <gtest/gtest.h>

#include <thread>

#include "ferry/core/glob.h"
#include "test_support.h"

namespace ferry::core {
namespace {

TEST(GlobTest, MatchesLikeFluentBit) {
  EXPECT_TRUE(globMatch("*", "anything.at.all"));
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("app", "app"));
  EXPECT_FALSE(globMatch("app", "app.web"));
  EXPECT_FALSE(globMatch("app", "ap"));
  EXPECT_TRUE(globMatch("app.*", "app.web"));
  EXPECT_TRUE(globMatch("app.*", "app.web.1"));
  EXPECT_FALSE(globMatch("app.*", "app"));
  EXPECT_FALSE(globMatch("app.*", "application.web"));
  EXPECT_TRUE(globMatch("*-firelens-*", "web-firelens-abc123"));
  EXPECT_TRUE(globMatch("a?c", "abc"));
  EXPECT_FALSE(globMatch("a?c", "ac"));
  EXPECT_TRUE(globMatch("*.log", "var.log"));
  EXPECT_FALSE(globMatch("*.log", "var.logs"));
  EXPECT_TRUE(globMatch("a*b*c", "a-x-b-y-c"));
  EXPECT_FALSE(globMatch("a*b*c", "a-x-c-y-b"));
}

class RecordingQueue : public OutputQueue {
public:
  void enqueue(BatchRef b) override { batches.push_back(std::move(b)); }
  bool overBudget() const override { return false; }
  std::vector<BatchRef> batches;
};

TEST(RouterTest, FansOutOneSharedBatchToEveryMatchingOutput) {
  Router router;
  RecordingQueue all, app, other;
  router.addOutput("*", &all);
  router.addOutput("app.*", &app);
  router.addOutput("db", &other);
  BatchRef b = test::makeLineBatch("app.web", 3);
  Batch* raw = b.get();
  EXPECT_EQ(router.route(std::move(b)), 2u);
  ASSERT_EQ(all.batches.size(), 1u);
  ASSERT_EQ(app.batches.size(), 1u);
  EXPECT_TRUE(other.batches.empty());
  EXPECT_EQ(all.batches[0].get(), raw) << "fan-out must share the batch, not copy it";
  EXPECT_EQ(app.batches[0].get(), raw);
}

TEST(RouterTest, FinalizerRunsOnceAfterEveryOutputResolved) {
  Router router;
  RecordingQueue a, b;
  router.addOutput("*", &a);
  router.addOutput("*", &b);
  int calls = 0;
  BatchOutcome seen = BatchOutcome::kDelivered;
  BatchRef batch = test::makeLineBatch("t", 1);
  batch->setFinalizer([&](BatchOutcome o) {
    ++calls;
    seen = o;
  });
  router.route(std::move(batch));
  a.batches[0]->resolveOutput(BatchOutcome::kDelivered);
  EXPECT_EQ(calls, 0) << "resolved before the second output";
  b.batches[0]->resolveOutput(BatchOutcome::kDropped);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, BatchOutcome::kDropped) << "the worst outcome wins";
}

TEST(RouterTest, UnmatchedBatchResolvesAsDelivered) {
  Router router;
  RecordingQueue q;
  router.addOutput("app", &q);
  int calls = 0;
  BatchOutcome seen = BatchOutcome::kFailed;
  BatchRef batch = test::makeLineBatch("other", 2);
  batch->setFinalizer([&](BatchOutcome o) {
    ++calls;
    seen = o;
  });
  EXPECT_EQ(router.route(std::move(batch)), 0u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, BatchOutcome::kDelivered);
}

TEST(RouterTest, BatchFreedUnresolvedReportsFailed) {
  int calls = 0;
  BatchOutcome seen = BatchOutcome::kDelivered;
  {
    BatchRef batch = test::makeLineBatch("t", 1);
    batch->setFinalizer([&](BatchOutcome o) {
      ++calls;
      seen = o;
    });
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, BatchOutcome::kFailed) << "a batch nobody resolved must never count as acked";
}

// Appends its name to the first record, so the order of filters shows in the data.
class TagFilter : public Filter {
public:
  explicit TagFilter(std::string mark) : mark_(std::move(mark)) {}
  BatchRef apply(BatchRef batch) override {
    auto out = Batch::create(batch->tag(), batch->format());
    for (size_t i = 0; i < batch->size(); ++i) {
      auto r = batch->record(i);
      out->append(r.timestamp_ns, std::string(r.data) + mark_);
    }
    return out;
  }

private:
  std::string mark_;
};

class DropAll : public Filter {
public:
  BatchRef apply(BatchRef) override { return {}; }
};

TEST(RouterTest, FiltersRunInOrderOnMatchingTagsOnly) {
  Router router;
  RecordingQueue q;
  router.addFilter("*", std::make_unique<TagFilter>("-a"));
  router.addFilter("db", std::make_unique<TagFilter>("-skipped"));
  router.addFilter("app*", std::make_unique<TagFilter>("-b"));
  router.addOutput("*", &q);
  int calls = 0;
  BatchRef batch = test::makeLineBatch("app", 1, "x");
  batch->setFinalizer([&](BatchOutcome) { ++calls; });
  batch->setInputId(3);
  batch->setStoreSeq(42);
  router.route(std::move(batch));
  ASSERT_EQ(q.batches.size(), 1u);
  EXPECT_EQ(q.batches[0]->record(0).data, "x0-a-b");
  EXPECT_EQ(q.batches[0]->inputId(), 3u);
  EXPECT_EQ(q.batches[0]->storeSeq(), 42u) << "the replacement batch must carry its disk entry";
  EXPECT_EQ(calls, 0);
  q.batches[0]->resolveOutput(BatchOutcome::kDelivered);
  EXPECT_EQ(calls, 1) << "the replacement batch must carry the original's finalizer";
}

TEST(RouterTest, FilteredOutBatchIsResolvedNotLost) {
  Router router;
  RecordingQueue q;
  router.addFilter("*", std::make_unique<DropAll>());
  router.addOutput("*", &q);
  BatchOutcome seen = BatchOutcome::kFailed;
  BatchRef batch = test::makeLineBatch("app", 1);
  batch->setFinalizer([&](BatchOutcome o) { seen = o; });
  EXPECT_EQ(router.route(std::move(batch)), 0u);
  EXPECT_TRUE(q.batches.empty());
  EXPECT_EQ(seen, BatchOutcome::kDelivered);
}

TEST(RouterTest, ConcurrentResolutionFromOutputThreadsCallsFinalizerOnce) {
  for (int round = 0; round < 200; ++round) {
    Router router;
    RecordingQueue queues[4];
    for (auto& q : queues)
      router.addOutput("*", &q);
    std::atomic<int> calls{0};
    BatchRef batch = test::makeLineBatch("t", 1);
    batch->setFinalizer([&](BatchOutcome) { calls.fetch_add(1); });
    router.route(std::move(batch));
    std::vector<std::thread> threads;
    for (auto& q : queues) {
      threads.emplace_back([&q] {
        BatchRef b = std::move(q.batches[0]);
        b->resolveOutput(BatchOutcome::kDelivered);
      });
    }
    for (auto& t : threads)
      t.join();
    ASSERT_EQ(calls.load(), 1);
  }
}

} // namespace
} // namespace ferry::core
