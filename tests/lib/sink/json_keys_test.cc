// The sink kit's KeySet (linear, then hashed past a couple of dozen keys) and StringArena
// (stable views, memory reused after clear()).
#include "ferry/sink/json_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::sink {
namespace {

TEST(SinkKeySetTest, SwitchesToHashingWithoutLosingKeys) {
  KeySet set;
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i)
    names.push_back("key" + std::to_string(i));
  for (const auto& n : names)
    EXPECT_TRUE(set.insert(n));
  for (const auto& n : names)
    EXPECT_FALSE(set.insert(n));
  EXPECT_EQ(set.size(), 500u);
  EXPECT_TRUE(set.contains("key499"));
  EXPECT_FALSE(set.contains("key500"));
  EXPECT_TRUE(set.insert(""));
  EXPECT_FALSE(set.insert(""));
  set.clear();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_FALSE(set.contains("key1"));
  EXPECT_TRUE(set.insert("key1"));
}

TEST(SinkKeySetTest, SmallSetsCompareByContentNotAddress) {
  KeySet set;
  const std::string a = "level";
  EXPECT_TRUE(set.insert(a));
  EXPECT_FALSE(set.insert(std::string("level"))); // another buffer, same key
  EXPECT_TRUE(set.contains("level"));
  EXPECT_FALSE(set.contains("leve"));
  EXPECT_TRUE(set.insert(std::string_view())); // a null view is the empty key
  EXPECT_TRUE(set.contains(""));
}

TEST(SinkStringArenaTest, ViewsStayValidUntilClear) {
  StringArena arena;
  std::vector<std::string_view> views;
  for (int i = 0; i < 100; ++i)
    views.push_back(arena.add(std::string(50, static_cast<char>('a' + i % 26))));
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(views[i], std::string(50, static_cast<char>('a' + i % 26))) << i;
  arena.clear();
  const std::string_view again = arena.add("x");
  EXPECT_EQ(again, "x");
  EXPECT_EQ(again.data(), views[0].data()); // the first string's memory, reused
}

} // namespace
} // namespace ferry::sink
