// Forward protocol v1 frame decoding. Two passes per frame: a resumable scan finds where the
// frame ends (linear in its size however the bytes arrive), then a bounded walk decodes tag,
// times and options and slices the records; a message fails whole or yields whole.
#include "ferry/input/forward_decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ferry/codec/compress.h"
#include "ferry/codec/msgpack_scan.h"

namespace ferry::input::forward {
namespace {

using Kind = MsgpackHeader::Kind;

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// Docker's mark of a split line: batches say whether any record has it (Batch::PartialHint).
constexpr std::string_view kPartialKey = "partial_message";
constexpr int64_t kMaxSeconds = INT64_MAX / kNanosPerSecond;
constexpr int64_t kMinSeconds = INT64_MIN / kNanosPerSecond;
// Below this, buffers are kept between frames; above, trim() gives them back.
constexpr size_t kKeepScratchBytes = 1024 * 1024;

// The first 4 bytes of `s` (the caller checked there are that many), big-endian.
uint32_t readBe32(std::string_view s) {
  const auto* u = reinterpret_cast<const uint8_t*>(s.data());
  return static_cast<uint32_t>(u[0]) << 24 | static_cast<uint32_t>(u[1]) << 16 |
         static_cast<uint32_t>(u[2]) << 8 | static_cast<uint32_t>(u[3]);
}

// Reads an event time: EventTime (ext 0, 8 bytes: big-endian seconds, nanoseconds), integer
// seconds or float seconds. `nested` also accepts Fluent Bit 2.x's [time, metadata] pair.
bool readTime(MsgpackCursor& c, int64_t& out, std::vector<uint64_t>& stack, bool nested,
              std::string& why) {
  MsgpackHeader h;
  if (!c.peek(h)) {
    why = "truncated time";
    return false;
  }
  switch (h.kind) {
  case Kind::kUint:
  case Kind::kInt: {
    int64_t seconds;
    if (!c.readInt(seconds) || seconds > kMaxSeconds || seconds < kMinSeconds) {
      why = "integer time out of range";
      return false;
    }
    out = seconds * kNanosPerSecond;
    return true;
  }
  case Kind::kFloat32:
  case Kind::kFloat64: {
    double seconds = 0;
    c.readDouble(seconds);
    if (!std::isfinite(seconds) || seconds >= static_cast<double>(kMaxSeconds) ||
        seconds <= static_cast<double>(kMinSeconds)) {
      why = "float time out of range";
      return false;
    }
    const double whole = std::floor(seconds);
    out = static_cast<int64_t>(whole) * kNanosPerSecond +
          std::llround((seconds - whole) * static_cast<double>(kNanosPerSecond));
    return true;
  }
  case Kind::kExt: {
    int8_t type;
    std::string_view body;
    c.readExt(type, body);
    if (type != 0 || body.size() != 8) {
      why = fmt::format("extension type {} of {} bytes is not an EventTime", type, body.size());
      return false;
    }
    const uint32_t seconds = readBe32(body);
    const uint32_t nanos = readBe32(body.substr(4));
    if (nanos >= kNanosPerSecond) {
      why = "EventTime nanoseconds out of range";
      return false;
    }
    out = static_cast<int64_t>(seconds) * kNanosPerSecond + nanos;
    return true;
  }
  case Kind::kArray: {
    uint64_t n;
    if (nested && c.readArray(n) && n >= 1) {
      if (!readTime(c, out, stack, false, why)) return false;
      for (uint64_t i = 1; i < n; ++i) { // metadata: not kept
        if (!c.skip(stack)) {
          why = "truncated time metadata";
          return false;
        }
      }
      return true;
    }
    break;
  }
  default:
    break;
  }
  why = fmt::format("time is a {}", msgpackKindName(h.kind));
  return false;
}

} // namespace

std::string_view forwardModeName(ForwardMode mode) {
  switch (mode) {
  case ForwardMode::kMessage:
    return "Message";
  case ForwardMode::kForward:
    return "Forward";
  case ForwardMode::kPackedForward:
    return "PackedForward";
  case ForwardMode::kCompressedPackedForward:
    return "CompressedPackedForward";
  }
  return "?";
}

std::string_view decodeErrorReason(DecodeError error) {
  switch (error) {
  case DecodeError::kMalformed:
    return "malformed";
  case DecodeError::kUnknownMode:
    return "unknown_mode";
  case DecodeError::kBadGzip:
    return "bad_gzip";
  case DecodeError::kFrameTooLarge:
    return "frame_too_large";
  case DecodeError::kBadTime:
    return "bad_time";
  case DecodeError::kNonMapRecord:
    return "non_map_record";
  case DecodeError::kBadOption:
    return "bad_option";
  }
  return "unknown";
}

ForwardDecoder::ForwardDecoder(DecoderLimits limits)
    : limits_(limits), scanner_(std::make_unique<MsgpackScanner>()) {}
ForwardDecoder::~ForwardDecoder() = default;
ForwardDecoder::ForwardDecoder(ForwardDecoder&&) noexcept = default;
ForwardDecoder& ForwardDecoder::operator=(ForwardDecoder&&) noexcept = default;

char* ForwardDecoder::prepare(size_t n) {
  if (head_ == buffer_.size()) {
    buffer_.clear();
    head_ = 0;
  } else if (head_ > 0 && buffer_.capacity() - buffer_.size() < n) {
    // Compact only when out of room: the scanner works on offsets from head_, so moving the
    // unconsumed bytes to the front does not disturb a scan in progress.
    buffer_.consume(head_);
    head_ = 0;
  }
  return buffer_.prepare(n);
}

void ForwardDecoder::commit(size_t n) {
  buffer_.commit(n);
}

size_t ForwardDecoder::wanted() const {
  const size_t have = buffered();
  return scanner_->needed() > have ? scanner_->needed() - have : 1;
}

void ForwardDecoder::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void ForwardDecoder::trim(size_t keep_bytes) {
  if (buffered() == 0 && buffer_.capacity() > keep_bytes) {
    buffer_ = core::ByteBuffer();
    head_ = 0;
  }
  if (inflated_.capacity() > kKeepScratchBytes) inflated_ = core::ByteBuffer();
  if (records_.capacity() > kKeepScratchBytes / sizeof(DecodedRecord)) {
    records_ = std::vector<DecodedRecord>();
  }
}

std::optional<core::ByteBuffer> ForwardDecoder::takeRecordsBuffer() {
  const size_t record_bytes = std::exchange(record_bytes_, 0); // once per message
  if (failure_ || record_bytes < limits_.min_take_bytes) return std::nullopt;
  if (records_inflated_) return std::exchange(inflated_, core::ByteBuffer());
  // The receive buffer: what follows the frame is copied to a fresh buffer (usually part of
  // one read), the frame's bytes stay where they are. Copying the leftover must cost less
  // than copying the records would, and the bytes before the frame (consumed already, but
  // held by the batch too) must not outweigh them either.
  const size_t leftover = buffer_.size() - frame_end_;
  if (leftover + frame_begin_ > record_bytes / 2) return std::nullopt;
  // Room for a frame like this one: the next is likely of the same size.
  core::ByteBuffer next(frame_end_ - frame_begin_ + leftover);
  next.append(buffer_.data() + frame_end_, leftover);
  head_ -= frame_end_; // the unconsumed bytes keep their offsets from head_
  core::ByteBuffer taken = std::exchange(buffer_, std::move(next));
  taken.resize(frame_end_);
  return taken;
}

std::unexpected<DecodeFailure> ForwardDecoder::fail(DecodeError error, std::string detail) {
  failure_ = DecodeFailure{error, std::move(detail)};
  return std::unexpected(*failure_);
}

std::expected<std::optional<size_t>, DecodeFailure> ForwardDecoder::findFrame() {
  const auto* data = reinterpret_cast<const uint8_t*>(buffer_.data()) + head_;
  switch (scanner_->scan(data, buffered(), limits_.max_frame_bytes)) {
  case MsgpackScanner::Status::kComplete:
    return scanner_->length();
  case MsgpackScanner::Status::kIncomplete:
    return std::nullopt;
  case MsgpackScanner::Status::kInvalid:
    return fail(DecodeError::kMalformed, "invalid msgpack");
  case MsgpackScanner::Status::kTooDeep:
    return fail(DecodeError::kMalformed, "msgpack nested too deeply");
  case MsgpackScanner::Status::kTooLarge:
    return fail(
        DecodeError::kFrameTooLarge,
        fmt::format("frame larger than buffer_max_size ({} bytes)", limits_.max_frame_bytes));
  }
  return fail(DecodeError::kMalformed, "scanner state");
}

std::expected<std::optional<std::string_view>, DecodeFailure> ForwardDecoder::nextValue() {
  if (failure_) return std::unexpected(*failure_);
  auto frame = findFrame();
  if (!frame) return std::unexpected(frame.error());
  if (!*frame) return std::nullopt;
  std::string_view value(buffer_.data() + head_, **frame);
  head_ += **frame;
  return value;
}

std::expected<ForwardDecoder::Status, DecodeFailure> ForwardDecoder::next(DecodedMessage& out) {
  if (failure_) return std::unexpected(*failure_);
  while (true) {
    auto frame = findFrame();
    if (!frame) return std::unexpected(frame.error());
    if (!*frame) return Status::kNeedMore;
    const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data()) + head_;
    const size_t n = **frame;
    head_ += n; // consumed either way; the bytes stay in place until the next prepare()
    if (n == 1 && p[0] == 0xc0) continue; // heartbeat
    record_bytes_ = 0;                    // nothing to take until this frame decodes
    auto decoded = decodeFrame(p, n, out);
    if (!decoded) return std::unexpected(decoded.error());
    frame_begin_ = head_ - n;
    frame_end_ = head_;
    records_inflated_ = out.mode == ForwardMode::kCompressedPackedForward;
    record_bytes_ = out.record_bytes;
    return Status::kMessage;
  }
}

