// JSON encoder: string escaping (checked against a plain per-byte reference), record objects
// in every time format, ISO 8601. msgpack → JSON itself: msgpack_json_test.cc.
#include "ferry/codec/json.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <rapidjson/document.h>

#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "json_test_util.h"
#include "msgpack_builders.h"

namespace ferry::codec {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string escaped(std::string_view s) {
  core::ByteBuffer out;
  appendJsonString(out, s);
  return std::string(out.view());
}

// The reference: one byte at a time, no tables, no word tricks. Invalid UTF-8 follows the
// "maximal subpart" rule (Unicode §3.9, WHATWG): one U+FFFD per ill-formed subpart.
std::string referenceEscape(std::string_view s) {
  std::string o = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"')
        o += "\\\"";
      else if (c == '\\')
        o += "\\\\";
      else if (c == '\n')
        o += "\\n";
      else if (c == '\r')
        o += "\\r";
      else if (c == '\t')
        o += "\\t";
      else if (c == '\b')
        o += "\\b";
      else if (c == '\f')
        o += "\\f";
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        o += buf;
      } else {
        o += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      o += kFffd;
      ++i;
      continue;
    }
    size_t j = 1;
    while (j < len && i + j < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + j]);
      const bool ok = j == 1 ? (d >= lo && d <= hi) : (d & 0xC0) == 0x80;
      if (!ok) break;
      ++j;
    }
    if (j == len)
      o += s.substr(i, len);
    else
      o += kFffd;
    i += j;
  }
  return o + "\"";
}

using test::isValidJson;
using test::parseJson;

// ---- appendJsonString ------------------------------------------------------------------

TEST(JsonStringTest, EscapesEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    std::string in = "a";
    in += static_cast<char>(c);
    in += 'b';
    std::string want;
    switch (c) {
    case '\b':
      want = "\\b";
      break;
    case '\t':
      want = "\\t";
      break;
    case '\n':
      want = "\\n";
      break;
    case '\f':
      want = "\\f";
      break;
    case '\r':
      want = "\\r";
      break;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u00%02x", c);
      want = buf;
    }
    }
    EXPECT_EQ(escaped(in), "\"a" + want + "b\"") << "byte " << c;
    rapidjson::Document d;
    ASSERT_TRUE(parseJson(escaped(in), d)) << "byte " << c;
    EXPECT_EQ(std::string(d.GetString(), d.GetStringLength()), in);
  }
}

