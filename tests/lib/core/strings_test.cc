// core/strings.h: ASCII-only case folding and trimming, whatever the bytes around them.
#include "ferry/core/strings.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::core {
namespace {

TEST(StringsTest, ToLowerFoldsAsciiUpperCaseOnly) {
  EXPECT_EQ(toLower("X-Amz-Date"), "x-amz-date");
  EXPECT_EQ(toLower("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(toLower("already lower 0-9 @[`{"), "already lower 0-9 @[`{"); // neighbours of A-Z
  EXPECT_EQ(toLower(""), "");
}

TEST(StringsTest, ToLowerLeavesNonAsciiBytesAlone) {
  EXPECT_EQ(toLower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89"); // "ÉTÉ": only the T folds
  const std::string with_nul("A\0B", 3);
  EXPECT_EQ(toLower(with_nul), std::string("a\0b", 3));
  std::string all;
  for (int c = 0x80; c <= 0xff; ++c)
    all += static_cast<char>(c);
  EXPECT_EQ(toLower(all), all);
}

TEST(StringsTest, TrimAndIequals) {
  EXPECT_EQ(trim(" \t value \r\n"), "value");
  EXPECT_EQ(trim("   "), "");
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(iequals("Content-Type", "Content-Typ"));
  EXPECT_TRUE(iequals(toLower("AccessDenied"), "accessdenied"));
}

} // namespace
} // namespace ferry::core
