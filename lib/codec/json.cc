// Records → JSON (RFC 8259): any input bytes give valid UTF-8 JSON (invalid UTF-8 becomes
// U+FFFD per the WHATWG "maximal subpart" rule); msgpack (spec v5) nesting capped at 64.
//
// The daemon's hottest loop, hence a hand-written scanner and msgpack walker
// (figures: bench/micro/codec/json_bench.cc):
// - Strings: clean runs are copied 16 bytes at a time (SSE2; 8-byte SWAR elsewhere),
//   stopping only at bytes that need attention (control, '"', '\\', >= 0x80); UTF-8 is
//   validated only from such a byte. rapidjson's Writer cannot replace invalid UTF-8 (its
//   validating mode fails the document instead) and measures 1.7x slower on field values,
//   2.2x on JSON text inside a string.
// - msgpack: one bounds-checked pass straight from the record bytes to JSON, no allocation.
//   msgpack-cxx would first unpack into a zone-allocated object tree (its unpack alone costs
//   ~90% of this whole encoder), then need a second walk to write, and reports malformed
//   input by throwing, which the data path does not do.
#include "ferry/codec/json.h"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ferry::codec {
namespace {

// ---- String escaping -------------------------------------------------------------------

// Bytes that stop the fast copy: 1 = escape (control, '"', '\\'), 2 = start of non-ASCII.
constexpr std::array<uint8_t, 256> kAttention = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c)
    t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c)
    t[c] = 2;
  return t;
}();

// The short escape of a control character, or 'u' for \u00XX.
constexpr std::array<char, 0x20> kShortEscape = [] {
  std::array<char, 0x20> t{};
  for (auto& c : t)
    c = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  return t;
}();

constexpr char kHex[] = "0123456789abcdef";
constexpr size_t kEscapeChunk = 64 * 1024; // input bytes escaped per buffer reservation
constexpr size_t kMaxEscapedPerByte = 6;   // a control byte becomes \u00XX

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// High bit set in the lowest byte of `w` (little-endian) that needs attention. Bytes above
// the lowest flagged one may be flagged falsely (borrows): use only the lowest, or zero /
// non-zero.
inline uint64_t attentionMask(uint64_t w) {
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t b = w ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b;
  return (w | control | quote | backslash) & kHighs;
}

// Length of the well-formed UTF-8 sequence at p (2..4, Unicode Table 3-7), or the negated
// length of its maximal ill-formed subpart (-1..-3): what one U+FFFD replaces.
inline int utf8Sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned c = p[0];
  unsigned lo = 0x80, hi = 0xBF;
  int need;
  if (c < 0xC2 || c > 0xF4) return -1; // continuation, overlong lead C0/C1, or > U+10FFFF
  if (c < 0xE0) {
    need = 1;
  } else if (c < 0xF0) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0; // overlong
    else if (c == 0xED)
      hi = 0x9F; // surrogates
  } else {
    need = 3;
    if (c == 0xF0)
      lo = 0x90; // overlong
    else if (c == 0xF4)
      hi = 0x8F; // > U+10FFFF
  }
  if (end - p < 2 || p[1] < lo || p[1] > hi) return -1;
  for (int i = 2; i <= need; ++i) {
    if (end - p <= i || (p[i] & 0xC0) != 0x80) return -i;
  }
  return need + 1;
}

// Copies the clean bytes from p on (speculatively, whole words: dst has room) and stops at
// the first byte that needs attention, at `limit`, or fewer than 4 bytes before it.
inline void copyClean(const unsigned char*& p, char*& dst, const unsigned char* limit) {
#if defined(__SSE2__)
  // 16 bytes a step. A signed compare with 0x20 catches control bytes and >= 0x80 at once.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (limit - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
    const auto quotes = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    const auto others = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, space)));
    if ((quotes | others) == 0) {
      p += 16;
      dst += 16;
      continue;
    }
    if (others == 0 && limit - p >= 32) {
      // Only '"' and '\\' (JSON text inside a string: the common dense case). For each,
      // in order, write the backslash and re-copy the rest of the block one byte further
      // on; no per-byte branches. The 16-byte load at p + k stays below p + 32 <= limit.
      char* out = dst;
      for (unsigned m = quotes; m != 0; m &= m - 1) {
        const int k = std::countr_zero(m);
        out[k] = '\\';
        ++out;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
      }
      p += 16;
      dst = out + 16;
      continue;
    }
    const int k = std::countr_zero(quotes | others);
    p += k;
    dst += k;
    return;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    while (limit - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      std::memcpy(dst, p, 8);
      const uint64_t m = attentionMask(w);
      if (m != 0) {
        const int k = std::countr_zero(m) >> 3;
        p += k;
        dst += k;
        return;
      }
      p += 8;
      dst += 8;
    }
    // 4 to 7 bytes left (short strings: keys, levels, methods): two overlapping 4-byte
    // loads inside [p, limit) instead of a byte loop.
    const auto r = static_cast<size_t>(limit - p);
    if (r >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, limit - 4, 4);
      if (attentionMask(lo | uint64_t{hi} << 32) == 0) {
        std::memcpy(dst, &lo, 4);
        std::memcpy(dst + r - 4, &hi, 4);
        p = limit;
        dst += r;
      }
    }
  }
}

