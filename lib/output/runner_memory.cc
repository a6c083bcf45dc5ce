// The output runner's memory: budget arithmetic (records and the bodies of encoded requests
// against buffer.max_bytes) and the policy that hands freed bodies back to the system.
//
// A request keeps its records (the batches stay until resolved) and the plugin keeps its
// body, possibly as large again, until the sink answers. Both count in buffer.max_bytes, and
// the bodies of encoded, unacknowledged requests may take about half of it: no new request is
// encoded while they hold that much (one always may be, so a body larger than that still goes
// out), however many requests the concurrency limit would allow in flight. The inputs pause
// before the records waiting to be encoded would need more than the budget leaves for their
// bodies, so records and bodies together stay within it.
#include <malloc.h>

#include "runner_internal.h"

namespace ferry::output {

int64_t runnerNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(RunnerClock::now().time_since_epoch())
      .count();
}

namespace {

// Freed bodies and batches go back to glibc, which keeps them: its arenas grow to a peak and
// the free pieces between live ones stay resident (forward → firehose, 16 MiB budget: ~21 MB
// held, 80-100 MB of RSS, 60 MB of it free in two arenas). Once a runner has freed this much
// in bodies, what is free goes back to the system, at most every kTrimIntervalNs in the process:
// each trim costs page faults later, as the memory is used again (every 100 ms: RSS 45 MB but
// ferry's CPU +80%; 300 ms: 48-53 MB, +35%; 1 s: 56-68 MB, +0%).
constexpr uint64_t kTrimAfterBytes = 1u << 20;
// 1 s: the bench's forward → firehose at 45 k records/s, peak RSS 58-62 MiB (300 ms: 34 k and
// 47 MiB, ferry's records per CPU-second nearly halved).
constexpr int64_t kTrimIntervalNs = 1'000'000'000;

// True if it trimmed (false: it or another runner did, less than kTrimIntervalNs ago).
bool releaseFreedMemory() {
#if defined(__GLIBC__)
  static std::atomic<int64_t> last_ns{0};
  const int64_t now = runnerNowNs();
  int64_t last = last_ns.load(std::memory_order_relaxed);
  if (now - last < kTrimIntervalNs || !last_ns.compare_exchange_strong(last, now)) return false;
  malloc_trim(0);
#endif
  return true;
}

} // namespace

uint64_t OutputRunner::expectedBodyBytes(uint64_t record_bytes) const {
  return static_cast<uint64_t>(static_cast<double>(record_bytes) *
                               body_ratio_.load(std::memory_order_relaxed));
}

bool OutputRunner::mayEncode() const {
  // Not "held + the next body <= cap": estimated from whole batches, the next body comes out
  // larger than it will be (the plugin stops at its own limit), and a 16 MiB Firehose output
  // then kept one 4 MiB call in flight instead of two.
  const uint64_t held = requestBytes() + encoding_estimate_;
  return held == 0 || held < bodyCap();
}

uint64_t OutputRunner::bodiesToCome() const {
  const uint64_t held = requestBytes();
  const uint64_t room = held < bodyCap() ? bodyCap() - held : 0;
  return std::min(room, expectedBodyBytes(untaken_bytes_.load(std::memory_order_relaxed)));
}

uint64_t OutputRunner::heldBytes(const Request& request) const {
  if (request.handle == nullptr) return 0;
  if (api_.request_bytes) return api_.request_bytes(instance_, request.handle);
  return request.http.body_len; // a plugin older than ABI 1.2: the body it last described
}

void OutputRunner::recount(Request& request) {
  const uint64_t held = heldBytes(request);
  if (held >= request.held_bytes) {
    request_bytes_.fetch_add(held - request.held_bytes, std::memory_order_relaxed);
  } else {
    request_bytes_.fetch_sub(request.held_bytes - held, std::memory_order_relaxed);
  }
  request.held_bytes = held;
}

void OutputRunner::freeRequest(Request& request) {
  api_.request_free(instance_, request.handle);
  request.handle = nullptr;
  request_bytes_.fetch_sub(request.held_bytes, std::memory_order_relaxed);
  freed_since_trim_ += request.held_bytes;
  request.held_bytes = 0;
  if (freed_since_trim_ >= kTrimAfterBytes && releaseFreedMemory()) freed_since_trim_ = 0;
}

// Smoothed, for estimating what the encodes still running will hold.
void OutputRunner::learnBodyRatio(const Request& request) {
  if (request.record_bytes == 0) return;
  body_ratio_.store(0.75 * body_ratio_.load(std::memory_order_relaxed) +
                        0.25 * static_cast<double>(request.held_bytes) /
                            static_cast<double>(request.record_bytes),
                    std::memory_order_relaxed);
}

} // namespace ferry::output
