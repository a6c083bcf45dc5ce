// The sink kit's RecordObjectWriter (ferry/sink/record_object.h).
#include "ferry/sink/record_object.h"

#include <fmt/format.h>

#include "ferry/codec/json.h"

namespace ferry::sink {
namespace {

// Fields whose value is the record's level, in both the record and a JSON message.
constexpr std::array<std::string_view, 2> kLevelKeys = {"level", "severity"};

bool isLevelKey(std::string_view key) {
  return key == kLevelKeys[0] || key == kLevelKeys[1];
}

} // namespace

RecordObjectWriter::RecordObjectWriter(RecordObjectSettings settings)
    : settings_(std::move(settings)) {
  core::ByteBuffer member;
  codec::appendJsonString(member, settings_.message_member);
  member.push_back(':');
  lead_member_ = std::string(member.view());
  captured_keys_ = {settings_.message_member, "msg"};
}

bool RecordObjectWriter::addStringMember(std::string_view key, std::string_view value) {
  if (!keys_.insert(key)) return false;
  appendJsonMember(members_, key);
  codec::appendJsonString(members_, value);
  return true;
}

ObjectResult RecordObjectWriter::write(const ferry_plugin_record& record,
                                       std::string_view& object) {
  object = {};
  fields_.clear();
  arena_.clear();
  keys_.clear();
  members_.clear();
  message_ = {};
  has_message_ = false;
  level_json_ = {};
  keys_.insert(settings_.message_member);
  const std::string_view data(reinterpret_cast<const char*>(record.data), record.data_len);

  size_t message_field = 0; // none (there are no fields yet)
  if (record.format == FERRY_RECORD_LINE) {
    message_ = data; // a line record's line is its message whatever message_key says
    has_message_ = true;
  } else if (record.format == FERRY_RECORD_MSGPACK_MAP) {
    if (!fields_.scan(data, arena_)) return ObjectResult::kMalformed;
    message_field = fields_.find(settings_.message_key);
    if (message_field == fields_.size()) message_field = fields_.find(settings_.message_member);
    if (message_field < fields_.size()) {
      has_message_ = true;
      fields_[message_field].taken = true;
      // A map or number as message: its JSON text.
      if (!msgpackValueText(fields_[message_field].value, arena_, scratch_, message_))
        return ObjectResult::kMalformed;
    }
  } else {
    return ObjectResult::kMalformed;
  }
  if (!shape() || !writeFields(message_field)) return ObjectResult::kMalformed;
  if (settings_.parse_json_message) spliceMessage();
  appendTail(record.timestamp_ns);

  message_json_.clear();
  codec::appendJsonString(message_json_, message_);
  const JsonObjectParts parts{.lead_member = has_message_ ? lead_member_ : std::string_view(),
                              .lead_value = message_json_.view(),
                              .members = members_.view(),
                              .truncated_member = settings_.truncated_member};
  const ObjectResult result = writeJsonObject(object_, parts, settings_.max_object_bytes);
  object = object_.view();
  return result;
}

bool RecordObjectWriter::writeFields(size_t message_field) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    const RecordField& f = fields_[i];
    if (i == message_field || f.taken || !keys_.insert(f.key)) continue;
    appendJsonMember(members_, f.key);
    const size_t at = members_.size();
    if (codec::appendMsgpackAsJson(members_, f.value) == 0) return false;
    if (level_json_.empty() && isLevelKey(f.key)) {
      level_json_ = arena_.add(members_.view(at, members_.size() - at));
    }
  }
  return true;
}

void RecordObjectWriter::spliceMessage() {
  const JsonSpliceKeys splice{captured_keys_, kLevelKeys};
  if (!spliceJsonObject(message_, splice, keys_, arena_, members_, spliced_)) return;
  for (const std::string_view key : spliced_.keys)
    keys_.insert(key);
  auto take = [&](const JsonCapture& c) {
    message_ = arena_.add(c.is_string ? std::string_view(c.text) : c.json.view());
  };
  const JsonCapture& message = spliced_.captured[0];
  const JsonCapture& msg = spliced_.captured[1];
  if (message.present) {
    take(message);
    // The message member won: a "msg" member stays a member (unless the record has one).
    if (msg.present && keys_.insert(captured_keys_[1])) {
      appendJsonMember(members_, captured_keys_[1]);
      members_.append(msg.json.view());
    }
  } else if (msg.present) {
    take(msg);
  }
  if (level_json_.empty() && !spliced_.noted.empty()) level_json_ = arena_.add(spliced_.noted);
}

void RecordObjectWriter::appendTail(int64_t timestamp_ns) {
  // Defaults only where the record (or its JSON message) has none of its own.
  for (const auto& [key, value] : settings_.defaults) {
    if (!value.empty()) addStringMember(key, value);
  }
  if (!settings_.time_key.empty() && keys_.insert(settings_.time_key)) {
    appendJsonMember(members_, settings_.time_key);
    const fmt::format_int ms(roundedMillis(timestamp_ns));
    members_.append(ms.data(), ms.size());
  }
  if (!settings_.level_alias.empty() && !level_json_.empty() &&
      keys_.insert(settings_.level_alias)) {
    appendJsonMember(members_, settings_.level_alias);
    members_.append(level_json_);
  }
}

} // namespace ferry::sink
