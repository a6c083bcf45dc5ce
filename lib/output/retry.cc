// Backoff, the output's retry gate and AIMD concurrency arithmetic.
#include "ferry/output/retry.h"

#include <algorithm>
#include <cmath>

namespace ferry::output {

std::chrono::milliseconds Backoff::delay(uint32_t failed_attempts) {
  const uint32_t n = std::max<uint32_t>(failed_attempts, 1);
  double d = static_cast<double>(policy_.initial_backoff_ms) *
             std::ldexp(1.0, std::min<uint32_t>(n - 1, 40));
  d = std::min(d, static_cast<double>(policy_.max_backoff_ms));
  std::uniform_real_distribution<double> jitter(d / 2, d);
  return std::chrono::milliseconds(static_cast<int64_t>(jitter(rng_)));
}

RetryGate::Clock::time_point RetryGate::failed(uint64_t id, Clock::time_point now,
                                               std::chrono::milliseconds retry_after) {
  if (failures_ == 0 || id == probe_) {
    ++failures_;
    probe_ = 0;
    probe_at_ = now + std::max<std::chrono::milliseconds>(backoff_->delay(failures_), retry_after);
  } else if (retry_after.count() > 0 && now + retry_after > probe_at_) {
    probe_at_ = now + retry_after; // the sink asked every request to wait this long
  }
  return probe_at_;
}

void ConcurrencyLimit::onSuccess(std::chrono::microseconds latency, uint32_t in_flight) {
  const double us = static_cast<double>(latency.count());
  avg_latency_us_ = avg_latency_us_ == 0 ? us : avg_latency_us_ * 0.9 + us * 0.1;
  if (best_latency_us_ == 0 || us < best_latency_us_) best_latency_us_ = us;
  // Slowly forget the best latency, so a sink that got slower for good is re-baselined.
  best_latency_us_ *= 1.001;
  if (fixed_) return;
  // Grow only when the limit is what holds us back and latency has not degraded (queueing
  // at the sink shows up as latency well above its best).
  if (in_flight + 1 >= current() && avg_latency_us_ < best_latency_us_ * 2.0) {
    limit_ = std::min<double>(limit_ + 1.0 / limit_, max_);
  }
}

void ConcurrencyLimit::onBackpressure() {
  if (fixed_) return;
  limit_ = std::max(1.0, limit_ / 2);
}

} // namespace ferry::output
