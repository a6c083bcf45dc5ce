// Storage as each output's queue: the shared log's health and background work (DiskBuffer),
// each output's live/backlog switch and cursor (DiskQueue), dead letters (DeadLetters).
// Lock order: DiskBuffer::route_mu_, then a queue's mu_.
#include "ferry/storage/disk_queue.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "ferry/obs/log.h"

namespace ferry::storage {

namespace {

constexpr uint64_t kNotStored = core::Batch::kNotStored;

// One log line for a damaged stretch of the disk buffer: how much it cost, as far as known.
void logDamage(const Damage& d, std::string_view where) {
  if (d.end_seq == UINT64_MAX) {
    FERRY_LOG_ERROR("storage",
                    "{}: damaged data at byte {} of segment {} and nothing intact after it: {} "
                    "records lost in {} entries whose header survived, plus whatever the rest of "
                    "the segment held (not knowable)",
                    where, d.offset, d.segment, d.records, d.known_entries);
  } else if (d.unknownEntries() > 0) {
    FERRY_LOG_ERROR("storage",
                    "{}: damaged data at byte {} of segment {}: {} entries lost: {} records "
                    "known, plus those of {} entries whose header is damaged too (not knowable); "
                    "reading goes on at the next intact entry",
                    where, d.offset, d.segment, d.entries(), d.records, d.unknownEntries());
  } else {
    FERRY_LOG_ERROR("storage",
                    "{}: damaged data at byte {} of segment {}: {} entries lost ({} records); "
                    "reading goes on at the next intact entry",
                    where, d.offset, d.segment, d.entries(), d.records);
  }
}

} // namespace

// ---- DiskQueue ------------------------------------------------------------------------------

DiskQueue::DiskQueue(DiskBuffer& buffer, std::string name, QueueConsumer& consumer)
    : buffer_(buffer), name_(std::move(name)), consumer_(consumer) {
  refilter_.addOutput("*", &backlog_);
  resume_from_ = buffer_.store_->cursor(name_);
  live_ = resume_from_ >= buffer_.routed_end_.load(); // nothing left from the last run
}

void DiskQueue::enqueue(core::BatchRef batch) {
  const uint64_t seq = batch->storeSeq();
  if (seq != kNotStored && !live_) {
    batch->resolveOutput(core::BatchOutcome::kDelivered); // on disk: read from there later
    return;
  }
  if (seq != kNotStored && consumer_.overBudget()) {
    // Memory budget full: this output reads from disk from here on, the inputs go on.
    live_ = false;
    resume_from_ = seq;
    batch->resolveOutput(core::BatchOutcome::kDelivered);
    return;
  }
  handOver(std::move(batch));
}

void DiskQueue::handOver(core::BatchRef batch) {
  if (const uint64_t seq = batch->storeSeq(); seq != kNotStored) {
    std::lock_guard lock(mu_);
    outstanding_.insert(seq);
  }
  consumer_.enqueue(std::move(batch));
}

void DiskQueue::resolved(const core::Batch& batch, core::BatchOutcome outcome) {
  const uint64_t seq = batch.storeSeq();
  if (seq == kNotStored) return;
  // Given up at shutdown: keep the cursor before it, so it ships after the next start.
  if (outcome == core::BatchOutcome::kFailed && buffer_.stopping_.load()) return;
  // Given up after retry.max_attempts: kept aside for `ferry replay`.
  if (outcome == core::BatchOutcome::kFailed) deadLetter(batch);
  std::lock_guard lock(mu_);
  if (auto it = outstanding_.find(seq); it != outstanding_.end()) outstanding_.erase(it);
}

uint64_t DiskQueue::cursor() {
  std::lock_guard route_lock(buffer_.route_mu_);
  std::lock_guard lock(mu_);
  uint64_t cursor;
  if (!outstanding_.empty())
    cursor = *outstanding_.begin();
  else if (live_)
    cursor = buffer_.routed_end_.load();
  else
    cursor = reader_ ? reader_->position() : resume_from_;
  if (!held_.empty()) cursor = std::min(cursor, *held_.begin());
  return cursor;
}

bool DiskQueue::live() {
  std::lock_guard lock(buffer_.route_mu_);
  return live_;
}

void DiskQueue::goLive() {
  live_ = true; // caught up: the router hands this output new batches again
  reader_.reset();
}

bool DiskQueue::feedFromDisk() {
  // Records a filter holds from entries read from disk (multiline) go on when their time
  // comes, also once this output is live again.
  refilter_.poll();
  for (;;) {
    uint64_t limit;
    {
      std::lock_guard lock(buffer_.route_mu_);
      if (live_) {
        reader_.reset();
        return true;
      }
      if (!reader_ || reader_->position() < resume_from_)
        reader_.emplace(*buffer_.store_, resume_from_);
      limit = buffer_.routed_end_.load();
      if (reader_->position() >= limit) {
        goLive();
        return true;
      }
    }
    if (!consumer_.wantsBacklog()) return false;
    auto entry = reader_->next(limit - 1);
    if (auto damage = reader_->takeDamage(); !damage.empty()) {
      buffer_.reportDamage(damage, fmt::format("output {}", name_));
    }
    if (!entry) {
      buffer_.error(
          fmt::format("output {}: {}; skipping to the newest entries", name_, entry.error()));
      std::lock_guard lock(buffer_.route_mu_);
      goLive();
      return true;
    }
    if (!*entry) {
      refilter_.poll();
      // Nothing readable below the limit (lost to drop_oldest): live, unless more was routed.
      std::lock_guard lock(buffer_.route_mu_);
      if (buffer_.routed_end_.load() == limit) {
        goLive();
        return true;
      }
      continue;
    }
    core::BatchRef batch = std::move((*entry)->batch);
    batch->setStoreSeq((*entry)->seq);
    if (buffer_.holds_entries_) buffer_.hold(*batch, (*entry)->seq, this);
    refilter_.route(std::move(batch));
  }
}

void DiskQueue::deadLetter(const core::Batch& batch) {
  std::lock_guard lock(dead_letter_mu_);
  if (!dead_letters_) {
    StoreOptions opts = buffer_.store_->options();
    opts.subdir = DeadLetters::subdir(name_);
    opts.when_full = WhenFull::kPause; // never drops: it has no size limit of its own
    opts.max_bytes = UINT64_MAX;
    auto opened = SegmentStore::open(opts, {"replay"});
    if (!opened) {
      buffer_.error(
          fmt::format("cannot open the dead-letter queue of {}: {}", name_, opened.error()));
      return;
    }
    dead_letters_ = std::move(*opened);
  }
  auto seq = dead_letters_->append(batch);
  if (!seq) {
    buffer_.error(
        fmt::format("cannot keep {} given-up records of {}: {}", batch.size(), name_, seq.error()));
    return;
  }
  // Written (a crash of the process keeps them), but a power failure may still lose them.
  if (auto synced = dead_letters_->sync(); !synced) {
    buffer_.error(
        fmt::format("given-up records of {} kept but not synced: {}", name_, synced.error()));
  }
  buffer_.dead_lettered_->add(batch.size());
  FERRY_LOG_WARN("storage", "{} records given up by {} kept in {} (resend with `ferry replay`)",
                 batch.size(), name_, dead_letters_->directory());
}

// ---- DiskBuffer -----------------------------------------------------------------------------

DiskBuffer::DiskBuffer(SegmentStorePtr store, obs::Metrics& metrics)
    : store_(std::move(store)), metrics_(metrics),
      dropped_(
          &metrics.counter("ferry_storage_dropped_records_total", {},
                           "Records dropped from a full disk buffer (when_full: drop_oldest)")),
      errors_(
          &metrics.counter("ferry_storage_errors_total", {}, "Disk buffer read/write failures")),
      bytes_(&metrics.gauge("ferry_storage_bytes", {}, "Bytes held in the disk buffer")),
      lost_records_(&metrics.counter(
          "ferry_storage_lost_records_total", {},
          "Records lost to damaged disk buffer entries (where the count survived)")),
      lost_entries_(&metrics.counter("ferry_storage_lost_entries_total", {},
                                     "Disk buffer entries (batches) lost to damage")),
      degraded_gauge_(&metrics.gauge("ferry_storage_degraded", {},
                                     "1 while the disk buffer cannot take writes (inputs paused)")),
      dead_lettered_(&metrics.counter(
          "ferry_storage_dead_letter_records_total", {},
          "Records given up after retry.max_attempts and kept for `ferry replay`")) {
  degraded_gauge_->set(0);
  // Everything already on disk is read back, never routed again.
  routed_end_.store(store_->nextSeq());
}

DiskBuffer::~DiskBuffer() {
  thread_stop_.store(true);
  if (thread_.joinable()) thread_.join();
  // Batches the queues' filters still hold are freed (as failed) with them: their holds
  // must not reach a queue being destroyed.
  stopping_.store(true);
  queues_.clear();
}

std::expected<std::unique_ptr<DiskBuffer>, std::string>
DiskBuffer::open(StoreOptions options, const std::vector<std::string>& outputs,
                 obs::Metrics& metrics) {
  auto store = SegmentStore::open(std::move(options), outputs);
  if (!store) return std::unexpected(store.error());
  std::unique_ptr<DiskBuffer> buffer(
      new DiskBuffer(std::move(*store), metrics)); // private constructor
  buffer->names_ = outputs;
  const SegmentStore& s = *buffer->store_;
  const auto& rec = s.recovery();
  metrics
      .counter("ferry_storage_corrupt_entries_total", {},
               "Damaged stretches (torn tails, corrupt entries) found in segments on start")
      .add(rec.corrupt_entries);
  metrics
      .counter("ferry_storage_truncated_bytes_total", {}, "Bytes cut off damaged segments on start")
      .add(rec.truncated_bytes);
  if (rec.corrupt_entries > 0) {
    FERRY_LOG_WARN("storage",
                   "{}: {} damaged stretch(es) in segments: {} bytes of torn or damaged tails "
                   "truncated, {} damaged bytes stepped over",
                   s.directory(), rec.corrupt_entries, rec.truncated_bytes, rec.skipped_bytes);
  }
  buffer->reportDamage(rec.lost, s.directory());
  if (rec.records > 0) {
    FERRY_LOG_INFO("storage", "{}: {} records in {} segments from the last run", s.directory(),
                   rec.records, rec.segments);
  }
  return buffer;
}

DiskQueue& DiskBuffer::attach(QueueConsumer& consumer) {
  const size_t i = queues_.size();
  if (i >= names_.size()) throw std::logic_error("DiskBuffer::attach: more queues than outputs");
  queues_.push_back(std::make_unique<DiskQueue>(*this, names_[i], consumer));
  return *queues_.back();
}

std::expected<void, std::string> DiskBuffer::append(core::Batch& batch,
                                                    const std::function<void()>& hand_over) {
  std::expected<uint64_t, std::string> seq;
  {
    std::lock_guard lock(append_mu_);
    if (store_->full() && store_->options().when_full == WhenFull::kDropOldest) {
      const uint64_t dropped = store_->dropOldest();
      dropped_->add(dropped);
      FERRY_LOG_WARN("storage", "disk buffer full: dropped the oldest segment ({} records)",
                     dropped);
    }
    seq = store_->append(batch);
    if (seq) {
      batch.setStoreSeq(*seq);
      hand_over();
    }
  }
  if (!seq) {
    unwritable(seq.error());
    return std::unexpected(std::move(seq.error()));
  }
  writable();
  return {};
}

bool DiskBuffer::mustPause() const {
  if (degraded_.load(std::memory_order_relaxed)) return true; // the disk takes no writes
  return store_->options().when_full == WhenFull::kPause && store_->full();
}

void DiskBuffer::unwritable(const std::string& error) {
  errors_->add();
  std::lock_guard lock(degraded_mu_);
  if (degraded_.load()) return; // said once; the input holding the batch retries
  degraded_.store(true);
  degraded_since_ = std::chrono::steady_clock::now();
  degraded_gauge_->set(1);
  if (on_fault_) on_fault_("disk buffer cannot take writes: " + error);
  FERRY_LOG_ERROR("storage",
                  "cannot store a batch: {}; inputs paused, nothing acknowledged until "
                  "it is stored (retrying)",
                  error);
}

void DiskBuffer::writable() {
  if (!degraded_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(degraded_mu_);
  if (!degraded_.load()) return;
  degraded_.store(false);
  degraded_gauge_->set(0);
  if (on_fault_) on_fault_("");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - degraded_since_);
  FERRY_LOG_INFO("storage", "the disk buffer takes writes again after {} s; inputs resumed",
                 secs.count());
}

void DiskBuffer::error(const std::string& message) {
  errors_->add();
  FERRY_LOG_ERROR("storage", "{}", message);
}

void DiskBuffer::reportDamage(const std::vector<Damage>& damage, std::string_view where) {
  for (const auto& d : damage) {
    lost_records_->add(d.records);
    lost_entries_->add(d.entries());
    logDamage(d, where);
  }
}

void DiskBuffer::route(core::Router& router, core::BatchRef batch) {
  const uint64_t seq = batch->storeSeq();
  if (seq != kNotStored && holds_entries_) hold(*batch, seq, nullptr);
  std::lock_guard lock(route_mu_);
  router.route(std::move(batch));
  if (seq != kNotStored) routed_end_.store(seq + 1);
}

void DiskBuffer::poll(core::Router& router, bool all) {
  // Records a filter held (concat_partial) leave untracked by any entry: route_mu_ keeps
  // the queues' live/backlog state still while they go.
  std::lock_guard lock(route_mu_);
  router.poll(all);
}

// A stored batch about to go through the filters: its entry stays unreleased (for `only`, or
// every queue) until the batch's finalizer runs, which a filter holding some of its records
// delays until the records made from them are resolved. Reassembly state is thus covered by
// the disk buffer: after a crash the entry is read again, through the filters again. Used
// only with a multiline filter configured: the hold lasts until every output has resolved
// the batch, so a dead output also keeps a healthy one's cursor back (after a restart the
// healthy one may resend, never lose). Without one, each queue's own outstanding entries
// bound its cursor, and outputs stay isolated.
void DiskBuffer::hold(core::Batch& batch, uint64_t seq, DiskQueue* only) {
  const auto each = [this, only](auto&& f) {
    if (only != nullptr) return f(*only);
    for (auto& q : queues_)
      f(*q);
  };
  each([seq](DiskQueue& q) {
    std::lock_guard lock(q.mu_);
    q.held_.insert(seq);
  });
  batch.setFinalizer(
      [this, seq, each, prev = batch.takeFinalizer()](core::BatchOutcome outcome) mutable {
        if (prev) prev(outcome);
        // Given up at shutdown: the entry stays held, so it is read again after the next start.
        if (outcome == core::BatchOutcome::kFailed && stopping_.load()) return;
        each([seq](DiskQueue& q) {
          std::lock_guard lock(q.mu_);
          if (auto it = q.held_.find(seq); it != q.held_.end()) q.held_.erase(it);
        });
      });
}

bool DiskBuffer::step() {
  bool idle = true;
  for (auto& q : queues_)
    idle = q->feedFromDisk() && idle;
  return idle;
}

void DiskBuffer::saveCursors() {
  for (auto& q : queues_)
    store_->setCursor(q->name(), q->cursor());
  if (auto ok = store_->persistCursors(); !ok) error(ok.error());
  store_->collect();
  bytes_->set(static_cast<int64_t>(store_->bytes()));
}

void DiskBuffer::start() {
  thread_ = std::thread([this] {
    const bool interval_sync = store_->options().sync == SyncPolicy::kInterval;
    auto next_sync = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!thread_stop_.load()) {
      const bool idle = step();
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_sync) {
        next_sync = now + std::chrono::seconds(1);
        if (interval_sync) {
          if (auto ok = store_->sync(); !ok) error(ok.error());
        }
        saveCursors();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(idle ? 20 : 2));
    }
  });
}