TEST(JsonStringTest, EscapesQuotesAndBackslashOnly) {
  EXPECT_EQ(escaped(""), "\"\"");
  EXPECT_EQ(escaped("plain"), "\"plain\"");
  EXPECT_EQ(escaped("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(escaped("C:\\dir\\"), R"("C:\\dir\\")");
  EXPECT_EQ(escaped("/api/v1/users"), "\"/api/v1/users\""); // '/' is not escaped
  EXPECT_EQ(escaped("\x7f"), "\"\x7f\"");                   // DEL needs no escape
  EXPECT_EQ(escaped(std::string_view("\0", 1)), R"("\u0000")");
}

TEST(JsonStringTest, ValidUtf8PassesThrough) {
  // The bounds of each length: 2 bytes U+0080..U+07FF; 3 bytes up to the surrogates and
  // from after them; 4 bytes up to U+10FFFF. Then some text.
  const std::vector<std::string_view> valid = {
      "\xC2\x80",
      "\xC3\xA9",
      "\xDF\xBF",
      "\xE0\xA0\x80",
      "\xE2\x82\xAC",
      "\xED\x9F\xBF",
      "\xEE\x80\x80",
      "\xEF\xBF\xBF",
      "\xF0\x90\x80\x80",
      "\xF0\x9F\x98\x80",
      "\xF4\x8F\xBF\xBF",
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC 10 \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC"};
  for (std::string_view s : valid) {
    EXPECT_EQ(escaped(s), "\"" + std::string(s) + "\"");
    rapidjson::Document d;
    ASSERT_TRUE(parseJson(escaped(s), d));
    EXPECT_EQ(std::string(d.GetString(), d.GetStringLength()), s);
  }
}

std::string fffd(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += kFffd;
  return s;
}

TEST(JsonStringTest, ReplacesInvalidUtf8) {
  struct Case {
    std::string_view in;
    std::string want; // between the quotes
  };
  const std::vector<Case> cases = {
      {"\x80", fffd(1)}, // lone continuation byte
      {"a\xBF"
       "b",
       "a" + fffd(1) + "b"},
      {"\x80\x80\x80", fffd(3)}, // each stray continuation on its own
      {"\xC0\x80", fffd(2)},     // overlong NUL: C0 is never a lead
      {"\xC1\xBF", fffd(2)},     // overlong
      {"\xE0\x80\x80", fffd(3)}, // overlong 3-byte
      {"\xE0\x9F\xBF", fffd(3)},
      {"\xF0\x80\x80\x80", fffd(4)}, // overlong 4-byte
      {"\xED\xA0\x80", fffd(3)},     // surrogate U+D800
      {"\xED\xBF\xBF", fffd(3)},     // surrogate U+DFFF
      {"\xF4\x90\x80\x80", fffd(4)}, // > U+10FFFF
      {"\xF5", fffd(1)},             // never a lead
      {"\xF5\x80\x80\x80", fffd(4)},
      {"\xFF", fffd(1)},
      {"\xFE\xFF", fffd(2)},
      {"x\xC3", "x" + fffd(1)}, // truncated at the end, each length
      {"x\xE2\x82", "x" + fffd(1)},
      {"x\xF0\x9F\x98", "x" + fffd(1)},
      {"\xE2\x82"
       "A",
       fffd(1) + "A"}, // truncated in the middle
      {"\xF0\x9F\x98"
       "\xC3\xA9",
       fffd(1) + "\xC3\xA9"},
      {"\xC3\xC3\xA9", fffd(1) + "\xC3\xA9"},
      {"\xE2\x82\"", fffd(1) + "\\\""}, // truncated by a byte that needs escaping
      // Unicode §3.9, Table 3-8.
      {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + fffd(3) + "b" + fffd(1) + "c" + fffd(2) + "d"},
  };
  for (const auto& c : cases) {
    const std::string got = escaped(c.in);
    EXPECT_EQ(got, "\"" + c.want + "\"") << testing::PrintToString(std::string(c.in));
    EXPECT_EQ(got, referenceEscape(c.in));
    EXPECT_TRUE(isValidJson(got));
  }
}

TEST(JsonStringTest, EverySpecialByteAtEveryOffsetOfAWord) {
  // Each stop of the 8-byte scanner: position within and across words, and the byte loop
  // for tails.
  const std::vector<std::string> specials = {std::string(1, '\0'),
                                             "\x1f",
                                             "\"",
                                             "\\",
                                             "\n",
                                             "\x7f",
                                             " ",
                                             "\x80",
                                             "\xC3\xA9",
                                             "\xE2\x82\xAC",
                                             "\xF0\x9F\x98\x80",
                                             "\xC3",
                                             "\xED\xA0\x80"};
  for (const auto& sp : specials) {
    for (size_t pos = 0; pos <= 18; ++pos) {
      for (size_t len : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{23}}) {
        const std::string s = std::string(pos, 'a') + sp + std::string(len, 'b');
        EXPECT_EQ(escaped(s), referenceEscape(s)) << testing::PrintToString(s);
      }
    }
  }
}

TEST(JsonStringTest, DenseQuotesAndBackslashesAtEveryLength) {
  // JSON text inside a string (a container's log line): the block path that inserts
  // backslashes without stopping, mixed with bytes that make it stop.
  const std::string text = R"({"a":"b\"c","path":"/x\\y","n":1,"e":"","q":"\"\"\""})";
  for (size_t len = 0; len <= 3 * text.size(); ++len) {
    std::string s;
    while (s.size() < len)
      s += text;
    s.resize(len);
    ASSERT_EQ(escaped(s), referenceEscape(s)) << len;
    for (std::string_view odd : {"\n", "\xC3\xA9", "\xFF"}) {
      for (size_t at = 0; at < len; at += 5) {
        std::string t = s;
        t.replace(at, 1, odd);
        ASSERT_EQ(escaped(t), referenceEscape(t)) << len << " " << at;
      }
    }
  }
}

