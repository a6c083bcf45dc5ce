// Helpers of the Datadog encoder tests: records that own their bytes, and the encoded body
// parsed back (rapidjson) with accessors for one entry's members.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "datadog/encoder.h"

namespace ferry::datadog::test_entries {

constexpr int64_t kTimeNs = 1'714'564'800'123'456'789; // 2024-05-01T12:00:00.123456789Z
constexpr int64_t kTimeMs = 1'714'564'800'123;

// Owns the bytes the records point to.
class Records {
public:
  Records& line(std::string text, int64_t ts = kTimeNs) {
    return add(std::move(text), FERRY_RECORD_LINE, ts);
  }
  Records& map(std::string msgpack, int64_t ts = kTimeNs) {
    return add(std::move(msgpack), FERRY_RECORD_MSGPACK_MAP, ts);
  }
  std::span<const ferry_plugin_record> span() const { return records_; }
  size_t size() const { return records_.size(); }

private:
  Records& add(std::string bytes, uint32_t format, int64_t ts) {
    data_.push_back(std::move(bytes));
    const std::string& d = data_.back();
    records_.push_back(
        {ts, "app", 3, reinterpret_cast<const uint8_t*>(d.data()), d.size(), format});
    return *this;
  }
  std::deque<std::string> data_;
  std::vector<ferry_plugin_record> records_;
};

inline rapidjson::Document parse(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError())
      << rapidjson::GetParseError_En(doc.GetParseError()) << " at " << doc.GetErrorOffset();
  return doc;
}

struct Encoded {
  EncodeStats stats;
  std::string json;
  rapidjson::Document doc;
};

inline Encoded encode(const EncoderSettings& settings, const Records& records) {
  DatadogEncoder encoder(settings);
  core::ByteBuffer out;
  Encoded e;
  e.stats = encoder.encodeJson(records.span(), out);
  e.json = std::string(out.view());
  e.doc = parse(e.json);
  EXPECT_TRUE(e.doc.IsArray());
  return e;
}

inline std::string str(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return "<absent>";
  if (!it->value.IsString()) return "<not a string>";
  return {it->value.GetString(), it->value.GetStringLength()};
}

inline std::vector<std::string> keys(const rapidjson::Value& v) {
  std::vector<std::string> out;
  for (const auto& m : v.GetObject())
    out.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return out;
}

} // namespace ferry::datadog::test_entries
