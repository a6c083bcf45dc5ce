// Whole-buffer compression for sinks (gzip via libdeflate, zstd via libzstd) and bounded
// streaming decompression for inputs (gzip via zlib: concatenated members, size limits).
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "ferry/core/buffer.h"

namespace ferry::codec {

enum class Compression { kNone, kGzip, kZstd };

// "gzip" | "zstd" | "none"; nullopt-like error string otherwise.
std::expected<Compression, std::string> parseCompression(std::string_view name);
std::string_view compressionName(Compression c);
// A user's compression_level for `c`: 0 = the codec's default, gzip 1-12, zstd 1-22 (none
// takes any). Returns the level, or an error naming the option and the range.
std::expected<int, std::string> checkCompressionLevel(Compression c, int64_t level);
// The Content-Encoding header value ("gzip", "zstd"), empty for kNone.
std::string_view contentEncoding(Compression c);

// Default level for each codec (gzip 6 as zlib's default; zstd 3).
int defaultLevel(Compression c);

// Appends the compressed form of `in` to `out` (kNone appends `in` as is). level <= 0
// means the codec's default. Never throws on data; returns an error only on codec failure.
std::expected<void, std::string> compress(Compression c, int level, std::string_view in,
                                          core::ByteBuffer& out);

// Appends the decompressed form of `in` to `out`. gzip input may hold several concatenated
// members (RFC 1952 §2.2); zstd input may hold several frames. Fails (and leaves `out`
// holding whatever was decoded so far) on a corrupt or truncated stream, or when the output
// would exceed max_out bytes — a decompression bomb is an error, not an allocation.
std::expected<void, std::string> decompress(Compression c, std::string_view in,
                                            core::ByteBuffer& out, size_t max_out);

} // namespace ferry::codec