TEST(JsonStringTest, MatchesTheReferenceOnRandomInput) {
  std::mt19937 rng(42);
  const std::vector<std::string> alphabet = {"a",
                                             "Z",
                                             "0",
                                             " ",
                                             "/",
                                             "\"",
                                             "\\",
                                             "\n",
                                             "\t",
                                             std::string(1, '\0'),
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "\x80",
                                             "\xBF",
                                             "\xC0",
                                             "\xC2",
                                             "\xC3\xA9",
                                             "\xDF",
                                             "\xE0",
                                             "\xE0\xA0",
                                             "\xE2\x82\xAC",
                                             "\xED",
                                             "\xED\xA0",
                                             "\xEF\xBF\xBF",
                                             "\xF0",
                                             "\xF0\x90",
                                             "\xF0\x9F\x98\x80",
                                             "\xF4\x8F",
                                             "\xF4\x90",
                                             "\xF5",
                                             "\xFF",
                                             "hello world ",
                                             "abcdefgh"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const size_t parts = rng() % 24;
    for (size_t i = 0; i < parts; ++i)
      s += alphabet[rng() % alphabet.size()];
    const std::string got = escaped(s);
    ASSERT_EQ(got, referenceEscape(s)) << testing::PrintToString(s);
    ASSERT_TRUE(isValidJson(got)) << testing::PrintToString(s);
  }
  // Plain random bytes too.
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s(rng() % 100, '\0');
    for (auto& c : s)
      c = static_cast<char>(rng());
    ASSERT_EQ(escaped(s), referenceEscape(s)) << testing::PrintToString(s);
  }
}

TEST(JsonStringTest, LongStringsAcrossReservationChunks) {
  // The escaper reserves 64 KiB of input at a time; sequences and escapes at the seams.
  constexpr size_t kChunk = 64 * 1024;
  for (size_t back : {size_t{1}, size_t{2}, size_t{3}, size_t{4}}) {
    for (std::string_view seam :
         {"\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xE2\x82", "\n", "\xC3\xA9"}) {
      const std::string s = std::string(kChunk - back, 'x') + std::string(seam) + "tail\"";
      EXPECT_EQ(escaped(s), referenceEscape(s)) << "back=" << back;
    }
  }
  std::mt19937 rng(9);
  std::string big(3 * kChunk + 17, '\0');
  for (auto& c : big)
    c = static_cast<char>(rng());
  const std::string got = escaped(big);
  EXPECT_EQ(got, referenceEscape(big));
  EXPECT_TRUE(isValidJson(got));
  const std::string all_controls(200'000, '\x01'); // the worst case, 6 bytes out per byte in
  EXPECT_EQ(escaped(all_controls).size(), 200'000u * 6 + 2);
}

TEST(JsonStringTest, AppendsAfterExistingContent) {
  core::ByteBuffer out;
  out.append("[1,");
  appendJsonString(out, "x\ny");
  out.push_back(']');
  EXPECT_EQ(out.view(), R"([1,"x\ny"])");
}

// ---- msgpack builders for record tests -------------------------------------------------

using test::bytes;
using test::pack;
using test::Packer;
using test::packValue;

std::string nestedArrays(int depth) {
  return std::string(static_cast<size_t>(depth), '\x91') + "\xc0";
}

// ---- appendRecordJson ------------------------------------------------------------------

constexpr int64_t kMay1 = 1'714'564'800'123'456'789; // 2024-05-01T12:00:00.123456789Z

std::string recordJson(core::RecordFormat format, std::string_view data, int64_t ts,
                       RecordJsonOptions options) {
  core::ByteBuffer out;
  EXPECT_TRUE(appendRecordJson(out, format, {ts, data}, options));
  return std::string(out.view());
}

RecordJsonOptions opts(std::string key, TimeFormat format) {
  RecordJsonOptions o;
  o.time_key = std::move(key);
  o.time_format = format;
  return o;
}

TEST(RecordJsonTest, MsgpackRecordInEveryTimeFormat) {
  const std::string data = pack([](Packer& p) {
    p.pack_map(2);
    p.pack(std::string("msg")), p.pack(std::string("request \"done\""));
    p.pack(std::string("status")), p.pack(200);
  });
  const auto m = core::RecordFormat::kMsgpackMap;
  EXPECT_EQ(recordJson(m, data, kMay1, {}),
            R"({"date":"2024-05-01T12:00:00.123456789Z","msg":"request \"done\"","status":200})");
  EXPECT_EQ(
      recordJson(m, data, kMay1, opts("@timestamp", TimeFormat::kIso8601)),
      R"({"@timestamp":"2024-05-01T12:00:00.123456789Z","msg":"request \"done\"","status":200})");
  EXPECT_EQ(recordJson(m, data, kMay1, opts("time", TimeFormat::kEpochSeconds)),
            R"({"time":1714564800.123456789,"msg":"request \"done\"","status":200})");
  EXPECT_EQ(recordJson(m, data, kMay1, opts("ts", TimeFormat::kEpochMillis)),
            R"({"ts":1714564800123,"msg":"request \"done\"","status":200})");
  EXPECT_EQ(recordJson(m, data, kMay1, opts("date", TimeFormat::kNone)),
            R"({"msg":"request \"done\"","status":200})");
  EXPECT_EQ(recordJson(m, data, kMay1, opts("", TimeFormat::kIso8601)),
            R"({"msg":"request \"done\"","status":200})");
  // The time key is escaped like any string.
  EXPECT_EQ(recordJson(m, data, 0, opts("t\"", TimeFormat::kEpochMillis)),
            R"({"t\"":0,"msg":"request \"done\"","status":200})");
  for (auto f : {TimeFormat::kIso8601, TimeFormat::kEpochSeconds, TimeFormat::kEpochMillis}) {
    rapidjson::Document d;
    ASSERT_TRUE(parseJson(recordJson(m, data, kMay1, opts("t", f)), d));
    ASSERT_TRUE(d.IsObject());
    EXPECT_EQ(d.MemberCount(), 3u);
  }
}

