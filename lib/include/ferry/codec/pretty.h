// The human-readable record form shared by `stdout` with `format: pretty` and `ferry tail`:
//   2024-05-01 12:00:00.123 INFO  request completed  method=GET status=200
// time (UTC), level (coloured on a terminal), message, then the other fields (dim).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ferry/core/batch.h"
#include "ferry/core/buffer.h"

namespace ferry::codec {

struct PrettyOptions {
  bool color = false;
  // Show the record's own time (its first time/timestamp/ts/@timestamp field that holds one,
  // see recordTime) instead of the time it was read, and leave that field out of the list.
  bool record_time = false;
};

// Appends one record and a newline.
void appendPretty(core::ByteBuffer& out, core::RecordFormat format, const core::RecordView& record,
                  const PrettyOptions& options);

// Severity, lowest first. kUnknown: no level field, or a word that is not a level.
enum class Level : uint8_t { kUnknown, kTrace, kDebug, kInfo, kWarn, kError, kFatal };

// Case-insensitive: trace; debug; info, notice; warn, warning; error, err; fatal, critical,
// crit, panic, emerg, alert; and the numbers of pino and bunyan (10 trace … 60 fatal).
Level parseLevel(std::string_view text);
// "trace" … "fatal"; "" for kUnknown.
std::string_view levelName(Level level);

// The level of a record: its first level/severity/lvl field (text or pino's number).
Level recordLevel(core::RecordFormat format, const core::RecordView& record);

// The time a record carries in its first time/timestamp/ts/@timestamp field that holds one:
// RFC 3339 / ISO 8601 text, or epoch seconds, milliseconds, microseconds or nanoseconds
// (a number or digits, told apart by magnitude). nullopt for lines and records without one.
std::optional<int64_t> recordTime(core::RecordFormat format, const core::RecordView& record);

} // namespace ferry::codec
