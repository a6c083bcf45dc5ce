// The sink kit, HTTP bodies: what a sink that POSTs one compressed payload per request to a
// fixed URL needs besides its encoder. BodyRequest holds the body as sent; compressBody
// fills it from the uncompressed payload; PostTarget owns the URL and the header lines that
// every request of an instance carries, so the pointers handed to the host stay valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "ferry/codec/compress.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"

namespace ferry::sink {

// A request as the runner holds it: the body as sent, and what it covers.
class BodyRequest : public sdk::Request {
public:
  core::ByteBuffer body;
  size_t entries = 0;   // records (or entries) it carries
  size_t raw_bytes = 0; // the payload's size before compression

  uint64_t heldBytes() const override { return body.capacity(); }
};

// Sets request.body (and raw_bytes) to `raw` compressed; kNone moves `raw` itself (leaving
// it empty). The body is shrunk to its size: it waits for its answer at that size. The error
// names the codec.
std::expected<void, std::string> compressBody(BodyRequest& request, codec::Compression compression,
                                              int level, core::ByteBuffer& raw);

class PostTarget {
public:
  PostTarget(std::string url, std::vector<std::string> headers);
  PostTarget(const PostTarget&) = delete; // the pointers point into headers_
  PostTarget& operator=(const PostTarget&) = delete;
  // A POST of `body` (which must outlive the attempt) to the URL with the header lines.
  void describe(const core::ByteBuffer& body, ferry_http_request& out) const;

private:
  std::string url_;
  std::vector<std::string> headers_;
  std::vector<const char*> header_ptrs_;
};

} // namespace ferry::sink
