// The msgpack writing shared by the line parsers, the `none` parser, the {log: line} fallback
// and the factory. Msgpack forms follow the spec's shortest encodings (fixstr/fixmap first).
#include "ferry/codec/parsers.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <strings.h>

namespace ferry::codec {
namespace {

void putBig16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
void putBig32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>(v >> (24 - 8 * i));
}
void putBig64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<char>(v >> (56 - 8 * i));
}

void typed8(core::ByteBuffer& out, uint8_t type, uint8_t v) {
  char* p = out.prepare(2);
  p[0] = static_cast<char>(type);
  p[1] = static_cast<char>(v);
  out.commit(2);
}
void typed16(core::ByteBuffer& out, uint8_t type, uint16_t v) {
  char* p = out.prepare(3);
  p[0] = static_cast<char>(type);
  putBig16(p + 1, v);
  out.commit(3);
}
void typed32(core::ByteBuffer& out, uint8_t type, uint32_t v) {
  char* p = out.prepare(5);
  p[0] = static_cast<char>(type);
  putBig32(p + 1, v);
  out.commit(5);
}
void typed64(core::ByteBuffer& out, uint8_t type, uint64_t v) {
  char* p = out.prepare(9);
  p[0] = static_cast<char>(type);
  putBig64(p + 1, v);
  out.commit(9);
}

// Writes the final header of a container whose placeholder byte sits at `position`.
void patchHeader(core::ByteBuffer& out, size_t position, uint32_t count, uint8_t fix_base,
                 uint8_t type16, uint8_t type32) {
  if (count <= 15) {
    out.data()[position] = static_cast<char>(fix_base | count);
    return;
  }
  const size_t extra = count <= 0xffff ? 2 : 4;
  const size_t tail = out.size() - position - 1;
  out.prepare(extra);
  char* base = out.data() + position;
  std::memmove(base + 1 + extra, base + 1, tail);
  out.commit(extra);
  if (extra == 2) {
    base[0] = static_cast<char>(type16);
    putBig16(base + 1, static_cast<uint16_t>(count));
  } else {
    base[0] = static_cast<char>(type32);
    putBig32(base + 1, count);
  }
}

class NoneParser final : public LineParser {
public:
  ParseStatus parse(std::string_view line, int64_t&, core::ByteBuffer& out,
                    std::span<const ExtraField> extra) const override {
    appendLogMap(out, line, extra);
    return ParseStatus::kParsed;
  }
  bool producesFields() const override { return false; }
};

} // namespace

void MsgpackAppender::nil(core::ByteBuffer& out) {
  out.push_back(static_cast<char>(0xc0));
}

void MsgpackAppender::boolean(core::ByteBuffer& out, bool value) {
  out.push_back(static_cast<char>(value ? 0xc3 : 0xc2));
}

void MsgpackAppender::integer(core::ByteBuffer& out, int64_t v) {
  if (v >= 0) {
    unsignedInteger(out, static_cast<uint64_t>(v));
  } else if (v >= -32) {
    out.push_back(static_cast<char>(v)); // negative fixint: the byte is the value
  } else if (v >= INT8_MIN) {
    typed8(out, 0xd0, static_cast<uint8_t>(v));
  } else if (v >= INT16_MIN) {
    typed16(out, 0xd1, static_cast<uint16_t>(v));
  } else if (v >= INT32_MIN) {
    typed32(out, 0xd2, static_cast<uint32_t>(v));
  } else {
    typed64(out, 0xd3, static_cast<uint64_t>(v));
  }
}

void MsgpackAppender::unsignedInteger(core::ByteBuffer& out, uint64_t v) {
  if (v <= 0x7f) {
    out.push_back(static_cast<char>(v));
  } else if (v <= 0xff) {
    typed8(out, 0xcc, static_cast<uint8_t>(v));
  } else if (v <= 0xffff) {
    typed16(out, 0xcd, static_cast<uint16_t>(v));
  } else if (v <= 0xffffffff) {
    typed32(out, 0xce, static_cast<uint32_t>(v));
  } else {
    typed64(out, 0xcf, v);
  }
}

