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

// Reads a time written as text into nanoseconds since the epoch (UTC unless the text says
// otherwise). Formats:
//   "iso8601"  2024-05-01T12:00:00Z, ...T12:00:00.123456+02:00, a space instead of T, no zone = UTC
//   "epoch"    seconds since the epoch, with an optional fraction ("1714564800.25")
//   "epoch_ms" milliseconds since the epoch
//   otherwise  strptime-like: %Y %y %m %d %e %j %H %I %M %S %p %b %h %B %a %A %z %Z %s %T %F
//              %R %D %%; %L or %f read a fraction of 1–9 digits, and %S also takes a fraction
//              ("12:00:00.123") unless the format itself continues with '.' or ','. %z reads
//              Z, +hh:mm, +hhmm or +hh; %Z reads UTC, GMT or Z. A space matches any run of
//              blanks. Without %z the time is UTC. Without a year (%Y %y %F %D %s), as
//              syslog's "Aug  7 06:00:01", the year is the current one (as Fluent Bit does).
class TimeParser {
public:
  static std::expected<TimeParser, std::string> create(std::string_view format);
  // The whole of `text` must match.
  bool parse(std::string_view text, int64_t& ns) const;
  // A number that a JSON value carried, as its text (exact: "1714564800.123" is 123 ms, no
  // double rounding): seconds for every format but epoch_ms.
  bool fromNumberText(std::string_view text, int64_t& ns) const;
  const std::string& format() const { return format_; }

private:
  enum class Kind : uint8_t { kIso8601, kEpoch, kEpochMillis, kPattern };
  TimeParser(Kind kind, std::string format, bool with_year = true)
      : kind_(kind), format_(std::move(format)), with_year_(with_year) {}
  Kind kind_;
  std::string format_;
  bool with_year_;
};

struct ParserOptions {
  std::string type = "none"; // none|json|logfmt|regex
  std::string regex;         // regex: codec::Regex syntax, fields from named groups (?P<name>...)
  std::string time_key;      // field that holds the record time (kept in the record)
  std::string time_format = "iso8601";
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
};
LineParserPtr makeJsonParser(std::optional<TimeField> time);
LineParserPtr makeLogfmtParser(std::optional<TimeField> time);
std::expected<LineParserPtr, std::string> makeRegexParser(const std::string& regex,
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
