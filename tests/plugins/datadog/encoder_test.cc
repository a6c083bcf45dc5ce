// Datadog encoder: the JSON body for tricky records (escaping, nested and binary values,
// invalid UTF-8, JSON messages, level → status), the intake limits (1,000 entries, 5 MB per
// request, 1 MB per entry) and compression. Bodies are decompressed and parsed with rapidjson.
#include "datadog/encoder.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <rapidjson/document.h>

#include <functional>
#include <string>
#include <vector>

#include "entries.h"
#include "ferry/codec/compress.h"
#include "ferry/sink/post_sink.h"
#include "msgpack_builders.h"
#include "test_support.h"

namespace ferry::datadog {
namespace {

using namespace test_entries;
using sink::encodeRequest; // the kit compresses the encoder's array into a request
using test::Packer;

// Packs a map of `pairs` entries; the callback packs them, so any msgpack type fits.
std::string packWith(uint32_t pairs, const std::function<void(Packer&)>& body) {
  return test::pack([&](Packer& pk) {
    pk.pack_map(pairs);
    body(pk);
  });
}

EncoderSettings configured() {
  EncoderSettings s;
  s.service = "checkout";
  s.source = "nodejs";
  s.tags = "env:prod,team:x";
  s.hostname = "task-123";
  return s;
}

TEST(DatadogEncoderTest, LineRecordCarriesTheReservedAttributes) {
  Records r;
  r.line("hello world");
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(e.stats.consumed, 1u);
  EXPECT_EQ(e.stats.entries, 1u);
  ASSERT_EQ(e.doc.Size(), 1u);
  const auto& entry = e.doc[0];
  EXPECT_EQ(str(entry, "message"), "hello world");
  EXPECT_EQ(str(entry, "ddsource"), "nodejs");
  EXPECT_EQ(str(entry, "service"), "checkout");
  EXPECT_EQ(str(entry, "ddtags"), "env:prod,team:x");
  EXPECT_EQ(str(entry, "hostname"), "task-123");
  ASSERT_TRUE(entry["timestamp"].IsInt64());
  EXPECT_EQ(entry["timestamp"].GetInt64(), kTimeMs);
  EXPECT_EQ(keys(entry), (std::vector<std::string>{"message", "ddsource", "service", "ddtags",
                                                   "hostname", "timestamp"}));
}

TEST(DatadogEncoderTest, UnconfiguredAttributesAreOmitted) {
  Records r;
  r.line("x");
  EncoderSettings s;
  s.hostname = "h";
  const Encoded e = encode(s, r);
  EXPECT_EQ(keys(e.doc[0]), (std::vector<std::string>{"message", "hostname", "timestamp"}));
}

TEST(DatadogEncoderTest, MapRecordFieldsBecomeAttributesOfEveryType) {
  Records r;
  r.map(packWith(9, [](Packer& pk) {
    pk.pack(std::string("container_id"));
    pk.pack(std::string("abc123"));
    pk.pack(std::string("log"));
    pk.pack(std::string("GET /health 200"));
    pk.pack(std::string("count"));
    pk.pack(-42);
    pk.pack(std::string("ratio"));
    pk.pack(0.25);
    pk.pack(std::string("ok"));
    pk.pack(true);
    pk.pack(std::string("none"));
    pk.pack_nil();
    pk.pack(std::string("nested"));
    pk.pack_map(2);
    pk.pack(std::string("a"));
    pk.pack_array(2);
    pk.pack(1);
    pk.pack(std::string("two"));
    pk.pack(std::string("b"));
    pk.pack_map(1);
    pk.pack(std::string("c"));
    pk.pack(std::string("deep"));
    pk.pack(std::string("blob"));
    pk.pack_bin(3);
    pk.pack_bin_body("\x00\x01z", 3);
    pk.pack(std::string("big"));
    pk.pack(uint64_t{18446744073709551615u});
  }));
  const Encoded e = encode(configured(), r);
  const auto& entry = e.doc[0];
  EXPECT_EQ(str(entry, "message"), "GET /health 200");
  EXPECT_FALSE(entry.HasMember("log")) << "the message_key field is not repeated";
  EXPECT_EQ(str(entry, "container_id"), "abc123");
  EXPECT_EQ(entry["count"].GetInt(), -42);
  EXPECT_DOUBLE_EQ(entry["ratio"].GetDouble(), 0.25);
  EXPECT_TRUE(entry["ok"].GetBool());
  EXPECT_TRUE(entry["none"].IsNull());
  EXPECT_EQ(entry["nested"]["a"][0].GetInt(), 1);
  EXPECT_STREQ(entry["nested"]["a"][1].GetString(), "two");
  EXPECT_EQ(str(entry["nested"]["b"], "c"), "deep");
  EXPECT_EQ(std::string(entry["blob"].GetString(), entry["blob"].GetStringLength()),
            std::string("\x00\x01z", 3));
  EXPECT_EQ(entry["big"].GetUint64(), 18446744073709551615u);
}

TEST(DatadogEncoderTest, EscapesAnyBytesAndReplacesInvalidUtf8) {
  Records r;
  r.line(std::string("quote \" back \\ tab \t nl \n nul ") + '\0' + " bell \x07 esc \x1b");
  r.line("bad \xff\xfe utf8 \xc3\x28 caf\xc3\xa9 \xf0\x9f\x9a\x80");
  r.map(test::packMap({{"log", "m"}, {"k\x01\"ey", "v\xc0\xafx"}}));
  const Encoded e = encode(configured(), r);
  ASSERT_EQ(e.doc.Size(), 3u);
  EXPECT_EQ(std::string(e.doc[0]["message"].GetString(), e.doc[0]["message"].GetStringLength()),
            std::string("quote \" back \\ tab \t nl \n nul ") + '\0' + " bell \x07 esc \x1b");
  EXPECT_EQ(str(e.doc[1], "message"),
            "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd( caf\xc3\xa9 \xf0\x9f\x9a\x80");
  EXPECT_EQ(str(e.doc[2], "k\x01\"ey"), "v\xef\xbf\xbd\xef\xbf\xbdx");
  for (unsigned char c : e.json)
    EXPECT_GE(c, 0x20) << "raw control byte in the body";
}

TEST(DatadogEncoderTest, LevelAndSeverityAlsoBecomeStatus) {
  Records r;
  r.map(test::packMap({{"log", "a"}, {"level", "warn"}}));
  r.map(test::packMap({{"log", "b"}, {"severity", "ERROR"}}));
  r.map(test::packMap({{"log", "c"}, {"level", "info"}, {"status", "custom"}}));
  r.map(test::packMap({{"log", "d"}}));
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(str(e.doc[0], "status"), "warn");
  EXPECT_EQ(str(e.doc[0], "level"), "warn") << "the original stays";
  EXPECT_EQ(str(e.doc[1], "status"), "ERROR");
  EXPECT_EQ(str(e.doc[1], "severity"), "ERROR");
  EXPECT_EQ(str(e.doc[2], "status"), "custom") << "the record's own status wins";
  EXPECT_FALSE(e.doc[3].HasMember("status"));
}

// status_from_level false (a converted Fluent Bit config): level and severity go as they are.
TEST(DatadogEncoderTest, WithoutStatusFromLevelNoStatusIsAdded) {
  EncoderSettings s = configured();
  s.status_from_level = false;
  Records r;
  r.map(test::packMap({{"log", "a"}, {"level", "warn"}}));
  r.map(test::packMap({{"log", "b"}, {"severity", "ERROR"}, {"status", "own"}}));
  const Encoded e = encode(s, r);
  EXPECT_FALSE(e.doc[0].HasMember("status"));
  EXPECT_EQ(str(e.doc[0], "level"), "warn");
  EXPECT_EQ(str(e.doc[1], "status"), "own") << "the record's own status is a field like any";
}

TEST(DatadogEncoderTest, RecordFieldsWinOverConfiguredAttributesAndKeysStayUnique) {
  Records r;
  r.map(test::packMap({{"log", "x"},
                       {"service", "own-service"},
                       {"hostname", "own-host"},
                       {"dup", "first"},
                       {"dup", "second"},
                       {"timestamp", "2024-01-01T00:00:00Z"}}));
  const Encoded e = encode(configured(), r);
  const auto& entry = e.doc[0];
  EXPECT_EQ(str(entry, "service"), "own-service");
  EXPECT_EQ(str(entry, "hostname"), "own-host");
  EXPECT_EQ(str(entry, "ddsource"), "nodejs");
  EXPECT_EQ(str(entry, "dup"), "first");
  EXPECT_EQ(str(entry, "timestamp"), "2024-01-01T00:00:00Z");
  auto k = keys(entry);
  std::sort(k.begin(), k.end());
  EXPECT_EQ(std::adjacent_find(k.begin(), k.end()), k.end()) << "duplicate key in " << e.json;
}

TEST(DatadogEncoderTest, MessageKeyOptionAndFallbacks) {
  EncoderSettings s = configured();
  s.message_key = "msg";
  Records r;
  r.map(test::packMap({{"msg", "from msg"}, {"log", "kept as attribute"}}));
  r.map(test::packMap({{"message", "fallback to message"}}));
  r.map(test::packMap({{"other", "no message at all"}}));
  r.map(packWith(1, [](Packer& pk) {
    pk.pack(std::string("msg"));
    pk.pack_map(1);
    pk.pack(std::string("a"));
    pk.pack(1);
  }));
  r.line("a line is always the message");
  const Encoded e = encode(s, r);
  EXPECT_EQ(str(e.doc[0], "message"), "from msg");
  EXPECT_EQ(str(e.doc[0], "log"), "kept as attribute");
  EXPECT_EQ(str(e.doc[1], "message"), "fallback to message");
  // No message field (Fluent Bit then sends no message either): no "message" at all.
  EXPECT_EQ(str(e.doc[2], "message"), "<absent>");
  EXPECT_EQ(keys(e.doc[2]), (std::vector<std::string>{"other", "ddsource", "service", "ddtags",
                                                      "hostname", "timestamp"}));
  EXPECT_EQ(str(e.doc[3], "message"), "{\"a\":1}") << "a non-string message is its JSON text";
  EXPECT_EQ(str(e.doc[4], "message"), "a line is always the message");
}

TEST(DatadogEncoderTest, NonStringKeysAreWrittenAsText) {
  Records r;
  r.map(packWith(2, [](Packer& pk) {
    pk.pack(std::string("log"));
    pk.pack(std::string("m"));
    pk.pack(7);
    pk.pack(std::string("seven"));
  }));
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(str(e.doc[0], "7"), "seven");
}

const char* kJsonLog =
    R"({"message":"user logged in","level":"info","user":{"id":42,"roles":["a","b"]},)"
    R"("big":12345678901234567890123,"ratio":1.50,"esc":"tab\tq\"","ok":false,"n":null})";

