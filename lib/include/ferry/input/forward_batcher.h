// Turns decoded forward messages into Batches (one tag, ≤ kTargetRecords / kTargetBytes) and
// tracks which `chunk` acks may be sent: only once push() took every record of the message.
// Limits: max_record_bytes per record (drop, or truncate the `log` field).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/batch.h"
#include "ferry/input/forward_decoder.h"
#include "ferry/obs/metrics.h"

namespace ferry::input::forward {

enum class RecordTooLarge : uint8_t { kDrop, kTruncate };

struct BatcherSettings {
  std::string tag_prefix;
  size_t max_record_bytes = 1024 * 1024;
  RecordTooLarge record_too_large = RecordTooLarge::kDrop;
  uint32_t input_id = core::Batch::kNoInput;
  size_t target_records = core::Batch::kTargetRecords;
  size_t target_bytes = core::Batch::kTargetBytes;
  obs::Counter* dropped = nullptr;   // records over max_record_bytes that were dropped
  obs::Counter* truncated = nullptr; // records over max_record_bytes that were truncated
};

class ForwardBatcher {
public:
  // InputContext::push: true when the ring took the batch.
  using PushFn = std::function<bool(core::BatchRef)>;

  // `settings` must outlive the batcher (one instance serves every connection).
  ForwardBatcher(const BatcherSettings& settings, PushFn push);

  // Appends the message's records, pushing batches as they fill (a message that fits a batch
  // on its own is never split across two). False once a push was refused (stopping): the
  // batcher then takes nothing more and acks nothing more.
  // With `source` (the decoder that produced the message), a large message that makes a batch
  // on its own takes the decoder's buffer instead of copying its records (zero-copy).
  bool add(const DecodedMessage& message, ForwardDecoder* source = nullptr);
  // Pushes the batch being filled, if any.
  bool flush();
  // Chunks whose messages are wholly in the ring, oldest first: the caller sends
  // {"ack": chunk} for each and clears the vector.
  std::vector<std::string>& readyAcks() { return ready_acks_; }
  bool hasUnpushed() const { return static_cast<bool>(current_); }
  bool refused() const { return refused_; }

private:
  bool pushCurrent();
  // The zero-copy path of add(): false when the message does not qualify (nothing changed).
  bool adoptMessage(const DecodedMessage& message, ForwardDecoder& source);
  void startBatch(std::string_view tag, size_t bytes_hint, size_t records_hint);
  void appendRecord(const DecodedRecord& record);

  const BatcherSettings& settings_;
  PushFn push_;
  core::BatchRef current_;
  std::string tag_; // the tag of current_ as the client sent it (before the prefix)
  size_t current_bytes_ = 0;
  std::vector<std::string> pending_acks_; // their records are in current_
  std::vector<std::string> ready_acks_;
  bool refused_ = false;
};

// Writes `map` (a msgpack map over max_bytes) to `out` with its `log` string cut short at a
// UTF-8 boundary and "ferry.truncated": true added, so that the result fits max_bytes.
// False, writing nothing, when the map has no `log` string or cannot be made to fit.
bool truncateRecord(std::string_view map, size_t max_bytes, core::ByteBuffer& out);

} // namespace ferry::input::forward
