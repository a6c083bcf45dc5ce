// The multipart kit: the abandoned-upload list (newest first, bounded takes), the shutdown
// aborts bounded in count and in time, part counts within a store's limit, and the steps a
// request walks (create, parts in order, complete; a drop with an open upload aborts first).
#include "ferry/sink/multipart.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ferry::sink {
namespace {

core::ByteBuffer bytes(size_t n) {
  core::ByteBuffer b;
  for (size_t i = 0; i < n; ++i)
    b.push_back(static_cast<char>('a' + i % 26));
  return b;
}

TEST(MultipartTest, OpenUploadListTakesNewestFirst) {
  OpenUploadList list;
  for (int i = 0; i < 3; ++i)
    list.add({"k" + std::to_string(i), "u"});
  const auto two = list.take(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].key, "k1");
  EXPECT_EQ(two[1].key, "k2");
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(list.take(5).size(), 1u);
  EXPECT_EQ(list.size(), 0u);
}

TEST(MultipartTest, ShutdownAbortsStopAtTheBudget) {
  OpenUploadList list;
  for (int i = 0; i < 5; ++i)
    list.add({"k" + std::to_string(i), "u"});
  std::vector<uint64_t> timeouts;
  abortWithin(list, 4, 50, [&](const OpenUpload&, uint64_t timeout_ms) {
    timeouts.push_back(timeout_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  });
  // The first gets the whole budget, the second what is left; the third finds it spent.
  ASSERT_EQ(timeouts.size(), 2u);
  EXPECT_EQ(timeouts[0], 50u);
  EXPECT_LT(timeouts[1], 50u);
  EXPECT_EQ(list.size(), 1u); // taken ones are not listed again
}

TEST(MultipartTest, PartsWithinTheLimit) {
  uint64_t part = 100;
  EXPECT_EQ(partCountFor(99, part, 10), 0u);
  EXPECT_EQ(partCountFor(250, part, 10), 3u);
  EXPECT_EQ(partCountFor(5000, part, 10), 10u);
  EXPECT_EQ(part, 500u);
}

TEST(MultipartTest, StepsAndTheAbortBeforeADrop) {
  OpenUploadList list;
  {
    MultipartUpload u("k", bytes(250), 100, 10, 7, &list, {});
    EXPECT_EQ(u.step(), UploadStep::kCreate);
    EXPECT_EQ(u.partCount(), 3u);
    u.created("id");
    ASSERT_EQ(u.step(), UploadStep::kPart);
    EXPECT_EQ(u.partBody().size(), 100u);
    u.partUploaded("e1");
    EXPECT_EQ(u.partIndex(), 1u);
    ferry_plugin_verdict v{};
    v.kind = FERRY_VERDICT_RETRY;
    u.failed(v); // a retry stays on the step
    EXPECT_EQ(v.kind, FERRY_VERDICT_RETRY);
    EXPECT_EQ(u.step(), UploadStep::kPart);
    v.kind = FERRY_VERDICT_DROP;
    v.unhealthy = 1;
    u.failed(v);
    EXPECT_EQ(v.kind, FERRY_VERDICT_CONTINUE);
    EXPECT_EQ(u.step(), UploadStep::kAbort);
    ferry_plugin_verdict after{};
    u.abortAnswered(after);
    EXPECT_EQ(after.kind, FERRY_VERDICT_DROP);
    EXPECT_EQ(after.unhealthy, 1u);
    EXPECT_EQ(u.step(), UploadStep::kDone);
  }
  EXPECT_EQ(list.size(), 0u); // done: nothing left open
  {
    MultipartUpload u("k", bytes(250), 100, 10, 7, &list, {});
    u.created("id");
    u.partUploaded("e1");
    u.partUploaded("e2");
    EXPECT_EQ(u.partBody().size(), 50u); // the last part is the rest
    u.partUploaded("e3");
    EXPECT_EQ(u.step(), UploadStep::kComplete);
    EXPECT_EQ(u.etags(), (std::vector<std::string>{"e1", "e2", "e3"}));
  } // freed while open: listed for a later abort
  const auto left = list.take(1);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].upload_id, "id");
}

} // namespace
} // namespace ferry::sink
