// Pipeline wiring and the shutdown sequence. Backpressure: the router remembers which
// outputs each input's batches went to (a bit mask); an input is paused while any of those
// outputs is over its byte budget, so a dead sink pauses only the inputs that feed it.
// With storage on, inputs pause only when the disk buffer is full (when_full: pause) or
// cannot take writes (disk full or failing: nothing is acknowledged until it is stored).
#include "ferry/app/pipeline.h"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "ferry/app/registry.h"
#include "ferry/filter/filters.h"
#include "ferry/obs/log.h"

namespace ferry::app {

class Pipeline::Context : public input::InputContext {
public:
  Context(Pipeline& p, uint32_t id, std::string name)
      : pipeline_(p), id_(id), name_(std::move(name)),
        records_(&p.metrics_.counter("ferry_input_records_total", {{"input", name_}}, "Records read by each input")),
        bytes_(&p.metrics_.counter("ferry_input_bytes_total", {{"input", name_}}, "Record bytes read by each input")),
        paused_gauge_(&p.metrics_.gauge("ferry_input_paused", {{"input", name_}},
                                        "1 while the input is paused by a full output buffer")) {}

  bool push(core::BatchRef batch) override {
    if (batch->empty()) return true;
    if (pipeline_.store_) return pushStored(std::move(batch));
    // Backpressure: wait while an output we feed is over budget. When the daemon stops,
    // what the input still holds is taken anyway (the ring has room; outputs then decide
    // within the grace period).
    if (paused()) {
      paused_gauge_->set(1);
      while (paused() && !pipeline_.stopping_.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      paused_gauge_->set(0);
    }
    batch->setInputId(id_);
    records_->add(batch->size());
    bytes_->add(batch->buffer().size());
    core::Batch* raw = batch.release(); // the ring carries the reference
    pipeline_.ring_.push(raw);
    return true;
  }

  bool paused() const override {
    if (pipeline_.store_) return pipeline_.storageFullPause();
    const uint64_t mask = output_mask_.load(std::memory_order_relaxed);
    if (mask == 0) return false;
    const auto& outs = pipeline_.outputs_;
    for (size_t i = 0; i < outs.size() && i < 64; ++i) {
      if ((mask >> i & 1) && outs[i]->overBudget()) return true;
    }
    return false;
  }

  const std::string& name() const override { return name_; }
  uint32_t id() const override { return id_; }
  obs::Metrics& metrics() override { return pipeline_.metrics_; }

  void noteOutputs(uint64_t mask) {
    if ((output_mask_.load(std::memory_order_relaxed) & mask) != mask) {
      output_mask_.fetch_or(mask, std::memory_order_relaxed);
    }
  }

private:
  void waitWhilePaused() {
    if (!paused()) return;
    paused_gauge_->set(1);
    while (paused() && !pipeline_.stopping_.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    paused_gauge_->set(0);
  }

  // Storage on: the batch is on disk (synced per policy) before this returns, so the
  // input's acknowledgement (forward ack, tail position) may follow at once. A batch the disk
  // cannot take (full, failing) is held here and written again until it goes, with every
  // input paused meanwhile: it is never acknowledged before it is stored, and the inputs
  // hold no more than they would while paused by a full buffer. When the daemon stops first
  // it is refused: unacknowledged, the source sends it again.
  bool pushStored(core::BatchRef batch) {
    waitWhilePaused();
    batch->setInputId(id_);
    const size_t records = batch->size(), bytes = batch->buffer().size();
    auto retry = std::chrono::milliseconds(50);
    for (;;) {
      core::BatchFinalizer ack;
      std::string error;
      {
        std::lock_guard lock(pipeline_.append_mu_);
        auto& store = *pipeline_.store_;
        if (store.full() && store.options().when_full == storage::WhenFull::kDropOldest) {
          const uint64_t dropped = store.dropOldest();
          pipeline_.storage_dropped_->add(dropped);
          FERRY_LOG_WARN("storage", "disk buffer full: dropped the oldest segment ({} records)",
                         dropped);
        }
        auto seq = store.append(*batch);
        if (seq) {
          {
            std::lock_guard seq_lock(pipeline_.seq_mu_);
            pipeline_.ring_seq_.emplace(batch.get(), *seq);
          }
          records_->add(records);
          bytes_->add(bytes);
          ack = batch->takeFinalizer();
          pipeline_.ring_.push(batch.release());
        } else {
          error = std::move(seq.error());
        }
      }
      if (error.empty()) {
        pipeline_.storageWritable();
        paused_gauge_->set(0);
        if (ack) ack(core::BatchOutcome::kDelivered);
        return true;
      }
      pipeline_.storageUnwritable(error);
      paused_gauge_->set(1); // this input waits too: for room for its own batch
      if (!sleepUnlessStopping(retry)) {
        paused_gauge_->set(0);
        return false;
      }
      retry = std::min(retry * 2, std::chrono::milliseconds(1000));
    }
  }

  // Sleeps `d` (in short steps); false as soon as the daemon is stopping.
  bool sleepUnlessStopping(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (!pipeline_.stopping_.load(std::memory_order_relaxed)) {
      if (std::chrono::steady_clock::now() >= until) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  Pipeline& pipeline_;
  uint32_t id_;
  std::string name_;
  obs::Counter* records_;
  obs::Counter* bytes_;
  obs::Gauge* paused_gauge_;
  std::atomic<uint64_t> output_mask_{0};
};

// What the router (live) or the disk reader (from_disk) hands one output, storage on.
class Pipeline::Feed : public core::OutputQueue {
public:
  Feed(Pipeline& p, size_t output, bool from_disk) : pipeline_(p), output_(output), from_disk_(from_disk) {}
  void enqueue(core::BatchRef batch) override { pipeline_.feedEnqueue(output_, std::move(batch), from_disk_); }
  // The disk absorbs what memory cannot hold: an output never pauses inputs itself.
  bool overBudget() const override { return false; }

private:
  Pipeline& pipeline_;
  size_t output_;
  bool from_disk_;
};

// One output's view of the disk buffer.
struct Pipeline::OutputStore {
  std::unique_ptr<Feed> live_feed;
  std::unique_ptr<Feed> disk_feed;
  core::Router disk_router; // the filters again, and this output only
  bool live = false;        // feed_mu_: batches come from the router, not from disk
  uint64_t resume_from = 0; // feed_mu_: where reading from disk starts when it stops being live
  std::optional<storage::StoreReader> reader; // storage thread only
  uint64_t reading_seq = UINT64_MAX;          // storage thread: entry being fed from disk
  std::mutex mu;
  std::set<uint64_t> outstanding;                            // entries handed over, unresolved
  // Entries whose batch a multiline filter may still hold records of (holdEntry): the
  // cursor stays before them until the records made from them are resolved.
  std::multiset<uint64_t> held;
  std::unordered_map<const core::Batch*, uint64_t> seq_of; // batch handed over → its entry
};

Pipeline::Pipeline(const config::Config& config, output::PluginHost& plugins, obs::Metrics& metrics)
    : config_(config), plugins_(plugins), metrics_(metrics), ring_(config.service.ring_capacity) {}

Pipeline::~Pipeline() {
  if (started_ && !stopped_) stop(std::chrono::milliseconds(0));
}

void Pipeline::start() {
  metrics_.gauge("ferry_ring_capacity", {}, "Slots in the ingestion ring").set(static_cast<int64_t>(ring_.capacity()));
  // Outputs first: they must be ready before anything can reach them.
  for (const auto& o : config_.outputs) {
    auto api = plugins_.load(o.section.type);
    if (!api) throw std::runtime_error(api.error());
    auto runner = std::make_unique<output::OutputRunner>(**api, o, metrics_,
                                                         config_.service.http_unhealthy_after_ms);
    if (auto ok = runner->init(); !ok) throw std::runtime_error(ok.error());
    outputs_.push_back(std::move(runner));
  }
  // A pipeline without inputs (`ferry run --dry-run`) has nothing to store and must not take
  // the storage lock from a running daemon.
  if (config_.service.storage_path && !config_.inputs.empty()) openStorage();
  for (size_t i = 0; i < outputs_.size(); ++i) {
    queues_.push_back(store_ ? static_cast<core::OutputQueue*>(output_stores_[i]->live_feed.get())
                             : outputs_[i].get());
    router_.addOutput(outputs_[i]->match(), queues_.back());
    outputs_[i]->start();
  }
  // Filters: the configured ones, plus concat_partial for forward inputs (filter/filters.h).
  for (const auto& f : filter::effectiveFilters(config_)) {
    const FilterType* type = findFilterType(f.type);
    if (type == nullptr) throw std::runtime_error(fmt::format("unknown filter type '{}'", f.type));
    router_.addFilter(f.match, type->make(f));
    for (auto& os : output_stores_) os->disk_router.addFilter(f.match, type->make(f));
    if (f.type == "multiline") holds_entries_ = true;
  }
  router_thread_ = std::thread([this] { routerLoop(); });
  // The backlog goes first: outputs start by reading from disk, new batches wait behind it.
  if (store_) storage_thread_ = std::thread([this] { storageLoop(); });
  started_ = true;
  InputEnvironment env;
  env.state_dir = config_.service.storage_path ? *config_.service.storage_path
                  : !config_.config_dir.empty()  ? config_.config_dir
                                                 : ".";
  for (size_t i = 0; i < config_.inputs.size(); ++i) {
    const auto& s = config_.inputs[i];
    const InputType* type = findInputType(s.type);
    if (type == nullptr) throw std::runtime_error(fmt::format("unknown input type '{}'", s.type));
    contexts_.push_back(std::make_unique<Context>(*this, static_cast<uint32_t>(i), s.name));
    inputs_.push_back(type->make(s, env));
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    try {
      inputs_[i]->start(*contexts_[i]);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("input {} ({}): {}", config_.inputs[i].name,
                                           config_.inputs[i].type, e.what()));
    }
  }
}

bool Pipeline::inputsFinished() const {
  if (inputs_.empty()) return false;
  for (const auto& in : inputs_) {
    if (!in->finite() || !in->finished()) return false;
  }
  return true;
}

void Pipeline::routerLoop() {
  auto& slots_used = metrics_.gauge("ferry_ring_slots_used", {}, "Occupied slots in the ingestion ring");
  std::unordered_map<const core::OutputQueue*, uint64_t> bit;
  for (size_t i = 0; i < queues_.size() && i < 64; ++i) bit[queues_[i]] = 1ull << i;
  for (;;) {
    core::Batch* raw = nullptr;
    if (!ring_.popWait(raw, std::chrono::milliseconds(100))) {
      slots_used.set(static_cast<int64_t>(ring_.sizeApprox()));
      if (router_stop_.load()) {
        // Stop only once the ring is empty: inputs have all been joined by now. Filters
        // holding records (concat_partial) release them first.
        if (!ring_.tryPop(raw)) {
          pollFilters(true);
          break;
        }
      } else {
        pollFilters(false); // idle: held records whose timeout has passed go on
        continue;
      }
    }
    core::BatchRef batch = core::BatchRef::adopt(raw);
    const uint32_t input = batch->inputId();
    if (input < contexts_.size()) {
      uint64_t mask = 0;
      for (auto* q : router_.outputsFor(batch->tag())) mask |= bit[q];
      contexts_[input]->noteOutputs(mask);
    }
    if (store_) {
      uint64_t seq = UINT64_MAX; // none: the batch could not be stored
      {
        std::lock_guard lock(seq_mu_);
        if (auto it = ring_seq_.find(batch.get()); it != ring_seq_.end()) {
          seq = it->second;
          ring_seq_.erase(it);
        }
      }
      if (seq != UINT64_MAX && holds_entries_) holdEntry(*batch, seq, SIZE_MAX);
      std::lock_guard lock(feed_mu_);
      routing_seq_ = seq;
      router_.route(std::move(batch));
      if (seq != UINT64_MAX) routed_end_.store(seq + 1);
      routing_seq_ = UINT64_MAX;
    } else {
      router_.route(std::move(batch));
    }
    slots_used.set(static_cast<int64_t>(ring_.sizeApprox()));
  }
}

ShutdownReport Pipeline::stop(std::chrono::milliseconds grace) {
  ShutdownReport report;
  if (stopped_) return report;
  stopped_ = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  stopping_.store(true);
  for (auto& in : inputs_) in->stop();
  for (auto& in : inputs_) in->join();
  router_stop_.store(true);
  ring_.notifyConsumer();
  if (router_thread_.joinable()) router_thread_.join();
  if (storage_thread_.joinable()) {
    // Let outputs catch up with their disk backlog while the grace period lasts; what is
    // left then stays on disk for the next start.
    for (;;) {
      bool all_live = true;
      {
        std::lock_guard lock(feed_mu_);
        for (auto& os : output_stores_) all_live = all_live && os->live;
      }
      if (all_live || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    storage_stop_.store(true);
    storage_thread_.join();
  }
  uint64_t failed_before = 0;
  for (auto& o : outputs_) failed_before += o->failedRecords();
  for (auto& o : outputs_) o->finish(deadline);
  for (auto& o : outputs_) o->join();
  uint64_t failed_after = 0;
  for (auto& o : outputs_) failed_after += o->failedRecords();
  if (store_) {
    // Given-up batches kept their outputs' cursors back: they are still on disk, not lost.
    saveCursors();
    if (auto ok = store_->sync(); !ok) FERRY_LOG_ERROR("storage", "{}", ok.error());
    uint64_t min_cursor = UINT64_MAX;
    for (size_t i = 0; i < outputs_.size(); ++i) min_cursor = std::min(min_cursor, store_->cursor(outputs_[i]->name()));
    report.records_persisted = min_cursor == UINT64_MAX ? 0 : store_->countRecords(min_cursor);
    report.clean = report.records_persisted == 0;
    if (report.records_persisted > 0) {
      FERRY_LOG_WARN("storage", "{} records could not be delivered within the grace period: kept in {} "
                     "and shipped after the next start", report.records_persisted, store_->directory());
    }
    // Closed (and unlocked) now, so that a reloaded pipeline can open the same directory.
    {
      std::lock_guard lock(dead_letter_mu_);
      dead_letters_.clear();
    }
    store_.reset();
    return report;
  }
  report.records_lost = failed_after - failed_before;
  report.clean = report.records_lost == 0;
  return report;
}

// ---- Storage ----------------------------------------------------------------------------

void Pipeline::openStorage() {
  storage::StoreOptions opts;
  opts.path = *config_.service.storage_path;
  opts.max_bytes = config_.service.storage_max_bytes;
  opts.sync = storage::parseSyncPolicy(config_.service.storage_sync).value_or(storage::SyncPolicy::kInterval);
  opts.when_full = config_.service.storage_when_full == "drop_oldest" ? storage::WhenFull::kDropOldest
                                                                      : storage::WhenFull::kPause;
  std::vector<std::string> names;
  for (const auto& o : outputs_) names.push_back(o->name());
  auto store = storage::SegmentStore::open(opts, names);
  if (!store) throw std::runtime_error(fmt::format("storage: {}", store.error()));
  store_ = std::move(*store);
  const auto& rec = store_->recovery();
  metrics_
      .counter("ferry_storage_corrupt_entries_total", {},
               "Damaged stretches (torn tails, corrupt entries) found in segments on start")
      .add(rec.corrupt_entries);
  metrics_
      .counter("ferry_storage_truncated_bytes_total", {}, "Bytes cut off damaged segments on start")
      .add(rec.truncated_bytes);
  storage_dropped_ =
      &metrics_.counter("ferry_storage_dropped_records_total", {},
                        "Records dropped from a full disk buffer (when_full: drop_oldest)");
  storage_errors_ =
      &metrics_.counter("ferry_storage_errors_total", {}, "Disk buffer read/write failures");
  storage_lost_records_ =
      &metrics_.counter("ferry_storage_lost_records_total", {},
                        "Records lost to damaged disk buffer entries (where the count survived)");
  storage_lost_entries_ = &metrics_.counter("ferry_storage_lost_entries_total", {},
                                            "Disk buffer entries (batches) lost to damage");
  storage_degraded_gauge_ = &metrics_.gauge(
      "ferry_storage_degraded", {}, "1 while the disk buffer cannot take writes (inputs paused)");
  storage_degraded_gauge_->set(0);
  dead_lettered_ =
      &metrics_.counter("ferry_storage_dead_letter_records_total", {},
                        "Records given up after retry.max_attempts and kept for `ferry replay`");
  storage_bytes_ = &metrics_.gauge("ferry_storage_bytes", {}, "Bytes held in the disk buffer");
  if (rec.corrupt_entries > 0) {
    FERRY_LOG_WARN("storage",
                   "{}: {} damaged stretch(es) in segments: {} bytes of torn or damaged tails "
                   "truncated, {} damaged bytes stepped over",
                   store_->directory(), rec.corrupt_entries, rec.truncated_bytes,
                   rec.skipped_bytes);
  }
  reportDamage(rec.lost, store_->directory());
  if (rec.records > 0) {
    FERRY_LOG_INFO("storage", "{}: {} records in {} segments from the last run", store_->directory(),
                   rec.records, rec.segments);
  }
  const uint64_t head = store_->nextSeq();
  routed_end_.store(head); // everything already on disk is read back, never routed again
  for (size_t i = 0; i < outputs_.size(); ++i) {
    auto os = std::make_unique<OutputStore>();
    os->live_feed = std::make_unique<Feed>(*this, i, false);
    os->disk_feed = std::make_unique<Feed>(*this, i, true);
    os->disk_router.addOutput(outputs_[i]->match(), os->disk_feed.get());
    os->resume_from = store_->cursor(outputs_[i]->name());
    os->live = os->resume_from >= head;
    outputs_[i]->setResolvedHook(
        [this, i](const core::Batch& b, core::BatchOutcome outcome) { onOutputResolved(i, b, outcome); });
    output_stores_.push_back(std::move(os));
  }
}

void Pipeline::pollFilters(bool all) {
  if (!store_) {
    router_.poll(all);
    return;
  }
  // Records a filter held (concat_partial) leave untracked by any entry: feed_mu_ keeps
  // the outputs' live/disk state still while they go.
  std::lock_guard lock(feed_mu_);
  routing_seq_ = UINT64_MAX;
  router_.poll(all);
}

bool Pipeline::storageFullPause() const {
  if (storage_degraded_.load(std::memory_order_relaxed)) return true; // the disk takes no writes
  return store_->options().when_full == storage::WhenFull::kPause && store_->full();
}

void Pipeline::storageUnwritable(const std::string& error) {
  storage_errors_->add();
  std::lock_guard lock(degraded_mu_);
  if (storage_degraded_.load()) return; // said once; the input holding the batch retries
  storage_degraded_.store(true);
  degraded_since_ = std::chrono::steady_clock::now();
  storage_degraded_gauge_->set(1);
  const std::string reason = "disk buffer cannot take writes: " + error;
  for (auto& o : outputs_)
    o->setStorageFault(reason);
  FERRY_LOG_ERROR("storage",
                  "cannot store a batch: {}; inputs paused, nothing acknowledged until "
                  "it is stored (retrying)",
                  error);
}

void Pipeline::storageWritable() {
  if (!storage_degraded_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(degraded_mu_);
  if (!storage_degraded_.load()) return;
  storage_degraded_.store(false);
  storage_degraded_gauge_->set(0);
  for (auto& o : outputs_)
    o->setStorageFault("");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - degraded_since_);
  FERRY_LOG_INFO("storage", "the disk buffer takes writes again after {} s; inputs resumed",
                 secs.count());
}

namespace {

// One log line for a damaged stretch of the disk buffer: how much it cost, as far as known.
void logDamage(const storage::Damage& d, std::string_view where) {
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

void Pipeline::reportDamage(const std::vector<storage::Damage>& damage, std::string_view where) {
  for (const auto& d : damage) {
    storage_lost_records_->add(d.records);
    storage_lost_entries_->add(d.entries());
    logDamage(d, where);
  }
}

void Pipeline::feedEnqueue(size_t output, core::BatchRef batch, bool from_disk) {
  OutputStore& os = *output_stores_[output];
  output::OutputRunner& runner = *outputs_[output];
  uint64_t seq;
  if (from_disk) {
    seq = os.reading_seq;
  } else {
    // Router thread, feed_mu_ held.
    seq = routing_seq_;
    if (seq != UINT64_MAX && !os.live) {
      batch->resolveOutput(core::BatchOutcome::kDelivered); // on disk: read from there later
      return;
    }
    if (seq != UINT64_MAX && runner.overBudget()) {
      // Memory budget full: this output reads from disk from here on, the inputs go on.
      os.live = false;
      os.resume_from = seq;
      batch->resolveOutput(core::BatchOutcome::kDelivered);
      return;
    }
  }
  if (seq != UINT64_MAX) {
    std::lock_guard lock(os.mu);
    os.outstanding.insert(seq);
    os.seq_of[batch.get()] = seq;
  }
  runner.enqueue(std::move(batch));
}

void Pipeline::onOutputResolved(size_t output, const core::Batch& batch, core::BatchOutcome outcome) {
  OutputStore& os = *output_stores_[output];
  std::lock_guard lock(os.mu);
  auto it = os.seq_of.find(&batch);
  if (it == os.seq_of.end()) return; // not stored
  const uint64_t seq = it->second;
  os.seq_of.erase(it);
  // Given up at shutdown: keep the cursor before it, so it ships after the next start.
  if (outcome == core::BatchOutcome::kFailed && stopping_.load()) return;
  // Given up after retry.max_attempts: kept aside for `ferry replay`.
  if (outcome == core::BatchOutcome::kFailed) deadLetter(output, batch);
  os.outstanding.erase(seq);
}

std::string deadLetterSubdir(const std::string& output) {
  return "dead-letter/" + storage::SegmentStore::fileNameFor(output);
}

void Pipeline::deadLetter(size_t output, const core::Batch& batch) {
  std::lock_guard lock(dead_letter_mu_);
  auto& dlq = dead_letters_[output];
  if (!dlq) {
    storage::StoreOptions opts = store_->options();
    opts.subdir = deadLetterSubdir(outputs_[output]->name());
    opts.when_full = storage::WhenFull::kPause; // never drops: it has no size limit of its own
    opts.max_bytes = UINT64_MAX;
    auto opened = storage::SegmentStore::open(opts, {"replay"});
    if (!opened) {
      storage_errors_->add();
      FERRY_LOG_ERROR("storage", "cannot open the dead-letter queue of {}: {}", outputs_[output]->name(),
                      opened.error());
      return;
    }
    dlq = std::move(*opened);
  }
  auto seq = dlq->append(batch);
  const std::string where = dlq->directory();
  if (seq) dlq->sync();
  if (!seq) {
    storage_errors_->add();
    FERRY_LOG_ERROR("storage", "cannot keep {} given-up records of {}: {}", batch.size(),
                    outputs_[output]->name(), seq.error());
    return;
  }
  dead_lettered_->add(batch.size());
  FERRY_LOG_WARN("storage", "{} records given up by {} kept in {} (resend with `ferry replay`)", batch.size(),
                 outputs_[output]->name(), where);
}

std::vector<ReplayResult> replayDeadLetters(const config::Config& config, output::PluginHost& plugins,
                                            obs::Metrics& metrics, const std::string& only,
                                            std::chrono::milliseconds budget, const ReplayProgressFn& progress) {
  std::vector<ReplayResult> results;
  if (!config.service.storage_path) throw std::runtime_error("service.storage is not configured");
  bool matched = false;
  for (const auto& o : config.outputs) {
    if (!only.empty() && o.section.name != only) continue;
    matched = true;
    storage::StoreOptions opts;
    opts.path = *config.service.storage_path;
    opts.subdir = deadLetterSubdir(o.section.name);
    opts.max_bytes = UINT64_MAX;
    const std::string dir = opts.path + "/" + opts.subdir;
    if (::access(dir.c_str(), F_OK) != 0) continue; // nothing given up
    auto store = storage::SegmentStore::open(opts, {"replay"});
    if (!store) throw std::runtime_error(store.error());
    for (const auto& d : (*store)->recovery().lost) logDamage(d, dir);
    auto api = plugins.load(o.section.type);
    if (!api) throw std::runtime_error(api.error());
    output::OutputRunner runner(**api, o, metrics, config.service.http_unhealthy_after_ms);
    if (auto ok = runner.init(); !ok) throw std::runtime_error(ok.error());
    runner.start();
    ReplayResult r{o.section.name};
    std::atomic<uint64_t> delivered{0};
    runner.setResolvedHook([&delivered](const core::Batch& b, core::BatchOutcome outcome) {
      if (outcome != core::BatchOutcome::kFailed) delivered.fetch_add(b.size());
    });
    const auto deadline = std::chrono::steady_clock::now() + budget;
    storage::StoreReader reader(**store, (*store)->cursor("replay"));
    bool read_all = true;
    ReplayProgress p{.output = o.section.name, .queue_bytes = (*store)->bytes()};
    auto last_report = std::chrono::steady_clock::now();
    const auto report = [&](bool force) {
      if (!progress) return;
      const auto now = std::chrono::steady_clock::now();
      if (!force && now - last_report < std::chrono::milliseconds(100)) return;
      last_report = now;
      p.records = r.records;
      p.delivered = delivered.load();
      progress(p);
    };
    for (;;) {
      while (runner.overBudget() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      auto e = reader.next();
      for (const auto& d : reader.takeDamage()) logDamage(d, (*store)->directory());
      if (!e) throw std::runtime_error(e.error());
      if (!*e) break;
      r.records += (*e)->batch->size();
      p.bytes += (*e)->batch->buffer().size();
      (*e)->batch->expectOutputs(1);
      runner.enqueue(std::move((*e)->batch));
      report(false);
      if (std::chrono::steady_clock::now() >= deadline) {
        read_all = false;
        break;
      }
    }
    while (progress && delivered.load() < r.records && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      report(false);
    }
    runner.finish(deadline);
    runner.join();
    r.delivered = delivered.load();
    report(true);
    r.complete = read_all && r.delivered == r.records;
    store->reset();
    // All or nothing: a partly replayed queue is kept whole (resending it may repeat records,
    // never lose them).
    if (r.complete) std::filesystem::remove_all(dir);
    results.push_back(std::move(r));
  }
  if (!only.empty() && !matched) throw std::runtime_error(fmt::format("no output named '{}'", only));
  return results;
}

uint64_t Pipeline::outputCursor(size_t output) {
  OutputStore& os = *output_stores_[output];
  std::lock_guard feed_lock(feed_mu_);
  std::lock_guard lock(os.mu);
  uint64_t cursor;
  if (!os.outstanding.empty())
    cursor = *os.outstanding.begin();
  else if (os.live)
    cursor = routed_end_.load();
  else
    cursor = os.reader ? os.reader->position() : os.resume_from;
  if (!os.held.empty()) cursor = std::min(cursor, *os.held.begin());
  return cursor;
}

// A stored batch about to go through the filters: its entry stays unreleased (for `output`,
// or every output when SIZE_MAX) until the batch's finalizer runs, which a filter holding
// some of its records delays until the records made from them are resolved. Reassembly
// state is thus covered by the disk buffer: after a crash the entry is read again, through
// the filters again. Called only with a multiline filter configured: the hold lasts until
// every output has resolved the batch, so a dead output also keeps a healthy one's cursor
// back (after a restart the healthy one may resend, never lose). Without one, each output's
// own outstanding entries bound its cursor, and outputs stay isolated.
void Pipeline::holdEntry(core::Batch& batch, uint64_t seq, size_t output) {
  const size_t first = output == SIZE_MAX ? 0 : output;
  const size_t last = output == SIZE_MAX ? output_stores_.size() : output + 1;
  for (size_t i = first; i < last; ++i) {
    OutputStore& os = *output_stores_[i];
    std::lock_guard lock(os.mu);
    os.held.insert(seq);
  }
  batch.setFinalizer([this, seq, first, last, prev = batch.takeFinalizer()](core::BatchOutcome outcome) mutable {
    if (prev) prev(outcome);
    // Given up at shutdown: the entry stays held, so it is read again after the next start.
    if (outcome == core::BatchOutcome::kFailed && stopping_.load()) return;
    for (size_t i = first; i < last; ++i) {
      OutputStore& os = *output_stores_[i];
      std::lock_guard lock(os.mu);
      if (auto it = os.held.find(seq); it != os.held.end()) os.held.erase(it);
    }
  });
}

void Pipeline::saveCursors() {
  for (size_t i = 0; i < outputs_.size(); ++i) store_->setCursor(outputs_[i]->name(), outputCursor(i));
  if (auto ok = store_->persistCursors(); !ok) {
    storage_errors_->add();
    FERRY_LOG_ERROR("storage", "{}", ok.error());
  }
  store_->collect();
  storage_bytes_->set(static_cast<int64_t>(store_->bytes()));
}

bool Pipeline::feedFromDisk(size_t output) {
  OutputStore& os = *output_stores_[output];
  output::OutputRunner& runner = *outputs_[output];
  // Records a filter holds from entries read from disk (multiline) go on when their time
  // comes, also once this output is live again.
  os.disk_router.poll();
  for (;;) {
    uint64_t limit;
    {
      std::lock_guard lock(feed_mu_);
      if (os.live) {
        os.reader.reset();
        return true;
      }
      if (!os.reader || os.reader->position() < os.resume_from) os.reader.emplace(*store_, os.resume_from);
      limit = routed_end_.load();
      if (os.reader->position() >= limit) {
        os.live = true; // caught up: the router hands this output new batches again
        os.reader.reset();
        return true;
      }
    }
    // Records up to half the budget: leave room for the router's batches once this output is
    // live again. The other half is the request bodies' (the runner encodes no more past it);
    // counting them here too would leave less than a request's worth of records to encode,
    // and the runner waiting for its flush interval.
    if (runner.recordBytes() * 2 > config_.outputs[output].common.buffer_max_bytes) return false;
    auto entry = os.reader->next(limit - 1);
    if (auto damage = os.reader->takeDamage(); !damage.empty()) {
      reportDamage(damage, fmt::format("output {}", runner.name()));
    }
    if (!entry) {
      storage_errors_->add();
      FERRY_LOG_ERROR("storage", "output {}: {}; skipping to the newest entries", runner.name(), entry.error());
      std::lock_guard lock(feed_mu_);
      os.live = true;
      os.reader.reset();
      return true;
    }
    if (!*entry) {
      os.disk_router.poll();
      // Nothing readable below the limit (lost to drop_oldest): live, unless more was routed.
      std::lock_guard lock(feed_mu_);
      if (routed_end_.load() == limit) {
        os.live = true;
        os.reader.reset();
        return true;
      }
      continue;
    }
    os.reading_seq = (*entry)->seq;
    if (holds_entries_) holdEntry(*(*entry)->batch, (*entry)->seq, output);
    os.disk_router.route(std::move((*entry)->batch));
    os.reading_seq = UINT64_MAX;
  }
}

void Pipeline::storageLoop() {
  const bool interval_sync = store_->options().sync == storage::SyncPolicy::kInterval;
  auto next_sync = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!storage_stop_.load()) {
    bool idle = true;
    for (size_t i = 0; i < outputs_.size(); ++i) idle = feedFromDisk(i) && idle;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_sync) {
      next_sync = now + std::chrono::seconds(1);
      if (interval_sync) {
        if (auto ok = store_->sync(); !ok) {
          storage_errors_->add();
          FERRY_LOG_ERROR("storage", "{}", ok.error());
        }
      }
      saveCursors();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(idle ? 20 : 2));
  }
}

} // namespace ferry::app
