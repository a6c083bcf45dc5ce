// The position database (save/load, escaping, atomic replacement) and the tracker (only the
// contiguous prefix of resolved batches moves a position; kFailed pins it; truncation
// restarts it; closed entries are kept until their inode is gone).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "ferry/input/tail_position.h"
#include "test_support.h"

namespace ferry::input {
namespace {

using core::BatchOutcome;
using namespace std::chrono_literals;

TEST(PositionDbTest, SaveLoadRoundTrip) {
  test::TempDir dir;
  const std::string db = (dir / "tail.db").string();
  const std::vector<PositionEntry> entries = {
      {{2049, 1311297}, 88420, "/var/log/app/app.log"},
      {{2049, 7}, 0, "/var/log/with space/and\nnewline\\.log"},
      {{UINT64_MAX, UINT64_MAX - 1}, UINT64_MAX - 2, ""},
  };
  ASSERT_TRUE(savePositions(db, entries));
  const auto loaded = loadPositions(db);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_TRUE(loaded->existed);
  EXPECT_EQ(loaded->bad_lines, 0u);
  ASSERT_EQ(loaded->entries.size(), 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(loaded->entries[i].id, entries[i].id);
    EXPECT_EQ(loaded->entries[i].offset, entries[i].offset);
    EXPECT_EQ(loaded->entries[i].path, entries[i].path);
  }
  const std::string text = test::readFile(db);
  EXPECT_TRUE(text.starts_with("# ferry tail positions v1")) << text;
  EXPECT_NE(text.find("2049 1311297 88420 /var/log/app/app.log\n"), std::string::npos) << text;
}

TEST(PositionDbTest, MissingIsEmptyAndBadLinesAreSkipped) {
  test::TempDir dir;
  const auto missing = loadPositions((dir / "nope.db").string());
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->existed);
  EXPECT_TRUE(missing->entries.empty());
  test::writeFile(dir / "bad.db", "# header\n1 2 3 /ok\ngarbage\n1 2\n\n4 5 6 /also ok");
  const auto loaded = loadPositions((dir / "bad.db").string());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->bad_lines, 2u);
  ASSERT_EQ(loaded->entries.size(), 2u);
  EXPECT_EQ(loaded->entries[1].path, "/also ok");
}

TEST(PositionDbTest, ReplacementIsAtomic) {
  test::TempDir dir;
  const std::string db = (dir / "tail.db").string();
  ASSERT_TRUE(savePositions(db, {{{1, 1}, 10, "/a"}}));
  // A crash mid-save leaves at most a stray temp file; the database is the old version.
  test::writeFile(dir / "tail.db.tmp", "1 1 999");
  auto loaded = loadPositions(db);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->entries.size(), 1u);
  EXPECT_EQ(loaded->entries[0].offset, 10u);
  // The next save replaces both; no temp file is left behind.
  ASSERT_TRUE(savePositions(db, {{{1, 1}, 20, "/a"}}));
  EXPECT_FALSE(std::filesystem::exists(dir / "tail.db.tmp"));
  loaded = loadPositions(db);
  EXPECT_EQ(loaded->entries[0].offset, 20u);
  // The inode changes on every save: readers holding the old file see a complete old version.
  struct stat a {
  }, b{};
  ::stat(db.c_str(), &a);
  ASSERT_TRUE(savePositions(db, {{{1, 1}, 30, "/a"}}));
  ::stat(db.c_str(), &b);
  EXPECT_NE(a.st_ino, b.st_ino);
}

