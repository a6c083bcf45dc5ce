// Batch creation and the finalizer bookkeeping: a batch resolves once every output it was
// routed to has resolved it; a batch freed unresolved counts as failed (never as acked).
#include "ferry/core/batch.h"

namespace ferry::core {

BatchRef Batch::create(std::string tag, RecordFormat format, size_t reserve_bytes,
                       size_t reserve_records) {
  auto* b = new Batch(std::move(tag), format); // owned by the BatchRef below
  if (reserve_bytes) b->buffer_.reserve(reserve_bytes);
  if (reserve_records) b->entries_.reserve(reserve_records);
  return BatchRef(b);
}

Batch::~Batch() {
  if (finalizer_) {
    auto f = std::move(finalizer_);
    f(BatchOutcome::kFailed);
  }
}

void Batch::expectOutputs(uint32_t n) {
  if (n == 0) {
    if (finalizer_) {
      auto f = std::move(finalizer_);
      f(BatchOutcome::kDelivered);
    }
    return;
  }
  pending_outputs_.store(n, std::memory_order_relaxed);
}

void Batch::resolveOutput(BatchOutcome outcome) {
  uint8_t o = static_cast<uint8_t>(outcome);
  uint8_t cur = worst_.load(std::memory_order_relaxed);
  while (o > cur && !worst_.compare_exchange_weak(cur, o, std::memory_order_relaxed)) {
  }
  // acq_rel: the last output to resolve must see the outcomes the others stored above.
  if (pending_outputs_.fetch_sub(1, std::memory_order_acq_rel) == 1 && finalizer_) {
    auto f = std::move(finalizer_);
    f(static_cast<BatchOutcome>(worst_.load(std::memory_order_relaxed)));
  }
}

} // namespace ferry::core
