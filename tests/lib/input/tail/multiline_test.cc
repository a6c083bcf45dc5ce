// Multiline joining: a start regex, and the java/python/go presets on real stack traces
// (as the JVM, CPython 3 and the Go runtime print them), timeouts, the size cap and the
// offset a pending record pins the file position to.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/input/tail_lines.h"

namespace ferry::input {
namespace {

using Clock = std::chrono::steady_clock;

struct Joined {
  std::vector<std::string> records;
  std::vector<int64_t> times;
};

Joined join(const MultilineOptions& options, const std::string& text, size_t max = 1 << 20) {
  auto rules = MultilineRules::create(options);
  EXPECT_TRUE(rules.has_value()) << (rules ? "" : rules.error());
  MultilineJoiner joiner(**rules, max);
  Joined out;
  auto emit = [&](std::string_view r, int64_t ts) {
    out.records.emplace_back(r);
    out.times.push_back(ts);
  };
  size_t start = 0;
  int64_t ts = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    joiner.add(std::string_view(text).substr(start, nl - start), ++ts, start, Clock::now(), emit);
    start = nl + 1;
  }
  joiner.flush(emit);
  return out;
}

MultilineOptions preset(const char* name) {
  MultilineOptions o;
  o.preset = name;
  return o;
}

TEST(MultilineTest, StartRegex) {
  MultilineOptions o;
  o.start = R"(^\d{4}-\d{2}-\d{2} )";
  const auto j = join(o, "continuation without a start\n"
                         "2024-05-01 12:00:00 first\n"
                         "  detail 1\n"
                         "detail 2\n"
                         "2024-05-01 12:00:01 second\n"
                         "2024-05-01 12:00:02 third\n"
                         "  tail\n");
  ASSERT_EQ(j.records.size(), 4u);
  EXPECT_EQ(j.records[0], "continuation without a start");
  EXPECT_EQ(j.records[1], "2024-05-01 12:00:00 first\n  detail 1\ndetail 2");
  EXPECT_EQ(j.records[2], "2024-05-01 12:00:01 second");
  EXPECT_EQ(j.records[3], "2024-05-01 12:00:02 third\n  tail");
  EXPECT_EQ(j.times[1], 2) << "a record has its first line's time";
}

TEST(MultilineTest, JavaPreset) {
  const std::string trace =
      "2024-05-01 12:00:00.123 ERROR [main] c.a.OrderService - order failed\n"
      "java.lang.IllegalStateException: payment declined\n"
      "\tat com.acme.orders.PaymentClient.charge(PaymentClient.java:88)\n"
      "\tat com.acme.orders.OrderService.place(OrderService.java:42)\n"
      "\tat "
      "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n"
      "Caused by: java.net.SocketTimeoutException: Read timed out\n"
      "\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)\n"
      "\t... 12 more\n"
      "\tSuppressed: java.io.IOException: close failed\n"
      "\t\tat com.acme.io.Conn.close(Conn.java:9)\n"
      "2024-05-01 12:00:00.456 INFO  [main] c.a.OrderService - next order\n"
      "Exception in thread \"worker-1\" java.lang.OutOfMemoryError: Java heap space\n"
      "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3512)\n";
  const auto j = join(preset("java"), trace);
  ASSERT_EQ(j.records.size(), 3u) << j.records[0];
  EXPECT_TRUE(j.records[0].starts_with("2024-05-01 12:00:00.123 ERROR"));
  EXPECT_TRUE(j.records[0].ends_with("\t\tat com.acme.io.Conn.close(Conn.java:9)"));
  EXPECT_EQ(std::count(j.records[0].begin(), j.records[0].end(), '\n'), 9);
  EXPECT_EQ(j.records[1], "2024-05-01 12:00:00.456 INFO  [main] c.a.OrderService - next order");
  EXPECT_TRUE(j.records[2].starts_with("Exception in thread"));
  EXPECT_TRUE(j.records[2].ends_with("(Arrays.java:3512)"));
}

TEST(MultilineTest, PythonPreset) {
  const std::string trace = "ERROR:app:request failed\n"
                            "Traceback (most recent call last):\n"
                            "  File \"/srv/app/handlers.py\", line 42, in handle\n"
                            "    result = compute(payload)\n"
                            "  File \"/srv/app/compute.py\", line 7, in compute\n"
                            "    return 1 / payload[\"n\"]\n"
                            "ZeroDivisionError: division by zero\n"
                            "\n"
                            "During handling of the above exception, another exception occurred:\n"
                            "\n"
                            "Traceback (most recent call last):\n"
                            "  File \"/srv/app/handlers.py\", line 44, in handle\n"
                            "    raise RequestError(\"bad input\") from None\n"
                            "app.errors.RequestError: bad input\n"
                            "\n"
                            "INFO:app:next request\n"
                            "INFO:app:and another\n";
  const auto j = join(preset("python"), trace);
  ASSERT_EQ(j.records.size(), 3u);
  EXPECT_TRUE(j.records[0].starts_with("ERROR:app:request failed\nTraceback"));
  EXPECT_TRUE(j.records[0].ends_with("app.errors.RequestError: bad input"))
      << "trailing blank lines are not part of the record: " << j.records[0];
  EXPECT_NE(j.records[0].find("ZeroDivisionError: division by zero\n\nDuring handling"),
            std::string::npos);
  EXPECT_EQ(j.records[1], "INFO:app:next request");
  EXPECT_EQ(j.records[2], "INFO:app:and another");
}

TEST(MultilineTest, GoPreset) {
  const std::string trace = "2024/05/01 12:00:00 serving on :8080\n"
                            "panic: runtime error: index out of range [5] with length 3\n"
                            "\n"
                            "goroutine 1 [running]:\n"
                            "main.lookup(...)\n"
                            "\t/src/app/main.go:12\n"
                            "main.(*Server).handle(0xc000012345, {0x4b2f60, 0x3})\n"
                            "\t/src/app/server.go:88 +0x1d\n"
                            "created by main.main in goroutine 1\n"
                            "\t/src/app/main.go:30 +0x65\n"
                            "exit status 2\n"
                            "2024/05/01 12:00:05 serving on :8080\n";
  const auto j = join(preset("go"), trace);
  ASSERT_EQ(j.records.size(), 3u);
  EXPECT_EQ(j.records[0], "2024/05/01 12:00:00 serving on :8080");
  EXPECT_TRUE(j.records[1].starts_with("panic: runtime error"));
  EXPECT_TRUE(j.records[1].ends_with("exit status 2"));
  EXPECT_EQ(std::count(j.records[1].begin(), j.records[1].end(), '\n'), 9);
  EXPECT_EQ(j.records[2], "2024/05/01 12:00:05 serving on :8080");
}

TEST(MultilineTest, PendingRecordPinsTheOffsetAndTimesOut) {
  MultilineOptions o;
  o.start = "^START";
  o.timeout = std::chrono::milliseconds(100);
  auto rules = MultilineRules::create(o);
  ASSERT_TRUE(rules);
  MultilineJoiner joiner(**rules, 1 << 20);
  std::vector<std::string> out;
  auto emit = [&](std::string_view r, int64_t) { out.emplace_back(r); };
  const auto t0 = Clock::now();
  joiner.add("START a", 1, 0, t0, emit);
  joiner.add(" more", 2, 8, t0, emit);
  EXPECT_TRUE(joiner.pending());
  EXPECT_EQ(joiner.pendingOffset(), 0u);
  joiner.add("START b", 3, 14, t0, emit);
  EXPECT_EQ(out, (std::vector<std::string>{"START a\n more"}));
  EXPECT_EQ(joiner.pendingOffset(), 14u);
  EXPECT_FALSE(joiner.expired(t0 + std::chrono::milliseconds(99)));
  EXPECT_TRUE(joiner.expired(t0 + std::chrono::milliseconds(100)));
  joiner.flush(emit);
  EXPECT_FALSE(joiner.pending());
  EXPECT_EQ(out.back(), "START b");
}

TEST(MultilineTest, RecordStopsGrowingAtTheLimit) {
  MultilineOptions o;
  o.start = "^S";
  const auto j = join(o, "S 123\n 4567\n 89\n", 12);
  EXPECT_EQ(j.records, (std::vector<std::string>{"S 123\n 4567", " 89"}));
}

TEST(MultilineTest, BadOptions) {
  MultilineOptions o;
  o.start = "([unclosed";
  EXPECT_FALSE(MultilineRules::create(o));
  o.start.clear();
  o.preset = "cobol";
  EXPECT_FALSE(MultilineRules::create(o));
  o.start = "^x";
  o.preset = "java";
  EXPECT_FALSE(MultilineRules::create(o));
}

} // namespace
} // namespace ferry::input
