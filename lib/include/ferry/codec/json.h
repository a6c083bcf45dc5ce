// Records → JSON, the one encoder every sink uses (stdout, file, Datadog, Firehose, S3).
// Strings are escaped per RFC 8259 whatever bytes they hold: control characters as \n \r \t
// \b \f or \u00XX, invalid UTF-8 replaced by U+FFFD, so the output is always valid UTF-8 JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/core/batch.h"
#include "ferry/core/buffer.h"

namespace ferry::codec {

// Appends `s` as a JSON string literal (with quotes).
void appendJsonString(core::ByteBuffer& out, std::string_view s);

// Appends the JSON form of one msgpack object (map, array, str, bin as string, ext as
// string of its bytes, numbers, bool, nil) starting at `data`. Returns the bytes consumed,
// or 0 when the msgpack is malformed (out then holds a partial value: callers discard it).
// Malformed includes nesting deeper than 64 containers; a non-string map key is written as
// the string of its JSON text (1 → "1").
size_t appendMsgpackAsJson(core::ByteBuffer& out, std::string_view data);

// How the record's time is written into its JSON object.
enum class TimeFormat { kNone, kIso8601, kEpochSeconds /* 1714564800.123456789 */, kEpochMillis };

struct RecordJsonOptions {
  std::string time_key = "date"; // empty = no time field
  TimeFormat time_format = TimeFormat::kIso8601;
};

// Appends one record as a JSON object: the time field (if any) first, then the record's
// fields in their order. A line record's only field is "log". Returns false when the
// record's msgpack is malformed (nothing is appended then).
bool appendRecordJson(core::ByteBuffer& out, core::RecordFormat format,
                      const core::RecordView& record, const RecordJsonOptions& options);

// "2024-05-01T12:00:00.123456789Z" (UTC, nanoseconds), without quotes.
void appendIso8601(core::ByteBuffer& out, int64_t timestamp_ns);
// A time as the JSON value `format` says: a quoted ISO 8601 string, a number (epoch seconds
// with nine decimals, or epoch milliseconds), nothing for kNone.
void appendTimeValue(core::ByteBuffer& out, int64_t timestamp_ns, TimeFormat format);

} // namespace ferry::codec
