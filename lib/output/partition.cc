// Partition templates: parsed once at init, evaluated by the runner for each batch (tag-only
// templates) or each record (templates with fields).
#include "ferry/output/partition.h"

#include <fmt/format.h>

#include <charconv>

#include "ferry/codec/json.h"
#include "ferry/codec/msgpack_scan.h"
#include "ferry/core/buffer.h"
#include "ferry/plugin.h"

namespace ferry::output {

using input::forward::MsgpackCursor;
using input::forward::MsgpackHeader;

std::expected<PartitionTemplate, std::string> PartitionTemplate::parse(std::string_view text) {
  PartitionTemplate t;
  auto addText = [&](std::string_view s) {
    if (s.empty()) return;
    if (t.pieces_.empty() || t.pieces_.back().kind != Piece::Kind::kText) t.pieces_.emplace_back();
    t.pieces_.back().text.append(s);
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t dollar = rest.find('$');
    addText(rest.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    rest.remove_prefix(dollar);
    if (rest.starts_with("$$")) {
      addText("$");
      rest.remove_prefix(2);
    } else if (rest.starts_with("$(")) {
      const size_t close = rest.find(')');
      if (close == std::string_view::npos) {
        return std::unexpected(fmt::format("partition template: unterminated \"{}\"", rest));
      }
      Piece p;
      p.kind = Piece::Kind::kField;
      std::string_view name = rest.substr(2, close - 2);
      while (true) {
        const size_t dot = name.find('.');
        const std::string_view key = name.substr(0, dot);
        if (key.empty()) {
          return std::unexpected(fmt::format("partition template: empty field name in \"{}\"",
                                             rest.substr(0, close + 1)));
        }
        p.path.emplace_back(key);
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
      }
      t.pieces_.push_back(std::move(p));
      t.uses_fields_ = true;
      rest.remove_prefix(close + 1);
    } else if (rest.starts_with("$TAG[")) {
      const size_t close = rest.find(']');
      size_t n = 0;
      const char* first = rest.data() + 5;
      const char* last = close == std::string_view::npos ? first : rest.data() + close;
      const auto [end, ec] = std::from_chars(first, last, n);
      if (close == std::string_view::npos || ec != std::errc() || end != last) {
        return std::unexpected(
            fmt::format("partition template: \"{}\" is not $TAG[n]",
                        rest.substr(0, close == std::string_view::npos ? rest.size() : close + 1)));
      }
      Piece p;
      p.kind = Piece::Kind::kTagPart;
      p.part = n;
      t.pieces_.push_back(std::move(p));
      rest.remove_prefix(close + 1);
    } else if (rest.starts_with("$TAG")) {
      t.pieces_.push_back({Piece::Kind::kTag, {}, 0, {}});
      rest.remove_prefix(4);
    } else {
      addText("$");
      rest.remove_prefix(1);
    }
  }
  return t;
}

std::string PartitionTemplate::evaluate(std::string_view tag, std::string_view data,
                                        uint32_t format) const {
  std::string out;
  for (const auto& p : pieces_) {
    switch (p.kind) {
    case Piece::Kind::kText:
      out.append(p.text);
      break;
    case Piece::Kind::kTag:
      out.append(tag);
      break;
    case Piece::Kind::kTagPart:
      out.append(tagPart(tag, p.part));
      break;
    case Piece::Kind::kField:
      if (format == FERRY_RECORD_LINE) {
        if (p.path.size() == 1 && p.path[0] == "log") out.append(data);
      } else {
        out.append(msgpackFieldText(data, p.path));
      }
      break;
    }
  }
  return out;
}

std::string_view tagPart(std::string_view tag, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t dot = tag.find('.', start);
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
  const size_t end = tag.find('.', start);
  return tag.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

namespace {

// The text of the value at the cursor; the cursor is left after it. False when malformed.
bool valueText(MsgpackCursor& c, std::vector<uint64_t>& stack, std::string& out) {
  MsgpackHeader h;
  if (!c.peek(h)) return false;
  switch (h.kind) {
  case MsgpackHeader::Kind::kStr:
  case MsgpackHeader::Kind::kBin: {
    std::string_view s;
    if (!c.readStrOrBin(s)) return false;
    out.assign(s);
    return true;
  }
  case MsgpackHeader::Kind::kNil:
    out.clear();
    return c.readNil();
  case MsgpackHeader::Kind::kBool: {
    bool b = false;
    if (!c.readBool(b)) return false;
    out = b ? "true" : "false";
    return true;
  }
  case MsgpackHeader::Kind::kUint: {
    uint64_t v = 0;
    if (!c.readUint(v)) return false;
    out = fmt::format("{}", v);
    return true;
  }
  case MsgpackHeader::Kind::kInt: {
    int64_t v = 0;
    if (!c.readInt(v)) return false;
    out = fmt::format("{}", v);
    return true;
  }
  case MsgpackHeader::Kind::kFloat32:
  case MsgpackHeader::Kind::kFloat64: {
    double v = 0;
    if (!c.readDouble(v)) return false;
    out = fmt::format("{}", v);
    return true;
  }
  default: { // maps, arrays, ext: their JSON text
    const uint8_t* begin = c.position();
    if (!c.skip(stack)) return false;
    core::ByteBuffer json;
    const std::string_view bytes(reinterpret_cast<const char*>(begin),
                                 static_cast<size_t>(c.position() - begin));
    if (codec::appendMsgpackAsJson(json, bytes) == 0) return false;
    out.assign(json.view());
    return true;
  }
  }
}

} // namespace

std::string msgpackFieldText(std::string_view record, const std::vector<std::string>& path) {
  MsgpackCursor c(record);
  std::vector<uint64_t> stack;
  for (size_t depth = 0; depth < path.size(); ++depth) {
    uint64_t pairs = 0;
    if (!c.readMap(pairs)) return {};
    bool found = false;
    for (uint64_t i = 0; i < pairs; ++i) {
      std::string_view key;
      if (!c.readStr(key)) {
        if (!c.skip(stack) || !c.skip(stack)) return {};
        continue;
      }
      if (key == path[depth]) {
        found = true;
        break;
      }
      if (!c.skip(stack)) return {};
    }
    if (!found) return {};
  }
  std::string out;
  if (!valueText(c, stack, out)) return {};
  return out;
}

} // namespace ferry::output