TEST(RecordJsonTest, EmptyMap) {
  const std::string empty = bytes({0x80});
  const auto m = core::RecordFormat::kMsgpackMap;
  EXPECT_EQ(recordJson(m, empty, 0, opts("date", TimeFormat::kEpochMillis)), R"({"date":0})");
  EXPECT_EQ(recordJson(m, empty, 0, opts("date", TimeFormat::kNone)), "{}");
  EXPECT_EQ(recordJson(m, bytes({0xde, 0, 0}), 0, opts("", TimeFormat::kNone)), "{}");
}

TEST(RecordJsonTest, LineRecord) {
  const auto l = core::RecordFormat::kLine;
  EXPECT_EQ(recordJson(l, "GET /api \"x\"\tok", kMay1, {}),
            R"({"date":"2024-05-01T12:00:00.123456789Z","log":"GET /api \"x\"\tok"})");
  EXPECT_EQ(recordJson(l, "", kMay1, opts("", TimeFormat::kIso8601)), R"({"log":""})");
  EXPECT_EQ(recordJson(l, "x", kMay1, opts("t", TimeFormat::kEpochSeconds)),
            R"({"t":1714564800.123456789,"log":"x"})");
  EXPECT_EQ(recordJson(l, "x", kMay1, opts("t", TimeFormat::kEpochMillis)),
            R"({"t":1714564800123,"log":"x"})");
  const std::string bad = "caf\xC3 \x01";
  EXPECT_EQ(recordJson(l, bad, kMay1, opts("", TimeFormat::kNone)),
            "{\"log\":\"caf" + std::string(kFffd) + " \\u0001\"}");
  // Line bytes that happen to look like msgpack are still just text.
  EXPECT_EQ(recordJson(l, bytes({0x81, 0xa1, 'k', 0x01}), 0, opts("", TimeFormat::kNone)),
            "{\"log\":\"\xEF\xBF\xBD\xEF\xBF\xBDk\\u0001\"}");
}

