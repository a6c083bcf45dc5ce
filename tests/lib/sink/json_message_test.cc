// The sink kit's JSON message splicing: members appended in order and re-escaped, numbers
// verbatim, excluded and repeated keys dropped (the first wins), captured and noted members,
// and every way a text is not a JSON object leaving the members as they were.
#include "ferry/sink/json_message.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace ferry::sink {
namespace {

constexpr std::array<std::string_view, 2> kCaptured = {"message", "msg"};
constexpr std::array<std::string_view, 2> kNoted = {"level", "severity"};

// The key set and arena live with the result: its keys and texts are views into them.
struct Splice {
  bool ok = false;
  std::string members;
  KeySet keys;
  StringArena arena;
  SplicedJson out;
};

Splice splice(std::string_view text, std::initializer_list<std::string_view> exclude = {},
              std::string_view before = "") {
  Splice s;
  for (auto k : exclude)
    s.keys.insert(k);
  core::ByteBuffer members;
  members.append(before);
  s.ok = spliceJsonObject(text, {kCaptured, kNoted}, s.keys, s.arena, members, s.out);
  s.members = std::string(members.view());
  return s;
}

TEST(SinkJsonMessageTest, MembersAreAppendedReescapedWithNumbersVerbatim) {
  const Splice s =
      splice(R"( {"a":1.50e3,"b":"x\u00e9\/y","c":[true,null,{"d":-0}],"e":{}} )", {}, R"(,"k":0)");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.members, R"(,"k":0,"a":1.50e3,"b":"xé/y","c":[true,null,{"d":-0}],"e":{})");
  EXPECT_EQ(s.out.keys, (std::vector<std::string_view>{"a", "b", "c", "e"}));
  EXPECT_TRUE(s.out.noted.empty());
}

TEST(SinkJsonMessageTest, ExcludedAndRepeatedKeysAreLeftOut) {
  const Splice s = splice(R"({"host":"m","a":1,"a":2,"b":3})", {"host"});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.members, R"(,"a":1,"b":3)");
}

TEST(SinkJsonMessageTest, CapturedMembersAreTakenOutAndNotedOnesKept) {
  const Splice s = splice(
      R"({"msg":{"x":1},"level":"warn","message":"hi \"there\"","severity":"info","message":"2"})");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.members, R"(,"level":"warn","severity":"info")");
  ASSERT_EQ(s.out.captured.size(), 2u);
  const JsonCapture& message = s.out.captured[0];
  EXPECT_TRUE(message.present);
  EXPECT_TRUE(message.is_string);
  EXPECT_EQ(message.text, "hi \"there\""); // the first one; the later "2" is dropped
  EXPECT_EQ(message.json.view(), R"("hi \"there\"")");
  const JsonCapture& msg = s.out.captured[1];
  EXPECT_TRUE(msg.present);
  EXPECT_FALSE(msg.is_string);
  EXPECT_EQ(msg.json.view(), R"({"x":1})");
  EXPECT_EQ(s.out.noted, R"("warn")"); // the first noted member
}

TEST(SinkJsonMessageTest, CapturedKeysAreTakenEvenWhenExcluded) {
  const Splice s = splice(R"({"message":"m","other":1})", {"message", "other"});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.members, "");
  EXPECT_TRUE(s.out.captured[0].present);
  EXPECT_FALSE(s.out.captured[1].present);
}

TEST(SinkJsonMessageTest, NotAnObjectLeavesTheMembersAsTheyWere) {
  const std::string deep = std::string(64, '[') + std::string(64, ']');
  for (const std::string& text :
       {std::string("[1,2]"), std::string("\"s\""), std::string("plain text"),
        std::string(R"({"a":1)"), std::string(R"({"a":1} trailing)"), std::string(R"({"a":01})"),
        std::string("{\"a\":\"\xff\"}"), std::string("{\"a\":1}\0", 8),
        std::string(R"({"a":)") + deep + "}", std::string("")}) {
    const Splice s = splice(text, {}, R"(,"k":0)");
    EXPECT_FALSE(s.ok) << text;
    EXPECT_EQ(s.members, R"(,"k":0)") << text;
  }
  // 63 levels below the root is the most that splices.
  const std::string ok =
      std::string(R"({"a":)") + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(splice(ok).ok);
}

TEST(SinkJsonMessageTest, LooksLikeJsonObject) {
  EXPECT_TRUE(looksLikeJsonObject(" \t\r\n{"));
  EXPECT_FALSE(looksLikeJsonObject(" [{}]"));
  EXPECT_FALSE(looksLikeJsonObject(""));
  EXPECT_FALSE(looksLikeJsonObject(std::string_view("{\0}", 3)));
}

} // namespace
} // namespace ferry::sink