void MsgpackAppender::float64(core::ByteBuffer& out, double value) {
  typed64(out, 0xcb, std::bit_cast<uint64_t>(value));
}

void MsgpackAppender::stringHeader(core::ByteBuffer& out, uint32_t n) {
  if (n <= 31) {
    out.push_back(static_cast<char>(0xa0 | n));
  } else if (n <= 0xff) {
    typed8(out, 0xd9, static_cast<uint8_t>(n));
  } else if (n <= 0xffff) {
    typed16(out, 0xda, static_cast<uint16_t>(n));
  } else {
    typed32(out, 0xdb, n);
  }
}

void MsgpackAppender::string(core::ByteBuffer& out, std::string_view value) {
  const auto n = static_cast<uint32_t>(value.size());
  // One reservation for header and bytes: this is the hot call of every parser.
  char* p = out.prepare(n + 5);
  size_t h;
  if (n <= 31) {
    p[0] = static_cast<char>(0xa0 | n);
    h = 1;
  } else if (n <= 0xff) {
    p[0] = static_cast<char>(0xd9);
    p[1] = static_cast<char>(n);
    h = 2;
  } else if (n <= 0xffff) {
    p[0] = static_cast<char>(0xda);
    putBig16(p + 1, static_cast<uint16_t>(n));
    h = 3;
  } else {
    p[0] = static_cast<char>(0xdb);
    putBig32(p + 1, n);
    h = 5;
  }
  if (n != 0) std::memcpy(p + h, value.data(), n);
  out.commit(h + n);
}

void MsgpackAppender::mapHeader(core::ByteBuffer& out, uint32_t n) {
  if (n <= 15) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    typed16(out, 0xde, static_cast<uint16_t>(n));
  } else {
    typed32(out, 0xdf, n);
  }
}

void MsgpackAppender::arrayHeader(core::ByteBuffer& out, uint32_t n) {
  if (n <= 15) {
    out.push_back(static_cast<char>(0x90 | n));
  } else if (n <= 0xffff) {
    typed16(out, 0xdc, static_cast<uint16_t>(n));
  } else {
    typed32(out, 0xdd, n);
  }
}

size_t MsgpackAppender::beginContainer(core::ByteBuffer& out) {
  const size_t position = out.size();
  out.push_back(0);
  return position;
}

void MsgpackAppender::endMap(core::ByteBuffer& out, size_t position, uint32_t count) {
  patchHeader(out, position, count, 0x80, 0xde, 0xdf);
}

void MsgpackAppender::endArray(core::ByteBuffer& out, size_t position, uint32_t count) {
  patchHeader(out, position, count, 0x90, 0xdc, 0xdd);
}

void appendLogMap(core::ByteBuffer& out, std::string_view line, std::span<const ExtraField> extra) {
  MsgpackAppender::mapHeader(out, static_cast<uint32_t>(1 + extra.size()));
  out.push_back(static_cast<char>(0xa3));
  out.append("log", 3);
  MsgpackAppender::string(out, line);
  for (const auto& f : extra) {
    MsgpackAppender::string(out, f.key);
    MsgpackAppender::string(out, f.value);
  }
}

std::expected<std::vector<TypedKey>, std::string> parseTypes(std::string_view text) {
  std::vector<TypedKey> types;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ')
      ++i;
    const size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view item = text.substr(i, end - i);
    i = end;
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return std::unexpected("'" + std::string(item) + "': expected KEY:TYPE");
    }
    std::string name(item.substr(colon + 1));
    for (char& ch : name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ValueType type;
    if (name == "integer") {
      type = ValueType::kInteger;
    } else if (name == "float") {
      type = ValueType::kFloat;
    } else if (name == "bool") {
      type = ValueType::kBool;
    } else if (name == "hex") {
      type = ValueType::kHex;
    } else if (name == "string") {
      type = ValueType::kString;
    } else {
      return std::unexpected("'" + std::string(item) +
                             "': expected integer, float, bool, hex or string");
    }
    types.push_back({std::string(item.substr(0, colon)), type});
  }
  return types;
}

