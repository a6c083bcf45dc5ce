// Metrics registry: counters and gauges with labels, rendered in Prometheus text format.
// Hot paths keep a reference to their Counter and add with one relaxed atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
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

class Metrics {
public:
  // The same name and labels always return the same object (stable address).
  Counter& counter(const std::string& name, const Labels& labels = {},
                   const std::string& help = "");
  Gauge& gauge(const std::string& name, const Labels& labels = {}, const std::string& help = "");
  // Value of a series, for tests and the shutdown report (0 when absent).
  uint64_t counterValue(const std::string& name, const Labels& labels = {}) const;
  int64_t gaugeValue(const std::string& name, const Labels& labels = {}) const;
  std::string renderPrometheus() const;

  // The process-wide registry.
  static Metrics& global();

private:
  struct Series {
    std::string name;
    Labels labels;
    std::string help;
    bool is_counter;
    Counter counter;
    Gauge gauge;
  };
  Series* find(const std::string& name, const Labels& labels) const;
  Series& getOrCreate(const std::string& name, const Labels& labels, const std::string& help,
                      bool is_counter);

  mutable std::mutex mu_;
  std::deque<Series> series_; // deque: addresses stay stable as it grows
};

} // namespace ferry::obs
