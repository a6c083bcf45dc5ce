// The sink kit's RecordObjectWriter with settings no sink uses as they are (another message
// member, no time, no level alias), so that what is generic stays generic: the message pick,
// field order and uniqueness, JSON messages, defaults, time, level alias, the byte limit, and
// a derived writer's shape().
#include "ferry/sink/record_object.h"

#include <gtest/gtest.h>

#include <string>

#include "msgpack_builders.h"

namespace ferry::sink {
namespace {

using test::Packer;

constexpr int64_t kTimeNs = 1'714'564'800'123'456'789;

ferry_plugin_record mapRecord(const std::string& msgpack, int64_t ts = kTimeNs) {
  return {ts,
          "app",
          3,
          reinterpret_cast<const uint8_t*>(msgpack.data()),
          msgpack.size(),
          FERRY_RECORD_MSGPACK_MAP};
}

std::string written(RecordObjectWriter& w, const ferry_plugin_record& r,
                    ObjectResult expected = ObjectResult::kWritten) {
  std::string_view object;
  EXPECT_EQ(w.write(r, object), expected);
  return std::string(object);
}

const std::string kRecord = test::pack([](Packer& pk) {
  pk.pack_map(5);
  pk.pack("text"), pk.pack("hello");
  pk.pack("severity"), pk.pack(3);
  pk.pack("env"), pk.pack("own");
  pk.pack("severity"), pk.pack("dup");
  pk.pack(5), pk.pack_nil();
});

TEST(SinkRecordObjectTest, MessageFieldsDefaultsTimeAndLevelAlias) {
  RecordObjectWriter w({.message_key = "text",
                        .message_member = "msg_out",
                        .defaults = {{"env", "prod"}, {"team", "x"}, {"empty", ""}},
                        .time_key = "ts",
                        .level_alias = "lvl"});
  EXPECT_EQ(written(w, mapRecord(kRecord)),
            R"({"msg_out":"hello","severity":3,"env":"own","5":null,"team":"x",)"
            R"("ts":1714564800123,"lvl":3})");
  const std::string line = "a \"line\"";
  const ferry_plugin_record r{kTimeNs,     "app",
                              3,           reinterpret_cast<const uint8_t*>(line.data()),
                              line.size(), FERRY_RECORD_LINE};
  EXPECT_EQ(written(w, r),
            R"({"msg_out":"a \"line\"","env":"prod","team":"x","ts":1714564800123})");
}

TEST(SinkRecordObjectTest, WithoutAMessageFieldThereIsNoMessageMember) {
  RecordObjectWriter w({.message_key = "nope", .time_key = ""});
  EXPECT_EQ(written(w, mapRecord(kRecord)),
            R"({"text":"hello","severity":3,"env":"own","5":null})");
  // A field named like the message member is the fallback.
  const std::string with_message = test::pack([](Packer& pk) {
    pk.pack_map(2);
    pk.pack("a"), pk.pack(1);
    pk.pack("message"), pk.pack(std::vector<int>{1});
  });
  EXPECT_EQ(written(w, mapRecord(with_message)), R"({"message":"[1]","a":1})");
}

TEST(SinkRecordObjectTest, JsonMessageMembersAndItsOwnMessage) {
  RecordObjectWriter w({.parse_json_message = true, .time_key = "", .level_alias = "status"});
  const std::string rec = test::pack([](Packer& pk) {
    pk.pack_map(2);
    pk.pack("log"), pk.pack(R"({"msg":"inner","level":"warn","env":"json","n":1e2})");
    pk.pack("env"), pk.pack("record");
  });
  EXPECT_EQ(written(w, mapRecord(rec)),
            R"({"message":"inner","env":"record","level":"warn","n":1e2,"status":"warn"})");
  RecordObjectWriter off({.time_key = ""});
  EXPECT_EQ(written(off, mapRecord(rec)),
            R"({"message":"{\"msg\":\"inner\",\"level\":\"warn\",\"env\":\"json\",\"n\":1e2}",)"
            R"("env":"record"})");
}

TEST(SinkRecordObjectTest, ALongMessageIsCutAndMalformedRecordsRefused) {
  RecordObjectWriter w({.time_key = "", .max_object_bytes = 47});
  const std::string rec = test::pack([](Packer& pk) {
    pk.pack_map(2);
    pk.pack("log"), pk.pack(std::string(100, 'x'));
    pk.pack("a"), pk.pack(1);
  });
  const std::string cut = written(w, mapRecord(rec), ObjectResult::kTruncated);
  EXPECT_EQ(cut.size(), 47u);
  EXPECT_EQ(cut, R"({"message":"xxxx","a":1,"ferry.truncated":true})");
  EXPECT_EQ(written(w, mapRecord(test::bytes({0x81, 0xa1, 'a'})), ObjectResult::kMalformed), "");
  const ferry_plugin_record other{0, "app", 3, nullptr, 0, 77};
  written(w, other, ObjectResult::kMalformed);
}

// A sink's own shaping: takes `env` out of the fields and writes it first, renamed.
class Renaming : public RecordObjectWriter {
public:
  Renaming() : RecordObjectWriter({.time_key = ""}) {}

private:
  bool shape() override {
    const size_t i = fields_.find("env");
    if (i == fields_.size()) return true;
    std::string_view text;
    if (!msgpackValueText(fields_[i].value, arena_, scratch_, text)) return false;
    fields_[i].taken = true;
    addStringMember("environment", text);
    return !addStringMember("environment", "twice"); // the key is taken now
  }
};

TEST(SinkRecordObjectTest, ADerivedWriterShapesTheFields) {
  Renaming w;
  const std::string rec = test::pack([](Packer& pk) {
    pk.pack_map(3);
    pk.pack("log"), pk.pack("m");
    pk.pack("env"), pk.pack(42);
    pk.pack("environment"), pk.pack("lost");
  });
  EXPECT_EQ(written(w, mapRecord(rec)), R"({"message":"m","environment":"42"})");
}

} // namespace
} // namespace ferry::sink
