// Segment store: round trip, repair of every kind of damaged tail, resynchronisation past
// damage inside a segment (on open and while reading), segments of the first format, failed
// writes, cursors, segment deletion, max_bytes (drop_oldest), and the CRC32C it relies on.
#include "ferry/storage/segment_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "ferry/storage/crc32c.h"
#include "file_size_limit.h"
#include "test_support.h"

namespace ferry::storage {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

StoreOptions optionsFor(const TempDir& dir, uint64_t segment_bytes = 0) {
  StoreOptions o;
  o.path = dir.path().string();
  o.sync = SyncPolicy::kNone;
  o.segment_bytes = segment_bytes;
  return o;
}

SegmentStorePtr openStore(const StoreOptions& o, std::vector<std::string> outputs = {"out"}) {
  auto s = SegmentStore::open(o, outputs);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error());
  return s ? std::move(*s) : nullptr;
}

std::vector<std::string> segmentFiles(const TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir / "queue")) {
    if (e.path().extension() == ".seg") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reads every entry left in `r`; fails the test on a read error.
std::vector<StoredEntry> drain(StoreReader& r) {
  std::vector<StoredEntry> out;
  for (;;) {
    auto e = r.next();
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error());
    if (!e || !*e) break;
    out.push_back(std::move(**e));
  }
  return out;
}

// Reads every entry from `from`.
std::vector<StoredEntry> readAll(const SegmentStore& store, uint64_t from = 0) {
  StoreReader r(store, from);
  return drain(r);
}

void expectSameBatch(const core::Batch& a, const core::Batch& b) {
  EXPECT_EQ(a.tag(), b.tag());
  EXPECT_EQ(a.format(), b.format());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.record(i).timestamp_ns, b.record(i).timestamp_ns);
    EXPECT_EQ(a.record(i).data, b.record(i).data);
  }
}

TEST(Crc32cTest, KnownVectorsAndBothPathsAgree) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32cPortable(0, "123456789", 9), 0xE3069283u);
  std::mt19937 rng(7);
  std::string data(4099, '\0');
  for (char& c : data)
    c = static_cast<char>(rng());
  for (size_t off : {0, 1, 3, 7}) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 4000}) {
      EXPECT_EQ(crc32cExtend(0, data.data() + off, len), crc32cPortable(0, data.data() + off, len));
    }
  }
  // Extending in pieces equals one pass.
  EXPECT_EQ(crc32cExtend(crc32cExtend(0, data.data(), 100), data.data() + 100, 900),
            crc32cExtend(0, data.data(), 1000));
}

TEST(SegmentStoreTest, RoundTripAcrossReopen) {
  TempDir dir;
  std::vector<core::BatchRef> batches;
  batches.push_back(test::makeLineBatch("app", 3, "hello "));
  batches.push_back(test::makeLineBatch("a.much.longer.tag", 1000, "x"));
  auto mp = core::Batch::create("fwd", core::RecordFormat::kMsgpackMap);
  mp->append(-5, test::packMap({{"log", "one"}, {"source", "stdout"}}));
  mp->append(INT64_MAX, test::packMap({{"log", std::string(70000, 'z')}}));
  batches.push_back(mp);
  {
    auto store = openStore(optionsFor(dir));
    for (size_t i = 0; i < batches.size(); ++i) {
      batches[i]->setInputId(static_cast<uint32_t>(i));
      auto seq = store->append(*batches[i]);
      ASSERT_TRUE(seq.has_value()) << seq.error();
      EXPECT_EQ(*seq, i);
    }
    EXPECT_EQ(store->nextSeq(), 3u);
    auto now = readAll(*store);
    ASSERT_EQ(now.size(), 3u);
  }
  auto store = openStore(optionsFor(dir));
  EXPECT_EQ(store->recovery().entries, 3u);
  EXPECT_EQ(store->recovery().records, 1005u);
  EXPECT_EQ(store->recovery().corrupt_entries, 0u);
  EXPECT_EQ(store->nextSeq(), 3u);
  auto got = readAll(*store);
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].seq, i);
    expectSameBatch(*got[i].batch, *batches[i]);
    EXPECT_EQ(got[i].batch->inputId(), core::Batch::kNoInput); // a replay feeds no input's pause
  }
  // From the middle, and bounded by max_seq.
  StoreReader r(*store, 1);
  auto e = r.next(1);
  ASSERT_TRUE(e && *e);
  EXPECT_EQ((*e)->seq, 1u);
  e = r.next(1);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->has_value());
  EXPECT_EQ(store->countRecords(1), 1002u);
  EXPECT_EQ(store->countRecords(0), 1005u);
}

