// The output runner's memory: budget arithmetic (records and the bodies of encoded requests
// against buffer.max_bytes). Freed bodies go back to the system by themselves: those of 1 MiB
// and more are mmap'ed (the thresholds are set in daemon/main.cc).
//
// A request keeps its records (the batches stay until resolved) and the plugin keeps its
// body, possibly as large again, until the sink answers. Both count in buffer.max_bytes, and
// the bodies of encoded, unacknowledged requests may take about half of it: no new request is
// encoded while they hold that much (one always may be, so a body larger than that still goes
// out), however many requests the concurrency limit would allow in flight. The inputs pause
// before the records waiting to be encoded would need more than the budget leaves for their
// bodies, so records and bodies together stay within it.
#include "runner_internal.h"

namespace ferry::output {

int64_t runnerNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(RunnerClock::now().time_since_epoch())
      .count();
}

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
  request.held_bytes = 0;
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
