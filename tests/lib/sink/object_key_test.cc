// Name templates: strftime fields in UTC, $TAG / $TAG[n] / $UUID / $INDEX, literal dollars;
// UUIDv4 shape and randomness.
#include "ferry/sink/object_key.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace ferry::sink {
namespace {

// 2024-03-05 06:07:08 UTC.
constexpr std::time_t kTime = 1709618828;

TEST(NameTemplateTest, StrftimeIsUtc) {
  setenv("TZ", "America/New_York", 1);
  tzset();
  EXPECT_EQ(expandNameTemplate("%Y/%m/%d/%H%M%S", {"app", kTime, 0, ""}), "2024/03/05/060708");
  unsetenv("TZ");
  tzset();
}

TEST(NameTemplateTest, Tokens) {
  EXPECT_EQ(expandNameTemplate("logs/$TAG/$INDEX-$UUID.gz", {"app.stdout", kTime, 42, "u-u-i-d"}),
            "logs/app.stdout/42-u-u-i-d.gz");
  // As Fluent Bit: a part the tag lacks stays as written.
  EXPECT_EQ(expandNameTemplate("$TAG[0]/$TAG[1]/$TAG[7]", {"ecs.web.stderr", kTime, 0, ""}),
            "ecs/web/$TAG[7]");
  // The same UUID wherever it appears in one key.
  const std::string k = expandNameTemplate("$UUID/$UUID", {"t", kTime, 0, ""});
  ASSERT_EQ(k.size(), 73u);
  EXPECT_EQ(k.substr(0, 36), k.substr(37));
}

TEST(NameTemplateTest, TagDelimitersAsFluentBit) {
  // Fluent Bit's own case: logs/$TAG[2]/$TAG[0] of aa.bb.ccc.
  EXPECT_EQ(expandNameTemplate("logs/$TAG[2]/$TAG[0]/%Y", {"aa.bb.ccc", kTime, 0, ""}),
            "logs/ccc/aa/2024");
  // Any of the delimiters splits; empty parts are skipped (strtok).
  EXPECT_EQ(
      expandNameTemplate("$TAG[0]/$TAG[1]/$TAG[2]/$TAG[3]", {"aa.bb-ccc__d", kTime, 0, "", ".-_"}),
      "aa/bb/ccc/d");
  // A delimiter the tag lacks: $TAG[0] is the whole tag, $TAG[1] stays as written.
  EXPECT_EQ(expandNameTemplate("$TAG[0]/$TAG[1]", {"aa.bb", kTime, 0, "", "-"}), "aa.bb/$TAG[1]");
  // At most ten parts, as Fluent Bit.
  EXPECT_EQ(expandNameTemplate("$TAG[9]-$TAG[10]", {"0.1.2.3.4.5.6.7.8.9.10", kTime, 0, ""}),
            "9-$TAG[10]");
  EXPECT_EQ(expandNameTemplate("$INDEX", {"t", kTime, 1, ""}), "1");
}

TEST(NameTemplateTest, LiteralsAndSlashes) {
  EXPECT_EQ(expandNameTemplate("/a/$$b/$NOPE/%%", {"t", kTime, 0, ""}), "/a/$$b/$NOPE/%");
  // A '%' in the tag is not a strftime conversion.
  EXPECT_EQ(expandNameTemplate("$TAG/%Y", {"x%Y", kTime, 0, ""}), "x%Y/2024");
  EXPECT_EQ(expandNameTemplate("$TAG[", {"t", kTime, 0, ""}), "t[");
}

TEST(NameTemplateTest, UuidV4) {
  const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = uuidV4();
    ASSERT_TRUE(std::regex_match(u, shape)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

} // namespace
} // namespace ferry::sink