// Writes three entries and returns the segment path and the offset where the last starts.
std::pair<std::string, uint64_t> threeEntries(const TempDir& dir) {
  auto store = openStore(optionsFor(dir));
  EXPECT_TRUE(store->append(*test::makeLineBatch("t", 2, "a")));
  EXPECT_TRUE(store->append(*test::makeLineBatch("t", 3, "b")));
  const uint64_t before = store->bytes();
  EXPECT_TRUE(store->append(*test::makeLineBatch("t", 4, "c")));
  return {segmentFiles(dir).at(0), before};
}

TEST(SegmentStoreTest, CorruptionAtEveryByteOfTheLastEntryIsTruncatedAndCounted) {
  TempDir dir;
  const auto [seg, last] = threeEntries(dir);
  const std::string pristine = test::readFile(seg);
  ASSERT_GT(pristine.size(), last);
  for (uint64_t at = last; at < pristine.size(); ++at) {
    std::string damaged = pristine;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    test::writeFile(seg, damaged);
    auto store = openStore(optionsFor(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->recovery().corrupt_entries, 1u) << "byte " << at;
    EXPECT_EQ(store->recovery().entries, 2u) << "byte " << at;
    EXPECT_EQ(store->recovery().truncated_bytes, pristine.size() - last);
    EXPECT_EQ(fs::file_size(seg), last);
    auto got = readAll(*store);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].batch->record(2).data, "b2");
    // Appending goes on from a clean boundary with the next sequence number.
    auto seq = store->append(*test::makeLineBatch("t", 1, "d"));
    ASSERT_TRUE(seq.has_value());
    EXPECT_EQ(*seq, 2u);
    EXPECT_EQ(readAll(*store).size(), 3u);
  }
}

TEST(SegmentStoreTest, CrashMidWriteAtRandomOffsetsKeepsEveryWholeEntry) {
  TempDir dir;
  std::vector<uint64_t> boundaries{0};
  {
    auto store = openStore(optionsFor(dir));
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(store->append(*test::makeLineBatch("t", 1 + i % 5, "r")));
      boundaries.push_back(store->bytes());
    }
  }
  const std::string seg = segmentFiles(dir).at(0);
  const std::string pristine = test::readFile(seg);
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t cut = rng() % (pristine.size() + 1);
    test::writeFile(seg, std::string_view(pristine).substr(0, cut));
    const auto whole = static_cast<uint64_t>(
        std::upper_bound(boundaries.begin(), boundaries.end(), cut) - boundaries.begin() - 1);
    const bool torn = cut != boundaries[whole];
    auto store = openStore(optionsFor(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->recovery().entries, whole) << "cut at " << cut;
    EXPECT_EQ(store->recovery().corrupt_entries, torn ? 1u : 0u) << "cut at " << cut;
    EXPECT_EQ(readAll(*store).size(), whole);
    EXPECT_EQ(store->nextSeq(), whole);
  }
}

TEST(SegmentStoreTest, CursorsPersistAndNewOutputsStartAtTheEnd) {
  TempDir dir;
  {
    auto store = openStore(optionsFor(dir), {"a", "b"});
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(store->append(*test::makeLineBatch("t", 1)));
    store->setCursor("a", 3);
    store->setCursor("b", 1);
    store->setCursor("b", 0); // never backwards
    ASSERT_TRUE(store->persistCursors().has_value());
  }
  EXPECT_EQ(test::readFile(dir / "queue/cursors/a"), "3\n");
  auto store = openStore(optionsFor(dir), {"a", "b", "c/new"});
  EXPECT_EQ(store->cursor("a"), 3u);
  EXPECT_EQ(store->cursor("b"), 1u);
  EXPECT_EQ(store->cursor("c/new"), 5u);
  EXPECT_TRUE(fs::exists(dir / "queue/cursors/c_new")); // written at once, names sanitised
}

