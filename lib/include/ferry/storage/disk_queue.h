// Storage as each output's queue (SPEC.md "Delivery guarantees", service.storage).
//
// DiskBuffer owns the shared log (one SegmentStore, one entry per batch as its input made
// it): inputs append to it before they are acknowledged, and it keeps the log's health
// (drop_oldest, a disk that takes no writes), its metrics and the background thread that
// syncs, saves cursors and reads backlogs. Each output has a DiskQueue in front of its
// memory queue (the runner), behind the same core::OutputQueue interface the router feeds:
//
//   live:    batches routed now go straight to the consumer while it is under budget;
//   backlog: once the consumer is over budget (or after a restart left it behind), new
//            batches stay on disk and the queue reads them back, through its own copy of
//            the filters (entries are stored unfiltered), whenever the consumer has room,
//            until it has caught up with the router and goes live again.
//
// A batch's entry travels with it (core::Batch::storeSeq). The queue's cursor, the first
// entry this output still needs, is the lowest entry handed over and not yet resolved, so it
// never passes an unresolved record; it is saved every second and on close. A batch the
// consumer gave up on (retry.max_attempts) goes to the output's dead-letter queue, which
// `ferry replay` reads (DeadLetters).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ferry/core/batch.h"
#include "ferry/core/router.h"
#include "ferry/obs/metrics.h"
#include "ferry/storage/segment_store.h"

namespace ferry::storage {

// What a disk queue feeds: an output's memory queue (the runner). It reports each batch it
// resolves back with DiskQueue::resolved(), before the batch itself learns the outcome.
class QueueConsumer : public core::OutputQueue {
public:
  // Room for batches read back from disk. A lower bar than overBudget(): the queue leaves
  // room for routed batches once it is live again.
  virtual bool wantsBacklog() const = 0;
};

class DiskBuffer;

class DiskQueue final : public core::OutputQueue {
public:
  DiskQueue(DiskBuffer& buffer, std::string name, QueueConsumer& consumer);
  DiskQueue(const DiskQueue&) = delete;
  DiskQueue& operator=(const DiskQueue&) = delete;

  // core::OutputQueue, called by the router (DiskBuffer::route holds the routing lock).
  void enqueue(core::BatchRef batch) override;
  // The disk absorbs what memory cannot hold: an output never pauses inputs itself.
  bool overBudget() const override { return false; }

  // The filters again, for entries read back from disk (add them in config order).
  void addFilter(std::string match, std::unique_ptr<core::Filter> filter) {
    refilter_.addFilter(std::move(match), std::move(filter));
  }
  // The consumer resolved a batch this queue handed it.
  void resolved(const core::Batch& batch, core::BatchOutcome outcome);
  // The first entry this output still needs. On the storage thread (saveCursors) or once it
  // has stopped: it reads where the backlog reader stands.
  uint64_t cursor();
  bool live();
  const std::string& name() const { return name_; }

private:
  friend class DiskBuffer;
  // Storage thread: moves entries from disk to the consumer while it has room; true when
  // there is nothing (left) to read.
  bool feedFromDisk();
  // Stops reading from disk: new batches come from the router (buffer's route_mu_ held).
  void goLive();
  // Hands a batch to the consumer, its entry outstanding until resolved.
  void handOver(core::BatchRef batch);
  void deadLetter(const core::Batch& batch);

  // What refilter_ routes to: straight to the consumer, whatever the live state.
  class Backlog final : public core::OutputQueue {
  public:
    explicit Backlog(DiskQueue& q) : q_(q) {}
    void enqueue(core::BatchRef batch) override { q_.handOver(std::move(batch)); }
    bool overBudget() const override { return false; }

  private:
    DiskQueue& q_;
  };

  DiskBuffer& buffer_;
  std::string name_;
  QueueConsumer& consumer_;
  Backlog backlog_{*this};
  core::Router refilter_;             // this output only, fed from disk (storage thread)
  bool live_ = false;                 // route_mu_: batches come from the router, not from disk
  uint64_t resume_from_ = 0;          // route_mu_: where reading from disk starts
  std::optional<StoreReader> reader_; // storage thread (read under route_mu_ by cursor())

  std::mutex mu_;
  std::multiset<uint64_t> outstanding_; // entries handed to the consumer, unresolved
  // Entries whose batch a multiline filter may still hold records of (DiskBuffer::hold):
  // the cursor stays before them until the records made from them are resolved.
  std::multiset<uint64_t> held_;

  std::mutex dead_letter_mu_;
  SegmentStorePtr dead_letters_; // opened on the first batch given up
};

class DiskBuffer {
public:
  // Opens (and repairs) the log at options.path; counts and logs what recovery found.
  // `outputs` name the queues attach() then creates, in that order; each starts at its saved
  // cursor (a new output at the end: it only sees what arrives from now on).
  static std::expected<std::unique_ptr<DiskBuffer>, std::string>
  open(StoreOptions options, const std::vector<std::string>& outputs, obs::Metrics& metrics);
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  // Creates the queue of the next output (open()'s order), feeding `consumer`; before
  // start().
  DiskQueue& attach(QueueConsumer& consumer);
  DiskQueue& queue(size_t i) { return *queues_.at(i); }
  size_t queues() const { return queues_.size(); }
  const SegmentStore& store() const { return *store_; }
  SegmentStore& store() { return *store_; }

