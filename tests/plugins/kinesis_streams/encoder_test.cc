// Kinesis encoding: the PutRecords body (StreamName, base64 Data, PartitionKey), the call
// limits (500 records, 5 MiB of data and keys, 1 MiB per record), partition keys from a
// field, nested, random, and the fallbacks, log_key, narrowing to the failed records, and
// the signed attempt.
#include "kinesis_streams/encoder.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "ferry/aws/sigv4.h"
#include "ferry/sink/aws.h"
#include "msgpack_builders.h"
#include "plugin_records.h"
#include "test_support.h"

namespace ferry::kinesis {
namespace {

// PutRecords' limits as the API reference states them (not the constants under test).
constexpr size_t k5MiB = 5 * 1024 * 1024;
constexpr size_t k1MiB = 1024 * 1024;

using Records = test::PluginRecords;

EncoderSettings settings() {
  EncoderSettings s;
  s.stream = "app-logs";
  s.json.time_key.clear();
  s.json.time_format = codec::TimeFormat::kNone;
  return s;
}

struct Entry {
  std::string data, key;
};

// The body as the service reads it.
std::vector<Entry> parse(const KinesisRequest& req) {
  rapidjson::Document doc;
  const std::string body(req.body.view());
  doc.Parse(body.c_str());
  EXPECT_FALSE(doc.HasParseError()) << body.substr(0, 200);
  EXPECT_STREQ(doc["StreamName"].GetString(), "app-logs");
  EXPECT_EQ(doc.MemberCount(), 2u);
  std::vector<Entry> out;
  const auto& records = doc["Records"];
  EXPECT_EQ(records.Size(), req.records.size());
  for (rapidjson::SizeType i = 0; i < records.Size(); ++i) {
    EXPECT_EQ(records[i].MemberCount(), 2u);
    EXPECT_EQ(std::string(records[i]["Data"].GetString()).size(),
              sink::base64Length(req.records[i].length));
    out.push_back({req.recordData(req.records[i]), records[i]["PartitionKey"].GetString()});
  }
  return out;
}

bool isRandomKey(const std::string& key) {
  return key.size() == 32 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(KinesisEncoderTest, EachRecordIsOneJsonLineWithARandomKey) {
  Records r;
  r.line("hello \"world\"").map(test::packMap({{"log", "from map"}, {"source", "stdout"}}));
  KinesisEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(stats.consumed, 2u);
  EXPECT_EQ(stats.log_records, 2u);
  EXPECT_EQ(stats.random_keys, 0u) << "no partition_key set: random keys are no fallback";
  const auto entries = parse(*req);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].data, "{\"log\":\"hello \\\"world\\\"\"}\n");
  EXPECT_EQ(entries[1].data, "{\"log\":\"from map\",\"source\":\"stdout\"}\n");
  EXPECT_TRUE(isRandomKey(entries[0].key)) << entries[0].key;
  EXPECT_TRUE(isRandomKey(entries[1].key)) << entries[1].key;
  EXPECT_NE(entries[0].key, entries[1].key);
  EXPECT_EQ(stats.call_bytes, entries[0].data.size() + entries[1].data.size() + 64);
}

TEST(KinesisEncoderTest, TimeKeyAndNoNewline) {
  EncoderSettings s = settings();
  s.json.time_key = "time";
  s.json.time_format = codec::TimeFormat::kEpochMillis;
  s.append_newline = false;
  Records r;
  r.line("x");
  KinesisEncoder enc(s);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(parse(*req)[0].data, "{\"time\":1714564800123,\"log\":\"x\"}");
}

TEST(KinesisEncoderTest, AtMost500RecordsPerCall) {
  Records r;
  r.lines(1201, 10);
  KinesisEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(stats.consumed, 500u);
  EXPECT_EQ(req->records.size(), 500u);
  EXPECT_EQ(parse(*req).size(), 500u);
  auto rest = enc.encode(r.view().subspan(1000), stats);
  ASSERT_TRUE(rest);
  EXPECT_EQ(stats.consumed, 201u);
}

TEST(KinesisEncoderTest, AtMost5MiBOfDataAndKeysPerCall) {
  Records r;
  r.lines(20, 600 * 1024); // 600 KiB lines: 8 fit in 5 MiB with their keys, 9 do not
  KinesisEncoder enc(settings());
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(stats.consumed, 8u);
  EXPECT_LE(stats.call_bytes, k5MiB);
  EXPECT_GT(stats.call_bytes + 600 * 1024 + 64, k5MiB);
  size_t sum = 0;
  for (const auto& e : parse(*req))
    sum += e.data.size() + e.key.size();
  EXPECT_EQ(sum, stats.call_bytes);
  // The body as sent is larger (base64) and is not what the limit counts.
  EXPECT_GT(req->body.size(), k5MiB);
}

TEST(KinesisEncoderTest, ARecordOfData1MiBWithItsKeyIsTheLargest) {
  EncoderSettings s = settings();
  s.log_key = "log";
  s.append_newline = false;
  Records r;
  r.line(std::string(k1MiB - 32, 'a'))    // + 32-character random key: exactly 1 MiB
      .line(std::string(k1MiB - 31, 'b')) // one byte over: dropped
      .line("small");
  KinesisEncoder enc(s);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(stats.consumed, 3u);
  EXPECT_EQ(stats.too_large, 1u);
  const auto entries = parse(*req);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].data.size() + entries[0].key.size(), k1MiB);
  EXPECT_EQ(entries[1].data, "small");
}

