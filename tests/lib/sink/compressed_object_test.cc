// Objects of records: one JSON line per record (time field first), gzip/zstd/none, chunked members
// that decompress as one stream, the object closing at its uploaded size, malformed records
// dropped and counted.
#include "ferry/sink/compressed_object.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/codec/msgpack_scan.h"

namespace ferry::sink {
namespace {

struct Lines {
  std::vector<std::string> text;
  std::vector<ferry_plugin_record> records;
  explicit Lines(size_t n, size_t pad = 0) {
    text.reserve(n);
    for (size_t i = 0; i < n; ++i)
      text.push_back("line " + std::to_string(i) + std::string(pad, 'x'));
    for (size_t i = 0; i < n; ++i) {
      records.push_back({static_cast<int64_t>(1'700'000'000'000'000'000 + i), "app", 3,
                         reinterpret_cast<const uint8_t*>(text[i].data()), text[i].size(),
                         FERRY_RECORD_LINE});
    }
  }
};

std::string decompressed(codec::Compression c, const core::ByteBuffer& body) {
  core::ByteBuffer out;
  auto ok = codec::decompress(c, body.view(), out, 1u << 30);
  EXPECT_TRUE(ok.has_value()) << ok.error();
  return std::string(out.view());
}

TEST(CompressedObjectTest, LinesRoundTripEveryCodec) {
  Lines in(5000, 40);
  for (auto c : {codec::Compression::kGzip, codec::Compression::kZstd, codec::Compression::kNone}) {
    ObjectSettings s;
    s.compression = c;
    s.chunk_bytes = 16 * 1024; // many members/frames
    core::ByteBuffer scratch, body;
    auto stats = buildObject(s, in.records, scratch, body);
    ASSERT_TRUE(stats.has_value()) << stats.error();
    EXPECT_EQ(stats->consumed, 5000u);
    EXPECT_EQ(stats->lines, 5000u);
    const std::string text = decompressed(c, body);
    EXPECT_EQ(text.size(), stats->raw_bytes);
    size_t pos = 0;
    for (size_t i = 0; i < in.text.size(); ++i) {
      const size_t nl = text.find('\n', pos);
      ASSERT_NE(nl, std::string::npos);
      const std::string line = text.substr(pos, nl - pos);
      ASSERT_EQ(line.rfind("{\"date\":\"2023-11-14T22:13:20.", 0), 0u) << line;
      ASSERT_NE(line.find("\"log\":\"" + in.text[i] + "\"}"), std::string::npos) << line;
      pos = nl + 1;
    }
    EXPECT_EQ(pos, text.size());
  }
}

TEST(CompressedObjectTest, ClosesAtTheUploadedSize) {
  Lines in(20000, 100);
  ObjectSettings s;
  s.compression = codec::Compression::kNone;
  s.target_bytes = 100'000;
  s.chunk_bytes = 4096;
  core::ByteBuffer scratch, body;
  auto stats = buildObject(s, in.records, scratch, body);
  ASSERT_TRUE(stats.has_value());
  EXPECT_LT(stats->consumed, in.records.size());
  EXPECT_GE(body.size(), 100'000u);
  EXPECT_LT(body.size(), 100'000u + 200); // at most one line past the target
  // Compressed: the size is known per chunk, so it passes the target by at most a chunk.
  s.compression = codec::Compression::kGzip;
  s.target_bytes = 20'000;
  stats = buildObject(s, in.records, scratch, body);
  ASSERT_TRUE(stats.has_value());
  EXPECT_GE(body.size(), 20'000u);
  EXPECT_LT(body.size(), 20'000u + 4096);
  EXPECT_LT(stats->consumed, in.records.size());
  EXPECT_EQ(decompressed(codec::Compression::kGzip, body).size(), stats->raw_bytes);
}

TEST(CompressedObjectTest, OneRecordAlwaysFitsAndMalformedIsDropped) {
  Lines in(3, 5000);
  ObjectSettings s;
  s.compression = codec::Compression::kNone; // sizes known per record, not per chunk
  s.target_bytes = 1;                        // already "full" before the first record
  core::ByteBuffer scratch, body;
  auto stats = buildObject(s, in.records, scratch, body);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->consumed, 1u);

  std::string map;
  input::forward::packMapHeader(map, 1);
  input::forward::packStr(map, "msg");
  input::forward::packStr(map, "ok");
  const std::string broken = "\x82\xa1k"; // a map that ends early
  std::vector<ferry_plugin_record> recs = {{1, "t", 1,
                                            reinterpret_cast<const uint8_t*>(broken.data()),
                                            broken.size(), FERRY_RECORD_MSGPACK_MAP},
                                           {2, "t", 1, reinterpret_cast<const uint8_t*>(map.data()),
                                            map.size(), FERRY_RECORD_MSGPACK_MAP}};
  s = ObjectSettings{};
  s.compression = codec::Compression::kNone;
  s.json.time_key = "";
  stats = buildObject(s, recs, scratch, body);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->consumed, 2u);
  EXPECT_EQ(stats->dropped, 1u);
  EXPECT_EQ(std::string(body.view()), "{\"msg\":\"ok\"}\n");
}

TEST(CompressedObjectTest, ChunksFollowTheTarget) {
  using codec::Compression;
  EXPECT_EQ(ObjectSettings::forTarget(Compression::kGzip, 0, 64ull << 20, {}).chunk_bytes,
            1u << 20);
  EXPECT_EQ(ObjectSettings::forTarget(Compression::kGzip, 0, 200'000, {}).chunk_bytes, 50'000u);
  EXPECT_EQ(ObjectSettings::forTarget(Compression::kZstd, 3, 1024, {}).chunk_bytes, 16u * 1024);
  EXPECT_EQ(ObjectSettings::forTarget(Compression::kZstd, 3, 1024, {}).level, 3);
}

TEST(CompressedObjectTest, OfferGuessesTheRatio) {
  using codec::Compression;
  // Compressed: 5x the target in raw records, within the bounds.
  EXPECT_EQ(offerBytesFor(ObjectSettings::forTarget(Compression::kGzip, 0, 1 << 20, {}), 1 << 30),
            5u << 20);
  EXPECT_EQ(offerBytesFor(ObjectSettings::forTarget(Compression::kZstd, 0, 1 << 30, {}), 1 << 27),
            1u << 27);
  // Plain: JSON outgrows the records, so 3/4; never below 1 KiB.
  EXPECT_EQ(offerBytesFor(ObjectSettings::forTarget(Compression::kNone, 0, 1 << 20, {}), 1 << 30),
            786432u);
  EXPECT_EQ(offerBytesFor(ObjectSettings::forTarget(Compression::kNone, 0, 1000, {}), 1 << 30),
            1024u);
}

} // namespace
} // namespace ferry::sink
