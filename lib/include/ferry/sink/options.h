// The sink kit, options part: a plugin's options read through its declared table, so each
// option's default and bounds are stated once, in the table (designated initializers), and
// never again by name in the code that reads them. Reading an option the table does not
// declare is a programming error (std::logic_error, turned into an init error at the ABI
// boundary) rather than a silent fallback.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/codec/json.h"
#include "ferry/plugin.h"

namespace ferry::sink {

// The declared option `name` of a descriptor, or nullptr.
const ferry_plugin_option* findPluginOption(const ferry_plugin_descriptor& descriptor,
                                            std::string_view name);

// The choices of an ENUM row ("a|b|c" → {"a", "b", "c"}); empty for a row without.
std::vector<std::string_view> choicesOf(const ferry_plugin_option& row);
// The position of `value` among the row's choices, else "<name>: 'v' is not one of a|b|c".
std::expected<size_t, std::string> choiceIndex(const ferry_plugin_option& row,
                                               std::string_view value);

// Whether the table bounds this INT/SIZE/DURATION option (min <= max; the ABI's
// "min > max = unbounded").
bool isBounded(const ferry_plugin_option& option);

// A declared default as the JSON value the host would pass: sizes in bytes, durations in
// milliseconds. Errors when it does not parse or lies outside the bounds (the compliance
// suite holds every sink to this).
std::expected<int64_t, std::string> numericDefault(const ferry_plugin_option& option);

// Option rows several sinks declare alike, to put in their tables as they are.
inline constexpr ferry_plugin_option kCompressionLevelOption = {
    .name = "compression_level",
    .type = FERRY_OPTION_INT,
    .default_value = "0",
    .min_value = 0,
    .max_value = 22,
    .doc = "Codec level: gzip 1-12, zstd 1-22; 0 = the codec's default."};
inline constexpr ferry_plugin_option kTimeKeyOption = {
    .name = "time_key",
    .type = FERRY_OPTION_STRING,
    .default_value = "date",
    .doc = "Field that carries the record time in each JSON line; empty for none."};
inline constexpr ferry_plugin_option kTimeFormatOption = {
    .name = "time_format",
    .type = FERRY_OPTION_ENUM,
    .default_value = "iso8601",
    .enum_values = "iso8601|epoch|epoch_ms",
    .doc = "iso8601 (UTC, nanoseconds), epoch (seconds as a decimal) or epoch_ms (integer)."};
// `timeout`: the HTTP timeout of one attempt, which the sink passes on as
// limits.request_timeout_ms. default_value as a user writes it, bounds in milliseconds.
constexpr ferry_plugin_option timeoutOption(const char* default_value, int64_t min_ms,
                                            int64_t max_ms, const char* doc) {
  return {.name = "timeout",
          .type = FERRY_OPTION_DURATION,
          .default_value = default_value,
          .min_value = min_ms,
          .max_value = max_ms,
          .doc = doc};
}

// A STRING option: required (no default), or optional with "" as its default.
constexpr ferry_plugin_option stringOption(const char* name, const char* doc,
                                           bool required = false) {
  return {.name = name,
          .type = FERRY_OPTION_STRING,
          .default_value = required ? nullptr : "",
          .required = required ? 1 : 0,
          .doc = doc};
}

class PluginOptions {
public:
  // doc: the options JSON the host passes (ferry_on_init, ferry_on_check) or a test builds;
  // both must outlive this object.
  PluginOptions(const rapidjson::Value& doc, const ferry_plugin_descriptor& descriptor)
      : doc_(doc), descriptor_(descriptor) {}

  // Each reads the given value, else the table's default (strings: "" without one).
  std::string string(const char* name) const;
  int64_t integer(const char* name) const; // INT; SIZE in bytes; DURATION in milliseconds
  bool boolean(const char* name) const;
  // The raw value (lists, maps); nullptr when not given.
  const rapidjson::Value* value(const char* name) const;
  bool has(const char* name) const;

  // What the host checks, checked again for anyone who calls a plugin's config parser
  // directly: every value given has its declared type, numbers lie within their bounds,
  // enums are one of their choices, and required options are given and not blank. The
  // error names the option ("timeout: must be 100 to 600000").
  std::expected<void, std::string> check() const;

  const ferry_plugin_descriptor& descriptor() const { return descriptor_; }

private:
  const ferry_plugin_option& declared(const char* name) const;
  const rapidjson::Value& doc_;
  const ferry_plugin_descriptor& descriptor_;
};

// The time field of each record's JSON line from two options: a string naming the field
// (empty: none) and an enum iso8601|epoch|epoch_ms. Local sinks use time_key/time_format,
// firehose the same, s3 json_date_key/json_date_format (Fluent Bit's names).
std::expected<codec::RecordJsonOptions, std::string>
recordJsonOptions(const PluginOptions& options, const char* key_option, const char* format_option);

} // namespace ferry::sink
