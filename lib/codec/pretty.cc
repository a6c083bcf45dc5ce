// Pretty record rendering. The message is the first of msg/message/log; the level the
// first of level/severity/lvl; both are taken out of the field list. Other string fields are
// printed raw (quoted when they contain spaces), other values as JSON.
#include "ferry/codec/pretty.h"

#include <msgpack.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string>
#include <string_view>

#include "ferry/codec/json.h"
#include "ferry/core/strings.h"

namespace ferry::codec {
namespace {

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kDim = "\x1b[2m";

std::string_view levelColor(std::string_view level) {
  const std::string l = core::toLower(level);
  if (l.rfind("err", 0) == 0 || l == "fatal" || l == "critical" || l == "crit" || l == "panic") return "\x1b[31m";
  if (l.rfind("warn", 0) == 0) return "\x1b[33m";
  if (l == "info" || l == "notice") return "\x1b[32m";
  if (l == "debug" || l == "trace") return "\x1b[34m";
  return "";
}

void appendTime(core::ByteBuffer& out, int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  const int ms = static_cast<int>((ns % 1'000'000'000) / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  out.append(buf, static_cast<size_t>(n));
}

void appendLevel(core::ByteBuffer& out, std::string_view level, bool color) {
  std::string upper(level.substr(0, 5));
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  const std::string_view c = color ? levelColor(level) : "";
  if (!c.empty()) out.append(c);
  out.append(upper);
  if (!c.empty()) out.append(kReset);
  for (size_t i = upper.size(); i < 6; ++i) out.push_back(' ');
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

} // namespace

void appendPretty(core::ByteBuffer& out, core::RecordFormat format, const core::RecordView& record,
                  const PrettyOptions& options) {
  appendTime(out, record.timestamp_ns);
  out.push_back(' ');
  if (format == core::RecordFormat::kLine) {
    appendSafe(out, record.data);
    out.push_back('\n');
    return;
  }
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(record.data.data(), record.data.size());
  } catch (const std::exception&) {
    out.append("<malformed record>\n");
    return;
  }
  const msgpack::object& obj = handle.get();
  if (obj.type != msgpack::type::MAP) {
    out.append("<malformed record>\n");
    return;
  }
  const auto& map = obj.via.map;
  int message_idx = -1, level_idx = -1;
  for (const char* key : {"msg", "message", "log"}) {
    for (uint32_t i = 0; i < map.size && message_idx < 0; ++i) {
      if (asString(map.ptr[i].key) == key && isText(map.ptr[i].val)) message_idx = static_cast<int>(i);
    }
  }
  for (const char* key : {"level", "severity", "lvl"}) {
    for (uint32_t i = 0; i < map.size && level_idx < 0; ++i) {
      if (asString(map.ptr[i].key) == key && isText(map.ptr[i].val)) level_idx = static_cast<int>(i);
    }
  }
  if (level_idx >= 0) {
    appendLevel(out, asString(map.ptr[level_idx].val), options.color);
  }
  if (message_idx >= 0) appendSafe(out, asString(map.ptr[message_idx].val));
  bool first = true;
  for (uint32_t i = 0; i < map.size; ++i) {
    if (static_cast<int>(i) == message_idx || static_cast<int>(i) == level_idx) continue;
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
