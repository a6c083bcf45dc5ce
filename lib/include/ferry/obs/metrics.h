// Metrics registry: counters, gauges and histograms with labels, rendered in Prometheus text
// format. Hot paths keep a reference to their series and update it with relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ferry::obs {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

// Request latencies in seconds: Prometheus' default buckets, extended to 60 s because a sink
// request may take up to its 30 s timeout (and a slow one is exactly what users look for).
inline constexpr double kLatencyBucketsSeconds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,     2.5,  5,     10,   30,  60};

// A Prometheus histogram: fixed upper bounds (ascending; +Inf is implicit), one relaxed
// atomic per bucket. Observations are not cumulative in memory; snapshot() accumulates, so
// the +Inf bucket always equals the count even while observations race with a scrape.
class Histogram {
public:
  explicit Histogram(std::span<const double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative; // one per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upperBounds() const { return bounds_; }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_; // bounds_.size() + 1 (the last is +Inf)
  std::atomic<double> sum_{0};
};

class Metrics {
public:
  Metrics() = default;
  // `with_process`: renderPrometheus() also exports the process_* families of this process
  // (process_metrics.h). The global registry does; a test's own registry does not.
  explicit Metrics(bool with_process) : with_process_(with_process) {}

  // The same name and labels always return the same object (stable address). A name is one
  // kind only; asking for another kind under a used name is a programming error.
  Counter& counter(const std::string& name, const Labels& labels = {},
                   const std::string& help = "");
  Gauge& gauge(const std::string& name, const Labels& labels = {}, const std::string& help = "");
  // `upper_bounds` applies when the series is created; later calls get the existing one.
  Histogram& histogram(const std::string& name, const Labels& labels = {},
                       const std::string& help = "",
                       std::span<const double> upper_bounds = kLatencyBucketsSeconds);
  // Value of a series, for tests and the shutdown report (0 when absent).
  uint64_t counterValue(const std::string& name, const Labels& labels = {}) const;
  int64_t gaugeValue(const std::string& name, const Labels& labels = {}) const;
  // Every family gets one HELP (the first non-empty text any of its series registered with)
  // and one TYPE line.
  std::string renderPrometheus() const;

  // The process-wide registry.
  static Metrics& global();

private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    std::string name;
    Labels labels;
    std::string help;
    Kind kind = Kind::kCounter;
    Counter counter;
    Gauge gauge;
    std::unique_ptr<Histogram> histogram;
  };
  static std::string key(const std::string& name, const Labels& labels);
  Series* find(const std::string& name, const Labels& labels) const;
  Series& getOrCreate(const std::string& name, const Labels& labels, const std::string& help,
                      Kind kind, std::span<const double> upper_bounds = {});

  bool with_process_ = false;
  mutable std::mutex mu_;
  std::deque<Series> series_; // deque: addresses stay stable as it grows
  // name + labels → series, so that a lookup on a per-request path costs one hash.
  std::unordered_map<std::string, Series*> index_;
};

} // namespace ferry::obs