// Escapes [p, limit) into dst (room for kMaxEscapedPerByte per byte). A UTF-8
// sequence starting before `limit` may run up to `end`. Returns where the input stopped.
const unsigned char* escapeRun(char*& dst_ref, const unsigned char* p, const unsigned char* limit,
                               const unsigned char* end) {
  char* dst = dst_ref;
  while (p < limit) {
    copyClean(p, dst, limit);
    while (p < limit && kAttention[*p] == 0)
      *dst++ = static_cast<char>(*p++);
    // A run of bytes that need attention (escaped quotes, a word of non-ASCII text) is
    // handled here without going back to the word scanner for each one.
    while (p < limit) {
      const unsigned char c = *p;
      if (c >= 0x80) {
        const int n = utf8Sequence(p, end);
        if (n > 0) {
          dst[0] = static_cast<char>(p[0]);
          dst[1] = static_cast<char>(p[1]);
          if (n > 2) dst[2] = static_cast<char>(p[2]);
          if (n > 3) dst[3] = static_cast<char>(p[3]);
          dst += n;
          p += n;
        } else {
          std::memcpy(dst, "\xEF\xBF\xBD", 3); // U+FFFD
          dst += 3;
          p -= n;
        }
      } else if (kAttention[c] != 0) {
        ++p;
        dst[0] = '\\';
        if (c == '"' || c == '\\') {
          dst[1] = static_cast<char>(c);
          dst += 2;
        } else if (const char e = kShortEscape[c]; e != 'u') {
          dst[1] = e;
          dst += 2;
        } else {
          std::memcpy(dst + 1, "u00", 3);
          dst[4] = kHex[c >> 4];
          dst[5] = kHex[c & 0xF];
          dst += 6;
        }
      } else {
        break;
      }
    }
  }
  dst_ref = dst;
  return p;
}

// ---- Numbers -------------------------------------------------------------------------

template <typename T> void appendNumber(core::ByteBuffer& out, T v) {
  char* dst = out.prepare(32); // the longest: "-2.2250738585072014e-308", 24 chars
  const auto r = std::to_chars(dst, dst + 32, v);
  out.commit(static_cast<size_t>(r.ptr - dst));
}

template <typename F> void appendFloat(core::ByteBuffer& out, F v) {
  if (!std::isfinite(v)) {
    out.append("null", 4); // JSON has no NaN or infinity
    return;
  }
  appendNumber(out, v); // shortest form that reads back as the same value
}

// ---- msgpack → JSON --------------------------------------------------------------------

constexpr int kMaxDepth = 64;
// A map key that is itself a map or array is written as the string of its JSON text, so
// its inner quotes and backslashes are escaped once more per level: nesting such keys in
// such keys grows the output exponentially. Past this many levels the input is malformed.
constexpr int kMaxKeyNesting = 4;

class MsgpackWalker {
public:
  MsgpackWalker(core::ByteBuffer& out, std::string_view data)
      : out_(out), p_(reinterpret_cast<const unsigned char*>(data.data())), begin_(p_),
        end_(p_ + data.size()) {}

  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  bool atEnd() const { return p_ == end_; }

  // Reads a map header (fixmap, map16, map32); false if the next object is not a map.
  bool readMapHeader(uint32_t& count) {
    if (p_ == end_) return false;
    const unsigned char c = *p_;
    if (c >= 0x80 && c <= 0x8f) {
      ++p_;
      count = c & 0x0f;
      return true;
    }
    if (c == 0xde || c == 0xdf) {
      ++p_;
      return readLength(c == 0xde ? 2 : 4, count);
    }
    return false;
  }

