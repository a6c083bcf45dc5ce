// multiline filter: Fluent Bit's built-in parsers on real stack traces (as the JVM, CPython 3
// and the Go runtime print them), docker and cri partials, custom rules with states, the
// flush timeout, interleaved streams, partial_message mode, and the acknowledgement of held
// records.
#include "filter_test_util.h"

#include <optional>

#include "ferry/filter/record.h"
#include "ferry/input/multiline.h"

namespace ferry::test {
namespace {

using Clock = std::chrono::steady_clock;

// A FireLens record: the forward input's fields, `log` without its newline.
std::string rec(const std::string& log, const std::string& container = "c1",
                const std::string& source = "stdout") {
  return packFields({{"container_id", container},
                     {"container_name", "/app-" + container},
                     {"source", source},
                     {"log", log}});
}

std::vector<std::string> lines(const std::string& text, const std::string& container = "c1") {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(rec(text.substr(start, nl - start), container));
    start = nl + 1;
  }
  return out;
}

// The `log` of each record (after a forced release of whatever is still held).
std::vector<std::string> logs(core::Filter& f, const std::vector<std::string>& records,
                              const std::string& tag = "app") {
  std::vector<std::string> out;
  auto collect = [&](const core::Batch& b) {
    std::vector<filter::Field> fields;
    std::vector<uint64_t> stack;
    std::string scratch;
    for (size_t i = 0; i < b.size(); ++i) {
      std::string_view text;
      EXPECT_TRUE(filter::splitFields(b.format(), b.record(i).data, fields, stack));
      const filter::Field* log = filter::findField(fields, "log");
      EXPECT_TRUE(log != nullptr && filter::fieldText(*log, scratch, text));
      out.emplace_back(text);
    }
  };
  collect(*f.apply(mapBatch(tag, records)));
  for (const auto& b : f.release(Clock::now(), true))
    collect(*b);
  return out;
}

const char* kJava = "2024-05-01 12:00:00.123 ERROR [main] c.a.OrderService - order failed\n"
                    "java.lang.IllegalStateException: payment declined\n"
                    "\tat com.acme.orders.PaymentClient.charge(PaymentClient.java:88)\n"
                    "\tat com.acme.orders.OrderService.place(OrderService.java:42)\n"
                    "Caused by: java.net.SocketTimeoutException: Read timed out\n"
                    "\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)\n"
                    "\t... 12 more\n"
                    "2024-05-01 12:00:00.456 INFO  [main] c.a.OrderService - next order\n";

TEST(MultilineFilter, JavaStackTrace) {
  auto f = makeFilter("  - type: multiline\n    parser: [java]\n");
  const auto out = logs(*f, lines(kJava));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "2024-05-01 12:00:00.123 ERROR [main] c.a.OrderService - order failed");
  EXPECT_EQ(out[1], "java.lang.IllegalStateException: payment declined\n"
                    "\tat com.acme.orders.PaymentClient.charge(PaymentClient.java:88)\n"
                    "\tat com.acme.orders.OrderService.place(OrderService.java:42)\n"
                    "Caused by: java.net.SocketTimeoutException: Read timed out\n"
                    "\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)\n"
                    "\t... 12 more");
  EXPECT_EQ(out[2], "2024-05-01 12:00:00.456 INFO  [main] c.a.OrderService - next order");
}

