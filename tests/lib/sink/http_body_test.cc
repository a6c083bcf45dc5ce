// The sink kit's HTTP bodies: compressBody with each codec (the body decompresses to the
// payload, none moves it), and PostTarget's request description.
#include "ferry/sink/http_body.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::sink {
namespace {

class SinkCompressBodyTest : public testing::TestWithParam<codec::Compression> {};

TEST_P(SinkCompressBodyTest, BodyDecompressesToThePayload) {
  std::string payload;
  for (int i = 0; i < 2000; ++i)
    payload += R"({"message":"line )" + std::to_string(i) + R"("},)";
  core::ByteBuffer raw;
  raw.append(payload);
  BodyRequest request;
  ASSERT_TRUE(compressBody(request, GetParam(), 0, raw));
  EXPECT_EQ(request.raw_bytes, payload.size());
  EXPECT_EQ(request.body.capacity(), request.body.size()); // shrunk to fit
  EXPECT_EQ(request.heldBytes(), request.body.capacity());
  if (GetParam() == codec::Compression::kNone) {
    EXPECT_EQ(request.body.view(), payload);
    EXPECT_TRUE(raw.empty());
    return;
  }
  EXPECT_EQ(raw.view(), payload); // still the caller's scratch
  EXPECT_LT(request.body.size(), payload.size() / 4);
  core::ByteBuffer plain;
  ASSERT_TRUE(codec::decompress(GetParam(), request.body.view(), plain, 10'000'000));
  EXPECT_EQ(plain.view(), payload);
}

INSTANTIATE_TEST_SUITE_P(Codecs, SinkCompressBodyTest,
                         testing::Values(codec::Compression::kGzip, codec::Compression::kZstd,
                                         codec::Compression::kNone));

TEST(SinkPostTargetTest, DescribesAPostWithTheHeaders) {
  const PostTarget target("http://127.0.0.1:9/in", {"A: 1", "B: 2"});
  core::ByteBuffer body;
  body.append("xyz");
  ferry_http_request out{};
  target.describe(body, out);
  EXPECT_STREQ(out.method, "POST");
  EXPECT_STREQ(out.url, "http://127.0.0.1:9/in");
  ASSERT_EQ(out.header_count, 2u);
  EXPECT_STREQ(out.headers[0], "A: 1");
  EXPECT_STREQ(out.headers[1], "B: 2");
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(out.body), out.body_len), "xyz");
}

} // namespace
} // namespace ferry::sink
