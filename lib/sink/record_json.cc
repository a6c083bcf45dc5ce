// The sink kit's record → JSON object pieces (ferry/sink/record_json.h).
#include "ferry/sink/record_json.h"

#include "ferry/codec/json.h"
#include "ferry/codec/msgpack_scan.h"

namespace ferry::sink {
namespace {

namespace mp = ferry::input::forward;

std::string_view rawSince(const uint8_t* start, const mp::MsgpackCursor& cursor) {
  return {reinterpret_cast<const char*>(start), static_cast<size_t>(cursor.position() - start)};
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

} // namespace

int64_t roundedMillis(int64_t timestamp_ns) {
  const int64_t a = timestamp_ns + 500'000;
  const int64_t q = a / 1'000'000;
  return a % 1'000'000 < 0 ? q - 1 : q; // floor, also before 1970
}

bool RecordFields::scan(std::string_view map, StringArena& arena) {
  fields_.clear();
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
      if (codec::appendMsgpackAsJson(scratch_, rawSince(start, cursor)) == 0) return false;
      key = arena.add(scratch_.view());
    }
    const uint8_t* value = cursor.position();
    if (!cursor.skip(skip_stack_)) return false;
    fields_.push_back({key, rawSince(value, cursor)});
  }
  return true;
}

size_t RecordFields::find(std::string_view key) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].key == key) return i;
  }
  return fields_.size();
}

bool msgpackValueText(std::string_view value, StringArena& arena, core::ByteBuffer& scratch,
                      std::string_view& text) {
  mp::MsgpackCursor cursor(value);
  if (cursor.readStrOrBin(text)) return true;
  text = {};
  if (mp::MsgpackCursor(value).readNil()) return true;
  scratch.clear();
  if (codec::appendMsgpackAsJson(scratch, value) == 0) return false;
  text = arena.add(scratch.view());
  return true;
}

size_t escapedJsonPrefix(std::string_view escaped, size_t budget) {
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

ObjectResult writeJsonObject(core::ByteBuffer& out, const JsonObjectParts& p, size_t max_bytes) {
  out.clear();
  if (p.lead_member.empty()) {
    const std::string_view members = p.members.empty() ? p.members : p.members.substr(1);
    if (members.size() + 2 > max_bytes) return ObjectResult::kTooLarge;
    out.push_back('{');
    out.append(members);
    out.push_back('}');
    return ObjectResult::kWritten;
  }
  const size_t size = 1 + p.lead_member.size() + p.lead_value.size() + p.members.size() + 1;
  if (size <= max_bytes) {
    out.reserve(size);
    out.push_back('{');
    out.append(p.lead_member);
    out.append(p.lead_value);
    out.append(p.members);
    out.push_back('}');
    return ObjectResult::kWritten;
  }
  // Too large: cut the lead value so that the object fits, and say so.
  const size_t fixed =
      1 + p.lead_member.size() + 2 + p.members.size() + p.truncated_member.size() + 1;
  if (fixed > max_bytes) return ObjectResult::kTooLarge;
  const std::string_view body = p.lead_value.substr(1, p.lead_value.size() - 2);
  const size_t cut = escapedJsonPrefix(body, max_bytes - fixed);
  out.reserve(fixed + cut);
  out.push_back('{');
  out.append(p.lead_member);
  out.push_back('"');
  out.append(body.substr(0, cut));
  out.push_back('"');
  out.append(p.members);
  out.append(p.truncated_member);
  out.push_back('}');
  return ObjectResult::kTruncated;
}

} // namespace ferry::sink
