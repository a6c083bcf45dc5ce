// Metrics registry: series identity, histogram bucketing, and the Prometheus text format
// (families grouped, cumulative buckets ending in +Inf == _count, escaping).
#include "ferry/obs/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>
#include <vector>

namespace ferry::obs {
namespace {

TEST(MetricsTest, SameNameAndLabelsGiveTheSameSeries) {
  Metrics m;
  Counter& a = m.counter("ferry_x_total", {{"input", "a"}});
  Counter& b = m.counter("ferry_x_total", {{"input", "b"}});
  EXPECT_EQ(&a, &m.counter("ferry_x_total", {{"input", "a"}}));
  EXPECT_NE(&a, &b);
  a.add(3);
  b.add();
  EXPECT_EQ(m.counterValue("ferry_x_total", {{"input", "a"}}), 3u);
  EXPECT_EQ(m.counterValue("ferry_x_total", {{"input", "b"}}), 1u);
  EXPECT_EQ(m.counterValue("ferry_x_total", {{"input", "c"}}), 0u);
  // Label values containing the key separator must not collide with other label sets.
  EXPECT_NE(&m.counter("ferry_y", {{"a", std::string("1\0b", 3)}}),
            &m.counter("ferry_y", {{"a", "1"}, {"b", ""}}));
}

TEST(MetricsTest, RendersFamiliesGroupedWithHelpAndType) {
  Metrics m;
  m.counter("ferry_input_records_total", {{"input", "forward"}}, "Records read").add(5);
  m.gauge("ferry_ring_capacity", {}, "Ring slots").set(4096);
  m.counter("ferry_input_records_total", {{"input", "tail"}}, "Records read").add(7);
  const std::string text = m.renderPrometheus();
  EXPECT_EQ(text, "# HELP ferry_input_records_total Records read\n"
                  "# TYPE ferry_input_records_total counter\n"
                  "ferry_input_records_total{input=\"forward\"} 5\n"
                  "ferry_input_records_total{input=\"tail\"} 7\n"
                  "# HELP ferry_ring_capacity Ring slots\n"
                  "# TYPE ferry_ring_capacity gauge\n"
                  "ferry_ring_capacity 4096\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.gauge("ferry_g", {{"output", "a\"b\\c\nd"}}, "line one\nback\\slash").set(-2);
  EXPECT_EQ(m.renderPrometheus(), "# HELP ferry_g line one\\nback\\\\slash\n"
                                  "# TYPE ferry_g gauge\n"
                                  "ferry_g{output=\"a\\\"b\\\\c\\nd\"} -2\n");
}

TEST(MetricsTest, FamilyHelpComesFromAnySeriesThatHasIt) {
  Metrics m;
  m.counter("ferry_r_total", {{"result", "ok"}}).add(1);
  m.counter("ferry_r_total", {{"result", "error"}}, "Requests").add(2);
  EXPECT_EQ(m.renderPrometheus(), "# HELP ferry_r_total Requests\n"
                                  "# TYPE ferry_r_total counter\n"
                                  "ferry_r_total{result=\"ok\"} 1\n"
                                  "ferry_r_total{result=\"error\"} 2\n");
}

TEST(MetricsTest, OnlyAProcessRegistryExportsProcessMetrics) {
  Metrics plain;
  plain.gauge("ferry_g", {}, "G").set(1);
  EXPECT_EQ(plain.renderPrometheus().find("process_"), std::string::npos);
  Metrics with_process(/*with_process=*/true);
  with_process.gauge("ferry_g", {}, "G").set(1);
  const std::string text = with_process.renderPrometheus();
  EXPECT_TRUE(text.starts_with("# HELP ferry_g G\n"));
  for (const char* family :
       {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
        "process_virtual_memory_bytes gauge", "process_start_time_seconds gauge",
        "process_open_fds gauge", "process_max_fds gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family;
  }
}

TEST(HistogramTest, BucketsAreUpperInclusiveAndCumulative) {
  const double bounds[] = {0.1, 1, 10};
  Histogram h(bounds);
  h.observe(0.05);
  h.observe(0.1); // on the bound: belongs to le="0.1"
  h.observe(0.5);
  h.observe(10);
  h.observe(11); // only +Inf
  const auto s = h.snapshot();
  ASSERT_EQ(s.cumulative.size(), 4u);
  EXPECT_EQ(s.cumulative[0], 2u);
  EXPECT_EQ(s.cumulative[1], 3u);
  EXPECT_EQ(s.cumulative[2], 4u);
  EXPECT_EQ(s.cumulative[3], 5u);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 0.05 + 0.1 + 0.5 + 10 + 11);
}

TEST(HistogramTest, IgnoresNaN) {
  Histogram h(kLatencyBucketsSeconds);
  h.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.snapshot().count, 0u);
  EXPECT_EQ(h.snapshot().sum, 0);
}

TEST(HistogramTest, RendersPrometheusHistogram) {
  Metrics m;
  const double bounds[] = {0.25, 1};
  Histogram& h = m.histogram("ferry_output_request_duration_seconds", {{"output", "datadog"}},
                             "Latency", bounds);
  EXPECT_EQ(&h, &m.histogram("ferry_output_request_duration_seconds", {{"output", "datadog"}}));
  h.observe(0.125);
  h.observe(2);
  EXPECT_EQ(m.renderPrometheus(),
            "# HELP ferry_output_request_duration_seconds Latency\n"
            "# TYPE ferry_output_request_duration_seconds histogram\n"
            "ferry_output_request_duration_seconds_bucket{output=\"datadog\",le=\"0.25\"} 1\n"
            "ferry_output_request_duration_seconds_bucket{output=\"datadog\",le=\"1\"} 1\n"
            "ferry_output_request_duration_seconds_bucket{output=\"datadog\",le=\"+Inf\"} 2\n"
            "ferry_output_request_duration_seconds_sum{output=\"datadog\"} 2.125\n"
            "ferry_output_request_duration_seconds_count{output=\"datadog\"} 2\n");
}

TEST(HistogramTest, DefaultLatencyBucketsCoverTheRequestTimeout) {
  Metrics m;
  Histogram& h = m.histogram("ferry_h_seconds");
  ASSERT_FALSE(h.upperBounds().empty());
  EXPECT_LE(h.upperBounds().front(), 0.005);
  EXPECT_GE(h.upperBounds().back(), 30.0);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h(kLatencyBucketsSeconds);
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i)
        h.observe(0.001 * (i % 100) + t);
    });
  }
  for (auto& t : threads)
    t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(s.cumulative.back(), s.count);
  for (size_t i = 1; i < s.cumulative.size(); ++i)
    EXPECT_LE(s.cumulative[i - 1], s.cumulative[i]);
}

} // namespace
} // namespace ferry::obs
