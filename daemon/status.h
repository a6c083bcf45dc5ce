// The routes of service.http: ferry's /health and /metrics (SPEC.md "HTTP endpoint") and
// Fluent Bit's /, /api/v1/uptime, /api/v1/health, /api/v1/metrics[/prometheus], so that a
// FireLens health check written for Fluent Bit works unchanged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "ferry/app/pipeline.h"
#include "ferry/config/config.h"
#include "ferry/obs/http_server.h"
#include "ferry/obs/metrics.h"

namespace ferry::daemon {

// Fluent Bit's Health_Check counts, summed over the outputs: errors = requests a sink
// refused for good, retry_failures = requests given up after retry.max_attempts.
struct FailureTotals {
  uint64_t errors = 0;
  uint64_t retry_failures = 0;
};
FailureTotals failureTotals(const app::Pipeline& pipeline, const obs::Metrics& metrics);

class StatusEndpoints {
public:
  using Clock = std::chrono::steady_clock;
  using TotalsFn = std::function<FailureTotals()>;

  // With service.http.health_check, a thread samples `totals` every second so that
  // /api/v1/health can count what happened in the last hc_period, as Fluent Bit does.
  StatusEndpoints(const config::ServiceConfig& service, TotalsFn totals);
  ~StatusEndpoints();
  StatusEndpoints(const StatusEndpoints&) = delete;
  StatusEndpoints& operator=(const StatusEndpoints&) = delete;

  obs::HttpReply reply(const app::Pipeline& pipeline, const config::Config& config,
                       const std::string& path);

  // Fluent Bit's rule: unhealthy while the errors or retry failures since the oldest sample
  // of the last hc_period exceed their counts. Healthy with health_check off.
  bool fluentBitHealthy(const FailureTotals& now);

private:
  struct Sample {
    Clock::time_point at;
    FailureTotals totals;
  };
  void sampleLoop();

  config::ServiceConfig service_;
  TotalsFn totals_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<Sample> samples_; // the last hc_period, oldest first
  std::thread sampler_;
};

} // namespace ferry::daemon