  // Writes `count` key/value pairs, each preceded by ',' unless it is the very first one
  // and `first` is set. `depth` is the level of the map they belong to.
  bool writeMapEntries(uint32_t count, int depth, bool first) {
    for (uint32_t i = 0; i < count; ++i) {
      if (!first || i > 0) out_.push_back(',');
      // fixstr keys and values (nearly all of them) skip the big dispatch and its frame.
      if (!(atFixstr() ? writeFixstr() : writeKey(depth))) return false;
      out_.push_back(':');
      if (!(atFixstr() ? writeFixstr() : writeValue(depth))) return false;
    }
    return true;
  }

  // Writes the object at the cursor. `depth` is how many containers enclose it.
  bool writeValue(int depth) {
    if (p_ == end_) return false;
    const unsigned char c = *p_++;
    if (c <= 0x7f) return writeUint(c);
    if (c <= 0x8f) return writeMap(c & 0x0f, depth);
    if (c <= 0x9f) return writeArray(c & 0x0f, depth);
    if (c <= 0xbf) return writeString(c & 0x1f);
    if (c >= 0xe0) return writeInt(static_cast<int8_t>(c));
    uint32_t n = 0;
    switch (c) {
    case 0xc0:
      out_.append("null", 4);
      return true;
    case 0xc2:
      out_.append("false", 5);
      return true;
    case 0xc3:
      out_.append("true", 4);
      return true;
    case 0xc4: // bin 8/16/32: a string of its bytes
    case 0xd9: // str 8/16/32
      return readLength(1, n) && writeString(n);
    case 0xc5:
    case 0xda:
      return readLength(2, n) && writeString(n);
    case 0xc6:
    case 0xdb:
      return readLength(4, n) && writeString(n);
    case 0xc7: // ext 8/16/32: length, type, data; the data is written as a string
      return readLength(1, n) && skip(1) && writeString(n);
    case 0xc8:
      return readLength(2, n) && skip(1) && writeString(n);
    case 0xc9:
      return readLength(4, n) && skip(1) && writeString(n);
    case 0xd4: // fixext 1/2/4/8/16: type, data
      return skip(1) && writeString(1);
    case 0xd5:
      return skip(1) && writeString(2);
    case 0xd6:
      return skip(1) && writeString(4);
    case 0xd7:
      return skip(1) && writeString(8);
    case 0xd8:
      return skip(1) && writeString(16);
    case 0xca: {
      uint32_t bits;
      if (!readBig(4, bits)) return false;
      appendFloat(out_, std::bit_cast<float>(bits));
      return true;
    }
    case 0xcb: {
      uint64_t bits;
      if (!readBig(8, bits)) return false;
      appendFloat(out_, std::bit_cast<double>(bits));
      return true;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
      uint64_t v;
      return readBig(size_t{1} << (c - 0xcc), v) && writeUint(v);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const size_t size = size_t{1} << (c - 0xd0);
      uint64_t v;
      if (!readBig(size, v)) return false;
      // Sign-extend from `size` bytes.
      const int shift = static_cast<int>(64 - 8 * size);
      return writeInt(static_cast<int64_t>(v << shift) >> shift);
    }
    case 0xdc:
      return readLength(2, n) && writeArray(n, depth);
    case 0xdd:
      return readLength(4, n) && writeArray(n, depth);
    case 0xde:
      return readLength(2, n) && writeMap(n, depth);
    case 0xdf:
      return readLength(4, n) && writeMap(n, depth);
    default: // 0xc1 is never used
      return false;
    }
  }

private:
  template <typename T> bool readBig(size_t size, T& v) {
    if (static_cast<size_t>(end_ - p_) < size) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < size; ++i)
      r = (r << 8) | p_[i];
    p_ += size;
    v = static_cast<T>(r);
    return true;
  }
  bool readLength(size_t size, uint32_t& n) { return readBig(size, n); }
  bool skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  bool atFixstr() const { return p_ != end_ && (*p_ & 0xe0) == 0xa0; }
  bool writeFixstr() { return writeString(*p_++ & 0x1f); }

  bool writeUint(uint64_t v) {
    appendNumber(out_, v);
    return true;
  }
  bool writeInt(int64_t v) {
    appendNumber(out_, v);
    return true;
  }
  bool writeString(uint32_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    appendJsonString(out_, {reinterpret_cast<const char*>(p_), n});
    p_ += n;
    return true;
  }

  // Element counts are not trusted for allocation: each element takes at least one byte,
  // so a lying count runs out of input and fails.
  bool writeArray(uint32_t count, int depth) {
    if (depth >= kMaxDepth) return false;
    out_.push_back('[');
    for (uint32_t i = 0; i < count; ++i) {
      if (i > 0) out_.push_back(',');
      if (!writeValue(depth + 1)) return false;
    }
    out_.push_back(']');
    return true;
  }
  bool writeMap(uint32_t count, int depth) {
    if (depth >= kMaxDepth) return false;
    out_.push_back('{');
    if (!writeMapEntries(count, depth + 1, true)) return false;
    out_.push_back('}');
    return true;
  }

  // JSON keys are strings: str/bin/ext are written as such; any other key as the string
  // of its JSON text (integer 1 → "1", a map key → its escaped JSON).
  bool writeKey(int depth) {
    if (p_ == end_) return false;
    const unsigned char c = *p_;
    const bool container = (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
    const bool scalar =
        c <= 0x7f || c >= 0xe0 || (c >= 0xc0 && c <= 0xc3) || (c >= 0xca && c <= 0xd3);
    if (!container && !scalar) return writeValue(depth); // strings, bin, ext
    if (scalar) {
      // Numbers, true/false/null: their text needs no escaping.
      out_.push_back('"');
      if (!writeValue(depth)) return false;
      out_.push_back('"');
      return true;
    }
    if (key_nesting_ >= kMaxKeyNesting) return false;
    const size_t mark = out_.size();
    ++key_nesting_;
    const bool ok = writeValue(depth);
    --key_nesting_;
    if (!ok) return false;
    const std::string text(out_.data() + mark, out_.size() - mark); // rare: keep it simple
    out_.resize(mark);
    appendJsonString(out_, text);
    return true;
  }

  core::ByteBuffer& out_;
  const unsigned char* p_;
  const unsigned char* const begin_;
  const unsigned char* const end_;
  int key_nesting_ = 0;
};

