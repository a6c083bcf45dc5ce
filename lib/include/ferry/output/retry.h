// Retry timing (exponential backoff with jitter, applied per output while its sink fails) and
// adaptive concurrency (AIMD), the policies every sink gets from its runner.
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

// Retry scheduling for one output, not per request: while its sink fails, one request at a
// time probes it at the backoff rate (the n-th failure in a row waits Backoff::delay(n), or
// the sink's Retry-After if longer), and every other request waits; the first answer ends
// the outage and the waiting requests go out at once, under the concurrency limit. Per
// request backoff made N waiting requests try N times as often, and each one that met the
// outage waited out its own, longer timer after the sink was back.
class RetryGate {
public:
  using Clock = std::chrono::steady_clock;
  explicit RetryGate(Backoff& backoff) : backoff_(&backoff) {}
  bool failing() const { return failures_ > 0; }
  uint32_t failures() const { return failures_; }
  // When the next probe may go (meaningful while failing).
  Clock::time_point probeAt() const { return probe_at_; }
  bool probing() const { return probe_ != 0; }
  // May a request go out now? Always while the sink works; while it fails, only once the
  // probe time has come and no probe is out.
  bool maySend(Clock::time_point now) const {
    return failures_ == 0 || (probe_ == 0 && now >= probe_at_);
  }
  // Request `id` goes out: while failing, it is the probe.
  void sent(uint64_t id) {
    if (failures_ > 0) probe_ = id;
  }
  // Request `id` failed the way a failing sink fails (retry, throttling, timeout, network):
  // returns when it (and every waiting request) may be tried again. A request that was out
  // before the outage was noticed does not push the backoff further, nor does the one after.
  Clock::time_point failed(uint64_t id, Clock::time_point now,
                           std::chrono::milliseconds retry_after);
  // The sink answered a request (delivered it, or judged it for good), the probe or one sent
  // before: it is back and the outage is over. True when there was one (the waiting requests
  // are due now).
  bool answered() {
    const bool was = failures_ > 0;
    failures_ = 0;
    probe_ = 0;
    return was;
  }
  // Request `id` ended without an answer (given up, or split): it is no longer the probe.
  void forget(uint64_t id) {
    if (probe_ == id) probe_ = 0;
  }

private:
  Backoff* backoff_;
  uint32_t failures_ = 0; // failed probes in a row (0: the sink works)
  uint64_t probe_ = 0;    // the request probing the failing sink, 0 if none is out
  Clock::time_point probe_at_{};
};

} // namespace ferry::output