TEST(KinesisEncoderTest, PartitionKeyFromAFieldNestedOrRandomWhenUnusable) {
  EncoderSettings s = settings();
  s.partition_key = {"container_id"};
  const std::string nested_map = test::pack([](test::Packer& pk) {
    pk.pack_map(2);
    pk.pack(std::string("log"));
    pk.pack(std::string("n"));
    pk.pack(std::string("k8s"));
    pk.pack_map(1);
    pk.pack(std::string("pod"));
    pk.pack(std::string("web-1"));
  });
  Records r;
  r.map(test::packMap({{"container_id", "abc123"}, {"log", "a"}}))
      .map(test::pack([](test::Packer& pk) {
        pk.pack_map(1);
        pk.pack(std::string("container_id"));
        pk.pack(42);
      }))
      .map(test::packMap({{"log", "no key field"}}))
      .map(test::packMap({{"container_id", ""}}))
      .map(test::packMap({{"container_id", std::string(257, 'k')}}))
      .map(test::packMap({{"container_id", std::string(256, 'k')}}))
      .map(test::packMap({{"container_id", "bad \xff utf-8"}}))
      .line("a line has no such field");
  KinesisEncoder enc(s);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  const auto e = parse(*req);
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(e[0].key, "abc123");
  EXPECT_EQ(e[1].key, "42");
  EXPECT_TRUE(isRandomKey(e[2].key)) << e[2].key;
  EXPECT_TRUE(isRandomKey(e[3].key)) << e[3].key;
  EXPECT_TRUE(isRandomKey(e[4].key)) << "over 256 characters";
  EXPECT_EQ(e[5].key, std::string(256, 'k'));
  EXPECT_TRUE(isRandomKey(e[6].key)) << "not well-formed UTF-8";
  EXPECT_TRUE(isRandomKey(e[7].key));
  EXPECT_EQ(stats.random_keys, 5u);

  s.partition_key = {"k8s", "pod"};
  KinesisEncoder nested(s);
  Records n;
  n.map(nested_map).map(test::packMap({{"k8s", "not a map"}}));
  req = nested.encode(n.view(), stats);
  ASSERT_TRUE(req);
  const auto ne = parse(*req);
  EXPECT_EQ(ne[0].key, "web-1");
  EXPECT_TRUE(isRandomKey(ne[1].key));
  EXPECT_EQ(stats.random_keys, 1u);
}