TEST(DatadogEncoderTest, JsonMessageStaysAStringWhenParsingIsOff) {
  Records r;
  r.map(test::packMap({{"log", kJsonLog}}));
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(str(e.doc[0], "message"), kJsonLog);
  EXPECT_FALSE(e.doc[0].HasMember("user"));
}

TEST(DatadogEncoderTest, JsonMessageMembersBecomeAttributesWhenParsingIsOn) {
  EncoderSettings s = configured();
  s.parse_json_message = true;
  Records r;
  r.map(test::packMap({{"log", kJsonLog}, {"container_id", "c1"}}));
  const Encoded e = encode(s, r);
  const auto& entry = e.doc[0];
  EXPECT_EQ(str(entry, "message"), "user logged in");
  EXPECT_EQ(str(entry, "level"), "info");
  EXPECT_EQ(str(entry, "status"), "info");
  EXPECT_EQ(entry["user"]["id"].GetInt(), 42);
  EXPECT_STREQ(entry["user"]["roles"][1].GetString(), "b");
  EXPECT_EQ(str(entry, "esc"), "tab\tq\"");
  EXPECT_FALSE(entry["ok"].GetBool());
  EXPECT_TRUE(entry["n"].IsNull());
  EXPECT_EQ(str(entry, "container_id"), "c1");
  EXPECT_EQ(str(entry, "service"), "checkout");
  // Numbers are copied verbatim, even those no double holds exactly.
  EXPECT_NE(e.json.find("\"big\":12345678901234567890123"), std::string::npos) << e.json;
  EXPECT_NE(e.json.find("\"ratio\":1.50"), std::string::npos) << e.json;
}

