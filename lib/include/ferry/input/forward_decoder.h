// Incremental decoder for the Fluent Forward Protocol v1 (Message, Forward, PackedForward,
// CompressedPackedForward): fed arbitrary byte chunks, it yields one message per frame.
// Limits: a frame over max_frame_bytes (buffer_max_size) and a gzip payload inflating past
// max_decompressed_bytes are errors; records stay the msgpack map bytes the client sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/buffer.h"

namespace ferry::input::forward {

class MsgpackScanner;

enum class ForwardMode : uint8_t { kMessage, kForward, kPackedForward, kCompressedPackedForward };
std::string_view forwardModeName(ForwardMode mode);

enum class DecodeError : uint8_t {
  kMalformed,     // not msgpack, or not the shape the protocol gives
  kUnknownMode,   // not an array of 2 to 4 elements, or a second element of no known mode
  kBadGzip,       // a compressed payload that is corrupt, truncated or inflates past the limit
  kFrameTooLarge, // a frame over max_frame_bytes
  kBadTime,       // a time that is not EventTime, an integer or a float (or is out of range)
  kNonMapRecord,  // a record that is not a msgpack map
  kBadOption,     // an option map with a wrong type (chunk, size, compressed)
};
// The `reason` label of ferry_input_errors_total ("malformed", "unknown_mode", ...).
std::string_view decodeErrorReason(DecodeError error);

struct DecodeFailure {
  DecodeError error;
  std::string detail; // for the log line; never holds record contents
};

struct DecodedRecord {
  int64_t timestamp_ns;
  std::string_view map; // the record's msgpack map, byte for byte as sent
};

// One decoded frame. Views point into the decoder and stay valid until the decoder's next
// non-const call.
struct DecodedMessage {
  ForwardMode mode = ForwardMode::kMessage;
  std::string_view tag;
  std::span<const DecodedRecord> records;
  size_t record_bytes = 0;               // sum of records[i].map.size()
  std::optional<std::string_view> chunk; // option `chunk`: the client wants {"ack": chunk}
  std::optional<uint64_t> size;          // option `size` (informational)
  size_t frame_bytes = 0;                // bytes the frame took on the wire
  bool has_partial = false;              // some record has a top-level `partial_message` key
};

struct DecoderLimits {
  size_t max_frame_bytes = 6 * 1024 * 1024;
  size_t max_decompressed_bytes = 64 * 1024 * 1024;
  // takeRecordsBuffer() gives nothing for a message with fewer record bytes: copying is cheaper.
  size_t min_take_bytes = 32 * 1024;
};

class ForwardDecoder {
public:
  enum class Status : uint8_t { kMessage, kNeedMore };

  explicit ForwardDecoder(DecoderLimits limits = {});
  ~ForwardDecoder();
  ForwardDecoder(ForwardDecoder&&) noexcept;
  ForwardDecoder& operator=(ForwardDecoder&&) noexcept;

  // Zero-copy input: read(2) up to n bytes into prepare(n), then commit what was read.
  char* prepare(size_t n);
  void commit(size_t n);
  // Copying input, for tests and callers that already hold the bytes.
  void feed(std::string_view bytes);

  // Decodes the next complete frame: kMessage fills `out`, kNeedMore means no complete frame
  // is buffered. Heartbeats (a bare nil) are skipped. After an error the decoder is spent:
  // every later call returns the same error (the connection is to be closed).
  std::expected<Status, DecodeFailure> next(DecodedMessage& out);

  // The next complete msgpack value as raw bytes, undecoded (the handshake's PING);
  // nullopt when none is complete yet. Shares the buffer and limits with next().
  std::expected<std::optional<std::string_view>, DecodeFailure> nextValue();

  // Bytes received and not yet consumed: after kNeedMore, > 0 means a frame is half-read.
  size_t buffered() const { return buffer_.size() - head_; }
  // After kNeedMore: how many more bytes the frame in progress is known to need (at least 1).
  // A reader can ask for that much at once: a large frame then arrives in few reads and
  // little of the next one is read with it.
  size_t wanted() const;
  bool failed() const { return failure_.has_value(); }
  // Gives back memory grown for a large frame once nothing is buffered.
  void trim(size_t keep_bytes);

  // Zero-copy hand-over, right after next() returned kMessage: gives away the buffer that
  // holds that message's records (the inflated payload of a CompressedPackedForward frame, or
  // the receive buffer, cut at the frame's end) so that a batch can keep the bytes where they
  // are instead of copying them. The message's views stay valid until the buffer is resized
  // (the caller may then shrinkToFit() it: its capacity runs past the frame); the decoder goes on
  // with a fresh buffer holding what was read past the frame. Empty when copying is cheaper: a
  // frame whose records are under min_take_bytes, or a receive buffer holding more of other frames
  // than of this one.
  std::optional<core::ByteBuffer> takeRecordsBuffer();

private:
  std::expected<std::optional<size_t>, DecodeFailure> findFrame();
  std::expected<void, DecodeFailure> decodeFrame(const uint8_t* p, size_t n, DecodedMessage& out);
  std::expected<void, DecodeFailure> decodeEntries(const uint8_t* p, const uint8_t* end,
                                                   bool packed);
  std::unexpected<DecodeFailure> fail(DecodeError error, std::string detail);

  DecoderLimits limits_;
  core::ByteBuffer buffer_; // [head_, size) is unconsumed
  size_t head_ = 0;
  std::unique_ptr<MsgpackScanner> scanner_;
  std::vector<uint64_t> stack_;        // skip scratch
  std::vector<DecodedRecord> records_; // the current message's records
  core::ByteBuffer inflated_;          // CompressedPackedForward payload
  // The last message returned by next(): where its frame ends in buffer_, whether its records
  // are in inflated_, and their total size (for takeRecordsBuffer()).
  size_t frame_begin_ = 0;
  size_t frame_end_ = 0;
  bool records_inflated_ = false;
  bool has_partial_ = false; // the frame being decoded has a record with partial_message
  size_t record_bytes_ = 0;
  std::optional<DecodeFailure> failure_;
};

} // namespace ferry::input::forward
