// Bounds-checked msgpack scanning (spec: github.com/msgpack/msgpack/blob/master/spec.md).
// Every length read from the wire is checked against the bytes actually present.
#include "ferry/codec/msgpack_scan.h"

#include <bit>
#include <cstring>

namespace ferry::input::forward {
namespace {

using Kind = MsgpackHeader::Kind;

inline uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}
inline uint64_t be64(const uint8_t* p) {
  return static_cast<uint64_t>(be32(p)) << 32 | be32(p + 4);
}

inline void set(MsgpackHeader& h, Kind kind, uint8_t header_bytes, uint64_t payload = 0,
                uint64_t children = 0) {
  h.kind = kind;
  h.header_bytes = header_bytes;
  h.payload_bytes = payload;
  h.children = children;
  h.ext_type = 0;
}

} // namespace

HeaderStatus readMsgpackHeader(const uint8_t* p, const uint8_t* end, MsgpackHeader& h) {
  if (p >= end) return HeaderStatus::kIncomplete;
  const size_t avail = static_cast<size_t>(end - p);
  const uint8_t b = p[0];
  if (b <= 0x7f) return set(h, Kind::kUint, 1), HeaderStatus::kOk;
  if (b >= 0xe0) return set(h, Kind::kInt, 1), HeaderStatus::kOk;
  if (b <= 0x8f) return set(h, Kind::kMap, 1, 0, 2u * (b & 0x0f)), HeaderStatus::kOk;
  if (b <= 0x9f) return set(h, Kind::kArray, 1, 0, b & 0x0f), HeaderStatus::kOk;
  if (b <= 0xbf) return set(h, Kind::kStr, 1, b & 0x1f), HeaderStatus::kOk;

  // Length-prefixed forms: how many bytes the prefix (length, ext type) takes.
  auto need = [&](size_t n) { return avail >= n; };
  switch (b) {
  case 0xc0:
    set(h, Kind::kNil, 1);
    break;
  case 0xc1:
    return HeaderStatus::kInvalid; // never used
  case 0xc2:
  case 0xc3:
    set(h, Kind::kBool, 1);
    break;
  case 0xc4:
    if (!need(2)) return HeaderStatus::kIncomplete;
    set(h, Kind::kBin, 2, p[1]);
    break;
  case 0xc5:
    if (!need(3)) return HeaderStatus::kIncomplete;
    set(h, Kind::kBin, 3, be16(p + 1));
    break;
  case 0xc6:
    if (!need(5)) return HeaderStatus::kIncomplete;
    set(h, Kind::kBin, 5, be32(p + 1));
    break;
  case 0xc7:
    if (!need(3)) return HeaderStatus::kIncomplete;
    set(h, Kind::kExt, 3, p[1]);
    h.ext_type = static_cast<int8_t>(p[2]);
    break;
  case 0xc8:
    if (!need(4)) return HeaderStatus::kIncomplete;
    set(h, Kind::kExt, 4, be16(p + 1));
    h.ext_type = static_cast<int8_t>(p[3]);
    break;
  case 0xc9:
    if (!need(6)) return HeaderStatus::kIncomplete;
    set(h, Kind::kExt, 6, be32(p + 1));
    h.ext_type = static_cast<int8_t>(p[5]);
    break;
  case 0xca:
    set(h, Kind::kFloat32, 5);
    break;
  case 0xcb:
    set(h, Kind::kFloat64, 9);
    break;
  case 0xcc:
    set(h, Kind::kUint, 2);
    break;
  case 0xcd:
    set(h, Kind::kUint, 3);
    break;
  case 0xce:
    set(h, Kind::kUint, 5);
    break;
  case 0xcf:
    set(h, Kind::kUint, 9);
    break;
  case 0xd0:
    set(h, Kind::kInt, 2);
    break;
  case 0xd1:
    set(h, Kind::kInt, 3);
    break;
  case 0xd2:
    set(h, Kind::kInt, 5);
    break;
  case 0xd3:
    set(h, Kind::kInt, 9);
    break;
  case 0xd4:
  case 0xd5:
  case 0xd6:
  case 0xd7:
  case 0xd8:
    if (!need(2)) return HeaderStatus::kIncomplete;
    set(h, Kind::kExt, 2, uint64_t{1} << (b - 0xd4)); // fixext 1, 2, 4, 8, 16
    h.ext_type = static_cast<int8_t>(p[1]);
    break;
  case 0xd9:
    if (!need(2)) return HeaderStatus::kIncomplete;
    set(h, Kind::kStr, 2, p[1]);
    break;
  case 0xda:
    if (!need(3)) return HeaderStatus::kIncomplete;
    set(h, Kind::kStr, 3, be16(p + 1));
    break;
  case 0xdb:
    if (!need(5)) return HeaderStatus::kIncomplete;
    set(h, Kind::kStr, 5, be32(p + 1));
    break;
  case 0xdc:
    if (!need(3)) return HeaderStatus::kIncomplete;
    set(h, Kind::kArray, 3, 0, be16(p + 1));
    break;
  case 0xdd:
    if (!need(5)) return HeaderStatus::kIncomplete;
    set(h, Kind::kArray, 5, 0, be32(p + 1));
    break;
  case 0xde:
    if (!need(3)) return HeaderStatus::kIncomplete;
    set(h, Kind::kMap, 3, 0, 2u * uint64_t{be16(p + 1)});
    break;
  case 0xdf:
    if (!need(5)) return HeaderStatus::kIncomplete;
    set(h, Kind::kMap, 5, 0, 2u * uint64_t{be32(p + 1)});
    break;
  default:
    return HeaderStatus::kInvalid; // unreachable: every byte value is covered above
  }
  return HeaderStatus::kOk;
}

