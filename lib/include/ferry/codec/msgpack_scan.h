// Bounds-checked msgpack scanning (used by the forward input and by encoders): where a value ends
// (resumable across reads, capped in size and nesting), and the few scalars forward reads. Never
// reads past `end`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Why not msgpack-cxx's unpacker or parse-with-visitor here: forward only needs where a frame
// ends, its tag, times and options; records are kept as raw bytes. msgpack-cxx would copy the
// socket bytes into its own buffer, allocate zones, and restart a half-received value from its
// start on every read. This walker allocates nothing per frame, resumes where it stopped (linear
// however the bytes are split), and refuses an oversized frame from its header before the
// payload arrives. Writing the replies (acks, HELO, PONG) is a few bytes, also done here.

namespace ferry::input::forward {

// Deeper nesting than this is refused: it bounds the scanner's stack (a record is a map of
// fields; even deeply structured logs stay far below it).
inline constexpr size_t kMaxMsgpackDepth = 128;

// The header of one msgpack value: its kind, the bytes before the payload (for fixed-size
// scalars that includes their body) and what follows.
struct MsgpackHeader {
  enum class Kind : uint8_t {
    kNil,
    kBool,
    kUint,
    kInt,
    kFloat32,
    kFloat64,
    kStr,
    kBin,
    kExt,
    kArray,
    kMap
  };
  Kind kind = Kind::kNil;
  uint8_t header_bytes = 0;
  int8_t ext_type = 0;        // kExt
  uint64_t payload_bytes = 0; // kStr, kBin, kExt
  uint64_t children = 0;      // kArray: n, kMap: 2n (keys and values)
  uint64_t size() const { return header_bytes + payload_bytes; }
};

enum class HeaderStatus : uint8_t { kOk, kIncomplete, kInvalid };

// Reads the header at p. kIncomplete when the bytes that give the length are not all there
// (the payload is not checked: compare size() with what is available).
HeaderStatus readMsgpackHeader(const uint8_t* p, const uint8_t* end, MsgpackHeader& out);

std::string_view msgpackKindName(MsgpackHeader::Kind kind);

// Finds where the value at the start of a growing buffer ends, resuming where the previous
// call stopped: total work is linear in the value's size however it is split.
class MsgpackScanner {
public:
  enum class Status : uint8_t { kComplete, kIncomplete, kInvalid, kTooLarge, kTooDeep };

  // `data` holds every byte received so far for this value (possibly more after it); the
  // value must end within max_bytes. After kComplete, length() is the value's size and the
  // next call starts a new value.
  Status scan(const uint8_t* data, size_t size, size_t max_bytes);
  size_t length() const { return length_; }
  // After kIncomplete: how many bytes (from the value's start) it is known to need at least.
  size_t needed() const { return needed_; }
  // Forgets a value in progress.
  void reset() {
    started_ = false;
    pos_ = 0;
  }

private:
  bool started_ = false;
  size_t pos_ = 0;
  size_t length_ = 0;
  size_t needed_ = 0;
  std::vector<uint64_t> stack_; // values still to read at each open level
};

// The end of the value at p, or nullptr when it is malformed, truncated before `end`, or
// nested deeper than kMaxMsgpackDepth. `stack` is scratch space (kept to avoid allocations).
const uint8_t* skipMsgpackValue(const uint8_t* p, const uint8_t* end, std::vector<uint64_t>& stack);
// The same, and when the value is a map, sets `found` if one of its top-level keys (a string)
// is `top_key` (left as it was otherwise).
const uint8_t* skipMsgpackValue(const uint8_t* p, const uint8_t* end, std::vector<uint64_t>& stack,
                                std::string_view top_key, bool& found);

// Reads values one after another from a bounded span. Each read* returns false, and leaves
// the cursor where it was, when the next value is not of that kind or does not fit.
class MsgpackCursor {
public:
  MsgpackCursor(const uint8_t* begin, const uint8_t* end) : p_(begin), end_(end) {}
  MsgpackCursor(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool atEnd() const { return p_ >= end_; }
  const uint8_t* position() const { return p_; }
  const uint8_t* end() const { return end_; }
  // The next value's header, only when its header and payload lie within the span.
  bool peek(MsgpackHeader& out) const;

  bool readArray(uint64_t& count);
  bool readMap(uint64_t& pairs);
  bool readStr(std::string_view& out);
  bool readStrOrBin(std::string_view& out);
  bool readNil();
  bool readBool(bool& out);
  bool readUint(uint64_t& out);
  bool readInt(int64_t& out);   // any integer that fits in int64
  bool readDouble(double& out); // float32 or float64
  bool readExt(int8_t& type, std::string_view& body);
  // Moves past the next value whatever it is (containers included).
  bool skip(std::vector<uint64_t>& stack);
  // The same, noting whether the value is a map with the top-level key `top_key`.
  bool skip(std::vector<uint64_t>& stack, std::string_view top_key, bool& found);

private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Tiny writer for what the input sends back (HELO, PONG, acks); appends to `out`.
void packArrayHeader(std::string& out, uint32_t count);
void packMapHeader(std::string& out, uint32_t pairs);
void packStr(std::string& out, std::string_view s);
void packBin(std::string& out, std::string_view s);
void packBool(std::string& out, bool b);
// The bytes a str header takes for a payload of n bytes.
size_t msgpackStrHeaderSize(size_t n);
size_t msgpackMapHeaderSize(size_t pairs);

} // namespace ferry::input::forward
