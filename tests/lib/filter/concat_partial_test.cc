// concat_partial: reassembly, interleaved groups, parts across batches (and their
// acknowledgement), the size cap, the timeout, and the default insertion for forward inputs.
#include "filter_test_util.h"

#include <optional>
#include <thread>

namespace ferry::test {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string part(const std::string& container, const std::string& id, int ordinal, bool last,
                 const std::string& log) {
  return packFields({{"container_id", container},
                     {"container_name", "/app-" + container},
                     {"source", "stdout"},
                     {"log", log},
                     {"partial_message", "true"},
                     {"partial_id", id},
                     {"partial_ordinal", std::to_string(ordinal)},
                     {"partial_last", last ? "true" : "false"}});
}

// The parts of `text` cut every `size` bytes.
std::vector<std::string> split(const std::string& container, const std::string& id,
                               const std::string& text, size_t size) {
  std::vector<std::string> out;
  const size_t n = (text.size() + size - 1) / size;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        part(container, id, static_cast<int>(i + 1), i + 1 == n, text.substr(i * size, size)));
  }
  return out;
}

std::string bigText(size_t n, char seed) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (seed + i) % 26);
  return s;
}

std::string expected(const std::string& container, const std::string& log) {
  return R"({"container_id":")" + container + R"(","container_name":"/app-)" + container +
         R"(","source":"stdout","log":")" + log + R"("})";
}

TEST(ConcatPartialFilter, ReassemblesA100KiBLine) {
  auto f = makeFilter("  - type: concat_partial\n");
  const std::string text = bigText(100 * 1024, 0);
  auto parts = split("c1", "p1", text, 16 * 1024);
  ASSERT_EQ(parts.size(), 7u);
  parts.insert(parts.begin(), packFields({{"log", "before"}}));
  parts.push_back(packFields({{"log", "after"}}));
  auto out = f->apply(mapBatch("app", parts));
  auto json = recordsJson(*out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0], R"({"log":"before"})");
  EXPECT_EQ(json[1], expected("c1", text));
  EXPECT_EQ(json[2], R"({"log":"after"})");
  EXPECT_EQ(out->record(1).timestamp_ns, 2'000'000'000); // the first part's time
}

TEST(ConcatPartialFilter, InterleavedGroupsStayApart) {
  auto f = makeFilter("  - type: concat_partial\n");
  const std::string a = bigText(40'000, 1), b = bigText(40'000, 7);
  auto pa = split("cA", "pa", a, 16 * 1024), pb = split("cB", "pb", b, 16 * 1024);
  std::vector<std::string> mixed;
  for (size_t i = 0; i < pa.size(); ++i) {
    mixed.push_back(pa[i]);
    mixed.push_back(pb[i]);
  }
  auto json = recordsJson(*f->apply(mapBatch("app", mixed)));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0], expected("cA", a));
  EXPECT_EQ(json[1], expected("cB", b));
}

TEST(ConcatPartialFilter, SameIdInTwoContainersStaysApart) {
  auto f = makeFilter("  - type: concat_partial\n");
  auto json = recordsJson(*f->apply(
      mapBatch("app", {part("c1", "same", 1, false, "one-"), part("c2", "same", 1, false, "two-"),
                       part("c2", "same", 2, true, "end"), part("c1", "same", 2, true, "end")})));
  EXPECT_EQ(json, (std::vector<std::string>{expected("c2", "two-end"), expected("c1", "one-end")}));
}