TEST(SegmentStoreTest, SequenceNeverFallsBelowACursorWhenEverySegmentIsGone) {
  TempDir dir;
  {
    auto store = openStore(optionsFor(dir), {"a"});
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(store->append(*test::makeLineBatch("t", 1)));
    store->setCursor("a", 4);
    ASSERT_TRUE(store->persistCursors().has_value());
  }
  for (const auto& f : segmentFiles(dir))
    fs::remove(f);
  auto store = openStore(optionsFor(dir), {"a"});
  EXPECT_EQ(store->nextSeq(), 4u);
  auto seq = store->append(*test::makeLineBatch("t", 1));
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ(*seq, 4u);
  EXPECT_EQ(readAll(*store, store->cursor("a")).size(), 1u);
}

TEST(SegmentStoreTest, SegmentIsDeletedOnlyWhenEveryOutputPassedIt) {
  TempDir dir;
  auto store = openStore(optionsFor(dir, 1), {"a", "b"}); // one entry per segment
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(store->append(*test::makeLineBatch("t", 2)));
  ASSERT_EQ(segmentFiles(dir).size(), 6u);
  store->setCursor("a", 5);
  EXPECT_EQ(store->collect(), 0u); // b has not passed anything
  store->setCursor("b", 2);
  EXPECT_EQ(store->collect(), 2u); // entries 0 and 1
  EXPECT_EQ(segmentFiles(dir).size(), 4u);
  EXPECT_EQ(store->firstSeq(), 2u);
  store->setCursor("b", 6);
  store->setCursor("a", 6);
  EXPECT_EQ(store->collect(), 3u); // never the segment being written
  EXPECT_EQ(segmentFiles(dir).size(), 1u);
  auto left = readAll(*store, 0);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].seq, 5u);
  // Reopening keeps what is left and the sequence.
  ASSERT_TRUE(store->persistCursors().has_value());
  store.reset();
  store = openStore(optionsFor(dir, 1), {"a", "b"});
  EXPECT_EQ(store->nextSeq(), 6u);
}

TEST(SegmentStoreTest, MaxBytesFullAndDropOldest) {
  TempDir dir;
  auto o = optionsFor(dir, 1);
  o.max_bytes = 2000;
  o.when_full = WhenFull::kDropOldest;
  auto store = openStore(o, {"a"});
  int appended = 0;
  while (!store->full()) {
    ASSERT_TRUE(store->append(*test::makeLineBatch("t", 10, "0123456789")));
    ++appended;
    ASSERT_LT(appended, 100);
  }
  EXPECT_GE(store->bytes(), 2000u);
  const uint64_t before = store->bytes();
  EXPECT_EQ(store->dropOldest(), 10u);
  EXPECT_LT(store->bytes(), before);
  EXPECT_EQ(store->cursor("a"), 1u); // moved past the dropped segment
  auto got = readAll(*store, 0);     // a reader from before the drop skips the gap
  ASSERT_EQ(got.size(), static_cast<size_t>(appended - 1));
  EXPECT_EQ(got.front().seq, 1u);
  // The only segment left is dropped too: a new one is started first.
  TempDir dir2;
  auto o2 = optionsFor(dir2);
  auto single = openStore(o2, {"a"});
  ASSERT_TRUE(single->append(*test::makeLineBatch("t", 3)));
  EXPECT_EQ(single->dropOldest(), 3u);
  EXPECT_EQ(single->bytes(), 0u);
  EXPECT_EQ(single->cursor("a"), 1u);
  auto seq = single->append(*test::makeLineBatch("t", 1));
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ(*seq, 1u);
}

