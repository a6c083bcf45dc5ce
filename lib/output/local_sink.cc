// Line rendering and whole-buffer writes for the local sinks.
#include "ferry/output/local_sink.h"

#include <unistd.h>

#include <cerrno>

namespace ferry::output {

std::expected<LineEncoding, std::string> lineEncodingFromOptions(const sdk::Options& options) {
  if (auto ok = options.check(); !ok) return std::unexpected(ok.error());
  LineEncoding enc;
  const std::string format = options.string("format");
  if (format == "pretty") {
    enc.format = LineFormat::kPretty;
  } else if (format != "json") {
    return std::unexpected("format: expected json or pretty, got '" + format + "'");
  }
  auto json = sink::recordJsonOptions(options, "time_key", "time_format");
  if (!json) return std::unexpected(json.error());
  enc.json = std::move(*json);
  return enc;
}

sdk::RequestPtr encodeLines(std::span<const ferry_plugin_record> records, const LineEncoding& enc,
                            size_t& consumed, size_t& dropped) {
  auto req = std::make_unique<LinesRequest>();
  size_t total = 0;
  for (const auto& r : records)
    total += r.data_len + 48;
  req->bytes.reserve(total + total / 8);
  for (const auto& r : records) {
    const auto format = static_cast<core::RecordFormat>(r.format);
    const core::RecordView view{
        r.timestamp_ns, std::string_view(reinterpret_cast<const char*>(r.data), r.data_len)};
    if (enc.format == LineFormat::kPretty) {
      codec::appendPretty(req->bytes, format, view, enc.pretty);
      ++req->records;
    } else if (codec::appendRecordJson(req->bytes, format, view, enc.json)) {
      req->bytes.push_back('\n');
      ++req->records;
    } else {
      ++dropped;
    }
  }
  consumed = records.size();
  return req;
}

int writeAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

} // namespace ferry::output