TEST(DatadogEncoderTest, JsonMessageUsesMsgWhenThereIsNoMessageMember) {
  EncoderSettings s = configured();
  s.parse_json_message = true;
  Records r;
  r.line(R"({"msg":"from msg","a":1})");
  r.line(R"({"msg":"stays","message":"wins"})");
  r.line(R"({"a":1,"b":"two"})");
  r.line(R"(  {"message":{"structured":true}}  )");
  const Encoded e = encode(s, r);
  EXPECT_EQ(str(e.doc[0], "message"), "from msg");
  EXPECT_FALSE(e.doc[0].HasMember("msg"));
  EXPECT_EQ(e.doc[0]["a"].GetInt(), 1);
  EXPECT_EQ(str(e.doc[1], "message"), "wins");
  EXPECT_EQ(str(e.doc[1], "msg"), "stays");
  EXPECT_EQ(str(e.doc[2], "message"), R"({"a":1,"b":"two"})") << "no message member: kept whole";
  EXPECT_EQ(e.doc[2]["a"].GetInt(), 1);
  EXPECT_EQ(str(e.doc[3], "message"), R"({"structured":true})");
}

TEST(DatadogEncoderTest, NotAJsonObjectStaysAPlainMessage) {
  EncoderSettings s = configured();
  s.parse_json_message = true;
  const std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  const std::vector<std::string> messages = {
      R"({"a":1)",                             // truncated
      R"({"a":1} trailing)",                   // not one value
      R"([{"a":1}])",                          // an array
      "\"just a string\"",                     // a string
      "{\"a\":\"\xff\"}",                      // invalid UTF-8 inside
      deep,                                    // too deep
      std::string("{\"a\":1}\0{\"b\":2}", 15), // a NUL byte
  };
  Records r;
  for (const auto& m : messages)
    r.line(m);
  const Encoded e = encode(s, r);
  ASSERT_EQ(e.doc.Size(), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_FALSE(e.doc[i].HasMember("a")) << i;
    EXPECT_FALSE(e.doc[i].HasMember("b")) << i;
    EXPECT_EQ(keys(e.doc[i]).size(), 6u) << i << ": " << e.json;
  }
  EXPECT_EQ(str(e.doc[0], "message"), messages[0]);
}

