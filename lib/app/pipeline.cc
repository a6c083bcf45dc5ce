// Pipeline wiring and the shutdown sequence. Backpressure: the router remembers which
// outputs each input's batches went to (a bit mask); an input is paused while any of those
// outputs is over its byte budget, so a dead sink pauses only the inputs that feed it.
// With storage on, each output's queue is a storage::DiskQueue in front of its runner, and
// inputs pause only when the disk buffer is full (when_full: pause) or cannot take writes
// (disk full or failing: nothing is acknowledged until it is stored).
#include "ferry/app/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
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
        records_(&p.metrics_.counter("ferry_input_records_total", {{"input", name_}},
                                     "Records read by each input")),
        bytes_(&p.metrics_.counter("ferry_input_bytes_total", {{"input", name_}},
                                   "Record bytes read by each input")),
        paused_gauge_(&p.metrics_.gauge("ferry_input_paused", {{"input", name_}},
                                        "1 while the input is paused by a full output buffer")) {}

  bool push(core::BatchRef batch) override {
    if (batch->empty()) return true;
    if (pipeline_.disk_) return pushStored(std::move(batch));
    // Backpressure: wait while an output we feed is over budget. When the daemon stops,
    // what the input still holds is taken anyway (the ring has room; outputs then decide
    // within the grace period).
    waitWhilePaused();
    batch->setInputId(id_);
    records_->add(batch->size());
    bytes_->add(batch->buffer().size());
    pipeline_.ring_bytes_.fetch_add(batch->byteSize(), std::memory_order_relaxed);
    core::Batch* raw = batch.release(); // the ring carries the reference
    pipeline_.ring_.push(raw);
    return true;
  }

  // The one place that decides whether this input is paused, and so the one place that sets
  // ferry_input_paused: inputs that block in push() and inputs with their own event loop that
  // poll paused() (forward, tcp) report the same way.
  bool paused() const override {
    const bool now = mustPause();
    mark(now);
    return now;
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
  bool mustPause() const {
    if (pipeline_.disk_) return pipeline_.disk_->mustPause();
    const uint64_t mask = output_mask_.load(std::memory_order_relaxed);
    if (mask == 0) return false;
    // What waits in the ring is on its way to these outputs (or to others: pausing a little
    // early is safe, running past a budget is not).
    const uint64_t incoming = pipeline_.ring_bytes_.load(std::memory_order_relaxed);
    const auto& outs = pipeline_.outputs_;
    for (size_t i = 0; i < outs.size() && i < 64; ++i) {
      if ((mask >> i & 1) && outs[i]->overBudget(incoming)) return true;
    }
    return false;
  }

  // The gauge is written only when it changes (paused() runs on every forward read).
  void mark(bool on) const {
    if ((paused_gauge_->value() != 0) != on) paused_gauge_->set(on ? 1 : 0);
  }

  // Waits while paused. When the daemon stops, what the input still holds is taken anyway
  // (outputs then decide within the grace period), and the input no longer counts as paused.
  void waitWhilePaused() {
    while (paused() && !pipeline_.stopping_.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (pipeline_.stopping_.load(std::memory_order_relaxed)) mark(false);
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
      auto stored = pipeline_.disk_->append(*batch, [&] {
        records_->add(records);
        bytes_->add(bytes);
        ack = batch->takeFinalizer();
        pipeline_.ring_.push(batch.release()); // the ring carries the reference
      });
      if (stored) {
        mark(mustPause());
        if (ack) ack(core::BatchOutcome::kDelivered);
        return true;
      }
      mark(true); // this input waits too: for room for its own batch
      if (!sleepUnlessStopping(retry)) {
        mark(false);
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
  obs::Gauge* paused_gauge_; // written through mark() only
  std::atomic<uint64_t> output_mask_{0};
};

// A runner as what its disk queue feeds.
class Pipeline::RunnerConsumer : public storage::QueueConsumer {
public:
  explicit RunnerConsumer(output::OutputRunner& runner, uint64_t budget)
      : runner_(runner), budget_(budget) {}
  void enqueue(core::BatchRef batch) override { runner_.enqueue(std::move(batch)); }
  bool overBudget() const override { return runner_.overBudget(); }
  // Records up to half the budget: leave room for the router's batches once the queue is
  // live again. The other half is the request bodies' (the runner encodes no more past it);
  // counting them here too would leave less than a request's worth of records to encode,
  // and the runner waiting for its flush interval.
  bool wantsBacklog() const override { return runner_.recordBytes() * 2 <= budget_; }

private:
  output::OutputRunner& runner_;
  uint64_t budget_;
};

Pipeline::Pipeline(const config::Config& config, output::PluginHost& plugins, obs::Metrics& metrics)
    : config_(config), plugins_(plugins), metrics_(metrics), ring_(config.service.ring_capacity) {}

Pipeline::~Pipeline() {
  if (started_ && !stopped_) stop(std::chrono::milliseconds(0));
}

void Pipeline::start() {
  metrics_.gauge("ferry_ring_capacity", {}, "Slots in the ingestion ring")
      .set(static_cast<int64_t>(ring_.capacity()));
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
    queues_.push_back(disk_ ? static_cast<core::OutputQueue*>(&disk_->queue(i))
                            : outputs_[i].get());
    router_.addOutput(outputs_[i]->match(), queues_.back());
    outputs_[i]->start();
  }
  // Filters: the configured ones, plus concat_partial for forward inputs (filter/filters.h).
  for (const auto& f : filter::effectiveFilters(config_)) {
    const FilterType* type = findFilterType(f.type);
    if (type == nullptr) throw std::runtime_error(fmt::format("unknown filter type '{}'", f.type));
    router_.addFilter(f.match, type->make(f));
    // Entries are stored as inputs made them: a queue reading its backlog from disk runs
    // them through filters of its own (their state is that stream's, not the router's).
    if (disk_) {
      for (size_t i = 0; i < disk_->queues(); ++i)
        disk_->queue(i).addFilter(f.match, type->make(f));
      if (f.type == "multiline") disk_->setHoldsEntries(true);
    }
  }
  router_thread_ = std::thread([this] { routerLoop(); });
  // The backlog goes first: outputs start by reading from disk, new batches wait behind it.
  if (disk_) disk_->start();
  started_ = true;
  InputEnvironment env;
  env.state_dir = config_.service.storage_path  ? *config_.service.storage_path
                  : !config_.config_dir.empty() ? config_.config_dir
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
  auto& slots_used =
      metrics_.gauge("ferry_ring_slots_used", {}, "Occupied slots in the ingestion ring");
  std::unordered_map<const core::OutputQueue*, uint64_t> bit;
  for (size_t i = 0; i < queues_.size() && i < 64; ++i)
    bit[queues_[i]] = 1ull << i;
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
    // Routed batches are counted by their outputs from here on; those that went through
    // storage were never counted (their inputs pause on the disk buffer).
    if (!disk_) ring_bytes_.fetch_sub(batch->byteSize(), std::memory_order_relaxed);
    const uint32_t input = batch->inputId();
    if (input < contexts_.size()) {
      uint64_t mask = 0;
      for (auto* q : router_.outputsFor(batch->tag()))
        mask |= bit[q];
      contexts_[input]->noteOutputs(mask);
    }
    if (disk_)
      disk_->route(router_, std::move(batch));
    else
      router_.route(std::move(batch));
    slots_used.set(static_cast<int64_t>(ring_.sizeApprox()));
  }
}

ShutdownReport Pipeline::stop(std::chrono::milliseconds grace) {
  ShutdownReport report;
  if (stopped_) return report;
  stopped_ = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  stopping_.store(true);
  if (disk_) disk_->beginStop();
  for (auto& in : inputs_)
    in->stop();
  for (auto& in : inputs_)
    in->join();
  router_stop_.store(true);
  ring_.notifyConsumer();
  if (router_thread_.joinable()) router_thread_.join();
  if (disk_) disk_->drain(deadline);
  uint64_t failed_before = 0;
  for (auto& o : outputs_)
    failed_before += o->failedRecords();
  for (auto& o : outputs_)
    o->finish(deadline);
  for (auto& o : outputs_)
    o->join();
  uint64_t failed_after = 0;
  for (auto& o : outputs_)
    failed_after += o->failedRecords();
  if (disk_) {
    report.records_persisted = disk_->close();
    report.clean = report.records_persisted == 0;
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
  opts.sync = storage::parseSyncPolicy(config_.service.storage_sync)
                  .value_or(storage::SyncPolicy::kInterval);
  opts.when_full = config_.service.storage_when_full == "drop_oldest"
                       ? storage::WhenFull::kDropOldest
                       : storage::WhenFull::kPause;
  std::vector<std::string> names;
  names.reserve(outputs_.size());
  for (const auto& o : outputs_)
    names.push_back(o->name());
  auto disk = storage::DiskBuffer::open(opts, names, metrics_);
  if (!disk) throw std::runtime_error(fmt::format("storage: {}", disk.error()));
  disk_ = std::move(*disk);
  disk_->onFault([this](const std::string& reason) {
    for (auto& o : outputs_)
      o->setStorageFault(reason);
  });
  for (size_t i = 0; i < outputs_.size(); ++i) {
    consumers_.push_back(
        std::make_unique<RunnerConsumer>(*outputs_[i], config_.outputs[i].common.buffer_max_bytes));
    storage::DiskQueue& queue = disk_->attach(*consumers_.back());
    outputs_[i]->setResolvedHook(
        [&queue](const core::Batch& b, core::BatchOutcome outcome) { queue.resolved(b, outcome); });
  }
}

void Pipeline::pollFilters(bool all) {
  if (disk_)
    disk_->poll(router_, all);
  else
    router_.poll(all);
}

} // namespace ferry::app
