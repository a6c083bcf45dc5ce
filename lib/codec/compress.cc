// Compression for sinks (libdeflate gzip, libzstd) and bounded decompression for inputs
// (zlib inflate over concatenated gzip members, zstd frames); output capped at max_out.
#include "ferry/codec/compress.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>

#include <fmt/format.h>

namespace ferry::codec {
namespace {

constexpr int kGzipDefaultLevel = 6; // zlib's default, and libdeflate's
constexpr int kGzipMaxLevel = 12;    // libdeflate goes past zlib's 9
constexpr int kZstdDefaultLevel = 3; // ZSTD_CLEVEL_DEFAULT
constexpr size_t kMinOutChunk = 64 * 1024;
constexpr size_t kMaxOutChunk = 16 * 1024 * 1024;

struct DeflateCompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
using DeflateCompressorPtr = std::unique_ptr<libdeflate_compressor, DeflateCompressorDeleter>;

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// A libdeflate compressor costs a few hundred KiB to allocate and set up (more at high
// levels) and is not thread-safe: each thread keeps one per level it has used.
libdeflate_compressor* gzipCompressor(int level) {
  thread_local std::array<DeflateCompressorPtr, kGzipMaxLevel + 1> compressors;
  DeflateCompressorPtr& c = compressors[static_cast<size_t>(level)];
  if (!c) c.reset(libdeflate_alloc_compressor(level));
  return c.get();
}

ZSTD_CCtx* zstdCompressContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* zstdDecompressContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// One inflate state per thread, reset per call: inflateInit2 allocates ~40 KiB (state and
// 32 KiB window) that a reset reuses.
class Inflater {
public:
  Inflater() { ok_ = inflateInit2(&stream_, 15 + 16) == Z_OK; } // 15+16: gzip wrapper only
  ~Inflater() {
    if (ok_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  // nullptr when zlib could not allocate its state.
  z_stream* stream() {
    if (!ok_ || inflateReset(&stream_) != Z_OK) return nullptr;
    return &stream_;
  }

private:
  z_stream stream_{};
  bool ok_ = false;
};

// How much room to offer the decoder next: grow with what has been produced (so a large
// output costs O(log n) reallocations), never more than one byte past the limit (that one
// byte is how "the output would exceed max_out" is detected).
size_t nextChunk(size_t produced, size_t in_size, size_t max_out) {
  size_t want = std::clamp(std::max(produced, in_size * 4), kMinOutChunk, kMaxOutChunk);
  const size_t remaining = max_out - produced; // produced <= max_out is an invariant
  return std::min(want, remaining + 1);
}

std::unexpected<std::string> tooLarge(size_t max_out) {
  return std::unexpected(fmt::format("decompressed size exceeds the limit of {} bytes", max_out));
}

std::expected<void, std::string> gunzip(std::string_view in, core::ByteBuffer& out,
                                        size_t max_out) {
  thread_local Inflater inflater;
  z_stream* zs = inflater.stream();
  if (zs == nullptr) return std::unexpected("gzip: cannot allocate the inflate state");

  const auto* next = reinterpret_cast<const Bytef*>(in.data());
  size_t left = in.size(); // input not yet handed to zlib (avail_in is 32-bit)
  const size_t start = out.size();
  zs->next_in = const_cast<Bytef*>(next);
  zs->avail_in = 0;
  for (;;) {
    if (zs->avail_in == 0 && left > 0) {
      const auto n = static_cast<uInt>(std::min<size_t>(left, UINT_MAX));
      zs->next_in = const_cast<Bytef*>(next);
      zs->avail_in = n;
      next += n;
      left -= n;
    }
    const size_t produced = out.size() - start;
    const size_t chunk = nextChunk(produced, in.size(), max_out);
    zs->next_out = reinterpret_cast<Bytef*>(out.prepare(chunk));
    zs->avail_out = static_cast<uInt>(chunk);
    const int ret = inflate(zs, Z_NO_FLUSH);
    out.commit(chunk - zs->avail_out);
    if (out.size() - start > max_out) return tooLarge(max_out);

    if (ret == Z_STREAM_END) {
      if (zs->avail_in == 0 && left == 0) return {};
      // Another member follows (RFC 1952 §2.2). Anything else there (padding, garbage)
      // fails the header check of the next round.
      if (inflateReset(zs) != Z_OK) return std::unexpected("gzip: inflateReset failed");
      continue;
    }
    if (ret == Z_OK) {
      // All input used and room left over: the decoder is waiting for bytes that will
      // never come.
      if (zs->avail_in == 0 && left == 0 && zs->avail_out > 0) {
        return std::unexpected("gzip: truncated stream");
      }
      continue;
    }
    // Z_BUF_ERROR: no progress was possible. The decoder always has output room, so it
    // lacks input: the stream is cut short.
    if (ret == Z_BUF_ERROR) return std::unexpected("gzip: truncated stream");
    return std::unexpected(
        fmt::format("gzip: {}", zs->msg != nullptr ? zs->msg : "corrupt stream"));
  }
}

std::expected<void, std::string> unzstd(std::string_view in, core::ByteBuffer& out,
                                        size_t max_out) {
  ZSTD_DCtx* dctx = zstdDecompressContext();
  if (dctx == nullptr) return std::unexpected("zstd: cannot allocate a decompression context");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);

  ZSTD_inBuffer input{in.data(), in.size(), 0};
  const size_t start = out.size();
  for (;;) {
    const size_t produced = out.size() - start;
    const size_t chunk = nextChunk(produced, in.size(), max_out);
    ZSTD_outBuffer output{out.prepare(chunk), chunk, 0};
    const size_t ret = ZSTD_decompressStream(dctx, &output, &input);
    out.commit(output.pos);
    if (ZSTD_isError(ret)) return std::unexpected(fmt::format("zstd: {}", ZSTD_getErrorName(ret)));
    if (out.size() - start > max_out) return tooLarge(max_out);
    if (ret == 0) {
      // A frame ended and is fully flushed; more input means another frame.
      if (input.pos == input.size) return {};
      continue;
    }
    // The frame is unfinished. With all the input used and output room to spare, the
    // decoder has flushed all it can: the rest of the frame is missing.
    if (input.pos == input.size && output.pos < output.size) {
      return std::unexpected("zstd: truncated stream");
    }
  }
}

} // namespace

std::expected<Compression, std::string> parseCompression(std::string_view name) {
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "none") return Compression::kNone;
  return std::unexpected(
      fmt::format("unknown compression \"{}\" (expected gzip, zstd or none)", name));
}

std::string_view compressionName(Compression c) {
  switch (c) {
  case Compression::kGzip:
    return "gzip";
  case Compression::kZstd:
    return "zstd";
  case Compression::kNone:
    break;
  }
  return "none";
}

std::string_view contentEncoding(Compression c) {
  return c == Compression::kNone ? std::string_view() : compressionName(c);
}

int defaultLevel(Compression c) {
  switch (c) {
  case Compression::kGzip:
    return kGzipDefaultLevel;
  case Compression::kZstd:
    return kZstdDefaultLevel;
  case Compression::kNone:
    break;
  }
  return 0;
}

std::expected<void, std::string> compress(Compression c, int level, std::string_view in,
                                          core::ByteBuffer& out) {
  switch (c) {
  case Compression::kNone:
    out.append(in);
    return {};
  case Compression::kGzip: {
    const int lvl = level <= 0 ? kGzipDefaultLevel : std::min(level, kGzipMaxLevel);
    libdeflate_compressor* comp = gzipCompressor(lvl);
    if (comp == nullptr) return std::unexpected("gzip: cannot allocate a compressor");
    const size_t bound = libdeflate_gzip_compress_bound(comp, in.size());
    const size_t n =
        libdeflate_gzip_compress(comp, in.data(), in.size(), out.prepare(bound), bound);
    if (n == 0) return std::unexpected("gzip: compression failed");
    out.commit(n);
    return {};
  }
  case Compression::kZstd: {
    const int lvl = level <= 0 ? kZstdDefaultLevel : std::min(level, ZSTD_maxCLevel());
    ZSTD_CCtx* cctx = zstdCompressContext();
    if (cctx == nullptr) return std::unexpected("zstd: cannot allocate a compression context");
    const size_t bound = ZSTD_compressBound(in.size());
    const size_t n = ZSTD_compressCCtx(cctx, out.prepare(bound), bound, in.data(), in.size(), lvl);
    if (ZSTD_isError(n)) return std::unexpected(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
    out.commit(n);
    return {};
  }
  }
  return std::unexpected("unknown compression");
}

std::expected<void, std::string> decompress(Compression c, std::string_view in,
                                            core::ByteBuffer& out, size_t max_out) {
  switch (c) {
  case Compression::kNone:
    if (in.size() > max_out) return tooLarge(max_out);
    out.append(in);
    return {};
  case Compression::kGzip:
    return gunzip(in, out, max_out);
  case Compression::kZstd:
    return unzstd(in, out, max_out);
  }
  return std::unexpected("unknown compression");
}

std::expected<int, std::string> checkCompressionLevel(Compression c, int64_t level) {
  const int64_t max_level = c == Compression::kGzip ? 12 : c == Compression::kZstd ? 22 : INT_MAX;
  if (level < 0 || level > max_level) {
    return std::unexpected(fmt::format("compression_level: {} is out of range for {} (0-{})", level,
                                       compressionName(c), max_level));
  }
  return static_cast<int>(level);
}

} // namespace ferry::codec
