// Shared pieces of the local sinks (stdout, file): records rendered as lines into one
// buffer per request, and writing a buffer out whole.
#pragma once

#include <expected>
#include <span>
#include <string>

#include "ferry/codec/json.h"
#include "ferry/codec/pretty.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"

namespace ferry::output {

enum class LineFormat { kJson, kPretty };

struct LineEncoding {
  LineFormat format = LineFormat::kJson;
  codec::RecordJsonOptions json;
  codec::PrettyOptions pretty;
};

// Parses the shared options (format, time_key, time_format) of a local sink.
std::expected<LineEncoding, std::string> lineEncodingFromOptions(const sdk::Options& options);

class LinesRequest : public sdk::Request {
public:
  core::ByteBuffer bytes;
  size_t records = 0;
};

// Renders every record as one line (malformed ones are counted in `dropped`).
sdk::RequestPtr encodeLines(std::span<const ferry_plugin_record> records, const LineEncoding& enc,
                            size_t& consumed, size_t& dropped);

// Writes all of `data` to fd (retrying short writes and EINTR). Returns errno on failure.
int writeAll(int fd, const char* data, size_t len);

// The option rows every local line sink declares (format, time_key, time_format).
#define FERRY_LOCAL_SINK_OPTIONS                                                                \
  {"format", FERRY_OPTION_ENUM, "json", 0, 0, "json|pretty", 1, 0,                             \
   "json: one JSON object per line; pretty: time, level, message, other fields."},             \
  {"time_key", FERRY_OPTION_STRING, "date", 0, 0, nullptr, 1, 0,                                \
   "Field that carries the record time in JSON lines; empty for none."},                        \
  {"time_format", FERRY_OPTION_ENUM, "iso8601", 0, 0, "iso8601|epoch|epoch_ms", 1, 0,          \
   "iso8601 (UTC, nanoseconds), epoch (seconds as a decimal) or epoch_ms (integer)."}

} // namespace ferry::output
