// add_fields, remove_fields, rename_fields, grep, sample and parse on line and msgpack
// batches: results, the no-copy path, and option errors.
#include "filter_test_util.h"

#include <stdexcept>

namespace ferry::test {
namespace {

using V = std::vector<std::string>;

TEST(AddFieldsFilter, AddsToLinesAndMaps) {
  auto f = makeFilter("  - type: add_fields\n    fields: { env: prod, team: core }\n");
  auto out = f->apply(lineBatch("t", {"hello", "world"}));
  EXPECT_EQ(out->format(), core::RecordFormat::kMsgpackMap);
  EXPECT_EQ(recordsJson(*out), (V{R"({"log":"hello","env":"prod","team":"core"})",
                                  R"({"log":"world","env":"prod","team":"core"})"}));
  out = f->apply(mapBatch("t", {packFields({{"log", "x"}, {"env", "dev"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"log":"x","env":"prod","team":"core"})"}));
  EXPECT_EQ(out->record(0).timestamp_ns, 1'000'000'000);
}

TEST(AddFieldsFilter, OverwriteFalseKeepsTheRecordsValue) {
  auto f = makeFilter("  - type: add_fields\n    overwrite: false\n    fields: { env: prod }\n");
  auto out = f->apply(mapBatch("t", {packFields({{"env", "dev"}}), packFields({{"a", "1"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"env":"dev"})", R"({"a":"1","env":"prod"})"}));
}

TEST(AddFieldsFilter, NeedsFields) {
  EXPECT_THROW(loadFilters("  - type: add_fields\n"), config::ConfigError);
}

TEST(RemoveFieldsFilter, RemovesAndPassesUntouchedBatchesWithoutCopy) {
  auto f = makeFilter("  - type: remove_fields\n    fields: [secret, token]\n");
  auto lines = lineBatch("t", {"a"});
  core::Batch* raw = lines.get();
  EXPECT_EQ(f->apply(std::move(lines)).get(), raw); // lines have no `secret`
  auto maps = mapBatch("t", {packFields({{"log", "a"}})});
  raw = maps.get();
  // Kept alive: a batch allocated after it was freed could get its address.
  const auto same = f->apply(std::move(maps));
  EXPECT_EQ(same.get(), raw); // no record concerned: same batch
  auto out = f->apply(mapBatch("t", {packFields({{"log", "a"}}),
                                     packFields({{"log", "b"}, {"secret", "s"}, {"token", "t"}})}));
  EXPECT_NE(out.get(), raw);
  EXPECT_EQ(recordsJson(*out), (V{R"({"log":"a"})", R"({"log":"b"})"}));
}

TEST(RenameFieldsFilter, RenamesLogOfLinesAndMapKeys) {
  auto f = makeFilter("  - type: rename_fields\n    fields: { log: message, lvl: level }\n");
  EXPECT_EQ(recordsJson(*f->apply(lineBatch("t", {"hi"}))), (V{R"({"message":"hi"})"}));
  auto out = f->apply(mapBatch("t", {packFields({{"lvl", "info"}, {"level", "old"}, {"x", "1"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"level":"info","x":"1"})"}));
}

TEST(RenameFieldsFilter, NoOverwriteKeepsTheRecord) {
  auto f = makeFilter("  - type: rename_fields\n    overwrite: false\n    fields: { a: b }\n");
  auto in = mapBatch("t", {packFields({{"a", "1"}, {"b", "2"}})});
  core::Batch* raw = in.get();
  EXPECT_EQ(f->apply(std::move(in)).get(), raw);
}

TEST(GrepFilter, IncludeAndExcludeOnLinesAndMaps) {
  auto f = makeFilter("  - type: grep\n    include: { field: log, regex: 'ERROR|WARN' }\n"
                      "    exclude: { field: log, regex: '^GET /health' }\n");
  auto out = f->apply(lineBatch("t", {"ERROR x", "info", "GET /health ERROR", "WARN y"}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"log":"ERROR x"})", R"({"log":"WARN y"})"}));
  auto maps =
      f->apply(mapBatch("t", {packFields({{"log", "ERROR a"}}), packFields({{"msg", "ERROR"}}),
                              packFields({{"log", "7"}}, {"log"})}));
  EXPECT_EQ(recordsJson(*maps), (V{R"({"log":"ERROR a"})"}));
}

TEST(GrepFilter, MatchesNumbersAsText) {
  auto f = makeFilter("  - type: grep\n    exclude: { field: status, regex: '^2' }\n");
  auto out = f->apply(
      mapBatch("t", {packFields({{"status", "200"}}, {"status"}),
                     packFields({{"status", "500"}}, {"status"}), packFields({{"other", "x"}})}));
  EXPECT_EQ(recordsJson(*out), (V{R"({"status":500})", R"({"other":"x"})"}));
}

TEST(GrepFilter, CatastrophicPatternRunsInLinearTime) {
  auto f = makeFilter("  - type: grep\n    include: { field: log, regex: '(a+)+$' }\n");
  const std::string evil(50'000, 'a');
  const auto start = std::chrono::steady_clock::now();
  auto out = f->apply(lineBatch("t", {evil + "b"}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(out->size(), 0u);
}

TEST(GrepFilter, BadOptionsAreErrors) {
  EXPECT_THROW(makeFilter("  - type: grep\n    include: { field: log, regex: '(' }\n"),
               std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: grep\n    include: { regex: 'x' }\n"), std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: grep\n    include: { field: a, regex: x, typo: y }\n"),
               std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: grep\n"), std::invalid_argument);
}

TEST(SampleFilter, KeepsOneInNAcrossBatches) {
  auto f = makeFilter("  - type: sample\n    rate: 3\n");
  size_t kept = 0;
  for (int i = 0; i < 10; ++i)
    kept += f->apply(lineBatch("t", {"a", "b", "c", "d", "e"}))->size();
  EXPECT_EQ(kept, 17u); // ceil(50 / 3)
  EXPECT_THROW(loadFilters("  - type: sample\n    rate: 0\n"), config::ConfigError);
}

TEST(ParseFilter, JsonMergesAndDropsTheSourceField) {
  auto f =
      makeFilter("  - type: parse\n    format: json\n    time_key: ts\n    time_format: epoch\n");
  auto out = f->apply(mapBatch("t", {packFields({{"log", R"({"level":"info","n":3,"ts":10})"},
                                                 {"container_id", "c1"},
                                                 {"level", "x"}}),
                                     packFields({{"log", "not json"}})}));
  EXPECT_EQ(recordsJson(*out),
            (V{R"({"container_id":"c1","level":"info","n":3,"ts":10})", R"({"log":"not json"})"}));
  EXPECT_EQ(out->record(0).timestamp_ns, 10'000'000'000);
  EXPECT_EQ(out->record(1).timestamp_ns, 2'000'000'000);
}

TEST(ParseFilter, LogfmtAndRegexOnLinesKeepOriginal) {
  auto f = makeFilter("  - type: parse\n    format: logfmt\n    keep_original: true\n");
  EXPECT_EQ(recordsJson(*f->apply(lineBatch("t", {"a=1 b=two"}))),
            (V{R"({"log":"a=1 b=two","a":"1","b":"two"})"}));
  auto r = makeFilter(
      "  - type: parse\n    format: regex\n    regex: '^(?P<verb>\\S+) (?P<path>\\S+)$'\n");
  EXPECT_EQ(recordsJson(*r->apply(lineBatch("t", {"GET /x", "nope"}))),
            (V{R"({"verb":"GET","path":"/x"})", R"({"log":"nope"})"}));
  EXPECT_THROW(makeFilter("  - type: parse\n    format: regex\n"), std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: parse\n    format: regex\n    regex: '('\n"),
               std::invalid_argument);
}

TEST(ParseFilter, OtherFieldOfLinesIsUntouched) {
  auto f = makeFilter("  - type: parse\n    format: json\n    field: message\n");
  auto in = lineBatch("t", {"{}"});
  core::Batch* raw = in.get();
  EXPECT_EQ(f->apply(std::move(in)).get(), raw);
}

TEST(FilterRegistry, EveryFilterTypeIsRegistered) {
  for (const char* name : {"add_fields", "remove_fields", "rename_fields", "grep", "parse",
                           "sample", "concat_partial", "ecs_metadata"}) {
    EXPECT_NE(app::findFilterType(name), nullptr) << name;
  }
}

} // namespace
} // namespace ferry::test
