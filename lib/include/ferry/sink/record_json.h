// The sink kit, JSON object part 3: a record written as a JSON object by a sink that shapes
// the object itself (picks a message, renames, adds defaults) rather than writing the
// record's fields as they are (codec::appendRecordJson does that). The pieces, on top of
// ferry::codec's writer (escaping, invalid UTF-8 replaced, msgpack → JSON):
//   RecordFields      a msgpack map's fields as key/raw-value views, scanned once;
//   msgpackValueText  a field's value as text (a string as is, anything else as JSON);
//   appendJsonMember  `,"key":` — objects are built from members in that form;
//   writeJsonObject   the object from its parts within a byte limit, cutting a long leading
//                     string member (never inside an escape or a UTF-8 sequence);
//   appendJsonArray   a request body: a JSON array of as many records as the limits allow.
// KeySet and StringArena (json_keys.h) keep one object's keys unique and its strings alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ferry/codec/json.h"
#include "ferry/core/buffer.h"
#include "ferry/sink/json_keys.h"

namespace ferry::sink {

// Appends `,"key":` (key escaped).
inline void appendJsonMember(core::ByteBuffer& out, std::string_view key) {
  out.push_back(',');
  codec::appendJsonString(out, key);
  out.push_back(':');
}

// A record time in milliseconds, to the nearest one, half up (floor of ns + 0.5 ms): the way
// Fluent Bit rounds, so that both agree on a record's time.
int64_t roundedMillis(int64_t timestamp_ns);

struct RecordField {
  std::string_view key;   // a string/bin key as is; any other key as its JSON text (1 → "1")
  std::string_view value; // the raw msgpack of the value
  bool taken = false;     // for the sink: moved elsewhere, not to be written as a member
};

// The fields of one msgpack map, in order (duplicates kept: the sink decides which wins).
class RecordFields {
public:
  // False when the msgpack is malformed or not a map. Keys that are not strings are copied
  // into `arena`; the other views point into `map`.
  bool scan(std::string_view map, StringArena& arena);
  // The first field named `key`, or size() when there is none.
  size_t find(std::string_view key) const;
  void clear() { fields_.clear(); }
  size_t size() const { return fields_.size(); }
  RecordField& operator[](size_t i) { return fields_[i]; }
  const RecordField& operator[](size_t i) const { return fields_[i]; }
  auto begin() { return fields_.begin(); }
  auto end() { return fields_.end(); }

private:
  std::vector<RecordField> fields_;
  std::vector<uint64_t> skip_stack_;
  core::ByteBuffer scratch_;
};

// A msgpack value as text: a str or bin as its bytes, nil as "", anything else (number,
// bool, map, array) as its JSON text, copied into `arena`. False when malformed.
bool msgpackValueText(std::string_view value, StringArena& arena, core::ByteBuffer& scratch,
                      std::string_view& text);

// The longest prefix of an escaped JSON string body (valid UTF-8, escapes complete) of at
// most `budget` bytes that ends between two characters: never inside an escape sequence, a
// surrogate pair or a UTF-8 sequence.
size_t escapedJsonPrefix(std::string_view escaped, size_t budget);

enum class ObjectResult { kWritten, kTruncated, kTooLarge, kMalformed };

struct JsonObjectParts {
  std::string_view lead_member;      // `"key":` of a leading string member; empty: none
  std::string_view lead_value;       // its value, a JSON string literal (quotes included)
  std::string_view members;          // the other members, each `,"key":value`
  std::string_view truncated_member; // `,"key":value` added when lead_value had to be cut
};

// Writes into `out` (cleared first) `{lead_member lead_value members}` when that is at most
// max_bytes (kWritten). Else cuts lead_value's body so that the object with truncated_member
// fits (kTruncated), or writes nothing useful when even an empty lead does not (kTooLarge).
ObjectResult writeJsonObject(core::ByteBuffer& out, const JsonObjectParts& parts, size_t max_bytes);

struct JsonArrayLimits {
  size_t max_entries = 0; // objects per array (at least 1)
  size_t max_bytes = 0;   // the array's bytes, brackets included
};

// What one appendJsonArray call covered.
struct JsonArrayStats {
  size_t consumed = 0;  // leading records covered (entries + dropped)
  size_t entries = 0;   // objects in the array
  size_t dropped = 0;   // kMalformed or kTooLarge
  size_t truncated = 0; // kTruncated entries
};

// Writes into `out` (cleared first) a JSON array of the leading records' objects, stopping
// before the one that would pass max_entries or max_bytes; the first always goes in (the
// caller keeps each object under max_bytes - 2). `write(record, object)` sets `object` to
// the record's JSON object, valid until its next call, and says how that went.
template <typename Records, typename Write>
JsonArrayStats appendJsonArray(const Records& records, const JsonArrayLimits& limits,
                               core::ByteBuffer& out, Write&& write) {
  JsonArrayStats stats;
  out.clear();
  out.push_back('[');
  for (const auto& record : records) {
    if (stats.entries == limits.max_entries) break;
    std::string_view object;
    const ObjectResult result = write(record, object);
    if (result == ObjectResult::kMalformed || result == ObjectResult::kTooLarge) {
      ++stats.dropped;
      ++stats.consumed;
      continue;
    }
    const size_t separator = stats.entries > 0 ? 1 : 0;
    // +1 for the closing bracket.
    if (stats.entries > 0 && out.size() + separator + object.size() + 1 > limits.max_bytes) break;
    if (separator) out.push_back(',');
    out.append(object);
    ++stats.entries;
    ++stats.consumed;
    if (result == ObjectResult::kTruncated) ++stats.truncated;
  }
  out.push_back(']');
  return stats;
}

} // namespace ferry::sink
