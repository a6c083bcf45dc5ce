// Compression: names, round trips, concatenated gzip members / zstd frames, and the failure
// cases decompress must catch (truncation, corruption, trailing garbage, bombs over max_out).
#include "ferry/codec/compress.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

namespace ferry::codec {
namespace {

constexpr size_t kNoLimit = size_t{1} << 40;

std::string toString(const core::ByteBuffer& b) {
  return std::string(b.view());
}

std::string compressed(Compression c, std::string_view in, int level = 0) {
  core::ByteBuffer out;
  auto r = compress(c, level, in, out);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error());
  return toString(out);
}

std::expected<std::string, std::string> decompressed(Compression c, std::string_view in,
                                                     size_t max_out = kNoLimit) {
  core::ByteBuffer out;
  auto r = decompress(c, in, out, max_out);
  if (!r) return std::unexpected(r.error());
  return toString(out);
}

// NDJSON-like text with some variety, so the codecs have something to find.
std::string sampleText(size_t bytes, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) {
    s += R"({"level":"info","msg":"request completed","status":)";
    s += std::to_string(200 + rng() % 300);
    s += R"(,"latency_ms":)";
    s += std::to_string(rng() % 10000);
    s += "}\n";
  }
  s.resize(bytes);
  return s;
}

// Random bytes: incompressible, exercises stored blocks and bound computations.
std::string randomBytes(size_t n, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

// A gzip member from zlib (not libdeflate), to check interoperability both ways.
std::string zlibGzip(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(CompressTest, ParsesAndNamesCodecs) {
  EXPECT_EQ(parseCompression("gzip").value(), Compression::kGzip);
  EXPECT_EQ(parseCompression("zstd").value(), Compression::kZstd);
  EXPECT_EQ(parseCompression("none").value(), Compression::kNone);
  EXPECT_FALSE(parseCompression("GZIP").has_value());
  EXPECT_FALSE(parseCompression("").has_value());
  auto bad = parseCompression("brotli");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("brotli"), std::string::npos);

  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    EXPECT_EQ(parseCompression(compressionName(c)).value(), c);
  }
  EXPECT_EQ(contentEncoding(Compression::kGzip), "gzip");
  EXPECT_EQ(contentEncoding(Compression::kZstd), "zstd");
  EXPECT_EQ(contentEncoding(Compression::kNone), "");
  EXPECT_EQ(defaultLevel(Compression::kGzip), 6);
  EXPECT_EQ(defaultLevel(Compression::kZstd), 3);
}

class CompressRoundTripTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CompressRoundTripTest, RoundTripsAtSeveralSizesAndLevels) {
  const Compression c = GetParam();
  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{3'000'000}}) {
    const std::string text = sampleText(size);
    for (int level : {0, 1, 6, 9, 100 /* clamped to the codec's maximum */}) {
      if (size > 100'000 && level >= 9) continue; // slow levels on big inputs add nothing
      const std::string z = compressed(c, text, level);
      auto back = decompressed(c, z);
      ASSERT_TRUE(back.has_value()) << back.error() << " size=" << size << " level=" << level;
      EXPECT_EQ(*back, text) << "size=" << size << " level=" << level;
      if (c != Compression::kNone && size >= 65536) {
        EXPECT_LT(z.size(), text.size() / 3) << "size=" << size << " level=" << level;
      }
    }
  }
}

TEST_P(CompressRoundTripTest, RoundTripsIncompressibleData) {
  const Compression c = GetParam();
  const std::string data = randomBytes(200'000);
  auto back = decompressed(c, compressed(c, data));
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, data);
}

TEST_P(CompressRoundTripTest, AppendsAfterExistingBytes) {
  const Compression c = GetParam();
  const std::string text = sampleText(5000);
  core::ByteBuffer z;
  z.append("xyz");
  ASSERT_TRUE(compress(c, 0, text, z).has_value());
  EXPECT_EQ(z.view().substr(0, 3), "xyz");
  core::ByteBuffer out;
  out.append("abc");
  ASSERT_TRUE(decompress(c, z.view().substr(3), out, kNoLimit).has_value());
  EXPECT_EQ(toString(out), "abc" + text);
}

TEST_P(CompressRoundTripTest, ExactLimitPassesOneByteLessFails) {
  const Compression c = GetParam();
  const std::string text = sampleText(100'000);
  const std::string z = compressed(c, text);
  EXPECT_TRUE(decompressed(c, z, text.size()).has_value());
  EXPECT_FALSE(decompressed(c, z, text.size() - 1).has_value());
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressRoundTripTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kZstd),
                         [](const auto& info) { return std::string(compressionName(info.param)); });

