// The sink kit's record → JSON object pieces: a map's fields (non-string keys as their JSON
// text, malformed maps refused), values as text, rounding to milliseconds, cutting an escaped
// string between characters, an object within a byte limit, and a JSON array within limits.
#include "ferry/sink/record_json.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "ferry/codec/json.h"
#include "msgpack_builders.h"

namespace ferry::sink {
namespace {

using test::Packer;

TEST(SinkRecordFieldsTest, ScansKeysAndRawValuesInOrder) {
  const std::string map = test::pack([](Packer& pk) {
    pk.pack_map(5);
    pk.pack("log"), pk.pack("hi");
    pk.pack(7), pk.pack(std::vector<int>{1, 2});
    pk.pack_bin(2), pk.pack_bin_body("bk", 2), pk.pack(true);
    pk.pack(std::vector<int>{3}), pk.pack_nil();
    pk.pack("log"), pk.pack(1.5);
  });
  StringArena arena;
  RecordFields fields;
  ASSERT_TRUE(fields.scan(map, arena));
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].key, "log");
  EXPECT_EQ(fields[0].value, test::packValue(std::string("hi")));
  EXPECT_EQ(fields[1].key, "7"); // a number key: its JSON text
  EXPECT_EQ(fields[1].value, test::packValue(std::vector<int>{1, 2}));
  EXPECT_EQ(fields[2].key, "bk");
  EXPECT_EQ(fields[3].key, "[3]");
  EXPECT_EQ(fields.find("log"), 0u); // the first of duplicates
  EXPECT_EQ(fields.find("nope"), fields.size());
  EXPECT_FALSE(fields[0].taken);
  fields.clear();
  EXPECT_EQ(fields.size(), 0u);
}

TEST(SinkRecordFieldsTest, RefusesMalformedMaps) {
  StringArena arena;
  RecordFields fields;
  EXPECT_FALSE(fields.scan(test::packValue(std::string("not a map")), arena));
  EXPECT_FALSE(fields.scan(test::bytes({0x82, 0xa1, 'a', 0x01}), arena)); // one pair short
  EXPECT_FALSE(fields.scan(test::bytes({0x81, 0xa1, 'a', 0xc1}), arena)); // reserved byte
  EXPECT_FALSE(fields.scan("", arena));
  EXPECT_TRUE(fields.scan(test::bytes({0x80}), arena));
  EXPECT_EQ(fields.size(), 0u);
}

TEST(SinkRecordJsonTest, ValueTextIsTheStringElseItsJson) {
  StringArena arena;
  core::ByteBuffer scratch;
  std::string_view text = "x";
  // The text may be a view into the value's bytes: each value outlives its check.
  const std::string str = test::packValue(std::string("a\"b"));
  ASSERT_TRUE(msgpackValueText(str, arena, scratch, text));
  EXPECT_EQ(text, "a\"b");
  const std::string nil = test::bytes({0xc0});
  ASSERT_TRUE(msgpackValueText(nil, arena, scratch, text));
  EXPECT_EQ(text, "");
  const std::string array = test::packValue(std::vector<int>{1, 2});
  ASSERT_TRUE(msgpackValueText(array, arena, scratch, text));
  EXPECT_EQ(text, "[1,2]");
  const std::string number = test::packValue(-3);
  ASSERT_TRUE(msgpackValueText(number, arena, scratch, text));
  EXPECT_EQ(text, "-3");
  EXPECT_FALSE(msgpackValueText(test::bytes({0x92, 0x01}), arena, scratch, text));
}

