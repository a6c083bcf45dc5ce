// The output runner's private pieces, shared by its source files: how it sees a batch, a
// request and an encode's results, and the encoder pool. Only lib/output/runner*.cc include it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "ferry/output/runner.h"

namespace ferry::output {

using RunnerClock = std::chrono::steady_clock;

int64_t runnerNowNs();

inline core::BatchOutcome worse(core::BatchOutcome a, core::BatchOutcome b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

// One batch as this output sees it.
struct OutputRunner::PendingBatch {
  core::BatchRef batch;
  uint64_t seq = 0;        // arrival order
  uint32_t unresolved = 0; // records not yet resolved for this output
  core::BatchOutcome worst = core::BatchOutcome::kDelivered;
  RunnerClock::time_point arrived;
};

struct OutputRunner::Slice {
  PendingPtr pending;
  uint32_t begin;
  uint32_t count;
};

// The records of one partition key not yet taken into a request: runs of consecutive records
// of one batch, in arrival order.
struct OutputRunner::Partition {
  std::string key;
  std::deque<Slice> runs;
  size_t records = 0;
  uint64_t bytes = 0; // record bytes (entry lengths)
  // Its oldest record's place in the arrival order.
  std::pair<uint64_t, uint32_t> age() const {
    return {runs.front().pending->seq, runs.front().begin};
  }
};

// ferry_host_api.encode_partition: the key of the ferry_on_encode running on this thread.
size_t hostEncodePartition(void* host_context, const char** key);

// A request knows its records: `slices` are those it was encoded from, `states` (when the
// plugin names them, ferry_on_request_records) what became of each, and every verdict acts on
// the ones still held. A plugin that cannot name them leaves the runner only counts: those
// records stay in the request, unresolved for the batches, until it ends (`hidden_*`).
struct OutputRunner::Request {
  uint64_t id = 0;
  ferry_plugin_request* handle = nullptr;
  std::string partition;       // the key of its records (partitioned outputs)
  std::vector<Slice> slices;   // the records it was encoded from, in order
  std::vector<uint8_t> states; // ferry_record_state per record of slices; empty: all held
  uint64_t held = 0;           // records it still holds: what the next verdict acts on
  uint64_t hidden = 0;         // resolved (and counted) records the plugin could not name
  uint64_t hidden_encode_drops =
      0; // of those, refused by the encoder (a re-encode refuses them again)
  bool hidden_delivered = false; // some of them reached the sink: never encode these again
  core::BatchOutcome hidden_worst = core::BatchOutcome::kDelivered; // theirs, for the batches
  uint64_t record_bytes = 0; // of the records it was encoded from
  uint64_t held_bytes = 0;   // counted in request_bytes_ for it (the plugin's side)
  uint32_t attempts = 0;     // failed attempts so far
  RunnerClock::time_point not_before;
  RunnerClock::time_point started;
  ferry_http_request http{}; // the attempt in flight

  uint8_t stateAt(size_t pos) const {
    return states.empty() ? uint8_t{FERRY_RECORD_HELD} : states[pos];
  }
  size_t encodedRecords() const {
    size_t n = 0;
    for (const auto& s : slices)
      n += s.count;
    return n;
  }
  // Calls f(slice, first, count) for each run of records it still holds (the hidden ones too:
  // the runner cannot tell them apart).
  template <typename F> void forEachHeldRun(F&& f) const {
    size_t pos = 0;
    for (const auto& s : slices) {
      uint32_t run = 0;
      for (uint32_t i = 0; i < s.count; ++i, ++pos) {
        if (stateAt(pos) == FERRY_RECORD_HELD) {
          ++run;
          continue;
        }
        if (run) f(s, s.begin + i - run, run);
        run = 0;
      }
      if (run) f(s, s.begin + s.count - run, run);
    }
  }
};

// What one ferry_on_encode call produced. Built on any encoder thread (nothing here touches
// runner state); adopted on the runner thread, which counts, resolves and frees.
struct OutputRunner::Encoded {
  RequestPtr request;                    // slices and records; handle null if nothing to send
  size_t dropped = 0;                    // records the encoder refused outright
  std::string error;                     // the encoder failed: its first record is dropped
  ferry_plugin_request* stray = nullptr; // a handle returned with a failure, to free
};

// One pool encode's results, and the request bytes it was expected to produce (counted
// towards the cap while it runs).
struct OutputRunner::EncodeJob {
  std::vector<Encoded> encoded;
  uint64_t estimate = 0;
};

// Encoder threads for plugins that allow parallel encoding (limits.parallel_encode):
// compression is most of a remote sink's CPU, and one runner thread would cap an output at
// one core. Jobs are independent; results go back through the runner's incoming queue.
class OutputRunner::EncodePool {
public:
  explicit EncodePool(size_t threads) {
    for (size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { work(); });
  }
  ~EncodePool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }
  size_t size() const { return threads_.size(); }
  void submit(std::move_only_function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

private:
  void work() {
    for (;;) {
      std::move_only_function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return; // stopping, and nothing left to run
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::move_only_function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

} // namespace ferry::output
