// The sink kit, JSON object part 4: a record written as the JSON object a log service wants,
// built from the pieces of record_json.h and json_message.h. Its shape:
//   {"message":<the message>, <the record's fields>, <a JSON message's members>,
//    <defaults>, "timestamp":<ms>, "status":<the level>}
// where the message is the `message_key` field (else a field named like the message member;
// a line record's line always), written as a string (a non-string value as its JSON text);
// the record's fields follow in their order, the first of duplicated keys winning; with
// parse_json_message a message that is a JSON object gives its members (record fields win)
// and its own message/msg member becomes the message; defaults are written only where the
// record has no such key; the time is in milliseconds, rounded half up; the first
// level/severity value is also written under level_alias. An object over max_object_bytes
// has its message cut to fit and `truncated_member` added; without a message field there is
// no message member at all. A sink with more to say (tags moved out of fields, say) derives
// and overrides shape().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/core/buffer.h"
#include "ferry/plugin.h"
#include "ferry/sink/json_keys.h"
#include "ferry/sink/json_message.h"
#include "ferry/sink/record_json.h"

namespace ferry::sink {

struct RecordObjectSettings {
  std::string message_key = "log";
  std::string message_member = "message"; // the message's key in the object
  bool parse_json_message = false;
  std::vector<std::pair<std::string, std::string>> defaults; // an empty value is not written
  std::string time_key = "timestamp";                        // empty: none
  std::string level_alias;                                   // empty: none
  size_t max_object_bytes = SIZE_MAX;
  std::string truncated_member = ",\"ferry.truncated\":true";
};

// Not thread-safe: it keeps one object's scratch between records (so a steady stream
// allocates nothing); one writer per encoding thread.
class RecordObjectWriter {
public:
  explicit RecordObjectWriter(RecordObjectSettings settings);
  virtual ~RecordObjectWriter() = default;
  RecordObjectWriter(const RecordObjectWriter&) = delete; // it holds views into itself
  RecordObjectWriter& operator=(const RecordObjectWriter&) = delete;

  // Writes the record's object; `object` views it until the next call.
  ObjectResult write(const ferry_plugin_record& record, std::string_view& object);

  const RecordObjectSettings& objectSettings() const { return settings_; }

protected:
  // Called once the fields are scanned and the message field is taken, before the fields are
  // written: a sink may take fields (RecordField::taken) and write members of its own first
  // (addStringMember). False drops the record as malformed.
  virtual bool shape() { return true; }

  // Writes `"key":"value"` (value escaped) unless the key is already in the object.
  bool addStringMember(std::string_view key, std::string_view value);

  RecordFields fields_;
  StringArena arena_;        // keys and texts that are not views into the record
  core::ByteBuffer scratch_; // for msgpackValueText

private:
  bool writeFields(size_t message_field);
  void spliceMessage();
  void appendTail(int64_t timestamp_ns);

  RecordObjectSettings settings_;
  std::string lead_member_;                       // `"message":`
  std::array<std::string_view, 2> captured_keys_; // message_member, "msg"
  KeySet keys_;
  SplicedJson spliced_;
  std::string_view message_;      // the message text (a view into the record or arena_)
  bool has_message_ = false;      // false: the record has no message field
  std::string_view level_json_;   // JSON of the first level/severity value
  core::ByteBuffer message_json_; // the message as a string literal
  core::ByteBuffer members_;      // ,"key":value ... (no closing brace)
  core::ByteBuffer object_;       // the finished object
};

} // namespace ferry::sink
