// Retry timing (exponential backoff with jitter) and adaptive concurrency (AIMD), the two
// policies every sink gets from its runner.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "ferry/config/config.h"

namespace ferry::output {

// Backoff before attempt n+1 after n failed attempts: initial * 2^(n-1), capped at max,
// with "equal jitter" (a random value in [d/2, d]) so that many outputs or many ferry
// processes retrying the same sink spread out instead of arriving together.
class Backoff {
public:
  explicit Backoff(const config::RetryPolicy& policy, uint64_t seed = std::random_device{}())
      : policy_(policy), rng_(seed) {}
  std::chrono::milliseconds delay(uint32_t failed_attempts);
  // True when a request that failed `failed_attempts` times may not be tried again.
  bool exhausted(uint32_t failed_attempts) const {
    return policy_.max_attempts != 0 && failed_attempts >= policy_.max_attempts;
  }

private:
  config::RetryPolicy policy_;
  std::mt19937_64 rng_;
};

// Adaptive requests-in-flight limit, like TCP's AIMD: +1 per window of successes while
// latency holds near its best, halved on throttling or errors. Starts at kInitial so that
// even a fresh output keeps several requests in flight.
class ConcurrencyLimit {
public:
  static constexpr double kInitial = 4;
  ConcurrencyLimit(uint32_t fixed, uint32_t max) : fixed_(fixed), max_(max ? max : 64) {
    limit_ = fixed_ ? fixed_ : std::min<double>(kInitial, max_);
  }
  uint32_t current() const { return static_cast<uint32_t>(limit_); }
  void onSuccess(std::chrono::microseconds latency, uint32_t in_flight);
  void onBackpressure(); // 429, 5xx, network error, timeout
  bool adaptive() const { return fixed_ == 0; }

private:
  uint32_t fixed_;
  uint32_t max_;
  double limit_;
  double best_latency_us_ = 0;
  double avg_latency_us_ = 0;
};

} // namespace ferry::output