TEST(SegmentStoreTest, DamageInAnEarlierSegmentLeavesTheLaterOnesReadable) {
  TempDir dir;
  {
    auto store = openStore(optionsFor(dir, 1), {"a"});
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(store->append(*test::makeLineBatch("t", 1)));
  }
  const auto files = segmentFiles(dir);
  ASSERT_EQ(files.size(), 3u);
  std::string first = test::readFile(files[0]);
  first[first.size() - 1] ^= 1;
  test::writeFile(files[0], first);
  auto store = openStore(optionsFor(dir, 1), {"a"});
  EXPECT_EQ(store->recovery().corrupt_entries, 1u);
  auto got = readAll(*store, 0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 1u);
}

// Ten entries of 1..10 records in one segment; returns the offset where each starts (and the
// segment's size last).
std::vector<uint64_t> tenEntries(const TempDir& dir, std::vector<std::string> outputs = {"out"}) {
  std::vector<uint64_t> starts{0};
  auto store = openStore(optionsFor(dir), outputs);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(store->append(*test::makeLineBatch("t", 1 + i, "r")));
    starts.push_back(store->bytes());
  }
  return starts;
}

std::vector<uint64_t> seqsOf(const std::vector<StoredEntry>& entries) {
  std::vector<uint64_t> out;
  for (const auto& e : entries)
    out.push_back(e.seq);
  return out;
}

TEST(SegmentStoreTest, CorruptionAtEveryByteOfAMiddleEntryLosesOnlyThatEntry) {
  TempDir dir;
  const auto starts = tenEntries(dir);
  const std::string seg = segmentFiles(dir).at(0);
  const std::string pristine = test::readFile(seg);
  const std::vector<uint64_t> others{0, 1, 2, 3, 5, 6, 7, 8, 9};
  for (uint64_t at = starts[4]; at < starts[5]; ++at) {
    std::string damaged = pristine;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    test::writeFile(seg, damaged);
    fs::remove(dir / "queue/damage-reported"); // a new damage each time, at the same place
    auto store = openStore(optionsFor(dir));
    ASSERT_NE(store, nullptr);
    const auto& rec = store->recovery();
    ASSERT_EQ(rec.corrupt_entries, 1u) << "byte " << at;
    EXPECT_EQ(rec.entries, 9u) << "byte " << at;
    EXPECT_EQ(rec.truncated_bytes, 0u);
    EXPECT_EQ(rec.skipped_bytes, starts[5] - starts[4]);
    ASSERT_EQ(rec.lost.size(), 1u);
    const Damage& d = rec.lost[0];
    EXPECT_EQ(d.entries(), 1u) << "byte " << at;
    // The header holds the record count apart from the body: damage to the body leaves it.
    if (at >= starts[4] + SegmentStore::kHeaderBytes) {
      EXPECT_EQ(d.records, 5u) << "byte " << at;
      EXPECT_EQ(d.unknownEntries(), 0u);
    } else {
      EXPECT_EQ(d.records, 0u) << "byte " << at;
      EXPECT_EQ(d.unknownEntries(), 1u);
    }
    // Readers step over it without reporting it again.
    StoreReader r(*store, 0);
    std::vector<uint64_t> got;
    for (;;) {
      auto e = r.next();
      ASSERT_TRUE(e.has_value()) << e.error();
      if (!*e) break;
      got.push_back((**e).seq);
      if ((**e).seq == 5) {
        EXPECT_EQ((**e).batch->record(5).data, "r5");
      }
    }
    EXPECT_EQ(got, others) << "byte " << at;
    EXPECT_TRUE(r.takeDamage().empty());
    EXPECT_EQ(store->countRecords(0), 55u - 5u);
    auto seq = store->append(*test::makeLineBatch("t", 1));
    ASSERT_TRUE(seq.has_value());
    EXPECT_EQ(*seq, 10u);
  }
}