TEST(DatadogEncoderTest, RecordFieldsWinOverJsonMembers) {
  EncoderSettings s = configured();
  s.parse_json_message = true;
  Records r;
  r.map(test::packMap({{"log", R"({"source":"json","level":"debug","x":1,"x":2})"},
                       {"source", "stdout"},
                       {"level", "error"}}));
  const Encoded e = encode(s, r);
  EXPECT_EQ(str(e.doc[0], "source"), "stdout");
  EXPECT_EQ(str(e.doc[0], "level"), "error");
  EXPECT_EQ(str(e.doc[0], "status"), "error");
  EXPECT_EQ(e.doc[0]["x"].GetInt(), 1);
  auto k = keys(e.doc[0]);
  std::sort(k.begin(), k.end());
  EXPECT_EQ(std::adjacent_find(k.begin(), k.end()), k.end()) << "duplicate key in " << e.json;
}

TEST(DatadogEncoderTest, MalformedRecordsAreDroppedAndCounted) {
  Records r;
  r.line("good");
  r.map(std::string("\x82\xa3log", 5)); // map of 2 pairs, truncated
  r.map("\xc1");                        // never-used msgpack byte
  r.map(test::packMap({{"log", "also good"}}));
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(e.stats.consumed, 4u);
  EXPECT_EQ(e.stats.dropped, 2u);
  EXPECT_EQ(e.stats.entries, 2u);
  EXPECT_EQ(str(e.doc[1], "message"), "also good");
}

TEST(DatadogEncoderTest, StopsAtOneThousandEntries) {
  Records r;
  for (int i = 0; i < 1500; ++i)
    r.line("record " + std::to_string(i));
  DatadogEncoder encoder(configured());
  core::ByteBuffer out;
  EncodeStats stats = encoder.encodeJson(r.span(), out);
  EXPECT_EQ(stats.consumed, 1000u);
  EXPECT_EQ(stats.entries, 1000u);
  EXPECT_EQ(parse(out.view()).Size(), 1000u);
  stats = encoder.encodeJson(r.span().subspan(1000), out);
  EXPECT_EQ(stats.consumed, 500u);
  const auto doc = parse(out.view());
  EXPECT_EQ(str(doc[0], "message"), "record 1000");
}

