// Line parsers (none, json, logfmt, regex): one text line → one record, written straight into
// the caller's buffer as a msgpack map (no DOM, no per-field allocation). Shared by the tail
// input and, later, the `parse` filter. Limits: JSON nesting depth 64; times in years 0–9999.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/buffer.h"

namespace ferry::codec {

// Appends msgpack values, the subset records need, always in their shortest form. Maps and
// arrays whose size is known only at their end take a one-byte placeholder that endMap /
// endArray patch (moving the contents when the count needs a wider header, which is rare).
class MsgpackAppender {
public:
  static void nil(core::ByteBuffer& out);
  static void boolean(core::ByteBuffer& out, bool value);
  static void integer(core::ByteBuffer& out, int64_t value);
  static void unsignedInteger(core::ByteBuffer& out, uint64_t value);
  static void float64(core::ByteBuffer& out, double value);
  static void string(core::ByteBuffer& out, std::string_view value);
  static void stringHeader(core::ByteBuffer& out, uint32_t length);
  static void mapHeader(core::ByteBuffer& out, uint32_t count);
  static void arrayHeader(core::ByteBuffer& out, uint32_t count);
  // Reserves a header and returns its position for endMap/endArray.
  static size_t beginContainer(core::ByteBuffer& out);
  static void endMap(core::ByteBuffer& out, size_t position, uint32_t count);
  static void endArray(core::ByteBuffer& out, size_t position, uint32_t count);
};

// The zone of a time whose format names none (no %z, %Z, "%SZ" or "%S.%LZ").
struct TimeZoneOptions {
  int offset_seconds = 0;       // Fluent Bit's Time_Offset ("+0900" → 32400)
  bool system_timezone = false; // Time_System_Timezone: the host's zone (TZ, /etc/localtime)
};

// Reads "Z", "+hh:mm", "+hhmm" or "-hh:mm" (Time_Offset) into seconds east of UTC.
std::expected<int, std::string> parseUtcOffset(std::string_view text);

// Reads a time written as text into nanoseconds since the epoch (UTC unless the text says
// otherwise). Formats:
//   "iso8601"  2024-05-01T12:00:00Z, ...T12:00:00.123456+02:00, a space instead of T, no zone = UTC
//   "epoch"    seconds since the epoch, with an optional fraction ("1714564800.25")
//   "epoch_ms" milliseconds since the epoch
//   otherwise  strptime, as Fluent Bit reads it (flb_strptime + its %L): %Y %y %m %d %e %j %H
//              %I %M %S %p %b %h %B %a %A %z %Z %s %T %F %R %D %n %t %%. The text must match
//              from its start; what follows the format is ignored (docker's "...123Z" under
//              %S.%L). %S reads whole seconds; %L reads up to 9 fraction digits (more are left
//              for the rest of the format), their value rounded as Fluent Bit does (through a
//              double); %f reads any number of digits exactly. %z reads Z, UT, UTC, GMT,
//              ±hh, ±hhmm, ±hh:mm or EST..PDT; %Z a zone abbreviation (UTC, CET, JST, ...). A
//              space matches any run of blanks. Without a zone in the format the time is in
//              `zone` (UTC by default). Without a year (%Y %y %s), as syslog's "Aug  7
//              06:00:01", the year — and the month and day unless read — are today's (UTC),
//              as Fluent Bit does.
class TimeParser {
public:
  static std::expected<TimeParser, std::string> create(std::string_view format,
                                                       TimeZoneOptions zone = {});
  // iso8601/epoch/epoch_ms: the whole of `text` must match; a pattern: its start.
  bool parse(std::string_view text, int64_t& ns) const;
  // A number that a JSON value carried, as its text (exact: "1714564800.123" is 123 ms, no
  // double rounding): seconds for iso8601 and epoch, milliseconds for epoch_ms; a strptime
  // pattern takes no number (as Fluent Bit's json parser).
  bool fromNumberText(std::string_view text, int64_t& ns) const;
  const std::string& format() const { return format_; }

private:
  enum class Kind : uint8_t { kIso8601, kEpoch, kEpochMillis, kPattern };
  TimeParser(Kind kind, std::string format, bool with_year = true, bool with_zone = false,
             TimeZoneOptions zone = {})
      : kind_(kind), format_(std::move(format)), with_year_(with_year), with_zone_(with_zone),
        zone_(zone) {}
  Kind kind_;
  std::string format_;
  bool with_year_;
  bool with_zone_;
  TimeZoneOptions zone_;
};

// Fluent Bit's Types: "code:integer size:integer flag:bool" — a value cast to its type.
enum class ValueType : uint8_t { kString, kInteger, kFloat, kBool, kHex };
struct TypedKey {
  std::string key;
  ValueType type;
};
std::expected<std::vector<TypedKey>, std::string> parseTypes(std::string_view text);
// Appends `value` as `type`: text that is not wholly such a value stays a string (so nothing is
// lost; Fluent Bit would write 0 for an integer "abc").
void appendTyped(core::ByteBuffer& out, std::string_view value, ValueType type);
// Appends `value` as the type `types` gives `key`, a string when it gives none.
void appendFieldValue(core::ByteBuffer& out, std::span<const TypedKey> types, std::string_view key,
                      std::string_view value);

struct ParserOptions {
  std::string type = "none"; // none|json|logfmt|regex
  std::string regex;         // regex: codec::Regex syntax, fields from named groups (?P<name>...)
  std::string time_key;      // field that holds the record time
  std::string time_format = "iso8601";
  bool time_keep = true;   // false: a time that was read leaves the record (Time_Keep Off)
  std::string time_offset; // the zone of times whose format has none ("+0900")
  bool time_system_timezone = false;
  bool skip_empty = false; // regex: groups that matched "" are left out (Skip_Empty_Values)
  std::string types;       // regex: "key:integer key2:float ..." (Fluent Bit's Types)
};

// A field added to every record after the parsed ones (tail's path_key).
struct ExtraField {
  std::string_view key;
  std::string_view value;
};

enum class ParseStatus : uint8_t {
  kParsed,    // the record was appended (and ts_ns set when time_key held a time)
  kBadTime,   // the record was appended, but time_key was missing or unreadable
  kNotParsed, // not the parser's format: nothing appended, the caller falls back to appendLogMap
};

class LineParser {
public:
  virtual ~LineParser() = default;
  // Appends `line` as one msgpack map: its fields, then `extra`. Never throws. Safe to call
  // from several threads at once.
  virtual ParseStatus parse(std::string_view line, int64_t& ts_ns, core::ByteBuffer& out,
                            std::span<const ExtraField> extra = {}) const = 0;
  // False for `none`: records stay lines unless something else needs a map.
  virtual bool producesFields() const { return true; }
};

using LineParserPtr = std::unique_ptr<LineParser>;

// An error names the option at fault ("regex: missing )", "time_format: ...").
std::expected<LineParserPtr, std::string> makeLineParser(const ParserOptions& options);

// {log: line, extra...}: a line without a parser, or one its parser did not accept.
void appendLogMap(core::ByteBuffer& out, std::string_view line,
                  std::span<const ExtraField> extra = {});

// Days since 1970-01-01 of a proleptic Gregorian date (exposed for tests).
int64_t daysFromCivil(int64_t year, unsigned month, unsigned day);

// The parsers behind makeLineParser, one source file each (parsers_json.cc, ...).
namespace detail {
struct TimeField {
  std::string key;
  TimeParser parser;
  bool keep = true; // Time_Keep: false drops the field once its time was read
};
LineParserPtr makeJsonParser(std::optional<TimeField> time);
LineParserPtr makeLogfmtParser(std::optional<TimeField> time, std::vector<TypedKey> types);
std::expected<LineParserPtr, std::string> makeRegexParser(const ParserOptions& options,
                                                          std::optional<TimeField> time);
// Reads the time field's value (a string) into ts_ns; false when it is not a time.
inline bool readTime(const std::optional<TimeField>& time, std::string_view value, int64_t& ts_ns) {
  int64_t ns;
  if (!time || !time->parser.parse(value, ns)) return false;
  ts_ns = ns;
  return true;
}
} // namespace detail

} // namespace ferry::codec