TEST(RecordJsonTest, RejectsNonMapsAndMalformedMapsAppendingNothing) {
  const std::vector<std::string> bad = {
      "",
      packValue(std::vector<int>{1, 2}), // an array
      packValue(std::string("map?")),
      bytes({0xc0}),
      bytes({0x82, 0xa1, 'k', 0x01}),       // count says 2, holds 1
      bytes({0x81, 0xa1, 'k', 0x01, 0x02}), // a trailing byte after the map
      bytes({0x81, 0xa1, 'k', 0xc1}),
      bytes({0x81, 0xa1, 'k'}) + nestedArrays(64), // depth 65 with the record map
  };
  for (const auto& b : bad) {
    for (auto f : {TimeFormat::kNone, TimeFormat::kIso8601}) {
      core::ByteBuffer out;
      out.append("[prev]");
      EXPECT_FALSE(
          appendRecordJson(out, core::RecordFormat::kMsgpackMap, {kMay1, b}, opts("date", f)))
          << testing::PrintToString(b);
      EXPECT_EQ(out.view(), "[prev]");
    }
  }
  // One level less fits.
  EXPECT_EQ(recordJson(core::RecordFormat::kMsgpackMap, bytes({0x81, 0xa1, 'k'}) + nestedArrays(63),
                       0, opts("", TimeFormat::kNone)),
            "{\"k\":" + std::string(63, '[') + "null" + std::string(63, ']') + "}");
}

TEST(RecordJsonTest, AppendsRecordsBackToBack) {
  core::ByteBuffer out;
  const std::string a = packValue(std::map<std::string, int>{{"a", 1}});
  const auto o = opts("", TimeFormat::kNone);
  ASSERT_TRUE(appendRecordJson(out, core::RecordFormat::kMsgpackMap, {0, a}, o));
  out.push_back('\n');
  ASSERT_FALSE(appendRecordJson(out, core::RecordFormat::kMsgpackMap, {0, "\x91"}, o));
  ASSERT_TRUE(appendRecordJson(out, core::RecordFormat::kLine, {0, "b"}, o));
  EXPECT_EQ(out.view(), "{\"a\":1}\n{\"log\":\"b\"}");
}

// ---- Time formats ----------------------------------------------------------------------

std::string iso(int64_t ns) {
  core::ByteBuffer out;
  appendIso8601(out, ns);
  return std::string(out.view());
}

TEST(JsonTimeTest, Iso8601) {
  EXPECT_EQ(iso(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(iso(kMay1), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(iso(1), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(iso(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(iso(1'709'164'800'000'000'000), "2024-02-29T00:00:00.000000000Z");
  EXPECT_EQ(iso(951'782'400'000'000'000), "2000-02-29T00:00:00.000000000Z");
  EXPECT_EQ(iso(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(iso(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}

TEST(JsonTimeTest, Iso8601AgreesWithGmtime) {
  std::mt19937_64 rng(77);
  for (int i = 0; i < 100000; ++i) {
    const auto ns = static_cast<int64_t>(rng());
    const int64_t secs = ns >= 0 ? ns / 1'000'000'000 : -((-(ns + 1)) / 1'000'000'000) - 1;
    const auto nanos = ns - secs * 1'000'000'000;
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(nanos));
    ASSERT_EQ(iso(ns), buf) << ns;
  }
}

TEST(JsonTimeTest, EpochSecondsAndMillisAroundZero) {
  const auto one = [](int64_t ns, TimeFormat f) {
    return recordJson(core::RecordFormat::kMsgpackMap, bytes({0x80}), ns, opts("t", f));
  };
  EXPECT_EQ(one(0, TimeFormat::kEpochSeconds), R"({"t":0.000000000})");
  EXPECT_EQ(one(-500'000'000, TimeFormat::kEpochSeconds), R"({"t":-0.500000000})");
  EXPECT_EQ(one(-1'500'000'001, TimeFormat::kEpochSeconds), R"({"t":-1.500000001})");
  EXPECT_EQ(one(INT64_MIN, TimeFormat::kEpochSeconds), R"({"t":-9223372036.854775808})");
  EXPECT_EQ(one(INT64_MAX, TimeFormat::kEpochSeconds), R"({"t":9223372036.854775807})");
  EXPECT_EQ(one(1'999'999, TimeFormat::kEpochMillis), R"({"t":1})");
  EXPECT_EQ(one(-1, TimeFormat::kEpochMillis), R"({"t":-1})"); // floor, like the ISO form
  EXPECT_EQ(one(-1'000'000, TimeFormat::kEpochMillis), R"({"t":-1})");
  rapidjson::Document d;
  ASSERT_TRUE(parseJson(one(kMay1, TimeFormat::kEpochSeconds), d));
  EXPECT_NEAR(d["t"].GetDouble(), 1714564800.123456789, 1e-6);
}

} // namespace
} // namespace ferry::codec
