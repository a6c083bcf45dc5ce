// msgpack → JSON: every msgpack type and format, nesting and its depth limit, non-string
// keys, and malformed input (every truncation, random mutations) never read out of bounds.
#include "ferry/codec/json.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>
#include <rapidjson/document.h>

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "json_test_util.h"
#include "msgpack_builders.h"

namespace ferry::codec {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

using test::isValidJson;
using test::parseJson;

using test::bytes;
using test::pack;
using test::Packer;
using test::packValue;

// The JSON of one msgpack object, which must use all of `data`; nullopt when malformed.
std::optional<std::string> toJson(std::string_view data) {
  core::ByteBuffer out;
  const size_t n = appendMsgpackAsJson(out, data);
  if (n == 0) return std::nullopt;
  EXPECT_EQ(n, data.size());
  return std::string(out.view());
}

TEST(MsgpackJsonTest, NilAndBooleans) {
  EXPECT_EQ(toJson(pack([](Packer& p) { p.pack_nil(); })), "null");
  EXPECT_EQ(toJson(pack([](Packer& p) { p.pack_true(); })), "true");
  EXPECT_EQ(toJson(pack([](Packer& p) { p.pack_false(); })), "false");
}

TEST(MsgpackJsonTest, EveryIntegerFormat) {
  struct Case {
    std::string data;
    int first_byte;
    std::string want;
  };
  const std::vector<Case> cases = {
      {packValue(0), 0x00, "0"},
      {packValue(127), 0x7f, "127"},
      {packValue(-1), 0xff, "-1"},
      {packValue(-32), 0xe0, "-32"},
      {pack([](Packer& p) { p.pack_fix_uint8(200); }), 0xcc, "200"},
      {pack([](Packer& p) { p.pack_fix_uint8(5); }), 0xcc, "5"}, // non-minimal is fine
      {pack([](Packer& p) { p.pack_fix_uint16(60000); }), 0xcd, "60000"},
      {pack([](Packer& p) { p.pack_fix_uint32(4'000'000'000u); }), 0xce, "4000000000"},
      {pack([](Packer& p) { p.pack_fix_uint64(UINT64_MAX); }), 0xcf, "18446744073709551615"},
      {pack([](Packer& p) { p.pack_fix_int8(-100); }), 0xd0, "-100"},
      {pack([](Packer& p) { p.pack_fix_int8(100); }), 0xd0, "100"},
      {pack([](Packer& p) { p.pack_fix_int16(-30000); }), 0xd1, "-30000"},
      {pack([](Packer& p) { p.pack_fix_int32(-2'000'000'000); }), 0xd2, "-2000000000"},
      {pack([](Packer& p) { p.pack_fix_int32(INT32_MIN); }), 0xd2, "-2147483648"},
      {pack([](Packer& p) { p.pack_fix_int64(INT64_MIN); }), 0xd3, "-9223372036854775808"},
      {pack([](Packer& p) { p.pack_fix_int64(INT64_MAX); }), 0xd3, "9223372036854775807"},
  };
  for (const auto& c : cases) {
    ASSERT_FALSE(c.data.empty());
    EXPECT_EQ(static_cast<unsigned char>(c.data[0]), c.first_byte) << c.want;
    EXPECT_EQ(toJson(c.data), c.want);
  }
}

TEST(MsgpackJsonTest, FloatsShortestRoundTrip) {
  // By hand: msgpack-cxx packs integral floats (1.0, -0.0) as integers.
  const auto f32 = [](float v) {
    const auto bits = std::bit_cast<uint32_t>(v);
    std::string s = "\xca";
    for (int shift = 24; shift >= 0; shift -= 8)
      s += static_cast<char>(bits >> shift);
    return s;
  };
  const auto f64 = [](double v) {
    const auto bits = std::bit_cast<uint64_t>(v);
    std::string s = "\xcb";
    for (int shift = 56; shift >= 0; shift -= 8)
      s += static_cast<char>(bits >> shift);
    return s;
  };
  EXPECT_EQ(static_cast<unsigned char>(f32(1.0f)[0]), 0xca);
  EXPECT_EQ(static_cast<unsigned char>(f64(1.0)[0]), 0xcb);
  EXPECT_EQ(toJson(f32(12.5f)), "12.5");
  EXPECT_EQ(toJson(f32(0.1f)), "0.1");
  EXPECT_EQ(toJson(f64(12.5)), "12.5");
  EXPECT_EQ(toJson(f64(0.1)), "0.1");
  EXPECT_EQ(toJson(f64(1.0)), "1");
  EXPECT_EQ(toJson(f32(-2.0f)), "-2");
  EXPECT_EQ(toJson(f64(-0.0)), "-0");
  EXPECT_EQ(toJson(f64(1e300)), "1e+300");
  EXPECT_EQ(toJson(f64(5e-324)), "5e-324");
  EXPECT_EQ(toJson(f64(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(toJson(f64(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(toJson(f64(-std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(toJson(f32(std::numeric_limits<float>::quiet_NaN())), "null");
  EXPECT_EQ(toJson(f32(-std::numeric_limits<float>::infinity())), "null");

  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t bits = rng();
    const double d = std::bit_cast<double>(bits);
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isfinite(d)) {
      const std::string j = toJson(f64(d)).value();
      EXPECT_EQ(std::strtod(j.c_str(), nullptr), d) << j;
      EXPECT_TRUE(isValidJson(j)) << j;
    }
    if (std::isfinite(f)) {
      const std::string j = toJson(f32(f)).value();
      EXPECT_EQ(std::strtof(j.c_str(), nullptr), f) << j;
      EXPECT_TRUE(isValidJson(j)) << j;
    }
  }
}

TEST(MsgpackJsonTest, EveryStringFormat) {
  const std::string s40(40, 's'), s300(300, 'm'), s70k(70'000, 'l');
  for (const auto& [s, first] : std::vector<std::pair<std::string, int>>{
           {"hi", 0xa2}, {"", 0xa0}, {s40, 0xd9}, {s300, 0xda}, {s70k, 0xdb}}) {
    const std::string data = packValue(s);
    EXPECT_EQ(static_cast<unsigned char>(data[0]), first);
    EXPECT_EQ(toJson(data), "\"" + s + "\"");
  }
  // Strings are escaped and their UTF-8 checked like any other.
  EXPECT_EQ(toJson(packValue(std::string("a\"b\n\xC3\xA9\xFF"))),
            "\"a\\\"b\\n\xC3\xA9" + std::string(kFffd) + "\"");
  // Non-minimal length encodings are accepted.
  EXPECT_EQ(toJson(bytes({0xdb, 0, 0, 0, 2, 'h', 'i'})), "\"hi\"");
  EXPECT_EQ(toJson(bytes({0xda, 0, 0})), "\"\"");
}

TEST(MsgpackJsonTest, BinIsAStringOfItsBytes) {
  const auto bin = [](std::string_view b) {
    return pack([b](Packer& p) {
      p.pack_bin(static_cast<uint32_t>(b.size()));
      p.pack_bin_body(b.data(), static_cast<uint32_t>(b.size()));
    });
  };
  EXPECT_EQ(static_cast<unsigned char>(bin("ab")[0]), 0xc4);
  EXPECT_EQ(toJson(bin("ab")), "\"ab\"");
  EXPECT_EQ(toJson(bin("")), "\"\"");
  EXPECT_EQ(toJson(bin(std::string_view("\x00\xff\"", 3))),
            "\"\\u0000" + std::string(kFffd) + "\\\"\"");
  const std::string b300(300, 'b'), b70k(70'000, 'c');
  EXPECT_EQ(static_cast<unsigned char>(bin(b300)[0]), 0xc5);
  EXPECT_EQ(toJson(bin(b300)), "\"" + b300 + "\"");
  EXPECT_EQ(static_cast<unsigned char>(bin(b70k)[0]), 0xc6);
  EXPECT_EQ(toJson(bin(b70k)), "\"" + b70k + "\"");
}

TEST(MsgpackJsonTest, ExtIsAStringOfItsData) {
  const auto ext = [](int8_t type, std::string_view b) {
    return pack([type, b](Packer& p) {
      p.pack_ext(b.size(), type);
      p.pack_ext_body(b.data(), static_cast<uint32_t>(b.size()));
    });
  };
  // fixext 1/2/4/8/16, then ext 8/16/32.
  const std::vector<std::pair<size_t, int>> sizes = {{1, 0xd4},   {2, 0xd5},     {4, 0xd6},
                                                     {8, 0xd7},   {16, 0xd8},    {3, 0xc7},
                                                     {300, 0xc8}, {70'000, 0xc9}};
  for (const auto& [size, first] : sizes) {
    std::string body(size, 'e');
    body[0] = 'E';
    const std::string data = ext(5, body);
    EXPECT_EQ(static_cast<unsigned char>(data[0]), first) << size;
    EXPECT_EQ(toJson(data), "\"" + body + "\"") << size;
  }
  // Type 0 with 8 bytes is Fluentd's EventTime; it gets no special treatment here.
  EXPECT_EQ(toJson(ext(0, std::string_view("\x65\x00\x00\x01\x00\x00\x00\x02", 8))),
            "\"e\\u0000\\u0000\\u0001\\u0000\\u0000\\u0000\\u0002\"");
  EXPECT_EQ(toJson(ext(-1, "")), "\"\"");
}

TEST(MsgpackJsonTest, MapsAndArraysOfEverySize) {
  EXPECT_EQ(toJson(bytes({0x80})), "{}");
  EXPECT_EQ(toJson(bytes({0x90})), "[]");
  EXPECT_EQ(toJson(bytes({0xdc, 0, 0})), "[]");
  EXPECT_EQ(toJson(bytes({0xde, 0, 0})), "{}");
  EXPECT_EQ(toJson(bytes({0xdd, 0, 0, 0, 2, 1, 0xc0})), "[1,null]");
  EXPECT_EQ(toJson(bytes({0xdf, 0, 0, 0, 1, 0xa1, 'k', 0xc3})), R"({"k":true})");

  for (size_t n : {size_t{3}, size_t{15}, size_t{16}, size_t{70'000}}) {
    std::vector<int> arr(n);
    std::map<std::string, int> m;
    std::string want_arr = "[", want_map = "{";
    for (size_t i = 0; i < n; ++i) {
      arr[i] = static_cast<int>(i);
      if (i > 0) want_arr += ',';
      want_arr += std::to_string(i);
    }
    for (size_t i = 0; i < std::min<size_t>(n, 100); ++i)
      m[fmt::format("k{}", i)] = 1;
    for (const auto& [k, v] : m) {
      if (want_map.size() > 1) want_map += ',';
      want_map.append("\"").append(k).append("\":1");
    }
    EXPECT_EQ(toJson(packValue(arr)), want_arr + "]") << n;
    EXPECT_EQ(toJson(packValue(m)), want_map + "}") << n;
  }
}

TEST(MsgpackJsonTest, NestedMapsAndArrays) {
  const std::string data = pack([](Packer& p) {
    p.pack_map(3);
    p.pack(std::string("a"));
    p.pack_map(1);
    p.pack(std::string("b"));
    p.pack_array(3);
    p.pack(1);
    p.pack_array(0);
    p.pack_array(2);
    p.pack(2.5);
    p.pack_map(1);
    p.pack(std::string("c"));
    p.pack_nil();
    p.pack(std::string("d"));
    p.pack_map(0);
    p.pack(std::string("e"));
    p.pack(std::string("x"));
  });
  EXPECT_EQ(toJson(data), R"({"a":{"b":[1,[],[2.5,{"c":null}]]},"d":{},"e":"x"})");
}

std::string nestedArrays(int depth) {
  return std::string(static_cast<size_t>(depth), '\x91') + "\xc0";
}

std::string nestedMaps(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i)
    s += "\x81\xa1k";
  return s + "\xc0";
}

TEST(MsgpackJsonTest, DepthLimitIs64) {
  EXPECT_EQ(toJson(nestedArrays(64)), std::string(64, '[') + "null" + std::string(64, ']'));
  EXPECT_EQ(toJson(nestedArrays(65)), std::nullopt);
  std::string want;
  for (int i = 0; i < 64; ++i)
    want += "{\"k\":";
  EXPECT_EQ(toJson(nestedMaps(64)), want + "null" + std::string(64, '}'));
  EXPECT_EQ(toJson(nestedMaps(65)), std::nullopt);
  // Far deeper input fails the same way, without exhausting the stack.
  EXPECT_EQ(toJson(nestedArrays(1'000'000)), std::nullopt);
  // Scalars do not count as a level.
  EXPECT_EQ(toJson(std::string(63, '\x91') + "\x92\xc0\xc0"),
            std::string(64, '[') + "null,null" + std::string(64, ']'));
}

TEST(MsgpackJsonTest, NonStringKeysBecomeStrings) {
  const std::string data = pack([](Packer& p) {
    p.pack_map(9);
    p.pack(1), p.pack(std::string("int"));
    p.pack(-5), p.pack(std::string("neg"));
    p.pack(uint64_t{UINT64_MAX}), p.pack(std::string("big"));
    p.pack(1.5), p.pack(std::string("float"));
    p.pack_true(), p.pack(std::string("bool"));
    p.pack_nil(), p.pack(std::string("nil"));
    p.pack_bin(2), p.pack_bin_body("bk", 2), p.pack(std::string("bin"));
    p.pack_array(2), p.pack(1), p.pack(std::string("x")), p.pack(std::string("array"));
    p.pack_map(1), p.pack(std::string("a")), p.pack(1), p.pack(std::string("map"));
  });
  const auto got = toJson(data);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, R"({"1":"int","-5":"neg","18446744073709551615":"big","1.5":"float",)"
                  R"("true":"bool","null":"nil","bk":"bin","[1,\"x\"]":"array",)"
                  R"("{\"a\":1}":"map"})");
  rapidjson::Document d;
  ASSERT_TRUE(parseJson(*got, d));
  ASSERT_TRUE(d.HasMember("[1,\"x\"]"));
  EXPECT_STREQ(d["{\"a\":1}"].GetString(), "map");
}

// {K_n: nil} where K_0 = "a" and K_i = {K_(i-1): nil}: maps as keys of maps as keys.
std::string mapKeyChain(int n) {
  std::string key = "\xa1"
                    "a";
  for (int i = 0; i < n; ++i)
    key = "\x81" + key + "\xc0";
  return "\x81" + key + "\xc0";
}

TEST(MsgpackJsonTest, MapKeysNestedInMapKeysAreBounded) {
  EXPECT_EQ(toJson(mapKeyChain(1)), R"({"{\"a\":null}":null})");
  // Each level is the escaped JSON text of the one inside it.
  const auto four = toJson(mapKeyChain(4));
  ASSERT_TRUE(four.has_value());
  std::string text = *four;
  for (int level = 4; level >= 1; --level) {
    rapidjson::Document d;
    ASSERT_TRUE(parseJson(text, d)) << text;
    ASSERT_TRUE(d.IsObject() && d.MemberCount() == 1);
    text = d.MemberBegin()->name.GetString();
  }
  EXPECT_EQ(text, R"({"a":null})");
  // Escaping doubles per level: past 4 levels the input is refused, not expanded.
  EXPECT_EQ(toJson(mapKeyChain(5)), std::nullopt);
}

TEST(MsgpackJsonTest, ReturnsTheBytesOfOneObject) {
  const std::string one = packValue(std::map<std::string, int>{{"a", 1}});
  const std::string two = one + packValue(42);
  core::ByteBuffer out;
  EXPECT_EQ(appendMsgpackAsJson(out, two), one.size());
  EXPECT_EQ(out.view(), R"({"a":1})");
}

TEST(MsgpackJsonTest, RejectsMalformedInput) {
  EXPECT_EQ(toJson(""), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xc1})), std::nullopt); // never used
  EXPECT_EQ(toJson(bytes({0x92, 0x01, 0xc1})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xa3, 'a', 'b'})), std::nullopt); // string past the end
  EXPECT_EQ(toJson(bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 'a'})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xc6, 0xff, 0xff, 0xff, 0xff})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xc9, 0x00, 0x00, 0x00, 0x02, 0x01, 'a'})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xd8, 0x01, 'a'})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xcb, 0, 0, 0})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xcf, 0, 0, 0, 0, 0, 0, 0})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xd3, 0})), std::nullopt);
  // Counts that promise more than the input holds: fails fast, allocates nothing big.
  EXPECT_EQ(toJson(bytes({0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k', 0x01})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02})), std::nullopt);
  EXPECT_EQ(toJson(bytes({0x81, 0xa1, 'k'})), std::nullopt);  // key without a value
  EXPECT_EQ(toJson(bytes({0x81, 0xc1, 0x01})), std::nullopt); // bad key
}

// Everything at once, for the truncation and mutation tests.
std::string richRecord() {
  return pack([](Packer& p) {
    p.pack_map(14);
    p.pack(std::string("time")), p.pack(std::string("2024-05-01T12:00:00.123Z"));
    p.pack(std::string("level")), p.pack(std::string("info"));
    p.pack(std::string("status")), p.pack(200);
    p.pack(std::string("latency_ms")), p.pack(12.5);
    p.pack(std::string("f32")), p.pack_float(0.25f);
    p.pack(std::string("neg")), p.pack_fix_int64(-123456789012);
    p.pack(std::string("u64")), p.pack_fix_uint64(UINT64_MAX);
    p.pack(std::string("ok")), p.pack_true();
    p.pack(std::string("none")), p.pack_nil();
    p.pack(std::string("bin")), p.pack_bin(3), p.pack_bin_body("\x01\x02\x03", 3);
    p.pack(std::string("ext")), p.pack_ext(8, 0), p.pack_ext_body("\0\0\0\1\0\0\0\2", 8);
    p.pack(std::string("tags")), p.pack_array(3), p.pack(std::string("a")), p.pack(-1),
        p.pack_map(1), p.pack(7), p.pack(std::string("seven"));
    p.pack(std::string("utf8")), p.pack(std::string("h\xC3\xA9llo \xE2\x82\xAC"));
    p.pack(std::string(300, 'K')), p.pack(std::string(70'000, 'V'));
  });
}

TEST(MsgpackJsonTest, RichRecordIsValidJson) {
  const std::string data = richRecord();
  const auto got = toJson(data);
  ASSERT_TRUE(got.has_value());
  rapidjson::Document d;
  ASSERT_TRUE(parseJson(*got, d));
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d.MemberCount(), 14u);
  EXPECT_STREQ(d["level"].GetString(), "info");
  EXPECT_EQ(d["status"].GetInt(), 200);
  EXPECT_EQ(d["latency_ms"].GetDouble(), 12.5);
  EXPECT_EQ(d["f32"].GetDouble(), 0.25);
  EXPECT_EQ(d["neg"].GetInt64(), -123456789012);
  EXPECT_EQ(d["u64"].GetUint64(), UINT64_MAX);
  EXPECT_TRUE(d["ok"].GetBool());
  EXPECT_TRUE(d["none"].IsNull());
  EXPECT_EQ(std::string(d["bin"].GetString(), d["bin"].GetStringLength()), "\x01\x02\x03");
  EXPECT_EQ(d["ext"].GetStringLength(), 8u);
  EXPECT_STREQ(d["tags"][2]["7"].GetString(), "seven");
  EXPECT_STREQ(d["utf8"].GetString(), "h\xC3\xA9llo \xE2\x82\xAC");
  EXPECT_EQ(d[std::string(300, 'K').c_str()].GetStringLength(), 70'000u);
}

TEST(MsgpackJsonTest, EveryTruncationFailsWithoutReadingPastTheEnd) {
  const std::string data = richRecord();
  for (size_t n = 0; n < data.size(); n += (n < 1000 ? 1 : 997)) {
    // An exact-size heap copy, so a sanitizer build catches any read past the end.
    std::vector<char> prefix(data.begin(), data.begin() + static_cast<ptrdiff_t>(n));
    const std::string_view view(prefix.data(), n);
    core::ByteBuffer out;
    EXPECT_EQ(appendMsgpackAsJson(out, view), 0u) << "n=" << n;

    core::ByteBuffer rec;
    rec.append("keep");
    EXPECT_FALSE(appendRecordJson(rec, core::RecordFormat::kMsgpackMap, {1, view}, {}))
        << "n=" << n;
    EXPECT_EQ(rec.view(), "keep") << "n=" << n;
  }
}

TEST(MsgpackJsonTest, RandomAndMutatedInputNeverYieldsInvalidJson) {
  std::mt19937 rng(1234);
  const std::string base = richRecord().substr(0, 400); // malformed, but rich in structure
  const std::string valid = pack([](Packer& p) {
    p.pack_map(3);
    p.pack(std::string("msg")), p.pack(std::string("hello \xC3\xA9"));
    p.pack(std::string("n")), p.pack_array(2), p.pack(1.5), p.pack(-7);
    p.pack(3), p.pack_bin(2), p.pack_bin_body("\xff\x00", 2);
  });
  size_t accepted = 0;
  for (int iter = 0; iter < 50000; ++iter) {
    std::string s;
    if (iter % 3 == 0) {
      s.resize(rng() % 48);
      for (auto& c : s)
        c = static_cast<char>(rng());
    } else {
      s = iter % 3 == 1 ? valid : base;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f)
        s[rng() % s.size()] = static_cast<char>(rng());
    }
    std::vector<char> exact(s.begin(), s.end());
    const std::string_view view(exact.data(), exact.size());
    core::ByteBuffer out;
    const size_t n = appendMsgpackAsJson(out, view);
    EXPECT_LE(n, s.size());
    if (n > 0) {
      ASSERT_TRUE(isValidJson(out.view())) << testing::PrintToString(s);
    }
    core::ByteBuffer rec;
    if (appendRecordJson(rec, core::RecordFormat::kMsgpackMap, {0, view}, {})) {
      ++accepted;
      rapidjson::Document d;
      ASSERT_TRUE(parseJson(rec.view(), d)) << testing::PrintToString(s);
      ASSERT_TRUE(d.IsObject());
    } else {
      ASSERT_TRUE(rec.empty());
    }
  }
  EXPECT_GT(accepted, 100u); // the mutations do leave some records intact
}

} // namespace
} // namespace ferry::codec