TEST(MultilineFilter, PythonTracebackEndsAtItsExceptionLine) {
  auto f = makeFilter("  - type: multiline\n    parser: [python]\n");
  const auto out = logs(*f, lines("INFO starting worker\n"
                                  "Traceback (most recent call last):\n"
                                  "  File \"/app/worker.py\", line 42, in run\n"
                                  "    result = self.handle(job)\n"
                                  "  File \"/app/worker.py\", line 57, in handle\n"
                                  "    return json.loads(job.payload)\n"
                                  "json.decoder.JSONDecodeError: Expecting value: line 1 column 1\n"
                                  "INFO next job\n"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "INFO starting worker");
  EXPECT_EQ(out[1], "Traceback (most recent call last):\n"
                    "  File \"/app/worker.py\", line 42, in run\n"
                    "    result = self.handle(job)\n"
                    "  File \"/app/worker.py\", line 57, in handle\n"
                    "    return json.loads(job.payload)\n"
                    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1");
  EXPECT_EQ(out[2], "INFO next job");
}

TEST(MultilineFilter, GoPanic) {
  auto f = makeFilter("  - type: multiline\n    parser: [go]\n");
  const auto out = logs(*f, lines("listening on :8080\n"
                                  "panic: runtime error: index out of range [3] with length 3\n"
                                  "\n"
                                  "goroutine 1 [running]:\n"
                                  "main.lookup(...)\n"
                                  "\t/app/main.go:12\n"
                                  "main.main()\n"
                                  "\t/app/main.go:20 +0x1d\n"
                                  "exit status 2\n"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "listening on :8080");
  EXPECT_EQ(out[1], "panic: runtime error: index out of range [3] with length 3\n"
                    "\n"
                    "goroutine 1 [running]:\n"
                    "main.lookup(...)\n"
                    "\t/app/main.go:12\n"
                    "main.main()\n"
                    "\t/app/main.go:20 +0x1d");
  EXPECT_EQ(out[2], "exit status 2");
}

TEST(MultilineFilter, ParsersAreTriedInOrder) {
  auto f = makeFilter("  - type: multiline\n    parser: [go, java]\n");
  const auto out = logs(*f, lines("panic: boom\n\ngoroutine 7 [running]:\nmain.f()\n\t/a.go:1\n"
                                  "java.lang.RuntimeException: x\n\tat A.b(A.java:1)\n"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "panic: boom\n\ngoroutine 7 [running]:\nmain.f()\n\t/a.go:1");
  EXPECT_EQ(out[1], "java.lang.RuntimeException: x\n\tat A.b(A.java:1)");
}

TEST(MultilineFilter, DockerJoinsUntilANewline) {
  auto f = makeFilter("  - type: multiline\n    parser: [docker]\n");
  const auto out = logs(*f, {rec("first half, "), rec("second half\n"), rec("whole\n")});
  EXPECT_EQ(out, (std::vector<std::string>{"first half, second half\n", "whole\n"}));
}

TEST(MultilineFilter, CriPartialsJoinUpToTheFullLine) {
  auto f = makeFilter("  - type: multiline\n    parser: [cri]\n");
  const auto out = logs(*f, {rec("2024-05-01T12:00:00.000000001Z stdout P part one, "),
                             rec("2024-05-01T12:00:00.000000002Z stdout P part two, "),
                             rec("2024-05-01T12:00:00.000000003Z stdout F the end"),
                             rec("2024-05-01T12:00:01.000000000Z stdout F alone")});
  EXPECT_EQ(out, (std::vector<std::string>{"part one, part two, the end", "alone"}));
}

// The corpus's [MULTILINE_PARSER] (ecs-file-multiline), converted.
constexpr const char* kCustom = R"y(  - type: multiline
    rules:
      - '"start_state" "(Dec \d+ \d+\:\d+\:\d+)(.*)" "cont"'
      - '"cont" "^\s+at.*" "cont"'
)y";

TEST(MultilineFilter, CustomRulesWithStates) {
  auto f = makeFilter(kCustom);
  const auto out =
      logs(*f, lines("single line...\n"
                     "Dec 14 06:41:08 Exception in thread \"main\" java.lang.Error: x\n"
                     "    at com.myproject.module.MyProject.badMethod(MyProject.java:22)\n"
                     "    at com.myproject.module.MyProject.main(MyProject.java:6)\n"
                     "another line...\n"));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "single line...");
  EXPECT_EQ(out[1], "Dec 14 06:41:08 Exception in thread \"main\" java.lang.Error: x\n"
                    "    at com.myproject.module.MyProject.badMethod(MyProject.java:22)\n"
                    "    at com.myproject.module.MyProject.main(MyProject.java:6)");
  EXPECT_EQ(out[2], "another line...");
}

// Fluent Bit's endswith and equal types: every line joins until one completes the record.
TEST(MultilineFilter, EndswithAndEqualCustomParsers) {
  auto f = makeFilter("  - type: multiline\n    custom:\n      statement: 'endswith \";\"'\n");
  EXPECT_EQ(logs(*f, lines("int x\n= 1;\ny;\n")), (std::vector<std::string>{"int x\n= 1;", "y;"}));
  f = makeFilter("  - type: multiline\n    custom:\n      block: 'equal \"END\"'\n");
  EXPECT_EQ(logs(*f, lines("begin\nmiddle\nEND\nEND\n")),
            (std::vector<std::string>{"begin\nmiddle\nEND", "END"}));
  // negate: a record ends at the first line that does not end with a backslash.
  f = makeFilter("  - type: multiline\n    custom:\n      backslash: 'endswith \"\\\" negate'\n");
  EXPECT_EQ(logs(*f, lines("SELECT a \\\nFROM t \\\nWHERE x\nalone\n")),
            (std::vector<std::string>{"SELECT a \\\nFROM t \\\nWHERE x", "alone"}));
}

// Several custom parsers in one filter, tried in the order `parser` gives.
TEST(MultilineFilter, SeveralCustomParsersInOrder) {
  auto f = makeFilter(R"y(  - type: multiline
    parser: [dated, trailing]
    custom:
      dated: |
        "start_state" "^\d{4}-" "cont"
        "cont" "^ " "cont"
      trailing: 'endswith "+" negate'
)y");
  EXPECT_EQ(logs(*f, lines("2024-05-01 one\n more\nsum +\n1\n2024-05-02 two\n")),
            (std::vector<std::string>{"2024-05-01 one\n more", "sum +\n1", "2024-05-02 two"}));
  EXPECT_THROW(makeFilter("  - type: multiline\n    custom:\n      x: 'endswith nope'\n"),
               std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: multiline\n    custom:\n      go: 'equal \"x\"'\n"),
               std::invalid_argument)
      << "a built-in's name";
  EXPECT_THROW(makeFilter("  - type: multiline\n    custom:\n      x: 'not a rule'\n"),
               std::invalid_argument);
}

TEST(MultilineFilter, BadRulesAreRefused) {
  EXPECT_THROW(makeFilter("  - type: multiline\n    rules: ['\"cont\" \"^x\" \"cont\"']\n"),
               std::invalid_argument); // nothing starts from start_state
  EXPECT_THROW(makeFilter("  - type: multiline\n    rules: ['\"start_state\" \"^x\" \"nope\"']\n"),
               std::invalid_argument); // no rule for the next state
  EXPECT_THROW(makeFilter("  - type: multiline\n    rules: ['start_state ^x cont']\n"),
               std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: multiline\n    parser: [cobol]\n"), std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: multiline\n"), std::invalid_argument);
  EXPECT_THROW(makeFilter("  - type: multiline\n    mode: partial_message\n    parser: [go]\n"),
               std::invalid_argument);
}

TEST(MultilineFilter, FlushTimeoutReleasesAHeldRecord) {
  auto f = makeFilter(std::string(kCustom) + "    flush_ms: 50ms\n");
  std::optional<core::BatchOutcome> acked;
  auto b = mapBatch("app", lines("Dec 14 06:41:08 boom\n    at A.b(A.java:1)\n"));
  b->setFinalizer([&](core::BatchOutcome o) { acked = o; });
  auto out = f->apply(std::move(b));
  EXPECT_EQ(out->size(), 0u) << "the record is held until a line ends it or it times out";
  out->expectOutputs(1);
  out->resolveOutput(core::BatchOutcome::kDelivered);
  out = {};
  EXPECT_FALSE(acked.has_value()) << "a held record keeps its batch unacknowledged";
  EXPECT_TRUE(f->release(Clock::now(), false).empty()) << "not yet timed out";
  auto released = f->release(Clock::now() + std::chrono::milliseconds(60), false);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(recordsJson(*released[0]),
            (std::vector<std::string>{R"j({"container_id":"c1","container_name":"/app-c1",)j"
                                      R"j("source":"stdout","log":"Dec 14 06:41:08 boom\n    at )j"
                                      R"j(A.b(A.java:1)"})j"}));
  EXPECT_EQ(released[0]->record(0).timestamp_ns, 1'000'000'000) << "the first line's time";
  released[0]->expectOutputs(1);
  released[0]->resolveOutput(core::BatchOutcome::kDelivered);
  released.clear();
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(*acked, core::BatchOutcome::kDelivered);
}

TEST(MultilineFilter, InterleavedStreamsStayApart) {
  auto f = makeFilter("  - type: multiline\n    parser: [java]\n");
  const auto out = logs(
      *f, {rec("java.lang.IllegalStateException: a", "c1"),
           rec("java.lang.IllegalArgumentException: b", "c2"), rec("\tat A.one(A.java:1)", "c1"),
           rec("\tat B.one(B.java:1)", "c2"), rec("\tat A.two(A.java:2)", "c1"),
           rec("java.lang.IllegalStateException: c", "c1", "stderr"),
           rec("\tat C.one(C.java:1)", "c1", "stderr"), rec("done", "c1"), rec("done", "c2")});
  EXPECT_EQ(out,
            (std::vector<std::string>{
                "java.lang.IllegalStateException: a\n\tat A.one(A.java:1)\n\tat A.two(A.java:2)",
                "done", "java.lang.IllegalArgumentException: b\n\tat B.one(B.java:1)", "done",
                "java.lang.IllegalStateException: c\n\tat C.one(C.java:1)"}));
}

TEST(MultilineFilter, RecordsWithoutTheKeyPassUntouched) {
  auto f = makeFilter("  - type: multiline\n    parser: [go]\n    key_content: message\n");
  auto out = f->apply(mapBatch("app", {packFields({{"log", "panic: x"}}),
                                       packFields({{"message", "panic: y"}, {"level", "error"}}),
                                       packFields({{"message", ""}, {"level", "error"}})}));
  auto rest = f->release(Clock::now(), true);
  EXPECT_EQ(recordsJson(*out), (std::vector<std::string>{R"({"log":"panic: x"})"}));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(recordsJson(*rest[0]),
            (std::vector<std::string>{R"({"message":"panic: y\n\n","level":"error"})"}));
}

TEST(MultilineFilter, PartialMessageModeIsConcatPartial) {
  auto f = makeFilter("  - type: multiline\n    mode: partial_message\n");
  auto part = [](const std::string& c, int ordinal, bool last, const std::string& log) {
    return packFields({{"container_id", c},
                       {"log", log},
                       {"partial_message", "true"},
                       {"partial_id", "p-" + c},
                       {"partial_ordinal", std::to_string(ordinal)},
                       {"partial_last", last ? "true" : "false"}});
  };
  auto out = f->apply(mapBatch("app", {part("a", 1, false, "a1"), part("b", 1, false, "b1"),
                                       part("a", 2, true, "a2"), part("b", 2, true, "b2")}));
  EXPECT_EQ(recordsJson(*out), (std::vector<std::string>{R"({"container_id":"a","log":"a1a2"})",
                                                         R"({"container_id":"b","log":"b1b2"})"}));
  // It stands for the concat_partial ferry would add in front of a forward input.
  auto c = loadFilters("  - type: multiline\n    mode: partial_message\n");
  c.inputs.front().type = "forward";
  EXPECT_EQ(filter::effectiveFilters(c).size(), 1u);
}

TEST(MultilineRuleText, QuotesInTheRegex) {
  auto r = input::parseMultilineRule(R"("start_state, other"  "/say "hi"/"   "next")");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->from, (std::vector<std::string>{"start_state", "other"}));
  EXPECT_EQ(r->regex, R"(/say "hi"/)");
  EXPECT_EQ(r->to, "next");
}

} // namespace
} // namespace ferry::test
