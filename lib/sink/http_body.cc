// The sink kit's HTTP bodies (ferry/sink/http_body.h).
#include "ferry/sink/http_body.h"

#include <fmt/format.h>

namespace ferry::sink {

std::expected<void, std::string> compressBody(BodyRequest& request, codec::Compression compression,
                                              int level, core::ByteBuffer& raw) {
  request.raw_bytes = raw.size();
  if (compression == codec::Compression::kNone) {
    request.body = std::move(raw);
    raw = core::ByteBuffer();
  } else {
    request.body.clear();
    request.body.reserve(raw.size() / 4 + 64);
    if (auto ok = codec::compress(compression, level, raw.view(), request.body); !ok) {
      return std::unexpected(fmt::format("{} compression failed: {}",
                                         codec::compressionName(compression), ok.error()));
    }
  }
  request.body.shrinkToFit();
  return {};
}

PostTarget::PostTarget(std::string url, std::vector<std::string> headers)
    : url_(std::move(url)), headers_(std::move(headers)) {
  for (const std::string& h : headers_)
    header_ptrs_.push_back(h.c_str());
}

void PostTarget::describe(const core::ByteBuffer& body, ferry_http_request& out) const {
  out.method = "POST";
  out.url = url_.c_str();
  out.headers = header_ptrs_.data();
  out.header_count = header_ptrs_.size();
  out.body = reinterpret_cast<const uint8_t*>(body.data());
  out.body_len = body.size();
}

} // namespace ferry::sink
