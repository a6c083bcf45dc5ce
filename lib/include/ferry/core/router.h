// The router: the ring's single consumer. Runs the filters in config order on batches whose
// tag they match, then hands the batch by reference to every output whose glob matches its
// tag (fan-out shares one batch, it never copies it).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::core {

// A record filter (lib/filter/). Runs on the router thread only.
class Filter {
public:
  virtual ~Filter() = default;
  // Returns the batch to pass on: the same one (possibly modified in place — the router is
  // its only owner at this point), a new one, or an empty ref to drop the whole batch (its
  // finalizer then resolves it as delivered: filtering out is not a loss). A filter that
  // gives the new batch a finalizer of its own must take the original's; otherwise the
  // router moves the original's finalizer to the new batch.
  virtual BatchRef apply(BatchRef batch) = 0;
  // For filters that hold records back across batches (concat_partial): the batches whose
  // time has come (`now`), or everything held when `all` (shutdown). Called by the router
  // between batches and when idle; what it returns goes through the later filters.
  virtual std::vector<BatchRef> release(std::chrono::steady_clock::time_point /*now*/,
                                        bool /*all*/) {
    return {};
  }
};

// Where the router hands batches: an output runner's queue.
class OutputQueue {
public:
  virtual ~OutputQueue() = default;
  // Takes a reference to the batch; never blocks (budgets are enforced by pausing inputs).
  virtual void enqueue(BatchRef batch) = 0;
  // True while this output holds more than its budget: the inputs feeding it must pause.
  virtual bool overBudget() const = 0;
};

class Router {
public:
  void addFilter(std::string match, std::unique_ptr<Filter> filter);
  void addOutput(std::string match, OutputQueue* output);

  // Filters and fans out one batch. Returns the outputs it went to.
  size_t route(BatchRef batch);
  // Lets filters that hold records release those whose time has come (the pipeline calls it
  // when the ring is idle), or all of them (`all`, at shutdown).
  void poll(bool all = false);

  // The outputs a tag goes to (cached per tag; tags are few).
  const std::vector<OutputQueue*>& outputsFor(const std::string& tag);

private:
  size_t routeFrom(BatchRef batch, size_t first_filter);

  struct FilterEntry {
    std::string match;
    std::unique_ptr<Filter> filter;
  };
  struct OutputEntry {
    std::string match;
    OutputQueue* queue;
  };
  std::vector<FilterEntry> filters_;
  std::vector<OutputEntry> outputs_;
  std::unordered_map<std::string, std::vector<OutputQueue*>> route_cache_;
  std::chrono::steady_clock::time_point next_poll_{};
};

} // namespace ferry::core