std::expected<void, DecodeFailure> ForwardDecoder::decodeFrame(const uint8_t* p, size_t n,
                                                               DecodedMessage& out) {
  MsgpackCursor c(p, p + n);
  uint64_t elements = 0;
  MsgpackHeader h;
  c.peek(h); // the scanner has checked the whole frame: every header here is complete
  if (!c.readArray(elements)) {
    return fail(DecodeError::kUnknownMode,
                fmt::format("a frame is a {}, not an array", msgpackKindName(h.kind)));
  }
  if (elements < 2 || elements > 4) {
    return fail(DecodeError::kUnknownMode, fmt::format("a frame of {} elements", elements));
  }
  std::string_view tag;
  if (!c.readStr(tag)) return fail(DecodeError::kMalformed, "the tag is not a string");

  out = DecodedMessage{};
  has_partial_ = false;
  out.tag = tag;
  out.frame_bytes = n;
  records_.clear();

  // The second element says the mode; the option map comes last, so the entries are located
  // first and decoded once the options (compression) are known.
  c.peek(h);
  const uint8_t* entries_begin = c.position();
  const uint8_t* entries_end = nullptr;
  std::string_view packed;
  int64_t message_time = 0;
  std::string why;
  uint64_t fixed_elements = 2;
  switch (h.kind) {
  case Kind::kArray:
    out.mode = ForwardMode::kForward;
    c.skip(stack_);
    entries_end = c.position();
    break;
  case Kind::kStr:
  case Kind::kBin:
    out.mode = ForwardMode::kPackedForward;
    c.readStrOrBin(packed);
    break;
  case Kind::kUint:
  case Kind::kInt:
  case Kind::kFloat32:
  case Kind::kFloat64:
  case Kind::kExt: {
    out.mode = ForwardMode::kMessage;
    fixed_elements = 3;
    if (elements < 3) return fail(DecodeError::kMalformed, "a Message without a record");
    if (!readTime(c, message_time, stack_, false, why)) return fail(DecodeError::kBadTime, why);
    MsgpackHeader record;
    c.peek(record);
    if (record.kind != Kind::kMap) {
      return fail(DecodeError::kNonMapRecord,
                  fmt::format("a record is a {}, not a map", msgpackKindName(record.kind)));
    }
    const uint8_t* begin = c.position();
    c.skip(stack_, kPartialKey, has_partial_);
    records_.push_back(
        {message_time,
         {reinterpret_cast<const char*>(begin), static_cast<size_t>(c.position() - begin)}});
    break;
  }
  default:
    return fail(DecodeError::kUnknownMode,
                fmt::format("no mode has a {} as second element", msgpackKindName(h.kind)));
  }
  if (elements > fixed_elements + 1) {
    return fail(DecodeError::kUnknownMode,
                fmt::format("a {} frame of {} elements", forwardModeName(out.mode), elements));
  }

  bool gzip = false;
  if (elements == fixed_elements + 1 && !c.readNil()) {
    uint64_t pairs;
    if (!c.readMap(pairs)) return fail(DecodeError::kBadOption, "the option is not a map");
    for (uint64_t i = 0; i < pairs; ++i) {
      std::string_view key;
      if (!c.readStr(key)) {
        if (!c.skip(stack_) || !c.skip(stack_)) return fail(DecodeError::kMalformed, "option");
        continue; // a non-string key names no option we know
      }
      if (key == "chunk") {
        std::string_view chunk;
        if (!c.readStrOrBin(chunk)) return fail(DecodeError::kBadOption, "chunk is not a string");
        out.chunk = chunk;
      } else if (key == "size") {
        uint64_t size;
        if (!c.readUint(size)) return fail(DecodeError::kBadOption, "size is not an integer");
        out.size = size;
      } else if (key == "compressed") {
        std::string_view compressed;
        if (!c.readStr(compressed)) {
          return fail(DecodeError::kBadOption, "compressed is not a string");
        }
        if (compressed == "gzip") {
          gzip = true;
        } else if (compressed != "text") {
          return fail(DecodeError::kBadOption, "compressed is neither \"gzip\" nor \"text\"");
        }
      } else if (!c.skip(stack_)) {
        return fail(DecodeError::kMalformed, "option value");
      }
    }
  }

  if (out.mode == ForwardMode::kForward) {
    // Skip the array header: entries follow back to back, as in PackedForward.
    MsgpackCursor entries(entries_begin, entries_end);
    uint64_t count;
    entries.readArray(count);
    auto r = decodeEntries(entries.position(), entries_end, false);
    if (!r) return r;
  } else if (out.mode == ForwardMode::kPackedForward) {
    const auto* begin = reinterpret_cast<const uint8_t*>(packed.data());
    if (gzip) {
      out.mode = ForwardMode::kCompressedPackedForward;
      inflated_.clear();
      auto inflated = codec::decompress(codec::Compression::kGzip, packed, inflated_,
                                        limits_.max_decompressed_bytes);
      if (!inflated) return fail(DecodeError::kBadGzip, inflated.error());
      begin = reinterpret_cast<const uint8_t*>(inflated_.data());
      auto r = decodeEntries(begin, begin + inflated_.size(), true);
      if (!r) return r;
    } else {
      auto r = decodeEntries(begin, begin + packed.size(), true);
      if (!r) return r;
    }
  }
  size_t bytes = 0;
  for (const auto& r : records_)
    bytes += r.map.size();
  out.records = records_;
  out.record_bytes = bytes;
  out.has_partial = has_partial_;
  return {};
}