TEST(DatadogEncoderTest, StopsBeforeFiveMegabytes) {
  Records r;
  for (int i = 0; i < 1000; ++i)
    r.line(std::to_string(i) + ":" + std::string(9'000, 'x'));
  DatadogEncoder encoder(configured());
  core::ByteBuffer out;
  size_t total = 0, requests = 0;
  while (total < r.size()) {
    const EncodeStats stats = encoder.encodeJson(r.span().subspan(total), out);
    ASSERT_GT(stats.consumed, 0u);
    EXPECT_LE(out.size(), kMaxPayloadBytes);
    if (requests == 0) {
      EXPECT_LT(stats.consumed, 1000u);
      EXPECT_GT(out.size(), kMaxPayloadBytes - 10'000) << "the request is filled";
    }
    const auto doc = parse(out.view());
    EXPECT_EQ(str(doc[0], "message").rfind(std::to_string(total) + ":x", 0), 0u) << "in order";
    total += stats.consumed;
    ++requests;
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(requests, 2u);
}

TEST(DatadogEncoderTest, SmallerUserLimitsAreHonoured) {
  EncoderSettings s = configured();
  s.max_entries = 10;
  s.max_payload_bytes = 4096;
  Records r;
  for (int i = 0; i < 50; ++i)
    r.line(std::string(100, 'y'));
  DatadogEncoder encoder(s);
  core::ByteBuffer out;
  EXPECT_EQ(encoder.encodeJson(r.span(), out).consumed, 10u);
  s.max_entries = 1000;
  DatadogEncoder bytes_bound(s);
  const EncodeStats stats = bytes_bound.encodeJson(r.span(), out);
  EXPECT_LT(stats.consumed, 50u);
  EXPECT_LE(out.size(), 4096u);
}

// Checks a truncated entry: within 1 MB, marked, and its message a prefix of the original.
void expectTruncated(const Encoded& e, size_t index, const std::string& original) {
  EXPECT_EQ(e.stats.truncated, 1u);
  const auto& entry = e.doc[index];
  ASSERT_TRUE(entry.HasMember("ferry.truncated")) << e.json.substr(0, 200);
  EXPECT_TRUE(entry["ferry.truncated"].GetBool());
  const std::string message = str(entry, "message");
  EXPECT_LT(message.size(), original.size());
  EXPECT_GT(message.size(), 100'000u);
  EXPECT_EQ(original.compare(0, message.size(), message), 0) << "not a prefix";
  // The entry as serialised: find its bounds in the body (one entry per request here).
  EXPECT_LE(e.json.size() - 2, kMaxEntryBytes);
  EXPECT_GT(e.json.size() - 2, kMaxEntryBytes - 16) << "cut no shorter than needed";
}

TEST(DatadogEncoderTest, TruncatesAnEntryOverOneMegabyte) {
  const std::string big(2'000'000, 'a');
  Records r;
  r.map(test::packMap({{"log", big}, {"container_name", "web"}}));
  const Encoded e = encode(configured(), r);
  expectTruncated(e, 0, big);
  EXPECT_EQ(str(e.doc[0], "container_name"), "web");
  EXPECT_EQ(str(e.doc[0], "service"), "checkout");
}

TEST(DatadogEncoderTest, TruncationNeverSplitsAUtf8SequenceOrAnEscape) {
  std::string multibyte;
  while (multibyte.size() < 1'100'000)
    multibyte += "\xc3\xa9\xe6\x9d\xb1\xf0\x9f\x9a\x80";
  std::string escaped;
  while (escaped.size() < 400'000)
    escaped += "\x01\"\\\n";
  for (const auto* original : {&multibyte, &escaped}) {
    for (size_t shift = 0; shift < 5; ++shift) { // move the cut across every position
      Records r;
      r.line(std::string(shift, 's') + *original);
      const Encoded e = encode(configured(), r);
      expectTruncated(e, 0, std::string(shift, 's') + *original);
    }
  }
}

TEST(DatadogEncoderTest, EntryTooLargeWithoutItsMessageIsDropped) {
  Records r;
  r.map(test::packMap({{"log", "small"}, {"payload", std::string(1'200'000, 'p')}}));
  r.line("next");
  const Encoded e = encode(configured(), r);
  EXPECT_EQ(e.stats.dropped, 1u);
  EXPECT_EQ(e.stats.consumed, 2u);
  ASSERT_EQ(e.doc.Size(), 1u);
  EXPECT_EQ(str(e.doc[0], "message"), "next");
}

// Milliseconds since the epoch, to the nearest, half up: Fluent Bit's out_datadog rounds so.
TEST(DatadogEncoderTest, TimestampIsMillisecondsRoundedHalfUp) {
  const std::vector<std::pair<int64_t, int64_t>> cases = {
      {0, 0},         {499'999, 0},   {500'000, 1},
      {1'499'999, 1}, {1'999'999, 2}, {-1, 0},
      {-500'000, 0},  {-500'001, -1}, {1'700'000'000'123'500'000, 1'700'000'000'124}};
  Records r;
  for (const auto& [ns, ms] : cases)
    r.line("t", ns);
  const Encoded e = encode(configured(), r);
  ASSERT_EQ(e.doc.Size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(e.doc[i]["timestamp"].GetInt64(), cases[i].second) << cases[i].first << " ns";
}

class DatadogRequestTest : public testing::TestWithParam<codec::Compression> {};

TEST_P(DatadogRequestTest, BodyDecompressesToTheJsonArray) {
  Records r;
  for (int i = 0; i < 200; ++i)
    r.line("line " + std::to_string(i));
  DatadogEncoder encoder(configured());
  core::ByteBuffer json;
  EncodeStats stats;
  auto request = encodeRequest(encoder, GetParam(), 0, r.span(), json, stats);
  ASSERT_TRUE(request.has_value()) << request.error();
  ASSERT_NE(*request, nullptr);
  EXPECT_EQ((*request)->entries, 200u);
  core::ByteBuffer plain;
  ASSERT_TRUE(codec::decompress(GetParam(), (*request)->body.view(), plain, 10'000'000));
  EXPECT_EQ(plain.size(), (*request)->raw_bytes);
  const auto doc = parse(plain.view());
  ASSERT_EQ(doc.Size(), 200u);
  EXPECT_EQ(str(doc[199], "message"), "line 199");
  if (GetParam() != codec::Compression::kNone) {
    EXPECT_LT((*request)->body.size(), plain.size() / 4);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, DatadogRequestTest,
                         testing::Values(codec::Compression::kGzip, codec::Compression::kZstd,
                                         codec::Compression::kNone),
                         [](const auto& info) {
                           return std::string(codec::compressionName(info.param));
                         });

TEST(DatadogRequestBuildTest, AllRecordsDroppedMakesNoRequest) {
  Records r;
  r.map("\xc1");
  DatadogEncoder encoder(configured());
  core::ByteBuffer json;
  EncodeStats stats;
  auto request = encodeRequest(encoder, codec::Compression::kGzip, 0, r.span(), json, stats);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(*request, nullptr);
  EXPECT_EQ(stats.consumed, 1u);
  EXPECT_EQ(stats.dropped, 1u);
}

TEST(DatadogRequestBuildTest, HeadersCarryKeyTypeAndEncoding) {
  DatadogConfig c;
  c.api_key = "0123456789abcdef0123456789abcdef";
  c.compression = codec::Compression::kZstd;
  const auto h = requestHeaders(c);
  EXPECT_NE(std::find(h.begin(), h.end(), "DD-API-KEY: 0123456789abcdef0123456789abcdef"), h.end());
  EXPECT_NE(std::find(h.begin(), h.end(), "Content-Type: application/json"), h.end());
  EXPECT_NE(std::find(h.begin(), h.end(), "Content-Encoding: zstd"), h.end());
  c.compression = codec::Compression::kGzip;
  const auto g = requestHeaders(c);
  EXPECT_NE(std::find(g.begin(), g.end(), "Content-Encoding: gzip"), g.end());
  c.compression = codec::Compression::kNone;
  for (const auto& line : requestHeaders(c)) {
    EXPECT_EQ(line.rfind("Content-Encoding", 0), std::string::npos) << line;
  }
}

} // namespace
} // namespace ferry::datadog
