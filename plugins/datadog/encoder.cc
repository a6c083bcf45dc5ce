// Records → Datadog intake v2 JSON (≤ 1,000 entries, ≤ 5 MB uncompressed, ≤ 1 MB per entry).
// The issue asked for rapidjson's writer; we write JSON with ferry::codec's appendJsonString /
// appendMsgpackAsJson instead (the project's JSON writer: faster, and it escapes any bytes,
// replacing invalid UTF-8). rapidjson only reads: it validates a JSON message (SAX, iterative).
#include "encoder.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "ferry/codec/json.h"
#include "ferry/codec/msgpack_scan.h"

namespace ferry::datadog {
namespace {

namespace mp = ferry::input::forward;

constexpr std::string_view kMessagePrefix = "{\"message\":";
constexpr std::string_view kTruncatedAttribute = ",\"ferry.truncated\":true";
// Nesting allowed in a parsed JSON message; a deeper one stays a plain string.
constexpr size_t kMaxJsonDepth = 64;

void appendMember(core::ByteBuffer& out, std::string_view key) {
  out.push_back(',');
  codec::appendJsonString(out, key);
  out.push_back(':');
}

int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int hexValue(std::string_view s) {
  int v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

// The longest prefix of an escaped JSON string body (valid UTF-8, escapes complete) that is at
// most `budget` bytes and ends between two characters: never inside an escape sequence, a
// surrogate pair or a UTF-8 sequence.
size_t safeCut(std::string_view escaped, size_t budget) {
  size_t pos = 0;
  while (pos < escaped.size()) {
    const auto c = static_cast<unsigned char>(escaped[pos]);
    size_t len = 1;
    if (c == '\\') {
      len = pos + 1 < escaped.size() && escaped[pos + 1] == 'u' ? 6 : 2;
      if (len == 6 && pos + 12 <= escaped.size()) {
        const int unit = hexValue(escaped.substr(pos + 2, 4));
        if (unit >= 0xD800 && unit <= 0xDBFF && escaped[pos + 6] == '\\') len = 12;
      }
    } else if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    if (pos + len > budget || pos + len > escaped.size()) break;
    pos += len;
  }
  return pos;
}

// rapidjson SAX handler for parse_json_message: re-emits a JSON object's members with our
// writer, numbers verbatim (kParseNumbersAsStringsFlag), while taking out the message/msg
// members and noting level/severity. Any value that is not an object at the root, nesting
// deeper than kMaxJsonDepth, or (by rapidjson) invalid JSON or UTF-8 makes it fail.
class JsonMessageHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, JsonMessageHandler> {
public:
  struct Captured {
    bool present = false;
    bool is_string = false;
    std::string text;      // the unescaped string when is_string
    core::ByteBuffer json; // the member's value as JSON
  };

  JsonMessageHandler(const KeySet& record_keys, StringArena& owned, core::ByteBuffer& members)
      : record_keys_(record_keys), owned_(owned), members_(members) {}

  bool done() const { return done_; }
  // The member keys written into `members` (views into `owned`).
  const std::vector<std::string_view>& memberKeys() const { return added_; }
  Captured& message() { return message_; }
  Captured& msg() { return msg_; }
  const std::string& level() const { return level_; }

  bool Default() { return false; } // every number arrives as RawNumber
  bool Null() { return scalar("null"); }
  bool Bool(bool b) { return scalar(b ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return scalar({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!beginValue()) return false;
    if (frames_.size() == 1 && (target_ == Target::kMessage || target_ == Target::kMsg)) {
      Captured& c = target_ == Target::kMessage ? message_ : msg_;
      c.is_string = true;
      c.text.assign(s, n);
    }
    codec::appendJsonString(*out_, {s, n});
    return endValue();
  }
  bool StartObject() {
    if (frames_.empty()) {
      frames_.push_back({true, true}); // the root object: its members are handled one by one
      return true;
    }
    if (frames_.size() >= kMaxJsonDepth || !beginValue()) return false;
    out_->push_back('{');
    frames_.push_back({true, true});
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    const std::string_view key(s, n);
    if (frames_.size() == 1) return topLevelKey(key);
    Frame& f = frames_.back();
    if (!f.first) out_->push_back(',');
    f.first = false;
    codec::appendJsonString(*out_, key);
    out_->push_back(':');
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    frames_.pop_back();
    if (frames_.empty()) {
      done_ = true;
      return true;
    }
    out_->push_back('}');
    return endValue();
  }
  bool StartArray() {
    if (frames_.empty() || frames_.size() >= kMaxJsonDepth || !beginValue()) return false;
    out_->push_back('[');
    frames_.push_back({false, true});
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    frames_.pop_back();
    out_->push_back(']');
    return endValue();
  }

private:
  enum class Target { kMember, kMessage, kMsg, kDiscard };
  struct Frame {
    bool is_object;
    bool first;
  };

  bool topLevelKey(std::string_view key) {
    is_level_ = false;
    if (key == "message") {
      target_ = message_.present ? Target::kDiscard : Target::kMessage;
    } else if (key == "msg") {
      target_ = msg_.present ? Target::kDiscard : Target::kMsg;
    } else if (record_keys_.contains(key) || member_keys_.contains(key)) {
      target_ = Target::kDiscard; // the record's own field (or an earlier member) wins
    } else {
      const std::string_view owned = owned_.add(key);
      member_keys_.insert(owned);
      added_.push_back(owned);
      appendMember(members_, key);
      target_ = Target::kMember;
      is_level_ = key == "level" || key == "severity";
    }
    return true;
  }

  core::ByteBuffer& bufferFor(Target t) {
    switch (t) {
    case Target::kMember:
      return members_;
    case Target::kMessage:
      return message_.json;
    case Target::kMsg:
      return msg_.json;
    case Target::kDiscard:
      break;
    }
    discard_.clear();
    return discard_;
  }

  bool beginValue() {
    if (frames_.empty()) return false; // the root is not an object
    if (frames_.size() == 1) {
      out_ = &bufferFor(target_);
      value_start_ = out_->size();
      return true;
    }
    Frame& f = frames_.back();
    if (!f.is_object) {
      if (!f.first) out_->push_back(',');
      f.first = false;
    }
    return true;
  }

  bool endValue() {
    if (frames_.size() != 1) return true;
    // A top-level member's value is complete.
    if (target_ == Target::kMessage) message_.present = true;
    if (target_ == Target::kMsg) msg_.present = true;
    if (target_ == Target::kMember && is_level_ && level_.empty()) {
      level_.assign(members_.view(value_start_, members_.size() - value_start_));
    }
    return true;
  }

  bool scalar(std::string_view text) {
    if (!beginValue()) return false;
    out_->append(text);
    return endValue();
  }

  const KeySet& record_keys_;
  KeySet member_keys_;
  std::vector<std::string_view> added_;
  StringArena& owned_;
  core::ByteBuffer& members_;
  core::ByteBuffer discard_;
  core::ByteBuffer* out_ = nullptr;
  std::vector<Frame> frames_;
  Target target_ = Target::kDiscard;
  bool is_level_ = false;
  bool done_ = false;
  size_t value_start_ = 0;
  Captured message_;
  Captured msg_;
  std::string level_;
};

bool looksLikeJsonObject(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  // A NUL byte would end rapidjson's MemoryStream early: such a message is not JSON anyway.
  return first != std::string_view::npos && s[first] == '{' &&
         std::memchr(s.data(), '\0', s.size()) == nullptr;
}

} // namespace

// ---- KeySet, StringArena --------------------------------------------------------------------

void KeySet::clear() {
  keys_.clear();
  slots_.clear();
}

size_t KeySet::slot(std::string_view key) const {
  const size_t mask = slots_.size() - 1;
  size_t i = std::hash<std::string_view>{}(key)&mask;
  // An empty slot holds a null view; a key (even "") never has a null data pointer.
  while (slots_[i].data() != nullptr && slots_[i] != key)
    i = (i + 1) & mask;
  return i;
}

void KeySet::rehash(size_t capacity) {
  slots_.assign(capacity, std::string_view());
  for (const std::string_view k : keys_)
    slots_[slot(k)] = k;
}

bool KeySet::contains(std::string_view key) const {
  if (slots_.empty()) return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
  return slots_[slot(key)].data() != nullptr;
}

bool KeySet::insert(std::string_view key) {
  if (key.data() == nullptr) key = std::string_view(""); // a null data() marks a free slot
  if (contains(key)) return false;
  keys_.push_back(key);
  if (slots_.empty()) {
    if (keys_.size() > kLinearLimit) rehash(64);
    return true;
  }
  if (keys_.size() * 2 > slots_.size()) {
    rehash(slots_.size() * 2); // keeps the load at most one half
  } else {
    slots_[slot(key)] = key;
  }
  return true;
}

std::string_view StringArena::add(std::string_view s) {
  if (used_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
  std::string& out = *strings_[used_++];
  out.assign(s.data(), s.size());
  return out;
}

// ---- DatadogEncoder -------------------------------------------------------------------------

EncoderSettings EncoderSettings::fromConfig(const DatadogConfig& config, std::string hostname) {
  EncoderSettings s;
  s.message_key = config.message_key;
  s.service = config.service;
  s.source = config.source;
  s.tags = config.tags;
  s.hostname = std::move(hostname);
  s.parse_json_message = config.parse_json_message;
  s.status_from_level = config.status_from_level;
  s.provider = config.provider;
  s.max_entries = std::clamp<size_t>(config.max_entries, 1, kMaxEntries);
  s.max_payload_bytes = std::clamp(config.max_payload_bytes, kMinPayloadBytes, kMaxPayloadBytes);
  // One entry plus the array's brackets always fits in a request.
  s.max_entry_bytes = std::min(kMaxEntryBytes, s.max_payload_bytes - 2);
  return s;
}

DatadogEncoder::DatadogEncoder(EncoderSettings settings) : settings_(std::move(settings)) {
  settings_.max_entries = std::clamp<size_t>(settings_.max_entries, 1, kMaxEntries);
  settings_.max_payload_bytes = std::min(settings_.max_payload_bytes, kMaxPayloadBytes);
  settings_.max_entry_bytes =
      std::min({settings_.max_entry_bytes, kMaxEntryBytes, settings_.max_payload_bytes - 2});
}

EncodeStats DatadogEncoder::encodeJson(std::span<const ferry_plugin_record> records,
                                       core::ByteBuffer& out) {
  EncodeStats stats;
  out.clear();
  out.push_back('[');
  for (const ferry_plugin_record& record : records) {
    if (stats.entries == settings_.max_entries) break;
    const EntryResult result = encodeEntry(record);
    if (result == EntryResult::kMalformed || result == EntryResult::kTooLarge) {
      ++stats.dropped;
      ++stats.consumed;
      continue;
    }
    const size_t separator = stats.entries > 0 ? 1 : 0;
    // +1 for the closing bracket. The first entry always fits (max_entry_bytes guarantees it).
    if (stats.entries > 0 &&
        out.size() + separator + entry_.size() + 1 > settings_.max_payload_bytes) {
      break;
    }
    if (separator) out.push_back(',');
    out.append(entry_.view());
    ++stats.entries;
    ++stats.consumed;
    if (result == EntryResult::kTruncated) ++stats.truncated;
  }
  out.push_back(']');
  return stats;
}

bool DatadogEncoder::scanFields(std::string_view map) {
  mp::MsgpackCursor cursor(map);
  uint64_t pairs = 0;
  if (!cursor.readMap(pairs)) return false;
  for (uint64_t i = 0; i < pairs; ++i) {
    std::string_view key;
    mp::MsgpackHeader header;
    if (!cursor.peek(header)) return false;
    if (header.kind == mp::MsgpackHeader::Kind::kStr ||
        header.kind == mp::MsgpackHeader::Kind::kBin) {
      if (!cursor.readStrOrBin(key)) return false;
    } else {
      // JSON keys are strings: a number (or any other) key is written as its JSON text.
      const uint8_t* start = cursor.position();
      if (!cursor.skip(skip_stack_)) return false;
      scratch_.clear();
      const std::string_view raw(reinterpret_cast<const char*>(start),
                                 static_cast<size_t>(cursor.position() - start));
      if (codec::appendMsgpackAsJson(scratch_, raw) == 0) return false;
      key = owned_.add(scratch_.view());
    }
    const uint8_t* value = cursor.position();
    if (!cursor.skip(skip_stack_)) return false;
    fields_.push_back({key, std::string_view(reinterpret_cast<const char*>(value),
                                             static_cast<size_t>(cursor.position() - value))});
  }
  return true;
}

DatadogEncoder::EntryResult DatadogEncoder::encodeEntry(const ferry_plugin_record& record) {
  fields_.clear();
  owned_.clear();
  keys_.clear();
  attributes_.clear();
  message_ = {};
  has_message_ = false;
  level_json_ = {};
  keys_.insert("message");
  const std::string_view data(reinterpret_cast<const char*>(record.data), record.data_len);

  size_t message_field = fields_.size(); // none
  if (record.format == FERRY_RECORD_LINE) {
    message_ = data; // a line record's line is its message whatever message_key says
    has_message_ = true;
  } else if (record.format == FERRY_RECORD_MSGPACK_MAP) {
    if (!scanFields(data)) return EntryResult::kMalformed;
    auto find = [&](std::string_view key) {
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (fields_[i].key == key) return i;
      }
      return fields_.size();
    };
    message_field = find(settings_.message_key);
    if (message_field == fields_.size()) message_field = find("message");
    if (message_field < fields_.size()) {
      has_message_ = true;
      const std::string_view value = fields_[message_field].value;
      mp::MsgpackCursor cursor(value);
      std::string_view text;
      if (cursor.readStrOrBin(text)) {
        message_ = text;
      } else if (!cursor.readNil()) {
        scratch_.clear(); // a map or number as message: its JSON text
        if (codec::appendMsgpackAsJson(scratch_, value) == 0) return EntryResult::kMalformed;
        message_ = owned_.add(scratch_.view());
      }
    }
  } else {
    return EntryResult::kMalformed;
  }

  if (settings_.provider == Provider::kEcs) {
    if (message_field < fields_.size()) fields_[message_field].taken = true;
    if (!remapToTags()) return EntryResult::kMalformed;
  }

  // The record's fields; the first of duplicated keys wins, "message" is ours.
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    if (i == message_field || f.taken || !keys_.insert(f.key)) continue;
    appendMember(attributes_, f.key);
    const size_t at = attributes_.size();
    if (codec::appendMsgpackAsJson(attributes_, f.value) == 0) return EntryResult::kMalformed;
    if (level_json_.empty() && (f.key == "level" || f.key == "severity")) {
      level_json_ = owned_.add(attributes_.view(at, attributes_.size() - at));
    }
  }

  if (settings_.parse_json_message && looksLikeJsonObject(message_)) parseJsonMessage();
  appendTail(record.timestamp_ns);

  message_json_.clear();
  codec::appendJsonString(message_json_, message_);
  return assemble();
}

bool DatadogEncoder::remapToTags() {
  tags_.clear();
  for (Field& f : fields_) {
    if (f.taken) continue; // the message
    mp::MsgpackHeader header;
    mp::MsgpackCursor cursor(f.value);
    std::string_view text;
    // As Fluent Bit: only a non-empty string value moves (a bin, number or map stays).
    if (cursor.peek(header) && header.kind == mp::MsgpackHeader::Kind::kStr &&
        cursor.readStr(text)) {
      f.taken = appendEcsTags(f.key, text, tags_);
    }
  }
  if (tags_.empty()) return true; // no ECS field: ddtags as without the provider
  // The moved tags come first, then the record's own ddtags (which, as everywhere, replace the
  // configured ones) or else the configured tags: Fluent Bit appends dd_tags the same way.
  std::string_view base = settings_.tags;
  for (Field& f : fields_) {
    if (f.taken || f.key != "ddtags") continue;
    f.taken = true; // the first wins; keys_ below keeps any later one out
    std::string_view text;
    if (mp::MsgpackCursor(f.value).readStrOrBin(text)) {
      base = text;
    } else if (mp::MsgpackCursor(f.value).readNil()) {
      base = {};
    } else { // a number or map: its JSON text, as for a message
      scratch_.clear();
      if (codec::appendMsgpackAsJson(scratch_, f.value) == 0) return false;
      base = owned_.add(scratch_.view());
    }
    break;
  }
  if (!base.empty()) {
    tags_.push_back(',');
    tags_.append(base);
  }
  keys_.insert("ddtags"); // also keeps a parsed JSON message's ddtags member out
  appendMember(attributes_, "ddtags");
  codec::appendJsonString(attributes_, tags_);
  return true;
}

bool DatadogEncoder::parseJsonMessage() {
  json_members_.clear();
  JsonMessageHandler handler(keys_, owned_, json_members_);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(message_.data(), message_.size());
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, handler);
  if (!ok || !handler.done()) {
    json_members_.clear(); // not a JSON object after all: the message stays as it is
    return false;
  }
  for (const std::string_view key : handler.memberKeys())
    keys_.insert(key);
  auto take = [&](JsonMessageHandler::Captured& c) {
    message_ = owned_.add(c.is_string ? std::string_view(c.text) : c.json.view());
  };
  if (handler.message().present) {
    take(handler.message());
    // "message" won: a "msg" member stays an attribute (unless the record has one).
    if (handler.msg().present && keys_.insert("msg")) {
      appendMember(json_members_, "msg");
      json_members_.append(handler.msg().json.view());
    }
  } else if (handler.msg().present) {
    take(handler.msg());
  }
  if (level_json_.empty() && !handler.level().empty()) {
    level_json_ = owned_.add(handler.level());
  }
  attributes_.append(json_members_.view());
  return true;
}

void DatadogEncoder::appendTail(int64_t timestamp_ns) {
  // Configured values only where the record (or its JSON message) has none of its own.
  auto add = [&](std::string_view key, std::string_view value) {
    if (value.empty() || !keys_.insert(key)) return;
    appendMember(attributes_, key);
    codec::appendJsonString(attributes_, value);
  };
  add("ddsource", settings_.source);
  add("service", settings_.service);
  add("ddtags", settings_.tags);
  add("hostname", settings_.hostname);
  if (keys_.insert("timestamp")) {
    appendMember(attributes_, "timestamp");
    // To the nearest millisecond, half up, as Fluent Bit's out_datadog rounds: the same
    // record gets the same timestamp from either, so the two agree on order and dedup.
    const fmt::format_int ms(floorDiv(timestamp_ns + 500'000, 1'000'000));
    attributes_.append(ms.data(), ms.size());
  }
  if (settings_.status_from_level && !level_json_.empty() && keys_.insert("status")) {
    appendMember(attributes_, "status");
    attributes_.append(level_json_);
  }
}

DatadogEncoder::EntryResult DatadogEncoder::assemble() {
  entry_.clear();
  if (!has_message_) {
    // No message field (a parser took `log` apart, say): no "message" either, as Fluent Bit
    // sends it, so Datadog's message remapper can pick `msg` and the like.
    const std::string_view members =
        attributes_.empty() ? std::string_view() : attributes_.view(1, attributes_.size() - 1);
    if (members.size() + 2 > settings_.max_entry_bytes) return EntryResult::kTooLarge;
    entry_.push_back('{');
    entry_.append(members);
    entry_.push_back('}');
    return EntryResult::kOk;
  }
  const size_t size = kMessagePrefix.size() + message_json_.size() + attributes_.size() + 1;
  if (size <= settings_.max_entry_bytes) {
    entry_.reserve(size);
    entry_.append(kMessagePrefix);
    entry_.append(message_json_.view());
    entry_.append(attributes_.view());
    entry_.push_back('}');
    return EntryResult::kOk;
  }
  // Too large: cut the message so the entry fits, and say so.
  const size_t fixed =
      kMessagePrefix.size() + 2 + attributes_.size() + kTruncatedAttribute.size() + 1;
  if (fixed > settings_.max_entry_bytes) return EntryResult::kTooLarge;
  const std::string_view body = message_json_.view(1, message_json_.size() - 2);
  const size_t cut = safeCut(body, settings_.max_entry_bytes - fixed);
  entry_.reserve(fixed + cut);
  entry_.append(kMessagePrefix);
  entry_.push_back('"');
  entry_.append(body.substr(0, cut));
  entry_.push_back('"');
  entry_.append(attributes_.view());
  entry_.append(kTruncatedAttribute);
  entry_.push_back('}');
  return EntryResult::kTruncated;
}

// ---- Requests -------------------------------------------------------------------------------

std::expected<std::unique_ptr<DatadogRequest>, std::string>
encodeRequest(DatadogEncoder& encoder, codec::Compression compression, int level,
              std::span<const ferry_plugin_record> records, core::ByteBuffer& json,
              EncodeStats& stats) {
  stats = encoder.encodeJson(records, json);
  if (stats.entries == 0) return std::unique_ptr<DatadogRequest>(); // every record dropped
  auto request = std::make_unique<DatadogRequest>();
  request->entries = stats.entries;
  request->json_bytes = json.size();
  if (compression == codec::Compression::kNone) {
    request->body = std::move(json);
    json = core::ByteBuffer();
  } else {
    request->body.reserve(json.size() / 4 + 64);
    if (auto ok = codec::compress(compression, level, json.view(), request->body); !ok) {
      return std::unexpected(fmt::format("{} compression failed: {}",
                                         codec::compressionName(compression), ok.error()));
    }
  }
  request->body.shrinkToFit(); // it waits for its answer at this size
  return request;
}

std::vector<std::string> requestHeaders(const DatadogConfig& config) {
  std::vector<std::string> headers;
  headers.push_back("DD-API-KEY: " + config.api_key);
  headers.emplace_back("Content-Type: application/json");
  const std::string_view encoding = codec::contentEncoding(config.compression);
  if (!encoding.empty()) headers.push_back(fmt::format("Content-Encoding: {}", encoding));
  headers.emplace_back("DD-EVP-ORIGIN: ferry");
  headers.emplace_back("DD-EVP-ORIGIN-VERSION: " FERRY_VERSION);
  return headers;
}

} // namespace ferry::datadog