TEST(ConcatPartialFilter, PartsAcrossBatchesAreAcknowledgedWithTheRecord) {
  auto f = makeFilter("  - type: concat_partial\n");
  std::optional<core::BatchOutcome> first, second;
  auto b1 = mapBatch("app", {part("c", "p", 1, false, "ab"), packFields({{"log", "solo"}})});
  b1->setFinalizer([&](core::BatchOutcome o) { first = o; });
  auto out1 = f->apply(std::move(b1));
  ASSERT_EQ(recordsJson(*out1), (std::vector<std::string>{R"({"log":"solo"})"}));
  out1->expectOutputs(1);
  out1->resolveOutput(core::BatchOutcome::kDelivered);
  out1 = {};
  EXPECT_FALSE(first.has_value()) << "its part is still held";

  auto b2 = mapBatch("app", {part("c", "p", 2, true, "cd")});
  b2->setFinalizer([&](core::BatchOutcome o) { second = o; });
  auto out2 = f->apply(std::move(b2));
  ASSERT_EQ(recordsJson(*out2), (std::vector<std::string>{expected("c", "abcd")}));
  out2->expectOutputs(1);
  out2->resolveOutput(core::BatchOutcome::kFailed);
  out2 = {};
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, core::BatchOutcome::kFailed); // the worst outcome of its records
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, core::BatchOutcome::kFailed);
}

TEST(ConcatPartialFilter, TimeoutReleasesAnIncompleteGroup) {
  auto f = makeFilter("  - type: concat_partial\n    timeout: 50ms\n");
  auto out = f->apply(mapBatch("app", {part("c", "p", 1, false, "half")}));
  EXPECT_EQ(out->size(), 0u);
  EXPECT_TRUE(f->release(std::chrono::steady_clock::now(), false).empty());
  auto released =
      f->release(std::chrono::steady_clock::now() + std::chrono::milliseconds(60), false);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0]->tag(), "app");
  EXPECT_EQ(recordsJson(*released[0]), (std::vector<std::string>{expected("c", "half")}));
  EXPECT_TRUE(f->release(std::chrono::steady_clock::now() + std::chrono::hours(1), true).empty());
}

TEST(ConcatPartialFilter, ShutdownReleasesEverything) {
  auto f = makeFilter("  - type: concat_partial\n");
  f->apply(mapBatch("app", {part("c", "p", 1, false, "x"), part("d", "q", 1, false, "y")}));
  EXPECT_EQ(f->release(std::chrono::steady_clock::now(), true).size(), 2u);
}

TEST(ConcatPartialFilter, SizeCapSplitsTheMessage) {
  auto f = makeFilter("  - type: concat_partial\n    max_bytes: 4KiB\n");
  const std::string text = bigText(9000, 3);
  auto json = recordsJson(*f->apply(mapBatch("app", split("c", "p", text, 3000))));
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0], expected("c", text.substr(0, 3000)));
  EXPECT_EQ(json[2], expected("c", text.substr(6000)));
}

TEST(ConcatPartialFilter, OutOfOrderPartsAreSorted) {
  auto f = makeFilter("  - type: concat_partial\n");
  auto json = recordsJson(
      *f->apply(mapBatch("app", {part("c", "p", 2, false, "B"), part("c", "p", 1, false, "A"),
                                 part("c", "p", 3, true, "C")})));
  EXPECT_EQ(json, (std::vector<std::string>{expected("c", "ABC")}));
}

TEST(ConcatPartialFilter, BatchesWithoutPartsAreNotCopied) {
  auto f = makeFilter("  - type: concat_partial\n");
  auto maps = mapBatch("app", {packFields({{"log", "x"}})});
  core::Batch* raw = maps.get();
  EXPECT_EQ(f->apply(std::move(maps)).get(), raw);
  auto lines = lineBatch("app", {"partial_message"});
  raw = lines.get();
  EXPECT_EQ(f->apply(std::move(lines)).get(), raw);
  // The marker inside a value but no partial record: still the same batch.
  auto mention = mapBatch("app", {packFields({{"log", "partial_message=true"}})});
  raw = mention.get();
  EXPECT_EQ(f->apply(std::move(mention)).get(), raw);
}