TEST(PositionDbTest, SaveFailureIsReported) {
  test::TempDir dir;
  const auto r = savePositions((dir / "missing-dir" / "tail.db").string(), {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot create"), std::string::npos) << r.error().message;
}

TEST(PositionTrackerTest, OutOfOrderFinalizersAdvanceOnlyTheContiguousPrefix) {
  auto tracker = PositionTracker::create("");
  auto f = tracker->track({1, 1}, "/a", 100);
  const uint64_t t1 = tracker->begin(f, 200);
  const uint64_t t2 = tracker->begin(f, 300);
  const uint64_t t3 = tracker->begin(f, 400);
  EXPECT_EQ(tracker->resumeOffset(f), 400u);
  tracker->resolve(f, t3, BatchOutcome::kDelivered);
  tracker->resolve(f, t2, BatchOutcome::kDelivered);
  EXPECT_EQ(tracker->committed(f), 100u) << "batch 1 is still in flight";
  tracker->resolve(f, t1, BatchOutcome::kDelivered);
  EXPECT_EQ(tracker->committed(f), 400u);
  tracker->resolve(f, t1, BatchOutcome::kDelivered); // twice: ignored
  EXPECT_EQ(tracker->committed(f), 400u);
}

TEST(PositionTrackerTest, DroppedAdvancesFailedPins) {
  auto tracker = PositionTracker::create("");
  auto f = tracker->track({1, 1}, "/a", 0);
  const uint64_t t1 = tracker->begin(f, 10);
  const uint64_t t2 = tracker->begin(f, 20);
  const uint64_t t3 = tracker->begin(f, 30);
  tracker->resolve(f, t1, BatchOutcome::kDropped);
  EXPECT_EQ(tracker->committed(f), 10u) << "a drop is counted by the output; the position moves";
  tracker->resolve(f, t3, BatchOutcome::kDelivered);
  tracker->resolve(f, t2, BatchOutcome::kFailed);
  EXPECT_EQ(tracker->committed(f), 10u) << "never past a failed batch";
  EXPECT_TRUE(tracker->stuck(f));
  const uint64_t t4 = tracker->begin(f, 40);
  tracker->resolve(f, t4, BatchOutcome::kDelivered);
  tracker->advance(f, 50);
  EXPECT_EQ(tracker->committed(f), 10u) << "later batches cannot move it either";
  EXPECT_EQ(tracker->resumeOffset(f), 50u) << "reading goes on";
}

TEST(PositionTrackerTest, AdvanceWaitsForEarlierBatches) {
  auto tracker = PositionTracker::create("");
  auto f = tracker->track({1, 1}, "/a", 0);
  tracker->advance(f, 5);
  EXPECT_EQ(tracker->committed(f), 5u) << "nothing in flight: at once";
  const uint64_t t1 = tracker->begin(f, 10);
  tracker->advance(f, 15);
  EXPECT_EQ(tracker->committed(f), 5u);
  tracker->resolve(f, t1, BatchOutcome::kDelivered);
  EXPECT_EQ(tracker->committed(f), 15u);
}

TEST(PositionTrackerTest, RestartIgnoresBatchesFromBefore) {
  auto tracker = PositionTracker::create("");
  auto f = tracker->track({1, 1}, "/a", 0);
  const uint64_t old1 = tracker->begin(f, 1000);
  const uint64_t old2 = tracker->begin(f, 2000);
  tracker->resolve(f, old2, BatchOutcome::kFailed);
  tracker->restart(f, 0); // truncated
  EXPECT_FALSE(tracker->stuck(f));
  const uint64_t t1 = tracker->begin(f, 50);
  tracker->resolve(f, old1, BatchOutcome::kDelivered);
  EXPECT_EQ(tracker->committed(f), 0u) << "an old batch's end is past the new content";
  tracker->resolve(f, t1, BatchOutcome::kDelivered);
  EXPECT_EQ(tracker->committed(f), 50u);
}

TEST(PositionTrackerTest, ConcurrentFinalizersFromManyThreads) {
  auto tracker = PositionTracker::create("");
  auto f = tracker->track({1, 1}, "/a", 0);
  constexpr int kBatches = 4000;
  std::vector<core::BatchFinalizer> finalizers;
  for (int i = 1; i <= kBatches; ++i) {
    finalizers.push_back(tracker->finalizer(f, tracker->begin(f, static_cast<uint64_t>(i) * 10)));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = kBatches - 1 - t; i >= 0; i -= 4)
        finalizers[static_cast<size_t>(i)](BatchOutcome::kDelivered);
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(tracker->committed(f), kBatches * 10u);
}

TEST(PositionTrackerTest, SavesCoalescedAndOnDemand) {
  test::TempDir dir;
  const std::string db = (dir / "tail.db").string();
  auto tracker = PositionTracker::create(db);
  auto f = tracker->track({3, 4}, "/x.log", 7);
  auto saved = tracker->save(0ms);
  ASSERT_TRUE(saved);
  EXPECT_TRUE(*saved);
  EXPECT_FALSE(*tracker->save(0ms)) << "nothing changed";
  auto fin = tracker->finalizer(f, tracker->begin(f, 70));
  fin(BatchOutcome::kDelivered); // saves unless one was made in the last 200 ms
  EXPECT_TRUE(tracker->dirty());
  const uint64_t t = tracker->begin(f, 80);
  tracker->resolve(f, t, BatchOutcome::kDelivered);
  std::this_thread::sleep_for(PositionTracker::kSaveInterval + 20ms);
  EXPECT_TRUE(*tracker->save(PositionTracker::kSaveInterval));
  auto loaded = loadPositions(db);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->entries.size(), 1u);
  EXPECT_EQ(loaded->entries[0].offset, 80u);
  EXPECT_EQ(loaded->entries[0].path, "/x.log");
}

TEST(PositionTrackerTest, DestructorSavesTheLastChanges) {
  test::TempDir dir;
  const std::string db = (dir / "tail.db").string();
  {
    auto tracker = PositionTracker::create(db);
    auto f = tracker->track({3, 4}, "/x.log", 0);
    ASSERT_TRUE(tracker->save(0ms));
    tracker->advance(f, 123);
  }
  EXPECT_EQ(loadPositions(db)->entries.at(0).offset, 123u);
}

TEST(PositionTrackerTest, ClosedEntriesStayUntilTheirInodeIsGone) {
  auto tracker = PositionTracker::create("");
  auto a = tracker->track({1, 1}, "/a", 0);
  auto b = tracker->track({1, 2}, "/b", 0);
  tracker->advance(a, 10);
  tracker->close(a);
  const uint64_t t = tracker->begin(b, 5);
  tracker->close(b);
  tracker->prune({{1, 1}});
  EXPECT_EQ(tracker->snapshot().size(), 2u) << "a still exists; b still has a batch in flight";
  tracker->resolve(b, t, BatchOutcome::kDelivered);
  tracker->prune({});
  EXPECT_TRUE(tracker->snapshot().empty());
  auto again = tracker->track({1, 1}, "/a.1", 0);
  EXPECT_EQ(tracker->resumeOffset(again), 0u) << "pruned: a new entry";
  tracker->advance(again, 10);
  tracker->close(again);
  EXPECT_EQ(tracker->resumeOffset(tracker->track({1, 1}, "/a.2", 0)), 10u)
      << "found again: resumes";
}

} // namespace
} // namespace ferry::input
