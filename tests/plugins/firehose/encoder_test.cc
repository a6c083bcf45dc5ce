// Firehose encoding: the PutRecordBatch body (stream name, base64 Data of each JSON line),
// base64 itself, the call limits (500 records, 4 MiB as sent, 1,000 KiB per record),
// aggregation packing, and narrowing a request to its failed records.
#include "firehose/encoder.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "plugin_records.h"
#include "test_support.h"

namespace ferry::firehose {
namespace {

using Records = test::PluginRecords;

std::string base64(std::string_view raw) {
  core::ByteBuffer out;
  appendBase64(out, raw);
  return std::string(out.view());
}

std::string unbase64(std::string_view text) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// The decoded Data of every record in a body; checks the body's shape on the way.
std::vector<std::string> decodeBody(const core::ByteBuffer& body, const std::string& stream) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  EXPECT_FALSE(doc.HasParseError());
  EXPECT_TRUE(doc.IsObject());
  EXPECT_EQ(doc.MemberCount(), 2u);
  EXPECT_EQ(std::string(doc["DeliveryStreamName"].GetString()), stream);
  std::vector<std::string> out;
  for (const auto& r : doc["Records"].GetArray()) {
    EXPECT_EQ(r.MemberCount(), 1u);
    out.push_back(unbase64({r["Data"].GetString(), r["Data"].GetStringLength()}));
  }
  return out;
}

EncoderSettings settings(bool aggregate = false) {
  EncoderSettings s;
  s.delivery_stream = "stream-1";
  s.aggregate = aggregate;
  return s;
}

TEST(FirehoseBase64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe\x00\n", 4)), "//4ACg==");
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 1000u, 1024000u})
    EXPECT_EQ(base64(std::string(n, 'a')).size(), base64Length(n)) << n;
  // Past the chunk size of the encoder: no padding in the middle.
  const std::string big(9u * 1024 * 1024 + 1, '\x5a');
  const std::string encoded = base64(big);
  EXPECT_EQ(encoded.size(), base64Length(big.size()));
  EXPECT_EQ(encoded.find('='), encoded.size() - 2);
  EXPECT_EQ(unbase64(encoded), big);
}

TEST(FirehoseEncoderTest, EachRecordIsOneJsonLineInBase64) {
  Records r;
  r.line("hello \"world\"").map(test::packMap({{"log", "from map"}, {"source", "stdout"}}));
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(stats.consumed, 2u);
  EXPECT_EQ(stats.log_records, 2u);
  EXPECT_EQ(stats.firehose_records, 2u);
  const auto data = decodeBody(req->body, "stream-1");
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0],
            "{\"date\":\"2024-05-01T12:00:00.123000000Z\",\"log\":\"hello \\\"world\\\"\"}\n");
  EXPECT_EQ(data[1], "{\"date\":\"2024-05-01T12:00:00.123000000Z\",\"log\":\"from map\","
                     "\"source\":\"stdout\"}\n");
  EXPECT_EQ(req->logRecords(), 2u);
  EXPECT_EQ(req->body.capacity(), req->body.size()) << "a small request keeps no spare room";
}

TEST(FirehoseEncoderTest, BodyBytesPredictsTheBody) {
  Records r;
  r.lines(7, 100);
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  std::vector<size_t> lengths;
  for (const auto& rec : req->records)
    lengths.push_back(rec.length);
  EXPECT_EQ(bodyBytes("stream-1", lengths), req->body.size());
}

TEST(FirehoseEncoderTest, AtMost500RecordsPerCall) {
  Records r;
  r.lines(1234, 20);
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  size_t pos = 0, calls = 0;
  while (pos < 1234) {
    auto req = enc.encode(r.from(pos), stats);
    ASSERT_NE(req, nullptr);
    EXPECT_LE(req->records.size(), kMaxRecordsPerCall);
    EXPECT_EQ(decodeBody(req->body, "stream-1").size(), req->records.size());
    pos += stats.consumed;
    ++calls;
  }
  EXPECT_EQ(calls, 3u); // 500 + 500 + 234
}

TEST(FirehoseEncoderTest, AtMost4MiBPerCallAsSent) {
  Records r;
  r.lines(40, 300 * 1024); // 12 MB of records, each well under the record limit
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  size_t pos = 0, total = 0;
  while (pos < 40) {
    auto req = enc.encode(r.from(pos), stats);
    ASSERT_NE(req, nullptr);
    EXPECT_LE(req->body.size(), kMaxCallBytes);
    // Full: the next record would not have fitted.
    if (pos + stats.consumed < 40) {
      EXPECT_GT(req->body.size() + base64Length(300 * 1024), kMaxCallBytes);
    }
    total += decodeBody(req->body, "stream-1").size();
    pos += stats.consumed;
  }
  EXPECT_EQ(total, 40u);
}

TEST(FirehoseEncoderTest, RecordsOver1000KiBAreDroppedAndCounted) {
  Records r;
  r.line("small").lines(1, kMaxRecordBytes);   // its JSON line is over the limit
  std::string fits(kMaxRecordBytes - 64, 'y'); // with {"date":...,"log":""}\n just under
  r.line(fits);
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(stats.consumed, 3u);
  EXPECT_EQ(stats.too_large, 1u);
  EXPECT_EQ(stats.log_records, 2u);
  const auto data = decodeBody(req->body, "stream-1");
  ASSERT_EQ(data.size(), 2u);
  EXPECT_LE(data[1].size(), kMaxRecordBytes);
  EXPECT_NE(data[1].find(fits), std::string::npos);

  // Only too-large records: nothing to send, all consumed.
  Records big;
  big.lines(2, kMaxRecordBytes + 10);
  req = enc.encode(big.view(), stats);
  EXPECT_EQ(req, nullptr);
  EXPECT_EQ(stats.consumed, 2u);
  EXPECT_EQ(stats.too_large, 2u);
}