TEST(CompressTest, LevelsChangeTheOutput) {
  const std::string text = sampleText(1'000'000);
  EXPECT_LT(compressed(Compression::kGzip, text, 9).size(),
            compressed(Compression::kGzip, text, 1).size());
  EXPECT_LT(compressed(Compression::kZstd, text, 19).size(),
            compressed(Compression::kZstd, text, 1).size());
  // level <= 0 is the default level.
  EXPECT_EQ(compressed(Compression::kGzip, text, 0), compressed(Compression::kGzip, text, 6));
  EXPECT_EQ(compressed(Compression::kZstd, text, -5), compressed(Compression::kZstd, text, 3));
}

TEST(CompressTest, GzipOutputIsAGzipMemberZlibReads) {
  const std::string text = sampleText(50'000);
  const std::string z = compressed(Compression::kGzip, text);
  ASSERT_GE(z.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  // And a zlib-made member decompresses too.
  auto back = decompressed(Compression::kGzip, zlibGzip(text));
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, text);
}

TEST(CompressTest, GzipConcatenatedMembersDecompressToAll) {
  const std::string a = sampleText(10'000, 1), b = sampleText(70'000, 2), c = "tail";
  const std::string z = compressed(Compression::kGzip, a) + zlibGzip(b) +
                        compressed(Compression::kGzip, c) + compressed(Compression::kGzip, "");
  auto back = decompressed(Compression::kGzip, z);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, a + b + c);
}

TEST(CompressTest, GzipTruncatedFailsAtEveryLength) {
  const std::string text = sampleText(3000);
  const std::string z = compressed(Compression::kGzip, text);
  for (size_t n = 0; n < z.size(); ++n) {
    EXPECT_FALSE(decompressed(Compression::kGzip, z.substr(0, n)).has_value()) << "n=" << n;
  }
  // A complete member followed by a truncated one fails as well.
  const std::string two = z + z.substr(0, z.size() / 2);
  EXPECT_FALSE(decompressed(Compression::kGzip, two).has_value());
}

TEST(CompressTest, GzipCorruptFails) {
  const std::string text = sampleText(20'000);
  const std::string z = compressed(Compression::kGzip, text);

  std::string bad_magic = z;
  bad_magic[0] = 'x';
  EXPECT_FALSE(decompressed(Compression::kGzip, bad_magic).has_value());

  std::string bad_crc = z;
  bad_crc[bad_crc.size() - 6] ^= 0x01; // the trailer: CRC32, then ISIZE, 4 bytes each
  auto r = decompressed(Compression::kGzip, bad_crc);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("gzip"), std::string::npos);

  std::string bad_size = z;
  bad_size[bad_size.size() - 1] ^= 0x01; // ISIZE
  EXPECT_FALSE(decompressed(Compression::kGzip, bad_size).has_value());

  // Every single-byte flip in the body must be caught (by the decoder or by the CRC).
  size_t caught = 0, tried = 0;
  for (size_t i = 10; i + 8 < z.size(); i += 7) {
    std::string flipped = z;
    flipped[i] ^= 0x40;
    ++tried;
    auto d = decompressed(Compression::kGzip, flipped);
    if (!d.has_value())
      ++caught;
    else
      EXPECT_TRUE(*d != text) << "flip at " << i << " went unnoticed";
  }
  EXPECT_EQ(caught, tried);

  // Garbage after a complete member is not another member.
  EXPECT_FALSE(decompressed(Compression::kGzip, z + "garbage!").has_value());
  EXPECT_FALSE(decompressed(Compression::kGzip, z + std::string(4, '\0')).has_value());
  EXPECT_FALSE(decompressed(Compression::kGzip, randomBytes(1000)).has_value());
}

TEST(CompressTest, GzipBombStopsAtMaxOut) {
  const std::string zeros(10'000'000, '\0');
  const std::string z = compressed(Compression::kGzip, zeros, 9);
  ASSERT_LT(z.size(), 50'000u);
  constexpr size_t kMax = 1'000'000;
  core::ByteBuffer out;
  auto r = decompress(Compression::kGzip, z, out, kMax);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("limit"), std::string::npos) << r.error();
  EXPECT_LE(out.size(), kMax + 1);
  EXPECT_LE(out.capacity(), 4 * kMax); // never sized from what the stream promises
  // The same stream is fine with room for it.
  EXPECT_EQ(decompressed(Compression::kGzip, z, zeros.size()).value().size(), zeros.size());
}