void DiskBuffer::drain(std::chrono::steady_clock::time_point deadline) {
  // Let outputs catch up with their disk backlog while the grace period lasts; what is left
  // then stays on disk for the next start.
  while (thread_.joinable() && std::chrono::steady_clock::now() < deadline) {
    bool all_live = true;
    {
      std::lock_guard lock(route_mu_);
      for (auto& q : queues_)
        all_live = all_live && q->live_;
    }
    if (all_live) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  thread_stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

uint64_t DiskBuffer::close() {
  // Given-up batches kept their queues' cursors back: they are still on disk, not lost.
  saveCursors();
  if (auto ok = store_->sync(); !ok) FERRY_LOG_ERROR("storage", "{}", ok.error());
  uint64_t min_cursor = UINT64_MAX;
  for (auto& q : queues_)
    min_cursor = std::min(min_cursor, store_->cursor(q->name()));
  const uint64_t persisted = min_cursor == UINT64_MAX ? 0 : store_->countRecords(min_cursor);
  if (persisted > 0) {
    FERRY_LOG_WARN("storage",
                   "{} records could not be delivered within the grace period: kept in {} "
                   "and shipped after the next start",
                   persisted, store_->directory());
  }
  for (auto& q : queues_) {
    std::lock_guard lock(q->dead_letter_mu_);
    q->dead_letters_.reset();
  }
  // Closed (and unlocked) now, so that a reloaded pipeline can open the same directory.
  store_.reset();
  return persisted;
}

// ---- DeadLetters ----------------------------------------------------------------------------

std::string DeadLetters::subdir(const std::string& output) {
  return "dead-letter/" + SegmentStore::fileNameFor(output);
}

DeadLetters::DeadLetters(SegmentStorePtr store, std::string dir)
    : store_(std::move(store)), dir_(std::move(dir)) {}

std::expected<std::unique_ptr<DeadLetters>, std::string>
DeadLetters::open(const std::string& storage_path, const std::string& output) {
  StoreOptions opts;
  opts.path = storage_path;
  opts.subdir = subdir(output);
  opts.max_bytes = UINT64_MAX;
  std::string dir = opts.path + "/" + opts.subdir;
  if (::access(dir.c_str(), F_OK) != 0) return nullptr; // nothing given up
  auto store = SegmentStore::open(opts, {"replay"});
  if (!store) return std::unexpected(store.error());
  for (const auto& d : (*store)->recovery().lost)
    logDamage(d, dir);
  return std::unique_ptr<DeadLetters>(new DeadLetters(std::move(*store), std::move(dir)));
}

std::expected<std::optional<core::BatchRef>, std::string> DeadLetters::next() {
  if (!reader_) reader_.emplace(*store_, store_->cursor("replay"));
  auto e = reader_->next();
  for (const auto& d : reader_->takeDamage())
    logDamage(d, store_->directory());
  if (!e) return std::unexpected(std::move(e.error()));
  if (!*e) return std::nullopt;
  core::BatchRef batch = std::move((*e)->batch);
  batch->expectOutputs(1);
  return batch;
}

void DeadLetters::remove() {
  reader_.reset();
  store_.reset();
  std::filesystem::remove_all(dir_);
}

} // namespace ferry::storage
