// Pretty record rendering. The message is the first of msg/message/log; the level the
// first of level/severity/lvl (shown by its normal name when it is a known one); both are
// taken out of the field list, and so is the time field with record_time. Other string
// fields are printed raw (quoted when they contain spaces), other values as JSON.
#include "ferry/codec/pretty.h"

#include <msgpack.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>
#include <string_view>

#include "ferry/codec/json.h"
#include "ferry/codec/parsers.h"
#include "ferry/core/strings.h"

namespace ferry::codec {
namespace {

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";

constexpr std::array<std::string_view, 3> kMessageKeys{"msg", "message", "log"};
constexpr std::array<std::string_view, 3> kLevelKeys{"level", "severity", "lvl"};
constexpr std::array<std::string_view, 4> kTimeKeys{"time", "timestamp", "ts", "@timestamp"};

std::string_view levelColor(Level level) {
  switch (level) {
  case Level::kError:
  case Level::kFatal:
    return "\x1b[31m";
  case Level::kWarn:
    return "\x1b[33m";
  case Level::kInfo:
    return "\x1b[32m";
  case Level::kDebug:
  case Level::kTrace:
    return "\x1b[34m";
  case Level::kUnknown:
    break;
  }
  return "";
}

void appendTime(core::ByteBuffer& out, int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  const int ms = static_cast<int>((ns % 1'000'000'000) / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  const int n =
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  out.append(buf, static_cast<size_t>(n));
}

void appendLevel(core::ByteBuffer& out, std::string_view text, bool color) {
  const Level level = parseLevel(text);
  std::string upper(level == Level::kUnknown ? text.substr(0, 5) : levelName(level));
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  const std::string_view c = color ? levelColor(level) : "";
  if (!c.empty()) out.append(c);
  out.append(upper);
  if (!c.empty()) out.append(kReset);
  for (size_t i = upper.size(); i < 6; ++i)
    out.push_back(' ');
}

// Control characters would garble the terminal: show them escaped.
void appendSafe(core::ByteBuffer& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out.append(buf);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string_view asString(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
  if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
  return {};
}

bool isText(const msgpack::object& o) {
  return o.type == msgpack::type::STR || o.type == msgpack::type::BIN;
}

// A level field's value as text: a string, or pino's number ("30").
std::string_view levelText(const msgpack::object& o, std::array<char, 24>& digits) {
  if (isText(o)) return asString(o);
  if (o.type != msgpack::type::POSITIVE_INTEGER) return {};
  const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), o.via.u64);
  return {digits.data(), static_cast<size_t>(r.ptr - digits.data())};
}

// Epoch digits ("1714564800", "1714564800123", "1714564800.5"), the unit told by the
// number of digits before the point: up to 11 seconds (until the year 5138), 12-14
// milliseconds, 15-17 microseconds, 18-19 nanoseconds.
std::optional<int64_t> epochTextTime(std::string_view text) {
  static const TimeParser seconds = *TimeParser::create("epoch");
  static const TimeParser millis = *TimeParser::create("epoch_ms");
  const size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  if (whole.empty() ||
      !std::all_of(whole.begin(), whole.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t ns = 0;
  if (whole.size() <= 11)
    return seconds.fromNumberText(text, ns) ? std::optional(ns) : std::nullopt;
  if (whole.size() <= 14) return millis.fromNumberText(text, ns) ? std::optional(ns) : std::nullopt;
  if (whole.size() > 19) return std::nullopt;
  uint64_t n = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), n);
  if (whole.size() <= 17) n *= 1000;
  if (n > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(n);
}

std::optional<int64_t> valueTime(const msgpack::object& o) {
  static const TimeParser iso = *TimeParser::create("iso8601");
  std::array<char, 40> digits;
  std::to_chars_result r{};
  switch (o.type) {
  case msgpack::type::STR: {
    const std::string_view text = asString(o);
    int64_t ns = 0;
    if (iso.parse(text, ns)) return ns;
    return epochTextTime(text);
  }
  case msgpack::type::POSITIVE_INTEGER:
    r = std::to_chars(digits.data(), digits.data() + digits.size(), o.via.u64);
    break;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    if (!(o.via.f64 >= 0)) return std::nullopt;
    r = std::to_chars(digits.data(), digits.data() + digits.size(), o.via.f64,
                      std::chars_format::fixed);
    break;
  default:
    return std::nullopt;
  }
  if (r.ec != std::errc()) return std::nullopt;
  return epochTextTime({digits.data(), static_cast<size_t>(r.ptr - digits.data())});
}

// The index of the first field named by one of `keys` (in the keys' order) whose value
// `accept` takes; -1 if none.
template <size_t N, typename Accept>
int findField(const msgpack::object_map& map, const std::array<std::string_view, N>& keys,
              Accept accept) {
  for (const std::string_view key : keys) {
    for (uint32_t i = 0; i < map.size; ++i) {
      if (asString(map.ptr[i].key) == key && accept(map.ptr[i].val)) return static_cast<int>(i);
    }
  }
  return -1;
}

int findTime(const msgpack::object_map& map, int64_t& ns) {
  return findField(map, kTimeKeys, [&](const msgpack::object& v) {
    const auto t = valueTime(v);
    if (t) ns = *t;
    return t.has_value();
  });
}

int findLevel(const msgpack::object_map& map) {
  return findField(map, kLevelKeys, [](const msgpack::object& v) {
    std::array<char, 24> digits;
    return isText(v) || parseLevel(levelText(v, digits)) != Level::kUnknown;
  });
}

// Unpacks a map record; false for lines and malformed records.
bool unpackMap(core::RecordFormat format, const core::RecordView& record,
               msgpack::object_handle& handle) {
  if (format == core::RecordFormat::kLine) return false;
  try {
    handle = msgpack::unpack(record.data.data(), record.data.size());
  } catch (const std::exception&) {
    return false;
  }
  return handle.get().type == msgpack::type::MAP;
}

} // namespace

Level parseLevel(std::string_view text) {
  const std::string l = core::toLower(text);
  if (l == "trace" || l == "10") return Level::kTrace;
  if (l == "debug" || l == "20") return Level::kDebug;
  if (l == "info" || l == "notice" || l == "30") return Level::kInfo;
  if (l == "warn" || l == "warning" || l == "40") return Level::kWarn;
  if (l == "error" || l == "err" || l == "50") return Level::kError;
  if (l == "fatal" || l == "critical" || l == "crit" || l == "panic" || l == "emerg" ||
      l == "alert" || l == "60") {
    return Level::kFatal;
  }
  return Level::kUnknown;
}

std::string_view levelName(Level level) {
  static constexpr std::array<std::string_view, 7> kNames{"",     "trace", "debug", "info",
                                                          "warn", "error", "fatal"};
  return kNames[static_cast<size_t>(level)];
}

Level recordLevel(core::RecordFormat format, const core::RecordView& record) {
  msgpack::object_handle handle;
  if (!unpackMap(format, record, handle)) return Level::kUnknown;
  const auto& map = handle.get().via.map;
  const int i = findLevel(map);
  std::array<char, 24> digits;
  return i < 0 ? Level::kUnknown : parseLevel(levelText(map.ptr[i].val, digits));
}

std::optional<int64_t> recordTime(core::RecordFormat format, const core::RecordView& record) {
  msgpack::object_handle handle;
  if (!unpackMap(format, record, handle)) return std::nullopt;
  int64_t ns = 0;
  return findTime(handle.get().via.map, ns) >= 0 ? std::optional(ns) : std::nullopt;
}

void appendPretty(core::ByteBuffer& out, core::RecordFormat format, const core::RecordView& record,
                  const PrettyOptions& options) {
  if (format == core::RecordFormat::kLine) {
    appendTime(out, record.timestamp_ns);
    out.push_back(' ');
    appendSafe(out, record.data);
    out.push_back('\n');
    return;
  }
  msgpack::object_handle handle;
  if (!unpackMap(format, record, handle)) {
    appendTime(out, record.timestamp_ns);
    out.append(" <malformed record>\n");
    return;
  }
  const auto& map = handle.get().via.map;
  int64_t time_ns = record.timestamp_ns;
  const int time_idx = options.record_time ? findTime(map, time_ns) : -1;
  const int message_idx = findField(map, kMessageKeys, isText);
  const int level_idx = findLevel(map);
  appendTime(out, time_ns);
  out.push_back(' ');
  if (level_idx >= 0) {
    std::array<char, 24> digits;
    appendLevel(out, levelText(map.ptr[level_idx].val, digits), options.color);
  }
  if (message_idx >= 0) appendSafe(out, asString(map.ptr[message_idx].val));
  bool first = true;
  for (uint32_t i = 0; i < map.size; ++i) {
    const int at = static_cast<int>(i);
    if (at == message_idx || at == level_idx || at == time_idx) continue;
    if (first) {
      out.append(message_idx >= 0 ? "  " : "");
      if (options.color) out.append(kDim);
      first = false;
    } else {
      out.push_back(' ');
    }
    const auto& kv = map.ptr[i];
    if (isText(kv.key)) {
      appendSafe(out, asString(kv.key));
    } else {
      out.append("?");
    }
    out.push_back('=');
    if (isText(kv.val)) {
      const std::string_view v = asString(kv.val);
      if (v.find(' ') != std::string_view::npos || v.empty()) {
        appendJsonString(out, v);
      } else {
        appendSafe(out, v);
      }
    } else {
      msgpack::sbuffer sb;
      msgpack::pack(sb, kv.val);
      if (appendMsgpackAsJson(out, std::string_view(sb.data(), sb.size())) == 0) out.append("?");
    }
  }
  if (!first && options.color) out.append(kReset);
  out.push_back('\n');
}

} // namespace ferry::codec