TEST(CompressTest, GzipLimitCountsAllMembers) {
  const std::string part = sampleText(600'000);
  const std::string z = compressed(Compression::kGzip, part) + compressed(Compression::kGzip, part);
  EXPECT_FALSE(decompressed(Compression::kGzip, z, 1'000'000).has_value());
  EXPECT_TRUE(decompressed(Compression::kGzip, z, 1'200'000).has_value());
}

TEST(CompressTest, EmptyInputIsNotAStream) {
  EXPECT_FALSE(decompressed(Compression::kGzip, "").has_value());
  EXPECT_FALSE(decompressed(Compression::kZstd, "").has_value());
  EXPECT_EQ(decompressed(Compression::kNone, "").value(), "");
}

TEST(CompressTest, NoneRespectsMaxOut) {
  EXPECT_EQ(decompressed(Compression::kNone, "abcdef", 6).value(), "abcdef");
  EXPECT_FALSE(decompressed(Compression::kNone, "abcdef", 5).has_value());
}

// A zstd frame as a streaming producer makes it: no content size in the header, and
// optionally a content checksum.
std::string zstdStreamed(std::string_view in, bool checksum = false) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(in.size()) + 64, '\0');
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  size_t rem;
  do {
    rem = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
  } while (rem != 0 && !ZSTD_isError(rem));
  EXPECT_FALSE(ZSTD_isError(rem));
  ZSTD_freeCCtx(cctx);
  out.resize(ob.pos);
  return out;
}

TEST(CompressTest, ZstdConcatenatedFramesDecompressToAll) {
  const std::string a = sampleText(10'000, 3), b = sampleText(300'000, 4);
  const std::string z =
      compressed(Compression::kZstd, a) + zstdStreamed(b) + compressed(Compression::kZstd, "");
  auto back = decompressed(Compression::kZstd, z);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, a + b);
}

TEST(CompressTest, ZstdTruncatedFailsAtEveryLength) {
  const std::string text = sampleText(3000);
  for (const std::string& z : {compressed(Compression::kZstd, text), zstdStreamed(text)}) {
    for (size_t n = 0; n < z.size(); ++n) {
      EXPECT_FALSE(decompressed(Compression::kZstd, z.substr(0, n)).has_value()) << "n=" << n;
    }
    EXPECT_EQ(decompressed(Compression::kZstd, z).value(), text);
  }
}

TEST(CompressTest, ZstdCorruptFails) {
  const std::string text = sampleText(20'000);
  const std::string z = compressed(Compression::kZstd, text);
  std::string bad_magic = z;
  bad_magic[0] ^= 0x01;
  EXPECT_FALSE(decompressed(Compression::kZstd, bad_magic).has_value());
  EXPECT_FALSE(decompressed(Compression::kZstd, z + "garbage!").has_value());
  EXPECT_FALSE(decompressed(Compression::kZstd, randomBytes(1000)).has_value());
  // Flips in the body. Our frames carry no checksum (ZSTD_compressCCtx's default): a flip
  // may decode to other text, but never crash or overrun the limit.
  size_t caught = 0;
  for (size_t i = 6; i < z.size(); i += 5) {
    std::string flipped = z;
    flipped[i] ^= 0x20;
    auto d = decompressed(Compression::kZstd, flipped, 2 * text.size());
    if (!d.has_value())
      ++caught;
    else
      EXPECT_LE(d->size(), 2 * text.size());
  }
  EXPECT_GT(caught, 0u);
  // With a checksum the decoder verifies it: a flip fails, or (in bits the decoder never
  // reads) yields the very same text; never other text.
  const std::string summed = zstdStreamed(text, true);
  for (size_t i = 6; i < summed.size(); i += 3) {
    std::string flipped = summed;
    flipped[i] ^= 0x20;
    auto d = decompressed(Compression::kZstd, flipped);
    EXPECT_TRUE(!d.has_value() || *d == text) << "flip at " << i;
  }
}

TEST(CompressTest, ZstdBombStopsAtMaxOut) {
  const std::string zeros(10'000'000, '\0');
  for (const std::string& z : {compressed(Compression::kZstd, zeros), zstdStreamed(zeros)}) {
    ASSERT_LT(z.size(), 50'000u);
    constexpr size_t kMax = 1'000'000;
    core::ByteBuffer out;
    auto r = decompress(Compression::kZstd, z, out, kMax);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().find("limit"), std::string::npos) << r.error();
    EXPECT_LE(out.size(), kMax + 1);
    EXPECT_LE(out.capacity(), 4 * kMax);
    EXPECT_EQ(decompressed(Compression::kZstd, z, zeros.size()).value().size(), zeros.size());
  }
}

TEST(CompressTest, DecompressorsRecoverAfterAFailure) {
  // The thread-local decoder state must be reset between calls.
  const std::string text = sampleText(40'000);
  for (auto c : {Compression::kGzip, Compression::kZstd}) {
    const std::string z = compressed(c, text);
    EXPECT_FALSE(decompressed(c, z.substr(0, z.size() / 2)).has_value());
    EXPECT_EQ(decompressed(c, z).value(), text);
    EXPECT_FALSE(decompressed(c, z, 10).has_value());
    EXPECT_EQ(decompressed(c, z).value(), text);
  }
}

} // namespace
} // namespace ferry::codec
