// The `json` line parser: rapidjson's SAX Reader drives a handler that writes msgpack as it
// goes (no DOM). Only a JSON object is a record; nesting deeper than 64 is refused (it also
// bounds rapidjson's recursion). Numbers keep their exact value: integers as msgpack ints,
// others as float64 (std::from_chars). Strings pass through byte for byte (no UTF-8 check).
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "ferry/codec/parsers.h"

namespace ferry::codec {
namespace {

constexpr int kMaxDepth = 64;

class MsgpackHandler {
public:
  using Ch = char;

  MsgpackHandler(core::ByteBuffer& out, const std::optional<detail::TimeField>& time,
                 std::span<const ExtraField> extra)
      : out_(out), time_(time), extra_(extra) {}

  bool Null() {
    if (!value()) return false;
    MsgpackAppender::nil(out_);
    return true;
  }
  bool Bool(bool b) {
    if (!value()) return false;
    MsgpackAppender::boolean(out_, b);
    return true;
  }
  // With kParseNumbersAsStringsFlag every number arrives here as its text.
  bool RawNumber(const Ch* str, rapidjson::SizeType length, bool) {
    const bool is_time = time_value_;
    if (!value()) return false;
    const char* end = str + length;
    double d = 0;
    bool is_double = false;
    if (std::find_if(str, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
      int64_t i;
      if (auto r = std::from_chars(str, end, i); r.ec == std::errc() && r.ptr == end) {
        MsgpackAppender::integer(out_, i);
        if (is_time) takeNumericTime(str, length);
        return true;
      }
      uint64_t u;
      if (auto r = std::from_chars(str, end, u); r.ec == std::errc() && r.ptr == end) {
        MsgpackAppender::unsignedInteger(out_, u);
        if (is_time) takeNumericTime(str, length);
        return true;
      }
    }
    // Too large for 64 bits, or a fraction/exponent.
    if (auto r = std::from_chars(str, end, d); r.ec == std::errc() && r.ptr == end) {
      is_double = true;
    } else if (r.ec == std::errc::result_out_of_range) {
      d = (*str == '-') ? -HUGE_VAL : HUGE_VAL;
      is_double = true;
    }
    if (!is_double) return false;
    MsgpackAppender::float64(out_, d);
    if (is_time) takeNumericTime(str, length);
    return true;
  }
  bool String(const Ch* str, rapidjson::SizeType length, bool) {
    const bool is_time = time_value_;
    if (!value()) return false;
    MsgpackAppender::string(out_, {str, length});
    if (is_time) {
      time_found_ = time_->parser.parse({str, length}, ts_);
      dropTimeIfRead();
    }
    return true;
  }
  bool StartObject() {
    if (depth_ == 0 && started_) return false;
    if (depth_ > 0 && !value()) return false;
    if (depth_ >= kMaxDepth) return false;
    started_ = true;
    headers_[depth_++] = MsgpackAppender::beginContainer(out_);
    return true;
  }
  bool Key(const Ch* str, rapidjson::SizeType length, bool) {
    key_at_ = out_.size();
    MsgpackAppender::string(out_, {str, length});
    time_value_ = depth_ == 1 && time_ && std::string_view(str, length) == time_->key;
    return true;
  }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    uint32_t count = members;
    if (depth_ == 0) {
      count -= dropped_;
      for (const auto& f : extra_) {
        MsgpackAppender::string(out_, f.key);
        MsgpackAppender::string(out_, f.value);
      }
      count += static_cast<uint32_t>(extra_.size());
    }
    MsgpackAppender::endMap(out_, headers_[depth_], count);
    return true;
  }
  bool StartArray() {
    // A top-level array is not a record.
    if (depth_ == 0 || !value() || depth_ >= kMaxDepth) return false;
    headers_[depth_++] = MsgpackAppender::beginContainer(out_);
    return true;
  }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    MsgpackAppender::endArray(out_, headers_[depth_], elements);
    return true;
  }
  // Unused with kParseNumbersAsStringsFlag, but part of the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }

  bool started() const { return started_; }
  bool timeFound() const { return time_found_; }
  int64_t time() const { return ts_; }

private:
  void takeNumericTime(const Ch* str, rapidjson::SizeType length) {
    int64_t ns;
    time_found_ = time_->parser.fromNumberText({str, length}, ns);
    if (time_found_) ts_ = ns;
    dropTimeIfRead();
  }
  // Time_Keep Off: the pair just written goes once its time was read (a time that was not
  // read stays, so nothing is lost). The value is a scalar, the pair's last bytes.
  void dropTimeIfRead() {
    if (!time_found_ || time_->keep || dropped_ > 0) return;
    out_.resize(key_at_);
    dropped_ = 1;
  }
  // A scalar or container value: refused at the top level (only an object is a record).
  bool value() {
    if (depth_ == 0) return false;
    time_value_ = false;
    return true;
  }

  core::ByteBuffer& out_;
  const std::optional<detail::TimeField>& time_;
  std::span<const ExtraField> extra_;
  size_t headers_[kMaxDepth];
  int depth_ = 0;
  size_t key_at_ = 0;    // where the current key's bytes begin
  uint32_t dropped_ = 0; // top-level pairs left out (the time, at most once)
  bool started_ = false;
  bool time_value_ = false;
  bool time_found_ = false;
  int64_t ts_ = 0;
};

class JsonParser final : public LineParser {
public:
  explicit JsonParser(std::optional<detail::TimeField> time) : time_(std::move(time)) {}

  ParseStatus parse(std::string_view line, int64_t& ts_ns, core::ByteBuffer& out,
                    std::span<const ExtraField> extra) const override {
    // Cheap rejection before the reader starts: a record is an object.
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i == line.size() || line[i] != '{') return ParseStatus::kNotParsed;
    const size_t mark = out.size();
    MsgpackHandler handler(out, time_, extra);
    rapidjson::MemoryStream stream(line.data(), line.size());
    rapidjson::Reader reader;
    const auto result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, handler);
    if (result.IsError() || !handler.started()) {
      out.resize(mark);
      return ParseStatus::kNotParsed;
    }
    if (!time_) return ParseStatus::kParsed;
    if (!handler.timeFound()) return ParseStatus::kBadTime;
    ts_ns = handler.time();
    return ParseStatus::kParsed;
  }

private:
  std::optional<detail::TimeField> time_;
};

} // namespace

LineParserPtr detail::makeJsonParser(std::optional<TimeField> time) {
  return std::make_unique<JsonParser>(std::move(time));
}

} // namespace ferry::codec