std::expected<void, DecodeFailure> ForwardDecoder::decodeEntries(const uint8_t* p,
                                                                 const uint8_t* end, bool packed) {
  MsgpackCursor c(p, end);
  std::string why;
  const char* what = packed ? "packed entries" : "entries";
  while (!c.atEnd()) {
    uint64_t n;
    if (!c.readArray(n)) {
      MsgpackHeader h;
      if (!c.peek(h)) return fail(DecodeError::kMalformed, fmt::format("truncated {}", what));
      return fail(DecodeError::kMalformed,
                  fmt::format("an entry is a {}, not [time, record]", msgpackKindName(h.kind)));
    }
    if (n != 2) {
      return fail(DecodeError::kMalformed, fmt::format("an entry of {} elements", n));
    }
    int64_t ts;
    if (!readTime(c, ts, stack_, true, why)) {
      MsgpackHeader h;
      if (!c.peek(h)) return fail(DecodeError::kMalformed, fmt::format("truncated {}", what));
      return fail(DecodeError::kBadTime, why);
    }
    MsgpackHeader record;
    if (!c.peek(record)) return fail(DecodeError::kMalformed, fmt::format("truncated {}", what));
    if (record.kind != Kind::kMap) {
      return fail(DecodeError::kNonMapRecord,
                  fmt::format("a record is a {}, not a map", msgpackKindName(record.kind)));
    }
    const uint8_t* begin = c.position();
    if (!c.skip(stack_, kPartialKey, has_partial_)) {
      return fail(DecodeError::kMalformed, fmt::format("truncated {}", what));
    }
    records_.push_back(
        {ts, {reinterpret_cast<const char*>(begin), static_cast<size_t>(c.position() - begin)}});
  }
  return {};
}

} // namespace ferry::input::forward