TEST(KinesisEncoderTest, LogKeySendsOnlyThatValueAndDropsRecordsWithoutIt) {
  EncoderSettings s = settings();
  s.log_key = "log";
  Records r;
  r.map(test::packMap({{"log", "plain text"}, {"other", "x"}}))
      .map(test::pack([](test::Packer& pk) {
        pk.pack_map(1);
        pk.pack(std::string("log"));
        pk.pack_map(1);
        pk.pack(std::string("a"));
        pk.pack(1);
      }))
      .map(test::packMap({{"message", "no log field"}}))
      .map("\xc1")
      .line("a line is its log");
  KinesisEncoder enc(s);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(stats.consumed, 5u);
  EXPECT_EQ(stats.no_log_key, 1u);
  EXPECT_EQ(stats.malformed, 1u);
  const auto e = parse(*req);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].data, "plain text\n");
  EXPECT_EQ(e[1].data, "{\"a\":1}\n");
  EXPECT_EQ(e[2].data, "a line is its log\n");
}

TEST(KinesisEncoderTest, EveryRecordDroppedGivesNoRequest) {
  Records r;
  r.map("\xc1").map("\x81");
  KinesisEncoder enc(settings());
  EncodeStats stats;
  EXPECT_FALSE(enc.encode(r.view(), stats));
  EXPECT_EQ(stats.consumed, 2u);
  EXPECT_EQ(stats.malformed, 2u);
}

TEST(KinesisEncoderTest, RetainKeepsTheFailedRecordsWithTheirKeys) {
  EncoderSettings s = settings();
  s.partition_key = {"id"};
  Records r;
  for (int i = 0; i < 5; ++i)
    r.map(test::packMap({{"id", "key-" + std::to_string(i)}}));
  KinesisEncoder enc(s);
  EncodeStats stats;
  auto req = enc.encode(r.view(), stats);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->retain({false, true, false, false, true}), 3u);
  const auto e = parse(*req);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].key, "key-1");
  EXPECT_EQ(e[0].data, "{\"id\":\"key-1\"}\n");
  EXPECT_EQ(e[1].key, "key-4");
  EXPECT_EQ(req->retain({false, false}), 2u);
  EXPECT_TRUE(req->records.empty());
  EXPECT_EQ(req->body.view(), "{\"StreamName\":\"app-logs\",\"Records\":[]}");
}

TEST(KinesisEncoderTest, Utf16Units) {
  EXPECT_EQ(utf16Units(""), 0u);
  EXPECT_EQ(utf16Units("abc"), 3u);
  EXPECT_EQ(utf16Units("\xc3\xa9t\xc3\xa9"), 3u);  // été
  EXPECT_EQ(utf16Units("\xf0\x9f\x98\x80"), 2u);   // one emoji: a surrogate pair
  EXPECT_EQ(utf16Units("\xc0\xaf"), SIZE_MAX);     // overlong
  EXPECT_EQ(utf16Units("\xed\xa0\x80"), SIZE_MAX); // a surrogate
  EXPECT_EQ(utf16Units("ab\xe2\x82"), SIZE_MAX);   // truncated
}

TEST(KinesisSignerTest, SignsForKinesisWithItsTarget) {
  KinesisRequest req;
  req.stream = "app-logs";
  req.begin();
  req.add("x", 1, ",\"PartitionKey\":\"k\"");
  req.finish();
  auto url = sink::parseAwsEndpoint("endpoint", "http://127.0.0.1:4567");
  ASSERT_TRUE(url);
  const std::string text = url->text();
  aws::Credentials creds{"AKID", "SECRET", "", std::nullopt, "test"};
  ferry_http_request out{};
  sink::describeBatchAttempt(req, *url, text, "eu-west-1", creds,
                             std::chrono::sys_days(std::chrono::year(2024) / 1 / 1), out);
  std::vector<std::string> h(out.headers, out.headers + out.header_count);
  EXPECT_EQ(h[0], "Host: 127.0.0.1:4567");
  EXPECT_EQ(h[1], "Content-Type: application/x-amz-json-1.1");
  EXPECT_EQ(h[2], "X-Amz-Target: Kinesis_20131202.PutRecords");
  EXPECT_NE(h[3].find("Credential=AKID/20240101/eu-west-1/kinesis/aws4_request"), std::string::npos)
      << h[3];
  EXPECT_EQ(req.payload_hash, aws::sha256Hex(req.body.view()));
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(out.body), out.body_len),
      "{\"StreamName\":\"app-logs\",\"Records\":[{\"Data\":\"eA==\",\"PartitionKey\":\"k\"}]}");
}

} // namespace
} // namespace ferry::kinesis