std::string_view msgpackKindName(MsgpackHeader::Kind kind) {
  switch (kind) {
  case Kind::kNil:
    return "nil";
  case Kind::kBool:
    return "bool";
  case Kind::kUint:
  case Kind::kInt:
    return "integer";
  case Kind::kFloat32:
  case Kind::kFloat64:
    return "float";
  case Kind::kStr:
    return "string";
  case Kind::kBin:
    return "binary";
  case Kind::kExt:
    return "extension";
  case Kind::kArray:
    return "array";
  case Kind::kMap:
    return "map";
  }
  return "?";
}

MsgpackScanner::Status MsgpackScanner::scan(const uint8_t* data, size_t size, size_t max_bytes) {
  if (!started_) {
    stack_.clear();
    stack_.push_back(1);
    pos_ = 0;
    started_ = true;
  }
  const uint8_t* end = data + size;
  while (!stack_.empty()) {
    if (stack_.back() == 0) {
      stack_.pop_back();
      continue;
    }
    MsgpackHeader h;
    switch (readMsgpackHeader(data + pos_, end, h)) {
    case HeaderStatus::kInvalid:
      return Status::kInvalid;
    case HeaderStatus::kIncomplete:
      // The header alone already runs past what we hold; holding max_bytes means the value
      // cannot end within the limit.
      needed_ = size + 1;
      return size >= max_bytes ? Status::kTooLarge : Status::kIncomplete;
    case HeaderStatus::kOk:
      break;
    }
    const uint64_t total = h.size();
    if (pos_ + total > max_bytes) return Status::kTooLarge;
    if (pos_ + total > size) {
      needed_ = pos_ + total;
      return Status::kIncomplete;
    }
    pos_ += total;
    --stack_.back();
    if (h.children != 0) {
      if (stack_.size() >= kMaxMsgpackDepth) return Status::kTooDeep;
      stack_.push_back(h.children);
    }
  }
  length_ = pos_;
  started_ = false;
  return Status::kComplete;
}

