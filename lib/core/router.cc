// Router: filters in order, then fan-out by reference to every matching output.
#include "ferry/core/router.h"

#include "ferry/core/glob.h"

namespace ferry::core {

void Router::addFilter(std::string match, std::unique_ptr<Filter> filter) {
  filters_.push_back({std::move(match), std::move(filter)});
}

void Router::addOutput(std::string match, OutputQueue* output) {
  outputs_.push_back({std::move(match), output});
  route_cache_.clear();
}

const std::vector<OutputQueue*>& Router::outputsFor(const std::string& tag) {
  auto it = route_cache_.find(tag);
  if (it != route_cache_.end()) return it->second;
  if (route_cache_.size() > 65536) route_cache_.clear(); // bound memory on tag explosions
  std::vector<OutputQueue*> targets;
  for (const auto& o : outputs_) {
    if (globMatch(o.match, tag)) targets.push_back(o.queue);
  }
  return route_cache_.emplace(tag, std::move(targets)).first->second;
}

size_t Router::route(BatchRef batch) {
  // Filters holding records get their timeouts honoured under load too, not only when idle.
  if (!filters_.empty() && std::chrono::steady_clock::now() >= next_poll_) poll(false);
  return routeFrom(std::move(batch), 0);
}

void Router::poll(bool all) {
  const auto now = std::chrono::steady_clock::now();
  next_poll_ = now + std::chrono::milliseconds(100);
  for (size_t i = 0; i < filters_.size(); ++i) {
    for (BatchRef& b : filters_[i].filter->release(now, all)) {
      if (b) routeFrom(std::move(b), i + 1);
    }
  }
}

size_t Router::routeFrom(BatchRef batch, size_t first_filter) {
  for (size_t i = first_filter; i < filters_.size(); ++i) {
    auto& f = filters_[i];
    if (!globMatch(f.match, batch->tag())) continue;
    BatchRef original = batch;
    batch = f.filter->apply(std::move(batch));
    if (batch.get() == original.get()) continue;
    if (!batch) {
      original->expectOutputs(0); // filtered out: resolved, not lost
      return 0;
    }
    // A replacement batch carries the original's acknowledgement and origin (unless the
    // filter took it over itself).
    if (auto finalizer = original->takeFinalizer()) batch->setFinalizer(std::move(finalizer));
    batch->setInputId(original->inputId());
    batch->setStoreSeq(original->storeSeq());
  }
  if (batch->empty()) {
    batch->expectOutputs(0);
    return 0;
  }
  const auto& targets = outputsFor(batch->tag());
  // Announce the count before the first hand-over: an output may resolve its share at once.
  batch->expectOutputs(static_cast<uint32_t>(targets.size()));
  for (OutputQueue* q : targets)
    q->enqueue(batch);
  return targets.size();
}

} // namespace ferry::core
