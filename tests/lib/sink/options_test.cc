// Options read through the declared table: defaults come from the table alone, check()
// holds given values to the table's types and bounds, an undeclared name is a bug.
#include "ferry/sink/options.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ferry::sink {
namespace {

const ferry_plugin_option kOptions[] = {
    {.name = "key", .type = FERRY_OPTION_STRING, .required = 1, .secret = 1, .doc = "A key."},
    {.name = "mode",
     .type = FERRY_OPTION_ENUM,
     .default_value = "fast",
     .enum_values = "fast|slow",
     .doc = "A mode."},
    {.name = "label", .type = FERRY_OPTION_STRING, .doc = "No default."},
    {.name = "count",
     .type = FERRY_OPTION_INT,
     .default_value = "10",
     .min_value = 1,
     .max_value = 100,
     .doc = "A count."},
    {.name = "size",
     .type = FERRY_OPTION_SIZE,
     .default_value = "2KiB",
     .min_value = 1024,
     .max_value = 1 << 20,
     .doc = "A size."},
    {.name = "wait",
     .type = FERRY_OPTION_DURATION,
     .default_value = "1m",
     .min_value = 100,
     .max_value = 3'600'000,
     .doc = "A duration."},
    {.name = "on", .type = FERRY_OPTION_BOOL, .default_value = "true", .doc = "A flag."},
    {.name = "time_key", .type = FERRY_OPTION_STRING, .default_value = "date", .doc = "Field."},
    {.name = "time_format",
     .type = FERRY_OPTION_ENUM,
     .default_value = "iso8601",
     .enum_values = "iso8601|epoch|epoch_ms",
     .doc = "Format."},
};

const ferry_plugin_descriptor kDescriptor = {.abi_major = FERRY_PLUGIN_ABI_MAJOR,
                                             .abi_minor = FERRY_PLUGIN_ABI_MINOR,
                                             .type_name = "test",
                                             .description = "A table for tests.",
                                             .options = kOptions,
                                             .option_count = std::size(kOptions)};

struct Parsed {
  explicit Parsed(const std::string& json) { doc.Parse(json.c_str()); }
  rapidjson::Document doc;
  PluginOptions options() const { return PluginOptions(doc, kDescriptor); }
};

TEST(SinkOptionsTest, DefaultsComeFromTheTable) {
  const Parsed p(R"({"key":"k"})");
  const PluginOptions o = p.options();
  ASSERT_TRUE(o.check().has_value()) << o.check().error();
  EXPECT_EQ(o.string("mode"), "fast");
  EXPECT_EQ(o.string("label"), "");
  EXPECT_EQ(o.integer("count"), 10);
  EXPECT_EQ(o.integer("size"), 2048) << "sizes in bytes";
  EXPECT_EQ(o.integer("wait"), 60'000) << "durations in milliseconds";
  EXPECT_TRUE(o.boolean("on"));
  EXPECT_FALSE(o.has("mode"));
  EXPECT_EQ(o.value("mode"), nullptr);
}

TEST(SinkOptionsTest, GivenValuesWin) {
  const Parsed p(R"({"key":"k","mode":"slow","count":7,"size":4096,"wait":500,"on":false})");
  const PluginOptions o = p.options();
  ASSERT_TRUE(o.check().has_value()) << o.check().error();
  EXPECT_EQ(o.string("mode"), "slow");
  EXPECT_EQ(o.integer("count"), 7);
  EXPECT_EQ(o.integer("size"), 4096);
  EXPECT_EQ(o.integer("wait"), 500);
  EXPECT_FALSE(o.boolean("on"));
  EXPECT_TRUE(o.has("mode"));
}

TEST(SinkOptionsTest, CheckHoldsValuesToTheTable) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "key:"},
      {R"({"key":"  "})", "key:"},
      {R"({"key":"k","count":0})", "count:"},
      {R"({"key":"k","count":101})", "count:"},
      {R"({"key":"k","count":"ten"})", "count:"},
      {R"({"key":"k","size":10})", "size:"},
      {R"({"key":"k","wait":3600001})", "wait:"},
      {R"({"key":"k","mode":"medium"})", "mode:"},
      {R"({"key":"k","on":"yes"})", "on:"},
  };
  for (const auto& [json, prefix] : cases) {
    const Parsed p(json);
    auto ok = p.options().check();
    ASSERT_FALSE(ok.has_value()) << json;
    EXPECT_EQ(ok.error().rfind(prefix, 0), 0u) << json << " → " << ok.error();
  }
  const Parsed bounds(R"({"key":"k","count":1,"size":1048576,"wait":100})");
  EXPECT_TRUE(bounds.options().check().has_value()) << "bounds are inclusive";
}

TEST(SinkOptionsTest, AnUndeclaredNameIsABug) {
  const Parsed p(R"({"key":"k","typo":"x"})");
  EXPECT_THROW((void)p.options().string("typo"), std::logic_error);
  EXPECT_THROW((void)p.options().integer("cuont"), std::logic_error);
}

TEST(SinkOptionsTest, NumericDefaultsAreReadAndBoundChecked) {
  EXPECT_EQ(numericDefault(kOptions[3]), 10);
  EXPECT_EQ(numericDefault(kOptions[5]), 60'000);
  EXPECT_FALSE(numericDefault(kOptions[1]).has_value()) << "an enum is no number";
  const ferry_plugin_option outside{
      .name = "n", .type = FERRY_OPTION_INT, .default_value = "0", .min_value = 1, .max_value = 5};
  EXPECT_FALSE(numericDefault(outside).has_value());
  EXPECT_TRUE(isBounded(kOptions[3]));
  const ferry_plugin_option unbounded{.name = "u", .type = FERRY_OPTION_INT, .min_value = 1};
  EXPECT_FALSE(isBounded(unbounded));
  EXPECT_EQ(findPluginOption(kDescriptor, "wait"), &kOptions[5]);
  EXPECT_EQ(findPluginOption(kDescriptor, "nope"), nullptr);
}

TEST(SinkOptionsTest, RecordJsonTimeField) {
  const Parsed defaults(R"({"key":"k"})");
  auto json = recordJsonOptions(defaults.options(), "time_key", "time_format");
  ASSERT_TRUE(json.has_value()) << json.error();
  EXPECT_EQ(json->time_key, "date");
  EXPECT_EQ(json->time_format, codec::TimeFormat::kIso8601);
  const Parsed ms(R"({"key":"k","time_key":"ts","time_format":"epoch_ms"})");
  json = recordJsonOptions(ms.options(), "time_key", "time_format");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(json->time_key, "ts");
  EXPECT_EQ(json->time_format, codec::TimeFormat::kEpochMillis);
  const Parsed none(R"({"key":"k","time_key":""})");
  json = recordJsonOptions(none.options(), "time_key", "time_format");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(json->time_format, codec::TimeFormat::kNone);
  const Parsed bad(R"({"key":"k","time_format":"rfc2822"})");
  json = recordJsonOptions(bad.options(), "time_key", "time_format");
  ASSERT_FALSE(json.has_value());
  EXPECT_EQ(json.error().rfind("time_format:", 0), 0u);
}

} // namespace
} // namespace ferry::sink
