// The assembled data path: inputs → ring → router (filters, fan-out) → output runners.
// Owns start-up order, backpressure between outputs and inputs, and the shutdown sequence
// (stop inputs, drain the ring, flush outputs within the grace period, report losses).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/core/batch.h"
#include "ferry/core/ring.h"
#include "ferry/core/router.h"
#include "ferry/input/input.h"
#include "ferry/obs/metrics.h"
#include "ferry/output/plugin_host.h"
#include "ferry/output/runner.h"

namespace ferry::app {

struct ShutdownReport {
  uint64_t records_lost = 0; // given up by outputs during shutdown (counted as failed)
  bool clean = true;         // every output emptied within the grace period
};

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
  void routerLoop();

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
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace ferry::app