namespace {

// skipMsgpackValue, and with kWatch, notes whether a top-level key of the value (a map) is
// `key`: keys are where a map's remaining count at the top level is even.
template <bool kWatch>
const uint8_t* skipValue(const uint8_t* p, const uint8_t* end, std::vector<uint64_t>& stack,
                         std::string_view key, bool& found) {
  MsgpackHeader h;
  if (readMsgpackHeader(p, end, h) != HeaderStatus::kOk) return nullptr;
  if (h.size() > static_cast<uint64_t>(end - p)) return nullptr;
  p += h.size();
  if (h.children == 0) return p; // the common case: a scalar or an empty container
  const bool watch_map = kWatch && h.kind == Kind::kMap;
  stack.clear();
  stack.push_back(h.children);
  while (!stack.empty()) {
    if (stack.back() == 0) {
      stack.pop_back();
      continue;
    }
    // Fast path for what records are mostly made of: short strings and small integers.
    if (p >= end) return nullptr;
    const uint8_t b = *p;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xa0 && b <= 0xbf) || b == 0xd9) {
      const size_t header = b == 0xd9 ? 2 : 1;
      const size_t n = b <= 0x7f || b >= 0xe0 ? 1
                       : b == 0xd9            ? (end - p < 2 ? SIZE_MAX : 2 + size_t{p[1]})
                                              : 1 + size_t{b & 0x1fu};
      if (n > static_cast<size_t>(end - p)) return nullptr;
      const bool is_str = (b >= 0xa0 && b <= 0xbf) || b == 0xd9;
      if (watch_map && is_str && stack.size() == 1 && stack.back() % 2 == 0 &&
          n - header == key.size() && std::memcmp(p + header, key.data(), key.size()) == 0) {
        found = true;
      }
      p += n;
      --stack.back();
      continue;
    }
    if (readMsgpackHeader(p, end, h) != HeaderStatus::kOk) return nullptr;
    if (h.size() > static_cast<uint64_t>(end - p)) return nullptr;
    if (watch_map && stack.size() == 1 && stack.back() % 2 == 0 && h.kind == Kind::kStr &&
        h.payload_bytes == key.size() &&
        std::memcmp(p + h.header_bytes, key.data(), key.size()) == 0) {
      found = true;
    }
    p += h.size();
    --stack.back();
    if (h.children != 0) {
      if (stack.size() >= kMaxMsgpackDepth) return nullptr;
      stack.push_back(h.children);
    }
  }
  return p;
}

} // namespace

const uint8_t* skipMsgpackValue(const uint8_t* p, const uint8_t* end,
                                std::vector<uint64_t>& stack) {
  bool unused = false;
  return skipValue<false>(p, end, stack, {}, unused);
}

const uint8_t* skipMsgpackValue(const uint8_t* p, const uint8_t* end, std::vector<uint64_t>& stack,
                                std::string_view top_key, bool& found) {
  return skipValue<true>(p, end, stack, top_key, found);
}

// ---- MsgpackCursor ---------------------------------------------------------------------

bool MsgpackCursor::skip(std::vector<uint64_t>& stack, std::string_view top_key, bool& found) {
  const uint8_t* next = skipMsgpackValue(p_, end_, stack, top_key, found);
  if (next == nullptr) return false;
  p_ = next;
  return true;
}

bool MsgpackCursor::peek(MsgpackHeader& out) const {
  if (readMsgpackHeader(p_, end_, out) != HeaderStatus::kOk) return false;
  return out.size() <= static_cast<uint64_t>(end_ - p_);
}

bool MsgpackCursor::readArray(uint64_t& count) {
  MsgpackHeader h;
  if (!peek(h) || h.kind != Kind::kArray) return false;
  count = h.children;
  p_ += h.header_bytes;
  return true;
}

bool MsgpackCursor::readMap(uint64_t& pairs) {
  MsgpackHeader h;
  if (!peek(h) || h.kind != Kind::kMap) return false;
  pairs = h.children / 2;
  p_ += h.header_bytes;
  return true;
}

bool MsgpackCursor::readStr(std::string_view& out) {
  MsgpackHeader h;
  if (!peek(h) || h.kind != Kind::kStr) return false;
  out = {reinterpret_cast<const char*>(p_ + h.header_bytes), h.payload_bytes};
  p_ += h.size();
  return true;
}

bool MsgpackCursor::readStrOrBin(std::string_view& out) {
  MsgpackHeader h;
  if (!peek(h) || (h.kind != Kind::kStr && h.kind != Kind::kBin)) return false;
  out = {reinterpret_cast<const char*>(p_ + h.header_bytes), h.payload_bytes};
  p_ += h.size();
  return true;
}

bool MsgpackCursor::readNil() {
  if (p_ >= end_ || *p_ != 0xc0) return false;
  ++p_;
  return true;
}

bool MsgpackCursor::readBool(bool& out) {
  if (p_ >= end_ || (*p_ != 0xc2 && *p_ != 0xc3)) return false;
  out = *p_ == 0xc3;
  ++p_;
  return true;
}

bool MsgpackCursor::readUint(uint64_t& out) {
  MsgpackHeader h;
  if (!peek(h)) return false;
  if (h.kind == Kind::kInt) {
    const uint8_t* start = p_;
    int64_t v;
    if (!readInt(v)) return false;
    if (v < 0) {
      p_ = start;
      return false;
    }
    out = static_cast<uint64_t>(v);
    return true;
  }
  if (h.kind != Kind::kUint) return false;
  switch (h.header_bytes) {
  case 1:
    out = p_[0];
    break;
  case 2:
    out = p_[1];
    break;
  case 3:
    out = be16(p_ + 1);
    break;
  case 5:
    out = be32(p_ + 1);
    break;
  default:
    out = be64(p_ + 1);
    break;
  }
  p_ += h.size();
  return true;
}

