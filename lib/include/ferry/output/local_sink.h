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
#define FERRY_LOCAL_SINK_OPTIONS                                                                   \
  {.name = "format",                                                                               \
   .type = FERRY_OPTION_ENUM,                                                                      \
   .default_value = "json",                                                                        \
   .enum_values = "json|pretty",                                                                   \
   .doc = "json: one JSON object per line; pretty: time, level, message, other fields."},          \
      ::ferry::sink::kTimeKeyOption, ::ferry::sink::kTimeFormatOption

} // namespace ferry::output