TEST(ConcatPartialFilter, TheInputsHintDecidesWithoutAScan) {
  auto f = makeFilter("  - type: concat_partial\n");
  // Hinted "none" (the forward decoder saw no partial_message key): passed on as it is, even
  // though this test batch does hold a part (which shows that the hint is what decided).
  auto hinted_none = mapBatch("app", {part("c", "p", 1, false, "x")});
  hinted_none->setPartialHint(core::Batch::PartialHint::kNone);
  core::Batch* raw = hinted_none.get();
  EXPECT_EQ(f->apply(std::move(hinted_none)).get(), raw);
  // Hinted "some": the part is held for its group, as without a hint.
  auto hinted_some = mapBatch("app", {part("c", "q", 1, false, "x")});
  hinted_some->setPartialHint(core::Batch::PartialHint::kSome);
  EXPECT_TRUE(recordsJson(*f->apply(std::move(hinted_some))).empty());
  auto last = mapBatch("app", {part("c", "q", 2, true, "y")});
  last->setPartialHint(core::Batch::PartialHint::kSome);
  EXPECT_EQ(recordsJson(*f->apply(std::move(last))), std::vector<std::string>{expected("c", "xy")});
}

TEST(ConcatPartialFilter, DisabledPassesThrough) {
  auto f = makeFilter("  - type: concat_partial\n    enabled: false\n");
  auto json = recordsJson(*f->apply(mapBatch("app", {part("c", "p", 1, false, "x")})));
  EXPECT_EQ(json.size(), 1u);
}

TEST(EffectiveFilters, ConcatPartialIsAddedForForwardInputs) {
  config::Config c;
  config::Section forward;
  forward.type = "forward";
  c.inputs.push_back(forward);
  config::Section grep;
  grep.type = "grep";
  c.filters.push_back(grep);
  auto filters = filter::effectiveFilters(c);
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].type, "concat_partial");
  EXPECT_EQ(filters[0].match, "*");
  EXPECT_NO_THROW(app::findFilterType("concat_partial")->make(filters[0]));

  config::Section own;
  own.type = "concat_partial";
  c.filters.push_back(own);
  EXPECT_EQ(filter::effectiveFilters(c).size(), 2u); // the user's own replaces the default
  c.inputs[0].type = "stdin";
  c.filters.pop_back();
  EXPECT_EQ(filter::effectiveFilters(c).size(), 1u);
}

} // namespace
} // namespace ferry::test

namespace ferry::test {
namespace {

struct CapturingQueue final : core::OutputQueue {
  std::vector<core::BatchRef> batches;
  void enqueue(core::BatchRef batch) override {
    batch->resolveOutput(core::BatchOutcome::kDelivered);
    batches.push_back(std::move(batch));
  }
  bool overBudget() const override { return false; }
};

TEST(ConcatPartialRouting, RouterReleasesTimedOutGroupsThroughLaterFilters) {
  core::Router router;
  CapturingQueue out;
  router.addOutput("*", &out);
  router.addFilter("*", makeFilter("  - type: concat_partial\n    timeout: 30ms\n"));
  router.addFilter("*", makeFilter("  - type: add_fields\n    fields: { after: yes }\n"));
  bool acked = false;
  auto b = mapBatch("app", {part("c", "p", 1, false, "half")});
  b->setFinalizer([&](core::BatchOutcome) { acked = true; });
  router.route(std::move(b));
  router.poll();
  EXPECT_TRUE(out.batches.empty());
  EXPECT_FALSE(acked);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  router.poll();
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_EQ(
      recordsJson(*out.batches[0]),
      (std::vector<std::string>{
          R"({"container_id":"c","container_name":"/app-c","source":"stdout","log":"half","after":"yes"})"}));
  EXPECT_TRUE(acked);
  router.route(mapBatch("app", {part("d", "q", 1, false, "held")}));
  router.poll(true); // shutdown: everything held goes on
  EXPECT_EQ(out.batches.size(), 2u);
}

} // namespace
} // namespace ferry::test
