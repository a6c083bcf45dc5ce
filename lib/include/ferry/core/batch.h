// Batch: the unit that moves through ferry. One tag, many records, one contiguous buffer,
// shared by reference count between the outputs it fans out to (never copied).
//
// Records are slices of the buffer: a msgpack map as a forward client sent it, or a line as
// tail/stdin read it. Nothing is decoded until something needs the fields.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/core/buffer.h"
#include "ferry/plugin.h"

namespace ferry::core {

enum class RecordFormat : uint8_t {
  kMsgpackMap = FERRY_RECORD_MSGPACK_MAP,
  kLine = FERRY_RECORD_LINE,
};

struct RecordEntry {
  int64_t timestamp_ns;
  uint32_t offset; // into the batch buffer
  uint32_t length;
};

struct RecordView {
  int64_t timestamp_ns;
  std::string_view data;
};

// How a batch ended for the outputs it went to; the worst outcome wins.
enum class BatchOutcome : uint8_t {
  kDelivered = 0, // every output delivered it (or no output matched it)
  kDropped = 1,   // some output dropped records where a limit said so (counted)
  kFailed = 2,    // some output gave up (retry budget, shutdown) (counted)
};

// Called once, when every output the batch went to has resolved it (a Vector-style
// finalizer). Sources use it to ack: tail saves its position, storage frees its segment.
// It captures what it needs (offsets, chunk ids); the batch may be gone when it runs.
using BatchFinalizer = std::move_only_function<void(BatchOutcome)>;

class BatchRef;

class Batch {
public:
  // Limits an input should respect when filling a batch (ARCHITECTURE.md: ~1k records or
  // ~256 KiB); a batch may exceed the byte target by one record.
  static constexpr size_t kTargetRecords = 1024;
  static constexpr size_t kTargetBytes = 256 * 1024;
  static constexpr size_t kMaxBufferBytes = UINT32_MAX;

  static BatchRef create(std::string tag, RecordFormat format, size_t reserve_bytes = 0,
                         size_t reserve_records = 0);

  const std::string& tag() const { return tag_; }
  RecordFormat format() const { return format_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Bytes this batch holds (payload + index), what budgets count.
  size_t byteSize() const { return buffer_.size() + entries_.size() * sizeof(RecordEntry); }

  RecordView record(size_t i) const {
    const RecordEntry& e = entries_[i];
    return {e.timestamp_ns, buffer_.view(e.offset, e.length)};
  }
  const RecordEntry& entry(size_t i) const { return entries_[i]; }
  const std::vector<RecordEntry>& entries() const { return entries_; }

  // ---- Building (only while the batch has a single owner: before it enters the ring) ---
  void append(int64_t timestamp_ns, std::string_view data) {
    const auto offset = static_cast<uint32_t>(buffer_.size());
    buffer_.append(data);
    entries_.push_back({timestamp_ns, offset, static_cast<uint32_t>(data.size())});
  }
  // Indexes a record already written into buffer() (zero-copy fill).
  void addEntry(int64_t timestamp_ns, uint32_t offset, uint32_t length) {
    entries_.push_back({timestamp_ns, offset, length});
  }
  ByteBuffer& buffer() { return buffer_; }
  const ByteBuffer& buffer() const { return buffer_; }
  std::vector<RecordEntry>& mutableEntries() { return entries_; }
  void setTag(std::string tag) { tag_ = std::move(tag); }

  // Which input made it (backpressure is applied per input). kNoInput for tests/replays.
  static constexpr uint32_t kNoInput = UINT32_MAX;
  uint32_t inputId() const { return input_id_; }
  void setInputId(uint32_t id) { input_id_ = id; }

  // Storage on: the disk buffer entry this batch was stored as (or read back from), so an
  // output's disk queue knows which entry a resolved batch frees without a side map. The
  // router hands it to a filter's replacement batch with the input id. kNotStored otherwise.
  static constexpr uint64_t kNotStored = UINT64_MAX;
  uint64_t storeSeq() const { return store_seq_; }
  void setStoreSeq(uint64_t seq) { store_seq_ = seq; }

  // Whether some record has a top-level `partial_message` field (a Docker/containerd split
  // line), when the input knows: the forward decoder looks at every key anyway, and this
  // spares concat_partial a scan of the whole buffer. kUnknown: nobody looked.
  enum class PartialHint : uint8_t { kUnknown, kNone, kSome };
  PartialHint partialHint() const { return partial_hint_; }
  void setPartialHint(PartialHint hint) { partial_hint_ = hint; }

  // ---- Acknowledgement -------------------------------------------------------------
  void setFinalizer(BatchFinalizer f) { finalizer_ = std::move(f); }
  // Moves the finalizer out (a filter that replaces a batch hands it to the new one).
  BatchFinalizer takeFinalizer() { return std::move(finalizer_); }
  // The router announces how many outputs will resolve this batch, before handing it to
  // any of them. Zero resolves it at once as delivered (nothing wanted it).
  void expectOutputs(uint32_t n);
  // Each output calls this exactly once per batch it received.
  void resolveOutput(BatchOutcome outcome);

  // ---- Reference counting (use BatchRef) ---------------------------------------------
  void ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  // acq_rel: the thread that drops the last reference must see every write made through
  // the others before it frees the batch.
  void unref() const {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

private:
  Batch(std::string tag, RecordFormat format) : tag_(std::move(tag)), format_(format) {}
  ~Batch();

  std::string tag_;
  RecordFormat format_;
  uint32_t input_id_ = kNoInput;
  uint64_t store_seq_ = kNotStored;
  PartialHint partial_hint_ = PartialHint::kUnknown;
  ByteBuffer buffer_;
  std::vector<RecordEntry> entries_;
  BatchFinalizer finalizer_;
  mutable std::atomic<uint32_t> refs_{0};
  std::atomic<uint32_t> pending_outputs_{0};
  std::atomic<uint8_t> worst_{0};
};

// Shared handle to a Batch (intrusive count: one allocation per batch, not two).
class BatchRef {
public:
  BatchRef() = default;
  explicit BatchRef(Batch* b) : p_(b) {
    if (p_) p_->ref();
  }
  BatchRef(const BatchRef& o) : p_(o.p_) {
    if (p_) p_->ref();
  }
  BatchRef(BatchRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  BatchRef& operator=(BatchRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~BatchRef() {
    if (p_) p_->unref();
  }
  // Hands the reference over as a raw pointer (to travel through the ring) and back.
  Batch* release() { return std::exchange(p_, nullptr); }
  static BatchRef adopt(Batch* b) {
    BatchRef r;
    r.p_ = b;
    return r;
  }
  Batch* get() const { return p_; }
  Batch* operator->() const { return p_; }
  Batch& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }

private:
  Batch* p_ = nullptr;
};

} // namespace ferry::core
