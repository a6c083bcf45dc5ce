// Records for the sink encoder tests: ferry_plugin_record views over bytes this owns (lines
// and msgpack maps), all at one time (2024-05-01T12:00:00.123Z unless given).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "ferry/plugin.h"

namespace ferry::test {

class PluginRecords {
public:
  static constexpr int64_t kTimeNs = 1'714'564'800'123'000'000;

  explicit PluginRecords(int64_t timestamp_ns = kTimeNs) : timestamp_ns_(timestamp_ns) {}
  PluginRecords& line(std::string text) { return add(std::move(text), FERRY_RECORD_LINE); }
  PluginRecords& map(std::string msgpack) {
    return add(std::move(msgpack), FERRY_RECORD_MSGPACK_MAP);
  }
  // n lines "rec <i> " padded with 'x' to `length` bytes.
  PluginRecords& lines(size_t n, size_t length) {
    for (size_t i = 0; i < n; ++i) {
      std::string text = "rec " + std::to_string(i) + " ";
      text.resize(std::max(length, text.size()), 'x');
      line(std::move(text));
    }
    return *this;
  }
  std::span<const ferry_plugin_record> view() const { return records_; }
  std::span<const ferry_plugin_record> from(size_t i) const { return view().subspan(i); }

private:
  PluginRecords& add(std::string data, uint32_t format) {
    storage_.push_back(std::move(data));
    const std::string& s = storage_.back();
    records_.push_back(
        {timestamp_ns_, "t", 1, reinterpret_cast<const uint8_t*>(s.data()), s.size(), format});
    return *this;
  }
  int64_t timestamp_ns_;
  std::deque<std::string> storage_;
  std::vector<ferry_plugin_record> records_;
};

} // namespace ferry::test
