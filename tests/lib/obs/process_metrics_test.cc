// process_* sampling: /proc/<pid>/stat parsing (a command name with spaces and parentheses,
// the units), and a live sample of this test process against what it can see itself.
#include "ferry/obs/process_metrics.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <string>

namespace ferry::obs {
namespace {

// Fields 3..24 of proc(5) after "pid (comm)": utime 250, stime 50 ticks, starttime 1000
// ticks after boot, vsize 4096000 bytes, rss 300 pages.
constexpr const char* kStatTail = " S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 1000 "
                                  "4096000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 "
                                  "0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesProcStat) {
  const auto s = parseProcStat(std::string("4242 (ferry)") + kStatTail, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 300.0 * 4096);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 4096000);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1'700'000'010);
}

TEST(ProcessMetricsTest, CommandNameMayHoldSpacesAndParentheses) {
  const auto s = parseProcStat(std::string("4242 (a) b (c) 1 2)") + kStatTail, 100, 4096, 0);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 10);
}

TEST(ProcessMetricsTest, MalformedTextIsRefused) {
  EXPECT_FALSE(parseProcStat("", 100, 4096, 0));
  EXPECT_FALSE(parseProcStat("4242 ferry S 1 2 3", 100, 4096, 0));             // no ')'
  EXPECT_FALSE(parseProcStat("4242 (ferry) S 1 2 3 4 5 6 7 8", 100, 4096, 0)); // too short
  std::string bad = std::string("4242 (ferry)") + kStatTail;
  bad.replace(bad.find(" 250 "), 5, " x50 "); // utime not a number
  EXPECT_FALSE(parseProcStat(bad, 100, 4096, 0));
  EXPECT_FALSE(parseProcStat(std::string("4242 (ferry)") + kStatTail, 0, 4096, 0));
}

TEST(ProcessMetricsTest, SamplesThisProcess) {
  const ProcessStats p = sampleProcess();
  ASSERT_TRUE(p.stat);
  EXPECT_GT(p.stat->resident_bytes, 1 << 20);
  EXPECT_GT(p.stat->virtual_bytes, p.stat->resident_bytes);
  // CPU time grows with work done: spin for 50 ms of this process' CPU time (ticks are 10 ms).
  const auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
  };
  const double until = cpu_now() + 0.05;
  volatile uint64_t spin = 0;
  while (cpu_now() < until)
    spin = spin + 1;
  const ProcessStats later = sampleProcess();
  ASSERT_TRUE(later.stat);
  EXPECT_GT(later.stat->cpu_seconds, p.stat->cpu_seconds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(p.stat->start_time_seconds, now + 1);
  EXPECT_GT(p.stat->start_time_seconds, now - 3600);
  ASSERT_TRUE(p.open_fds);
  ASSERT_TRUE(p.max_fds);
  // stdin, stdout and stderr at least; one more open now shows up in the next sample.
  EXPECT_GE(*p.open_fds, 3);
  const int fd = dup(2);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(*sampleProcess().open_fds, *p.open_fds + 1);
  close(fd);
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(*p.max_fds, static_cast<double>(lim.rlim_cur));
}

} // namespace
} // namespace ferry::obs