bool hasTimeField(const RecordJsonOptions& options) {
  return options.time_format != TimeFormat::kNone && !options.time_key.empty();
}

void appendTimeField(core::ByteBuffer& out, int64_t ns, const RecordJsonOptions& options) {
  appendJsonString(out, options.time_key);
  out.push_back(':');
  appendTimeValue(out, ns, options.time_format);
}

} // namespace

void appendJsonString(core::ByteBuffer& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  // One reservation for the common (short) string; long ones go by chunks so a 1 MiB
  // string does not reserve 6 MiB. The +2 are the quotes.
  size_t chunk = std::min(s.size(), kEscapeChunk);
  char* dst = out.prepare(chunk * kMaxEscapedPerByte + 2);
  char* start = dst;
  *dst++ = '"';
  for (;;) {
    p = escapeRun(dst, p, p + std::min<size_t>(chunk, static_cast<size_t>(end - p)), end);
    if (p == end) break;
    out.commit(static_cast<size_t>(dst - start));
    chunk = std::min(static_cast<size_t>(end - p), kEscapeChunk);
    dst = start = out.prepare(chunk * kMaxEscapedPerByte + 1);
  }
  *dst++ = '"';
  out.commit(static_cast<size_t>(dst - start));
}

size_t appendMsgpackAsJson(core::ByteBuffer& out, std::string_view data) {
  MsgpackWalker walker(out, data);
  return walker.writeValue(0) ? walker.consumed() : 0;
}

bool appendRecordJson(core::ByteBuffer& out, core::RecordFormat format,
                      const core::RecordView& record, const RecordJsonOptions& options) {
  const bool with_time = hasTimeField(options);
  if (format == core::RecordFormat::kLine) {
    out.push_back('{');
    if (with_time) {
      appendTimeField(out, record.timestamp_ns, options);
      out.push_back(',');
    }
    out.append("\"log\":", 6);
    appendJsonString(out, record.data);
    out.push_back('}');
    return true;
  }

  const size_t mark = out.size();
  MsgpackWalker walker(out, record.data);
  uint32_t count = 0;
  if (!walker.readMapHeader(count)) return false;
  // The record map is level 1, as appendMsgpackAsJson counts it.
  out.reserve(out.size() + record.data.size() * 2 + 64); // typical growth, in one go
  out.push_back('{');
  if (with_time) appendTimeField(out, record.timestamp_ns, options);
  // A record is exactly one map: trailing bytes mean the slice is wrong.
  if (!walker.writeMapEntries(count, 1, !with_time) || !walker.atEnd()) {
    out.resize(mark);
    return false;
  }
  out.push_back('}');
  return true;
}

} // namespace ferry::codec