TEST(SegmentStoreTest, DamageMetWhileReadingIsSkippedAndReportedOnce) {
  TempDir dir;
  const auto starts = tenEntries(dir, {"a", "b"});
  auto store = openStore(optionsFor(dir), {"a", "b"});
  ASSERT_EQ(store->recovery().corrupt_entries, 0u);
  // Damaged on disk after the start: the bodies of entries 2 and 3, and the header of 6.
  const std::string seg = segmentFiles(dir).at(0);
  std::string data = test::readFile(seg);
  data[starts[2] + SegmentStore::kHeaderBytes + 3] ^= 1;
  data[starts[3] + SegmentStore::kHeaderBytes + 30] ^= 1;
  data[starts[6] + 5] ^= 1; // its length
  test::writeFile(seg, data);
  StoreReader first(*store, 0), second(*store, 0);
  const std::vector<uint64_t> intact{0, 1, 4, 5, 7, 8, 9};
  EXPECT_EQ(seqsOf(drain(first)), intact);
  const auto damage = first.takeDamage();
  ASSERT_EQ(damage.size(), 2u);
  EXPECT_EQ(damage[0].entries(), 2u); // two neighbours, both headers intact: counted exactly
  EXPECT_EQ(damage[0].records, 3u + 4u);
  EXPECT_EQ(damage[0].unknownEntries(), 0u);
  EXPECT_EQ(damage[1].entries(), 1u);
  EXPECT_EQ(damage[1].unknownEntries(), 1u);
  EXPECT_EQ(seqsOf(drain(second)), intact);
  EXPECT_TRUE(second.takeDamage().empty()); // the first reader reported it
  // A reader starting past the damage reports nothing and misses nothing.
  StoreReader late(*store, 7);
  EXPECT_EQ(seqsOf(drain(late)), (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_TRUE(late.takeDamage().empty());
}

TEST(SegmentStoreTest, DamageEveryCursorPassedIsNotCountedAsLost) {
  TempDir dir;
  const auto starts = tenEntries(dir, {"a"});
  {
    auto store = openStore(optionsFor(dir), {"a"});
    store->setCursor("a", 6);
    ASSERT_TRUE(store->persistCursors().has_value());
  }
  const std::string seg = segmentFiles(dir).at(0);
  std::string data = test::readFile(seg);
  data[starts[2] + 40] ^= 1;
  data[starts[7] + 40] ^= 1;
  test::writeFile(seg, data);
  auto store = openStore(optionsFor(dir), {"a"});
  EXPECT_EQ(store->recovery().corrupt_entries, 2u);
  ASSERT_EQ(store->recovery().lost.size(), 1u); // entry 2 had been delivered already
  EXPECT_EQ(store->recovery().lost[0].first_seq, 7u);
  EXPECT_EQ(store->recovery().lost[0].records, 8u);
  EXPECT_EQ(seqsOf(readAll(*store, 6)), (std::vector<uint64_t>{6, 8, 9}));
}

TEST(SegmentStoreTest, DamageIsReportedOnceAcrossRestarts) {
  TempDir dir;
  const auto starts = tenEntries(dir, {"a"});
  const std::string seg = segmentFiles(dir).at(0);
  std::string data = test::readFile(seg);
  data[starts[2] + 40] ^= 1; // found on the next start
  test::writeFile(seg, data);
  {
    auto store = openStore(optionsFor(dir), {"a"});
    ASSERT_EQ(store->recovery().lost.size(), 1u);
    EXPECT_EQ(store->recovery().lost[0].records, 3u);
    // Found by a reader while running.
    std::string now = test::readFile(seg);
    now[starts[6] + 40] ^= 1;
    test::writeFile(seg, now);
    StoreReader r(*store, 0);
    EXPECT_EQ(drain(r).size(), 8u);
    const auto met = r.takeDamage();
    ASSERT_EQ(met.size(), 1u);
    EXPECT_EQ(met[0].records, 7u);
  }
  // Both are still on disk (no output passed them) and stepped over, but not reported again.
  auto store = openStore(optionsFor(dir), {"a"});
  EXPECT_EQ(store->recovery().corrupt_entries, 2u);
  EXPECT_TRUE(store->recovery().lost.empty());
  StoreReader r(*store, 0);
  EXPECT_EQ(seqsOf(drain(r)), (std::vector<uint64_t>{0, 1, 3, 4, 5, 7, 8, 9}));
  EXPECT_TRUE(r.takeDamage().empty());
}

// The first format: u32 body length | u32 crc32c(body) | body.
std::string oldFormatEntry(const core::Batch& batch, uint64_t seq) {
  std::string entry;
  SegmentStore::encodeEntry(batch, seq, entry);
  std::string body = entry.substr(SegmentStore::kHeaderBytes);
  const auto len = static_cast<uint32_t>(body.size());
  const uint32_t crc = crc32c(body);
  std::string out(reinterpret_cast<const char*>(&len), 4);
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out + body;
}

TEST(SegmentStoreTest, SegmentsOfTheFirstFormatAreReadAndNotAppendedTo) {
  TempDir dir;
  fs::create_directories(dir / "queue");
  std::string old;
  for (uint64_t i = 0; i < 3; ++i)
    old += oldFormatEntry(*test::makeLineBatch("t", 2 + i, "o"), i);
  test::writeFile(dir / "queue/00000000000000000000.seg", old);
  auto store = openStore(optionsFor(dir), {"a"});
  EXPECT_EQ(store->recovery().entries, 3u);
  EXPECT_EQ(store->recovery().records, 9u);
  EXPECT_EQ(store->recovery().corrupt_entries, 0u);
  store->setCursor("a", 0);
  auto seq = store->append(*test::makeLineBatch("t", 1, "n"));
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ(*seq, 3u);
  EXPECT_EQ(segmentFiles(dir).size(), 2u); // a new segment in the current format
  EXPECT_EQ(test::readFile(dir / "queue/00000000000000000000.seg"), old);
  auto got = readAll(*store, 0);
  ASSERT_EQ(seqsOf(got), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(got[2].batch->record(3).data, "o3");
  EXPECT_EQ(store->countRecords(1), 3u + 4u + 1u);
}

TEST(SegmentStoreTest, AFailedWriteLeavesNoTraceAndTheSameBatchGoesInLater) {
  TempDir dir;
  auto store = openStore(optionsFor(dir), {"a"});
  ASSERT_TRUE(store->append(*test::makeLineBatch("t", 3)));
  const uint64_t before = store->bytes();
  const auto batch = test::makeLineBatch("t", 50, "a longer record to cross the limit ");
  {
    test::FileSizeLimit limit(before + 100); // inside the next entry: a partial write
    auto seq = store->append(*batch);
    ASSERT_FALSE(seq.has_value());
    EXPECT_NE(seq.error().find("cannot write"), std::string::npos) << seq.error();
    EXPECT_EQ(store->bytes(), before);
    EXPECT_EQ(fs::file_size(segmentFiles(dir).at(0)), before); // the partial entry is gone
    EXPECT_EQ(store->nextSeq(), 1u);
    EXPECT_FALSE(store->append(*batch).has_value()); // still no room
  }
  auto seq = store->append(*batch); // room again: the same batch, the next seq
  ASSERT_TRUE(seq.has_value()) << seq.error();
  EXPECT_EQ(*seq, 1u);
  store.reset();
  store = openStore(optionsFor(dir), {"a"});
  EXPECT_EQ(store->recovery().corrupt_entries, 0u);
  auto got = readAll(*store, 0);
  ASSERT_EQ(got.size(), 2u);
  expectSameBatch(*got[1].batch, *batch);
}

TEST(SegmentStoreTest, UnusableDirectoryIsAnError) {
  TempDir dir;
  test::writeFile(dir / "file", "x");
  StoreOptions o;
  o.path = (dir / "file").string();
  EXPECT_FALSE(SegmentStore::open(o, {"a"}).has_value());
}

TEST(SegmentStoreTest, OneProcessPerDirectory) {
  TempDir dir;
  auto first = openStore(optionsFor(dir));
  auto second = SegmentStore::open(optionsFor(dir), {"out"}); // flock is per open file
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().find("in use"), std::string::npos);
  first.reset();
  EXPECT_TRUE(SegmentStore::open(optionsFor(dir), {"out"}).has_value());
}

TEST(SegmentStoreTest, ParseSyncPolicy) {
  EXPECT_EQ(parseSyncPolicy("always"), SyncPolicy::kAlways);
  EXPECT_EQ(parseSyncPolicy("interval"), SyncPolicy::kInterval);
  EXPECT_EQ(parseSyncPolicy("none"), SyncPolicy::kNone);
  EXPECT_FALSE(parseSyncPolicy("sometimes").has_value());
}

} // namespace
} // namespace ferry::storage
