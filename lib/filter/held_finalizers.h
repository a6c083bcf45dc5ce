// Finalizers held by the filters that reassemble records across batches (concat_partial,
// multiline): a batch whose records are held is resolved only once the records made from them
// are, by splitting its finalizer between the batch passed on and every holder.
#pragma once

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::filter {

// One finalizer shared by several holders: it fires, with the worst outcome reported, when
// the last holder is done. A holder dropped without reporting counts as failed.
struct JoinState {
  core::BatchFinalizer finalizer;
  std::atomic<uint8_t> worst{0};
  ~JoinState() {
    if (finalizer)
      finalizer(static_cast<core::BatchOutcome>(worst.load(std::memory_order_acquire)));
  }
};

class JoinPart {
public:
  explicit JoinPart(std::shared_ptr<JoinState> state) : state_(std::move(state)) {}
  JoinPart(JoinPart&&) noexcept = default;
  JoinPart& operator=(JoinPart&&) noexcept = default;
  ~JoinPart() {
    if (state_) note(core::BatchOutcome::kFailed);
  }
  void operator()(core::BatchOutcome outcome) {
    if (!state_) return;
    note(outcome);
    state_.reset();
  }

private:
  void note(core::BatchOutcome outcome) {
    const auto v = static_cast<uint8_t>(outcome);
    uint8_t cur = state_->worst.load(std::memory_order_relaxed);
    // acq_rel: the holder that drops the last reference must see every outcome stored.
    while (v > cur && !state_->worst.compare_exchange_weak(cur, v, std::memory_order_acq_rel)) {
    }
  }
  std::shared_ptr<JoinState> state_;
};

inline core::BatchFinalizer combine(std::vector<core::BatchFinalizer> finalizers) {
  if (finalizers.size() == 1) return std::move(finalizers.front());
  return [fs = std::move(finalizers)](core::BatchOutcome outcome) mutable {
    for (auto& f : fs) {
      if (f) f(outcome);
    }
  };
}

// Gives `out` (the batch passed on in place of `in`) its finalizer: `in`'s own, shared with
// every holder still holding records of `in` (each gets a part in its list), together with
// `resolved`, the parts of earlier batches whose records are in `out`.
inline void passFinalizer(core::Batch& in, core::Batch& out,
                          const std::vector<std::vector<core::BatchFinalizer>*>& holders,
                          std::vector<core::BatchFinalizer> resolved) {
  if (!holders.empty()) {
    auto join = std::make_shared<JoinState>();
    join->finalizer = in.takeFinalizer();
    for (auto* parts : holders)
      parts->emplace_back(JoinPart(join));
    resolved.emplace_back(JoinPart(join));
  } else if (auto own = in.takeFinalizer()) {
    resolved.push_back(std::move(own));
  }
  if (!resolved.empty()) out.setFinalizer(combine(std::move(resolved)));
}

} // namespace ferry::filter
