// The assembled data path: inputs → ring → router (filters, fan-out) → output runners.
// Owns start-up order, backpressure between outputs and inputs, and the shutdown sequence
// (stop inputs, drain the ring, flush outputs within the grace period, report losses).
// With service.storage, every batch is appended to disk before its input is acknowledged;
// each output has a cursor, reads its backlog from disk first after a restart, and falls
// back to reading from disk whenever its memory budget is full (so it never pauses inputs).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
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
#include "ferry/storage/segment_store.h"

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
std::vector<ReplayResult> replayDeadLetters(const config::Config& config, output::PluginHost& plugins,
                                            obs::Metrics& metrics, const std::string& only,
                                            std::chrono::milliseconds budget,
                                            const ReplayProgressFn& progress = {});
std::string deadLetterSubdir(const std::string& output);

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

  storage::SegmentStore* store() const { return store_.get(); }

private:
  class Context;
  class Feed;
  struct OutputStore;
  void routerLoop();
  void pollFilters(bool all);
  // ---- storage on ----
  void openStorage();
  void storageLoop();
  // Moves batches from disk to one output while it has room; true when it caught up.
  bool feedFromDisk(size_t output);
  void feedEnqueue(size_t output, core::BatchRef batch, bool from_disk);
  void onOutputResolved(size_t output, const core::Batch& batch, core::BatchOutcome outcome);
  uint64_t outputCursor(size_t output);
  void holdEntry(core::Batch& batch, uint64_t seq, size_t output);
  void saveCursors();
  void deadLetter(size_t output, const core::Batch& batch);
  bool storageFullPause() const;
  // The disk buffer failed a write (inputs pause, /health says why) / took one again.
  void storageUnwritable(const std::string& error);
  void storageWritable();
  // Counts and logs entries lost to damaged segments (found on start or while reading).
  void reportDamage(const std::vector<storage::Damage>& damage, std::string_view where);

  const config::Config& config_;
  output::PluginHost& plugins_;
  obs::Metrics& metrics_;
  core::MpscRing<core::Batch*> ring_;
  core::Router router_;
  std::vector<output::OutputRunnerPtr> outputs_;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<input::InputPtr> inputs_;
  std::thread router_thread_;
  std::atomic<bool> router_stop_{false};
  std::atomic<bool> stopping_{false};
  bool holds_entries_ = false; // a multiline filter may hold records of stored entries (holdEntry)
  std::vector<core::OutputQueue*> queues_; // what the router hands batches to, per output

  storage::SegmentStorePtr store_;
  std::mutex append_mu_; // appends and ring pushes happen in the same (sequence) order
  std::mutex seq_mu_;
  std::unordered_map<const core::Batch*, uint64_t> ring_seq_; // batch in the ring → its entry
  std::mutex feed_mu_;            // the router routing vs an output switching back to live
  std::atomic<uint64_t> routed_end_{0}; // every entry below it has been routed (feed_mu_)
  uint64_t routing_seq_ = UINT64_MAX;   // entry being routed (router thread, feed_mu_)
  std::vector<std::unique_ptr<OutputStore>> output_stores_;
  std::mutex dead_letter_mu_;
  std::unordered_map<size_t, storage::SegmentStorePtr> dead_letters_; // by output, opened lazily
  obs::Counter* dead_lettered_ = nullptr;
  std::thread storage_thread_;
  std::atomic<bool> storage_stop_{false};
  std::atomic<bool> feeding_{true};
  obs::Counter* storage_dropped_ = nullptr;
  obs::Counter* storage_errors_ = nullptr;
  obs::Gauge* storage_bytes_ = nullptr;
  obs::Counter* storage_lost_records_ = nullptr;
  obs::Counter* storage_lost_entries_ = nullptr;
  obs::Gauge* storage_degraded_gauge_ = nullptr;
  std::atomic<bool> storage_degraded_{false}; // a write failed; none has succeeded since
  std::mutex degraded_mu_;
  std::chrono::steady_clock::time_point degraded_since_;

  bool started_ = false;
  bool stopped_ = false;
};

} // namespace ferry::app