  // With a multiline filter configured, entries stay held until the records made from them
  // are resolved (hold()).
  void setHoldsEntries(bool holds) { holds_entries_ = holds; }
  // Called with a reason when the disk stops taking writes, with "" when it takes them again
  // (outputs report it on /health).
  void onFault(std::function<void(const std::string&)> f) { on_fault_ = std::move(f); }

  // ---- Inputs -----------------------------------------------------------------------------
  // Stores `batch` (dropping the oldest segment first when full under drop_oldest) and marks
  // it with its entry; `hand_over` then runs under the same lock, so batches reach the
  // router in entry order. On failure nothing is stored and the inputs must pause until an
  // append succeeds again (mustPause()).
  std::expected<void, std::string> append(core::Batch& batch,
                                          const std::function<void()>& hand_over);
  // Inputs wait: the log is full (when_full: pause) or the disk takes no writes.
  bool mustPause() const;

  // ---- Router thread ------------------------------------------------------------------------
  // Routes one batch from the ring (stored or not) to the queues.
  void route(core::Router& router, core::BatchRef batch);
  // Lets the router's filters release held records (they leave untracked by any entry).
  void poll(core::Router& router, bool all);

  // ---- Background work ----------------------------------------------------------------------
  void start(); // the storage thread: step() continuously, sync and saveCursors() every second
  // One round: every queue behind reads from disk while its consumer has room. True when
  // none had anything left to read.
  bool step();
  void saveCursors();

  // ---- Shutdown -----------------------------------------------------------------------------
  // From now on, batches given up keep their queue's cursor before them (shipped after the
  // next start) instead of going to dead letters.
  void beginStop() { stopping_.store(true); }
  // Lets queues read their backlog until all are live or `deadline`; stops the thread.
  void drain(std::chrono::steady_clock::time_point deadline);
  // Saves cursors, syncs and closes the log (after the consumers are done: nothing may use
  // the buffer but finalizers from then on); returns the records left on disk for the next
  // start.
  uint64_t close();

private:
  friend class DiskQueue;
  explicit DiskBuffer(SegmentStorePtr store, obs::Metrics& metrics);
  void unwritable(const std::string& error);
  void writable();
  // Counts and logs entries lost to damaged segments (found on start or while reading).
  void reportDamage(const std::vector<Damage>& damage, std::string_view where);
  // Keeps `seq` from the cursor of queue `only` (or of every queue: nullptr) until the
  // batch's finalizer runs, which a multiline filter holding some of its records delays.
  void hold(core::Batch& batch, uint64_t seq, DiskQueue* only);
  void error(const std::string& message);

  SegmentStorePtr store_;
  obs::Metrics& metrics_;
  std::vector<std::string> names_; // of the outputs, open()'s order
  std::vector<std::unique_ptr<DiskQueue>> queues_;
  bool holds_entries_ = false;
  std::function<void(const std::string&)> on_fault_;

  std::mutex append_mu_; // appends and hand-overs happen in entry order
  // The router routing vs a queue switching between live and backlog.
  std::mutex route_mu_;
  std::atomic<uint64_t> routed_end_{0}; // every entry below it has been routed (route_mu_)

  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<bool> thread_stop_{false};

  std::atomic<bool> degraded_{false}; // a write failed; none has succeeded since
  std::mutex degraded_mu_;
  std::chrono::steady_clock::time_point degraded_since_;

  obs::Counter* dropped_;
  obs::Counter* errors_;
  obs::Gauge* bytes_;
  obs::Counter* lost_records_;
  obs::Counter* lost_entries_;
  obs::Gauge* degraded_gauge_;
  obs::Counter* dead_lettered_;
};

using DiskBufferPtr = std::unique_ptr<DiskBuffer>;

// One output's dead-letter queue, <storage.path>/dead-letter/<output>/, as `ferry replay`
// reads it: entries in order from its own cursor, damage logged and stepped over.
class DeadLetters {
public:
  static std::string subdir(const std::string& output);
  // nullptr when the output gave nothing up.
  static std::expected<std::unique_ptr<DeadLetters>, std::string>
  open(const std::string& storage_path, const std::string& output);
  // The next batch (expecting one output), nullopt at the end.
  std::expected<std::optional<core::BatchRef>, std::string> next();
  uint64_t bytes() const { return store_->bytes(); }
  // Closes and deletes the queue: all of it was delivered.
  void remove();

private:
  explicit DeadLetters(SegmentStorePtr store, std::string dir);
  SegmentStorePtr store_;
  std::string dir_;
  std::optional<StoreReader> reader_;
};

} // namespace ferry::storage
