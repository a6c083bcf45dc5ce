// The sink kit, JSON object part 2: a log message that is itself a JSON object, spliced into
// the object a sink writes for its record ("parse_json_message"). The message's top-level
// members become members of the record's object, written with ferry::codec's writer (strings
// re-escaped, numbers verbatim), except:
//   - keys already in the object (`exclude`) or repeated in the message: the first one wins;
//   - the `captured` keys (say message, msg): taken out whole, for the sink to use as it likes;
//   - the `noted` keys (say level, severity) stay members, and the first one's value is noted.
// Reading is rapidjson's SAX reader (iterative, validating UTF-8); writing is ours.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/buffer.h"
#include "ferry/sink/json_keys.h"

namespace ferry::sink {

// Nesting allowed in a spliced message; a deeper one is not spliced.
inline constexpr size_t kMaxSplicedJsonDepth = 64;

struct JsonSpliceKeys {
  std::span<const std::string_view> captured;
  std::span<const std::string_view> noted;
};

// A captured member: its value as JSON, and the unescaped text when it is a string.
struct JsonCapture {
  bool present = false;
  bool is_string = false;
  std::string text;
  core::ByteBuffer json;
};

struct SplicedJson {
  std::vector<std::string_view> keys; // the member keys appended (views into the arena)
  std::vector<JsonCapture> captured;  // one per JsonSpliceKeys::captured key, in order
  std::string noted;                  // JSON of the first noted member's value, or empty
};

// Whether `text` could be a JSON object: '{' after leading blanks, and no NUL byte (which
// would end rapidjson's stream early; such a text is not JSON anyway). A cheap pre-check.
bool looksLikeJsonObject(std::string_view text);

// Appends the members of the JSON object `text` to `members` as `,"key":value` (so they can
// follow other members), filling `out`. False, with `members` as it was, when `text` is not
// a JSON object: not an object at the root, invalid JSON or UTF-8, nesting deeper than
// kMaxSplicedJsonDepth, or anything after the object.
bool spliceJsonObject(std::string_view text, const JsonSpliceKeys& keys, const KeySet& exclude,
                      StringArena& arena, core::ByteBuffer& members, SplicedJson& out);

} // namespace ferry::sink
