// Options bound to a config struct: each row fills its field from the value given or the
// table's default, text rules (trim, blank = default, not empty, header-safe) hold, enums map
// by position, parse and URL errors name the option, and the first error in table order wins.
#include "ferry/sink/options_bind.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ferry::sink {
namespace {

enum class Mode : uint8_t { kFast, kSlow, kOff };

struct Config {
  std::string key;
  std::string label = "unset";
  std::string site;
  std::string name;
  Mode mode = Mode::kOff;
  int64_t count = 0;
  uint8_t small = 0;
  uint64_t wait_ms = 0;
  bool on = false;
  std::string url = "fallback";
  HttpUrl endpoint;
  codec::Compression compression = codec::Compression::kNone;
  int level = -1;
  std::string by_hand;
};

std::expected<int, std::string> parseEven(std::string_view text) {
  if (text.empty()) return 0;
  if (text == "two") return 2;
  return std::unexpected("expected an even name, got '" + std::string(text) + "'");
}

// A reader may fill a field of a base, as a sink's config extends its encoder's settings.
struct WithEven : Config {
  int even = 0;
  std::string region;
};

constexpr BoundOption<WithEven> kBound[] = {
    {stringOption("key", "A key.", true),
     field<&Config::key, {.trim = true, .header_value = true}>},
    {stringOption("label", "A label."), field<&Config::label>},
    {{.name = "site",
      .type = FERRY_OPTION_ENUM,
      .default_value = "a.example",
      .enum_values = "a.example|b.example",
      .doc = "A site."},
     field<&Config::site, {.blank_is_default = true}>},
    {{.name = "name", .type = FERRY_OPTION_STRING, .default_value = "log", .doc = "A name."},
     field<&Config::name, {.not_empty = true}>},
    {{.name = "mode",
      .type = FERRY_OPTION_ENUM,
      .default_value = "slow",
      .enum_values = "fast|slow|off|spare",
      .doc = "A mode."},
     choice<&Config::mode, std::array{Mode::kFast, Mode::kSlow, Mode::kOff}>},
    {{.name = "count",
      .type = FERRY_OPTION_INT,
      .default_value = "10",
      .min_value = 1,
      .max_value = 100,
      .doc = "A count."},
     field<&Config::count>},
    {{.name = "small",
      .type = FERRY_OPTION_SIZE,
      .default_value = "1",
      .min_value = 0,
      .max_value = 1000, // wider than the uint8_t field: a table bug the reader reports
      .doc = "A size."},
     field<&Config::small>},
    {timeoutOption("1m", 100, 3'600'000, "A timeout."), field<&Config::wait_ms>},
    {{.name = "on", .type = FERRY_OPTION_BOOL, .default_value = "true", .doc = "A flag."},
     field<&Config::on>},
    {stringOption("url", "A URL."), url<&Config::url, {.allow_query = true}>},
    {stringOption("endpoint", "An endpoint."), url<&Config::endpoint, {.bare_host = true}>},
    {{.name = "compression",
      .type = FERRY_OPTION_ENUM,
      .default_value = "gzip",
      .enum_values = "gzip|zstd|none",
      .doc = "A codec."},
     parsed<&Config::compression, &codec::parseCompression>},
    {kCompressionLevelOption, compressionLevel<&Config::level, &Config::compression>},
    {stringOption("even", "An even name."), parsed<&WithEven::even, &parseEven>},
    {stringOption("by_hand", "Read by the sink itself.")},
    {{.name = "region", .type = FERRY_OPTION_STRING, .default_value = "r1", .doc = "A region."},
     field<&WithEven::region, {.blank_is_default = true, .trim = true}>},
};
constexpr auto kRows = optionRows(kBound);
const ferry_plugin_descriptor kDescriptor = {.abi_major = FERRY_PLUGIN_ABI_MAJOR,
                                             .abi_minor = FERRY_PLUGIN_ABI_MINOR,
                                             .type_name = "test",
                                             .description = "A bound table for tests.",
                                             .options = kRows.data(),
                                             .option_count = kRows.size()};

std::expected<WithEven, std::string> read(const std::string& more = "") {
  rapidjson::Document doc;
  // The required key, unless the test gives its own.
  const std::string key = more.starts_with(R"("key")") ? "" : R"("key":"k1")";
  const std::string json = "{" + key + (key.empty() || more.empty() ? "" : ",") + more + "}";
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  WithEven c;
  if (auto ok = readOptions(PluginOptions(doc, kDescriptor), kBound, c); !ok)
    return std::unexpected(ok.error());
  return c;
}

std::string errorOf(const std::string& more) {
  auto c = read(more);
  return c.has_value() ? "(no error)" : c.error();
}

TEST(OptionsBindTest, TheAbiRowsAreTheBoundRowsInOrder) {
  ASSERT_EQ(kRows.size(), std::size(kBound));
  for (size_t i = 0; i < kRows.size(); ++i) {
    EXPECT_STREQ(kRows[i].name, kBound[i].option.name);
    EXPECT_EQ(kRows[i].type, kBound[i].option.type) << kRows[i].name;
    EXPECT_EQ(kRows[i].max_value, kBound[i].option.max_value) << kRows[i].name;
  }
}

TEST(OptionsBindTest, DefaultsComeFromTheTable) {
  auto c = read();
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->key, "k1");
  EXPECT_EQ(c->label, "") << "the table's default, not the struct's";
  EXPECT_EQ(c->site, "a.example");
  EXPECT_EQ(c->name, "log");
  EXPECT_EQ(c->mode, Mode::kSlow);
  EXPECT_EQ(c->count, 10);
  EXPECT_EQ(c->small, 1);
  EXPECT_EQ(c->wait_ms, 60'000u) << "a duration in milliseconds";
  EXPECT_TRUE(c->on);
  EXPECT_EQ(c->url, "fallback") << "a blank URL leaves the field to the sink";
  EXPECT_TRUE(c->endpoint.host.empty());
  EXPECT_EQ(c->compression, codec::Compression::kGzip);
  EXPECT_EQ(c->level, 0);
  EXPECT_EQ(c->by_hand, "") << "a row without a reader is left alone";
  EXPECT_EQ(c->region, "r1");
}

TEST(OptionsBindTest, GivenValuesFillTheirFields) {
  auto c = read(R"("label":" as is ","site":"b.example","name":"msg","mode":"fast",)"
                R"("count":100,"small":255,"timeout":250,"on":false,)"
                R"("url":" http://127.0.0.1:9/x?y=1 ","endpoint":"host.example:8443",)"
                R"("compression":"zstd","compression_level":22,"even":"two","by_hand":"x")");
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(c->label, " as is ") << "no rule: verbatim";
  EXPECT_EQ(c->site, "b.example");
  EXPECT_EQ(c->name, "msg");
  EXPECT_EQ(c->mode, Mode::kFast);
  EXPECT_EQ(c->count, 100);
  EXPECT_EQ(c->small, 255);
  EXPECT_EQ(c->wait_ms, 250u);
  EXPECT_FALSE(c->on);
  EXPECT_EQ(c->url, "http://127.0.0.1:9/x?y=1");
  EXPECT_EQ(c->endpoint.scheme, "https") << "a bare host means https";
  EXPECT_EQ(c->endpoint.host, "host.example:8443");
  EXPECT_EQ(c->compression, codec::Compression::kZstd);
  EXPECT_EQ(c->level, 22);
  EXPECT_EQ(c->even, 2);
  EXPECT_EQ(c->by_hand, "");
}

TEST(OptionsBindTest, TextRules) {
  EXPECT_EQ(read(R"("key":"  padded \n")")->key, "padded") << "trim";
  EXPECT_EQ(read(R"("site":"")")->site, "a.example") << "blank is the default";
  EXPECT_EQ(errorOf(R"("site":" ")"), "site: ' ' is not one of a.example|b.example")
      << "an enum's text is checked as given";
  EXPECT_EQ(read(R"("region":" \t")")->region, "r1") << "whitespace is blank";
  EXPECT_EQ(read(R"("region":" r2 ")")->region, "r2");
  EXPECT_EQ(errorOf(R"("name":"")"), "name: must not be empty");
  EXPECT_TRUE(read(R"("name":" ")").has_value()) << "not_empty without trim keeps a blank";
  const std::string injected = errorOf(R"("key":"secret\r\nX-Evil: 1")");
  EXPECT_EQ(injected.rfind("key:", 0), 0u) << injected;
  EXPECT_EQ(injected.find("secret"), std::string::npos) << "the value is never echoed";
}

TEST(OptionsBindTest, EnumsByPosition) {
  EXPECT_EQ(read(R"("mode":"off")")->mode, Mode::kOff);
  EXPECT_EQ(read(R"("mode":"")")->mode, Mode::kSlow) << "blank is the default";
  EXPECT_EQ(errorOf(R"("mode":"Fast")"), "mode: 'Fast' is not one of fast|slow|off|spare");
  // A choice the field has no value for: the table and the values are out of step.
  EXPECT_EQ(errorOf(R"("mode":"spare")"), "mode: 3 does not fit its field");
}

TEST(OptionsBindTest, BoundsAndTypes) {
  EXPECT_EQ(errorOf(R"("count":0)"), "count: must be 1 to 100");
  EXPECT_EQ(errorOf(R"("count":101)"), "count: must be 1 to 100");
  EXPECT_EQ(errorOf(R"("count":"5")"), "count: expected a number");
  EXPECT_EQ(errorOf(R"("small":256)"), "small: 256 does not fit its field");
  EXPECT_EQ(errorOf(R"("timeout":50)"), "timeout: must be 100 to 3600000 ms");
  EXPECT_EQ(errorOf(R"("on":"yes")"), "on: expected true or false");
}

TEST(OptionsBindTest, ParseAndUrlErrorsNameTheOption) {
  EXPECT_EQ(errorOf(R"("even":"three")"), "even: expected an even name, got 'three'");
  EXPECT_EQ(errorOf(R"("compression":"")"),
            "compression: unknown compression \"\" (expected gzip, zstd or none)");
  EXPECT_EQ(errorOf(R"("url":"ftp://x/y")").rfind("url:", 0), 0u);
  EXPECT_EQ(errorOf(R"("url":"127.0.0.1:8080")").rfind("url:", 0), 0u) << "no bare host here";
  EXPECT_EQ(errorOf(R"("endpoint":"http://h/a b")").rfind("endpoint:", 0), 0u);
}

TEST(OptionsBindTest, LevelIsCheckedAgainstTheCodecReadBefore) {
  EXPECT_EQ(
      errorOf(R"("compression":"gzip","compression_level":13)").rfind("compression_level:", 0), 0u);
  EXPECT_TRUE(read(R"("compression":"zstd","compression_level":13)").has_value());
}

TEST(OptionsBindTest, CheckFirstThenTheFirstErrorInTableOrder) {
  rapidjson::Document doc;
  doc.Parse(R"({"count":5})");
  WithEven c;
  auto missing = readOptions(PluginOptions(doc, kDescriptor), kBound, c);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), "key: required");
  // name (row 4) comes before even (row 14), whatever the order in the JSON.
  EXPECT_EQ(errorOf(R"("even":"one","name":"")"), "name: must not be empty");
}

TEST(OptionsBindTest, ARowBoundToAFieldOfAnotherTypeIsABug) {
  constexpr BoundOption<Config> kWrong[] = {
      {{.name = "on", .type = FERRY_OPTION_BOOL, .default_value = "true", .doc = "A flag."},
       field<&Config::count>},
  };
  constexpr auto rows = optionRows(kWrong);
  const ferry_plugin_descriptor wrong = {
      .type_name = "wrong", .options = rows.data(), .option_count = rows.size()};
  rapidjson::Document doc;
  doc.Parse("{}");
  Config c;
  EXPECT_THROW((void)readOptions(PluginOptions(doc, wrong), kWrong, c), std::logic_error);
}

TEST(OptionsBindTest, ChoicesOfARow) {
  const auto choices = choicesOf(kRows[4]);
  ASSERT_EQ(choices.size(), 4u);
  EXPECT_EQ(choices[0], "fast");
  EXPECT_EQ(choices[3], "spare");
  EXPECT_EQ(choiceIndex(kRows[4], "off").value(), 2u);
  EXPECT_FALSE(choiceIndex(kRows[4], "of").has_value()) << "whole choices only";
  EXPECT_TRUE(choicesOf(kRows[0]).empty()) << "a STRING row has none";
}

} // namespace
} // namespace ferry::sink