namespace {
// [from, end) wholly a number of T (std::from_chars: no blanks, no trailing text).
template <typename T, typename... Base>
bool wholeNumber(const char* from, const char* end, T& v, Base... base) {
  if (from == end) return false;
  const auto r = std::from_chars(from, end, v, base...);
  return r.ec == std::errc() && r.ptr == end;
}
} // namespace

void appendTyped(core::ByteBuffer& out, std::string_view value, ValueType type) {
  const char* begin = value.data();
  const char* end = begin + value.size();
  // A leading '+' as atoll/atof take it; hex's 0x as strtoull(…, 16) does.
  const char* number_from = value.starts_with('+') ? begin + 1 : begin;
  switch (type) {
  case ValueType::kInteger:
    if (int64_t v; wholeNumber(number_from, end, v)) return MsgpackAppender::integer(out, v);
    break;
  case ValueType::kHex: {
    const char* from = value.starts_with("0x") || value.starts_with("0X") ? begin + 2 : begin;
    if (uint64_t v; wholeNumber(from, end, v, 16)) return MsgpackAppender::unsignedInteger(out, v);
    break;
  }
  case ValueType::kFloat:
    if (double v; wholeNumber(number_from, end, v)) return MsgpackAppender::float64(out, v);
    break;
  case ValueType::kBool:
    // Fluent Bit compares the first 4 or 5 bytes, case-insensitively.
    if (value.size() >= 4 && strncasecmp(begin, "true", 4) == 0) {
      MsgpackAppender::boolean(out, true);
      return;
    }
    if (value.size() >= 5 && strncasecmp(begin, "false", 5) == 0) {
      MsgpackAppender::boolean(out, false);
      return;
    }
    break;
  case ValueType::kString:
    break;
  }
  MsgpackAppender::string(out, value);
}

void appendFieldValue(core::ByteBuffer& out, std::span<const TypedKey> types, std::string_view key,
                      std::string_view value) {
  for (const auto& t : types) {
    if (t.key == key) return appendTyped(out, value, t.type);
  }
  MsgpackAppender::string(out, value);
}

std::expected<LineParserPtr, std::string> makeLineParser(const ParserOptions& options) {
  std::optional<detail::TimeField> time;
  if (!options.time_key.empty()) {
    TimeZoneOptions zone{.system_timezone = options.time_system_timezone};
    if (!options.time_offset.empty()) {
      auto offset = parseUtcOffset(options.time_offset);
      if (!offset) return std::unexpected("time_offset: " + offset.error());
      zone.offset_seconds = *offset;
    }
    auto parser = TimeParser::create(options.time_format, zone);
    if (!parser) return std::unexpected("time_format: " + parser.error());
    time = detail::TimeField{options.time_key, std::move(*parser), options.time_keep};
  }
  if (options.type == "none") {
    if (time) return std::unexpected("time_key: needs a parser (json, logfmt or regex)");
    return std::make_unique<NoneParser>();
  }
  if (options.type != "regex" && options.skip_empty) {
    return std::unexpected("skip_empty: only for the regex parser");
  }
  if (options.type == "json" && !options.types.empty()) {
    return std::unexpected("types: only for the regex and logfmt parsers (as in Fluent Bit)");
  }
  if (options.type == "json") return detail::makeJsonParser(std::move(time));
  if (options.type == "logfmt") {
    auto types = parseTypes(options.types);
    if (!types) return std::unexpected("types: " + types.error());
    return detail::makeLogfmtParser(std::move(time), std::move(*types));
  }
  if (options.type == "regex") {
    if (options.regex.empty()) return std::unexpected("regex: the regex parser needs a regex");
    return detail::makeRegexParser(options, std::move(time));
  }
  return std::unexpected("parser: unknown parser '" + options.type +
                         "' (expected none, json, logfmt or regex)");
}

} // namespace ferry::codec
