// The assembled data path: inputs → ring → router (filters, fan-out) → output runners.
// Owns start-up order, backpressure between outputs and inputs, and the shutdown sequence
// (stop inputs, drain the ring, flush outputs within the grace period, report losses).
// With service.storage, every batch is appended to disk before its input is acknowledged and
// each output's queue is a storage::DiskQueue (storage/disk_queue.h): it reads its backlog
// from disk first after a restart, and whenever its memory budget is full (so it never
// pauses inputs).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/core/batch.h"
#include "ferry/core/ring.h"
#include "ferry/core/router.h"
#include "ferry/input/input.h"
#include "ferry/obs/metrics.h"
#include "ferry/output/plugin_host.h"
#include "ferry/output/runner.h"
#include "ferry/storage/disk_queue.h"

namespace ferry::app {

struct ShutdownReport {
  uint64_t records_lost = 0;      // given up by outputs during shutdown (counted as failed)
  uint64_t records_persisted = 0; // storage on: left on disk for the next start
  bool clean = true;              // every output emptied within the grace period
};

// What `ferry replay` did for one output.
struct ReplayResult {
  std::string output;
  uint64_t records = 0;   // read from its dead-letter queue
  uint64_t delivered = 0; // sent (or refused for good by the sink, counted as dropped)
  bool complete = false;  // everything went: the queue was removed
};

// Where a replay of one output's queue stands, for a progress display.
struct ReplayProgress {
  std::string_view output;
  uint64_t records = 0;     // read from the queue and resent so far
  uint64_t bytes = 0;       // of those records
  uint64_t queue_bytes = 0; // the queue's size on disk when the replay started
  uint64_t delivered = 0;
};
using ReplayProgressFn = std::function<void(const ReplayProgress&)>;

// Dead-letter queues (storage on): batches an output gave up on after retry.max_attempts
// are kept in <storage.path>/dead-letter/<output>/ . This resends them through the
// configured output (all outputs, or `only`), waiting at most `budget` for each. `progress`,
// when set, is called as records are resent and delivered (at most every 100 ms, and once
// when an output's queue is done).
std::vector<ReplayResult> replayDeadLetters(const config::Config& config,
                                            output::PluginHost& plugins, obs::Metrics& metrics,
                                            const std::string& only,
                                            std::chrono::milliseconds budget,
                                            const ReplayProgressFn& progress = {});

class Pipeline {
public:
  Pipeline(const config::Config& config, output::PluginHost& plugins, obs::Metrics& metrics);
  ~Pipeline();

  // Builds every component (may throw std::runtime_error naming the component) and starts
  // outputs, router and inputs in that order (consumers before producers).
  void start();
  // True when every input is finite and has finished (stdin at end of input).
  bool inputsFinished() const;
  // Stops inputs, drains the ring and flushes outputs until the grace period ends.
  ShutdownReport stop(std::chrono::milliseconds grace);

  const std::vector<output::OutputRunnerPtr>& outputs() const { return outputs_; }
  size_t ringSlotsUsed() const { return ring_.sizeApprox(); }

private:
  class Context;
  class RunnerConsumer;
  void routerLoop();
  void pollFilters(bool all);
  void openStorage();

  const config::Config& config_;
  output::PluginHost& plugins_;
  obs::Metrics& metrics_;
  // Storage on (service.storage): each output's queue. Declared before the router and the
  // outputs, so that it outlives the batches they free (their finalizers may reach it).
  storage::DiskBufferPtr disk_;
  core::MpscRing<core::Batch*> ring_;
  // Bytes of the batches in the ring, not yet routed: they count against the budgets of the
  // outputs they are heading for, or a busy input outruns a starved router thread (tail →
  // datadog on 2 cores put 17 MB in the ring past a 2 MiB budget).
  std::atomic<uint64_t> ring_bytes_{0};
  core::Router router_;
  std::vector<std::unique_ptr<RunnerConsumer>> consumers_;
  std::vector<output::OutputRunnerPtr> outputs_;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<input::InputPtr> inputs_;
  std::thread router_thread_;
  std::atomic<bool> router_stop_{false};
  std::atomic<bool> stopping_{false};
  std::vector<core::OutputQueue*> queues_; // what the router hands batches to, per output

  bool started_ = false;
  bool stopped_ = false;
};

} // namespace ferry::app
