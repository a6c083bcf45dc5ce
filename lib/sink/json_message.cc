// The sink kit's JSON message splicing (ferry/sink/json_message.h): a rapidjson SAX handler
// that re-emits an object's members with ferry::codec's writer, numbers verbatim
// (kParseNumbersAsStringsFlag). Any value that is not an object at the root, or nesting deeper
// than kMaxSplicedJsonDepth, makes it fail; rapidjson fails on invalid JSON or UTF-8.
#include "ferry/sink/json_message.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>

#include "ferry/codec/json.h"
#include "ferry/sink/record_json.h"

namespace ferry::sink {
namespace {

class SpliceHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, SpliceHandler> {
public:
  SpliceHandler(const JsonSpliceKeys& keys, const KeySet& exclude, StringArena& arena,
                core::ByteBuffer& members, SplicedJson& out)
      : keys_(keys), exclude_(exclude), arena_(arena), members_(members), out_(out) {}

  bool done() const { return done_; }

  bool Default() { return false; } // every number arrives as RawNumber
  bool Null() { return scalar("null"); }
  bool Bool(bool b) { return scalar(b ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return scalar({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!beginValue()) return false;
    if (frames_.size() == 1 && target_ >= 0) {
      JsonCapture& c = out_.captured[static_cast<size_t>(target_)];
      c.is_string = true;
      c.text.assign(s, n);
    }
    codec::appendJsonString(*buffer_, {s, n});
    return endValue();
  }
  bool StartObject() {
    if (frames_.empty()) {
      frames_.push_back({true, true}); // the root object: its members are handled one by one
      return true;
    }
    if (frames_.size() >= kMaxSplicedJsonDepth || !beginValue()) return false;
    buffer_->push_back('{');
    frames_.push_back({true, true});
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    const std::string_view key(s, n);
    if (frames_.size() == 1) return topLevelKey(key);
    Frame& f = frames_.back();
    if (!f.first) buffer_->push_back(',');
    f.first = false;
    codec::appendJsonString(*buffer_, key);
    buffer_->push_back(':');
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    frames_.pop_back();
    if (frames_.empty()) {
      done_ = true;
      return true;
    }
    buffer_->push_back('}');
    return endValue();
  }
  bool StartArray() {
    if (frames_.empty() || frames_.size() >= kMaxSplicedJsonDepth || !beginValue()) return false;
    buffer_->push_back('[');
    frames_.push_back({false, true});
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    frames_.pop_back();
    buffer_->push_back(']');
    return endValue();
  }

private:
  // Where a top-level member's value goes: a captured slot (>= 0), `members`, or nowhere.
  static constexpr int kMember = -1;
  static constexpr int kDiscard = -2;
  struct Frame {
    bool is_object;
    bool first;
  };

  bool topLevelKey(std::string_view key) {
    is_noted_ = false;
    const auto& captured = keys_.captured;
    if (const auto it = std::find(captured.begin(), captured.end(), key); it != captured.end()) {
      const auto i = static_cast<size_t>(it - captured.begin());
      target_ = out_.captured[i].present ? kDiscard : static_cast<int>(i);
    } else if (exclude_.contains(key) || member_keys_.contains(key)) {
      target_ = kDiscard; // the record's own field (or an earlier member) wins
    } else {
      const std::string_view owned = arena_.add(key);
      member_keys_.insert(owned);
      out_.keys.push_back(owned);
      appendJsonMember(members_, key);
      target_ = kMember;
      is_noted_ = std::find(keys_.noted.begin(), keys_.noted.end(), key) != keys_.noted.end();
    }
    return true;
  }

  bool beginValue() {
    if (frames_.empty()) return false; // the root is not an object
    if (frames_.size() == 1) {
      if (target_ == kMember) {
        buffer_ = &members_;
      } else if (target_ == kDiscard) {
        discard_.clear();
        buffer_ = &discard_;
      } else {
        buffer_ = &out_.captured[static_cast<size_t>(target_)].json;
      }
      value_start_ = buffer_->size();
      return true;
    }
    Frame& f = frames_.back();
    if (!f.is_object) {
      if (!f.first) buffer_->push_back(',');
      f.first = false;
    }
    return true;
  }

  bool endValue() {
    if (frames_.size() != 1) return true;
    // A top-level member's value is complete.
    if (target_ >= 0) out_.captured[static_cast<size_t>(target_)].present = true;
    if (target_ == kMember && is_noted_ && out_.noted.empty()) {
      out_.noted.assign(members_.view(value_start_, members_.size() - value_start_));
    }
    return true;
  }

  bool scalar(std::string_view text) {
    if (!beginValue()) return false;
    buffer_->append(text);
    return endValue();
  }

  const JsonSpliceKeys& keys_;
  const KeySet& exclude_;
  StringArena& arena_;
  core::ByteBuffer& members_;
  SplicedJson& out_;
  KeySet member_keys_;
  core::ByteBuffer discard_;
  core::ByteBuffer* buffer_ = nullptr;
  std::vector<Frame> frames_;
  int target_ = kDiscard;
  bool is_noted_ = false;
  bool done_ = false;
  size_t value_start_ = 0;
};

} // namespace

bool looksLikeJsonObject(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' &&
         std::memchr(text.data(), '\0', text.size()) == nullptr;
}

bool spliceJsonObject(std::string_view text, const JsonSpliceKeys& keys, const KeySet& exclude,
                      StringArena& arena, core::ByteBuffer& members, SplicedJson& out) {
  out.keys.clear();
  out.captured.resize(keys.captured.size());
  for (JsonCapture& c : out.captured) { // cleared, keeping their memory
    c.present = c.is_string = false;
    c.text.clear();
    c.json.clear();
  }
  out.noted.clear();
  if (!looksLikeJsonObject(text)) return false;
  const size_t start = members.size();
  SpliceHandler handler(keys, exclude, arena, members, out);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, handler);
  if (!ok || !handler.done()) {
    members.resize(start); // not a JSON object after all
    return false;
  }
  return true;
}

} // namespace ferry::sink