TEST(FirehoseEncoderTest, MalformedMsgpackIsDroppedAndCounted) {
  Records r;
  r.map("\xc1").line("ok");
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(stats.consumed, 2u);
  EXPECT_EQ(stats.malformed, 1u);
  EXPECT_EQ(req->records.size(), 1u);
}

TEST(FirehoseEncoderTest, AggregatePacksLinesUpToTheRecordLimit) {
  Records r;
  r.lines(5000, 200);
  FirehoseEncoder enc(settings(true));
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(stats.consumed, 5000u);
  EXPECT_EQ(stats.log_records, 5000u);
  // ~1.2 MB of lines: two Firehose records instead of 5,000.
  EXPECT_EQ(stats.firehose_records, 2u);
  const auto data = decodeBody(req->body, "stream-1");
  size_t lines = 0, i = 0;
  for (const auto& d : data) {
    EXPECT_LE(d.size(), kMaxRecordBytes);
    EXPECT_EQ(d.back(), '\n');
    size_t start = 0;
    for (size_t nl = d.find('\n'); nl != std::string::npos; nl = d.find('\n', start)) {
      const std::string line = d.substr(start, nl - start);
      EXPECT_NE(line.find("\"rec " + std::to_string(i) + " "), std::string::npos) << i;
      ++i;
      ++lines;
      start = nl + 1;
    }
  }
  EXPECT_EQ(lines, 5000u);
  EXPECT_EQ(req->records[0].log_records + req->records[1].log_records, 5000u);
  EXPECT_EQ(req->logRecords(), 5000u);
  // The body is all the request holds (the lines were base64-encoded straight into it).
  for (size_t k = 0; k < data.size(); ++k) {
    EXPECT_EQ(req->recordData(req->records[k]), data[k]);
    EXPECT_EQ(req->records[k].length, data[k].size());
  }
}

TEST(FirehoseEncoderTest, AggregateStopsAt4MiB) {
  Records r;
  r.lines(20000, 400); // ~8.6 MB of lines
  FirehoseEncoder enc(settings(true));
  EncodeStats stats;
  size_t pos = 0, total = 0;
  while (pos < 20000) {
    auto req = enc.encode(r.from(pos), stats);
    ASSERT_NE(req, nullptr);
    EXPECT_LE(req->body.size(), kMaxCallBytes);
    // Reserved once at about its size, then trimmed: what the runner counts is what it holds.
    EXPECT_EQ(req->body.capacity(), req->body.size());
    EXPECT_EQ(req->heldBytes(),
              req->body.size() + req->records.capacity() * sizeof(FirehoseRecord));
    EXPECT_LE(req->records.size(), 5u);
    for (const auto& rec : req->records)
      EXPECT_LE(rec.length, kMaxRecordBytes);
    if (pos + stats.consumed < 20000) {
      EXPECT_GT(req->body.size(), kMaxCallBytes - 1024);
    }
    total += stats.log_records;
    pos += stats.consumed;
  }
  EXPECT_EQ(total, 20000u);
}

TEST(FirehoseEncoderTest, SmallerLimitsStillFitOneRecord) {
  EncoderSettings s = settings();
  s.max_call_bytes = 4096;
  s.max_records = 3;
  FirehoseEncoder enc(s);
  const size_t largest[] = {enc.settings().max_record_bytes};
  EXPECT_LE(bodyBytes("stream-1", largest), 4096u);
  EXPECT_GT(bodyBytes("stream-1", largest) + 4, 4096u - 4); // and not much smaller
  Records r;
  r.lines(10, 100).lines(1, 5000);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->records.size(), 3u);
  size_t pos = 0;
  while (pos < 11) {
    req = enc.encode(r.from(pos), stats);
    if (req) {
      EXPECT_LE(req->body.size(), 4096u);
    }
    pos += stats.consumed;
  }
  EXPECT_EQ(stats.too_large, 1u);
}

TEST(FirehoseEncoderTest, RetainKeepsOnlyTheFailedRecords) {
  Records r;
  r.lines(6, 10);
  FirehoseEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_NE(req, nullptr);
  req->payload_hash = "stale";
  const auto before = decodeBody(req->body, "stream-1");
  const uint64_t removed = req->retain({false, true, false, false, true, false});
  EXPECT_EQ(removed, 4u);
  EXPECT_TRUE(req->payload_hash.empty());
  const auto after = decodeBody(req->body, "stream-1");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0], before[1]);
  EXPECT_EQ(after[1], before[4]);
  EXPECT_EQ(req->logRecords(), 2u);
  // The failed records' base64 text was moved, not re-encoded from raw data (none is kept).
  EXPECT_EQ(req->recordData(req->records[0]), before[1]);
  EXPECT_EQ(req->body.capacity(), req->body.size());
}

} // namespace
} // namespace ferry::firehose
