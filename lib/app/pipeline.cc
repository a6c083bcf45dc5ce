// Pipeline wiring and the shutdown sequence. Backpressure: the router remembers which
// outputs each input's batches went to (a bit mask); an input is paused while any of those
// outputs is over its byte budget, so a dead sink pauses only the inputs that feed it.
#include "ferry/app/pipeline.h"

#include <fmt/format.h>

#include <stdexcept>
#include <unordered_map>

#include "ferry/app/registry.h"
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
  Pipeline& pipeline_;
  uint32_t id_;
  std::string name_;
  obs::Counter* records_;
  obs::Counter* bytes_;
  obs::Gauge* paused_gauge_;
  std::atomic<uint64_t> output_mask_{0};
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
  for (auto& r : outputs_) {
    router_.addOutput(r->match(), r.get());
    r->start();
  }
  for (const auto& f : config_.filters) {
    const FilterType* type = findFilterType(f.type);
    if (type == nullptr) throw std::runtime_error(fmt::format("unknown filter type '{}'", f.type));
    router_.addFilter(f.match, type->make(f));
  }
  router_thread_ = std::thread([this] { routerLoop(); });
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
  for (size_t i = 0; i < outputs_.size() && i < 64; ++i) bit[outputs_[i].get()] = 1ull << i;
  for (;;) {
    core::Batch* raw = nullptr;
    if (!ring_.popWait(raw, std::chrono::milliseconds(100))) {
      slots_used.set(static_cast<int64_t>(ring_.sizeApprox()));
      if (router_stop_.load()) {
        // Stop only once the ring is empty: inputs have all been joined by now.
        if (!ring_.tryPop(raw)) break;
      } else {
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
  for (auto& in : inputs_) in->stop();
  for (auto& in : inputs_) in->join();
  router_stop_.store(true);
  ring_.notifyConsumer();
  if (router_thread_.joinable()) router_thread_.join();
  uint64_t failed_before = 0;
  for (auto& o : outputs_) failed_before += o->failedRecords();
  for (auto& o : outputs_) o->finish(deadline);
  for (auto& o : outputs_) o->join();
  uint64_t failed_after = 0;
  for (auto& o : outputs_) failed_after += o->failedRecords();
  report.records_lost = failed_after - failed_before;
  report.clean = report.records_lost == 0;
  return report;
}

} // namespace ferry::app