bool MsgpackCursor::readInt(int64_t& out) {
  MsgpackHeader h;
  if (!peek(h)) return false;
  if (h.kind == Kind::kUint) {
    const uint8_t* start = p_;
    uint64_t v;
    if (!readUint(v)) return false;
    if (v > static_cast<uint64_t>(INT64_MAX)) {
      p_ = start;
      return false;
    }
    out = static_cast<int64_t>(v);
    return true;
  }
  if (h.kind != Kind::kInt) return false;
  switch (h.header_bytes) {
  case 1:
    out = static_cast<int8_t>(p_[0]);
    break;
  case 2:
    out = static_cast<int8_t>(p_[1]);
    break;
  case 3:
    out = static_cast<int16_t>(be16(p_ + 1));
    break;
  case 5:
    out = static_cast<int32_t>(be32(p_ + 1));
    break;
  default:
    out = static_cast<int64_t>(be64(p_ + 1));
    break;
  }
  p_ += h.size();
  return true;
}

bool MsgpackCursor::readDouble(double& out) {
  MsgpackHeader h;
  if (!peek(h)) return false;
  if (h.kind == Kind::kFloat32) {
    out = std::bit_cast<float>(be32(p_ + 1));
  } else if (h.kind == Kind::kFloat64) {
    out = std::bit_cast<double>(be64(p_ + 1));
  } else {
    return false;
  }
  p_ += h.size();
  return true;
}

bool MsgpackCursor::readExt(int8_t& type, std::string_view& body) {
  MsgpackHeader h;
  if (!peek(h) || h.kind != Kind::kExt) return false;
  type = h.ext_type;
  body = {reinterpret_cast<const char*>(p_ + h.header_bytes), h.payload_bytes};
  p_ += h.size();
  return true;
}

bool MsgpackCursor::skip(std::vector<uint64_t>& stack) {
  const uint8_t* next = skipMsgpackValue(p_, end_, stack);
  if (next == nullptr) return false;
  p_ = next;
  return true;
}

// ---- Writer ----------------------------------------------------------------------------

namespace {

void putBe16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void putBe32(std::string& out, uint32_t v) {
  putBe16(out, static_cast<uint16_t>(v >> 16));
  putBe16(out, static_cast<uint16_t>(v));
}

void packSized(std::string& out, uint32_t n, uint8_t fix_base, uint32_t fix_max, uint8_t b16,
               uint8_t b32) {
  if (n <= fix_max) {
    out.push_back(static_cast<char>(fix_base | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(b16));
    putBe16(out, static_cast<uint16_t>(n));
  } else {
    out.push_back(static_cast<char>(b32));
    putBe32(out, n);
  }
}

} // namespace

void packArrayHeader(std::string& out, uint32_t count) {
  packSized(out, count, 0x90, 15, 0xdc, 0xdd);
}

void packMapHeader(std::string& out, uint32_t pairs) {
  packSized(out, pairs, 0x80, 15, 0xde, 0xdf);
}

void packStr(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  if (n <= 31) {
    out.push_back(static_cast<char>(0xa0 | n));
  } else if (n <= 0xff) {
    out.push_back(static_cast<char>(0xd9));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0xda));
    putBe16(out, static_cast<uint16_t>(n));
  } else {
    out.push_back(static_cast<char>(0xdb));
    putBe32(out, n);
  }
  out.append(s);
}

void packBin(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  if (n <= 0xff) {
    out.push_back(static_cast<char>(0xc4));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0xc5));
    putBe16(out, static_cast<uint16_t>(n));
  } else {
    out.push_back(static_cast<char>(0xc6));
    putBe32(out, n);
  }
  out.append(s);
}

void packBool(std::string& out, bool b) {
  out.push_back(static_cast<char>(b ? 0xc3 : 0xc2));
}

size_t msgpackStrHeaderSize(size_t n) {
  if (n <= 31) return 1;
  if (n <= 0xff) return 2;
  if (n <= 0xffff) return 3;
  return 5;
}

size_t msgpackMapHeaderSize(size_t pairs) {
  if (pairs <= 15) return 1;
  if (pairs <= 0xffff) return 3;
  return 5;
}

} // namespace ferry::input::forward