TEST(SinkRecordJsonTest, MillisecondsRoundHalfUpAlsoBefore1970) {
  EXPECT_EQ(roundedMillis(1'714'564'800'123'456'789), 1'714'564'800'123);
  EXPECT_EQ(roundedMillis(1'500'000), 2);
  EXPECT_EQ(roundedMillis(1'499'999), 1);
  EXPECT_EQ(roundedMillis(-500'000), 0);
  EXPECT_EQ(roundedMillis(-500'001), -1);
  EXPECT_EQ(roundedMillis(-1'500'000), -1);
}

TEST(SinkRecordJsonTest, AppendsMembers) {
  core::ByteBuffer out;
  appendJsonMember(out, "a\"b");
  EXPECT_EQ(out.view(), R"(,"a\"b":)");
}

// Every cut of an escaped body ends between two characters: the prefix is itself a
// complete escaped string, so it parses back.
TEST(SinkRecordJsonTest, EscapedPrefixNeverSplitsACharacter) {
  const std::string original =
      "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\"\x01\\\xff" + std::string("z");
  core::ByteBuffer literal;
  codec::appendJsonString(literal, original);
  const std::string_view body = literal.view(1, literal.size() - 2);
  size_t previous = 0;
  for (size_t budget = 0; budget <= body.size() + 2; ++budget) {
    const size_t cut = escapedJsonPrefix(body, budget);
    EXPECT_LE(cut, budget);
    EXPECT_GE(cut, previous);
    previous = cut;
    const std::string literal_prefix = "\"" + std::string(body.substr(0, cut)) + "\"";
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(literal_prefix.data(), literal_prefix.size());
    EXPECT_FALSE(doc.HasParseError()) << budget << ": " << literal_prefix;
    // The prefix is a prefix of the whole at a character boundary: a character's first
    // byte follows (or the end).
    if (cut < body.size()) {
      const auto next = static_cast<unsigned char>(body[cut]);
      EXPECT_TRUE(next < 0x80 || next >= 0xC0) << budget;
    }
  }
  EXPECT_EQ(escapedJsonPrefix(body, body.size()), body.size());
  // A surrogate pair written as two \u escapes stays whole.
  EXPECT_EQ(escapedJsonPrefix(R"(\ud83d\ude00x)", 11), 0u);
  EXPECT_EQ(escapedJsonPrefix(R"(\ud83d\ude00x)", 12), 12u);
  EXPECT_EQ(escapedJsonPrefix(R"(\u00e9x)", 6), 6u);
}

TEST(SinkRecordJsonTest, ObjectWithinTheLimitIsWhole) {
  core::ByteBuffer out;
  JsonObjectParts parts{.lead_member = R"("message":)",
                        .lead_value = R"("abcdefghijklmnopqrstuvwxyz0123456789")",
                        .members = R"(,"a":1)",
                        .truncated_member = R"(,"cut":true)"};
  const std::string whole = R"({"message":"abcdefghijklmnopqrstuvwxyz0123456789","a":1})";
  EXPECT_EQ(writeJsonObject(out, parts, whole.size()), ObjectResult::kWritten);
  EXPECT_EQ(out.view(), whole);
  // One byte less: the message is cut and the object says so.
  EXPECT_EQ(writeJsonObject(out, parts, whole.size() - 1), ObjectResult::kTruncated);
  EXPECT_EQ(out.view(), R"({"message":"abcdefghijklmnopqrstuvwx","a":1,"cut":true})");
  EXPECT_EQ(out.size(), whole.size() - 1);
  const std::string fixed = R"({"message":"","a":1,"cut":true})";
  EXPECT_EQ(writeJsonObject(out, parts, fixed.size() + 3), ObjectResult::kTruncated);
  EXPECT_EQ(out.view(), R"({"message":"abc","a":1,"cut":true})");
  EXPECT_EQ(writeJsonObject(out, parts, fixed.size()), ObjectResult::kTruncated);
  EXPECT_EQ(out.view(), fixed);
  EXPECT_EQ(writeJsonObject(out, parts, fixed.size() - 1), ObjectResult::kTooLarge);
}

TEST(SinkRecordJsonTest, ObjectWithoutALeadMember) {
  core::ByteBuffer out;
  JsonObjectParts parts{.members = R"(,"a":1,"b":2)"};
  EXPECT_EQ(writeJsonObject(out, parts, 13), ObjectResult::kWritten);
  EXPECT_EQ(out.view(), R"({"a":1,"b":2})");
  EXPECT_EQ(writeJsonObject(out, parts, 12), ObjectResult::kTooLarge);
  EXPECT_EQ(writeJsonObject(out, JsonObjectParts{}, 2), ObjectResult::kWritten);
  EXPECT_EQ(out.view(), "{}");
}

// Records are the objects' texts; "!" marks a malformed one, "~" a truncated one.
JsonArrayStats array(const std::vector<std::string>& records, JsonArrayLimits limits,
                     core::ByteBuffer& out) {
  return appendJsonArray(records, limits, out, [](const std::string& r, std::string_view& obj) {
    obj = r;
    if (r == "!") return ObjectResult::kMalformed;
    if (r == "!!") return ObjectResult::kTooLarge;
    return r.starts_with('~') ? ObjectResult::kTruncated : ObjectResult::kWritten;
  });
}

TEST(SinkJsonArrayTest, StopsAtTheEntryOrByteLimitAndCountsDrops) {
  core::ByteBuffer out;
  const std::vector<std::string> records = {"1", "!", "~22", "!!", "333", "4"};
  JsonArrayStats s = array(records, {.max_entries = 10, .max_bytes = 100}, out);
  EXPECT_EQ(out.view(), "[1,~22,333,4]");
  EXPECT_EQ(s.consumed, 6u);
  EXPECT_EQ(s.entries, 4u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.truncated, 1u);

  s = array(records, {.max_entries = 2, .max_bytes = 100}, out);
  EXPECT_EQ(out.view(), "[1,~22]");
  EXPECT_EQ(s.consumed, 3u);

  // "[1,~22]" is 7 bytes: with 10, ",333]" no longer fits, though the dropped "!!" was taken.
  s = array(records, {.max_entries = 10, .max_bytes = 10}, out);
  EXPECT_EQ(out.view(), "[1,~22]");
  EXPECT_EQ(s.consumed, 4u);
  EXPECT_EQ(s.entries, 2u);

  // The first entry always goes in.
  s = array({"55555"}, {.max_entries = 1, .max_bytes = 3}, out);
  EXPECT_EQ(out.view(), "[55555]");
  s = array({}, {.max_entries = 1, .max_bytes = 3}, out);
  EXPECT_EQ(out.view(), "[]");
  EXPECT_EQ(s.consumed, 0u);
}

} // namespace
} // namespace ferry::sink
