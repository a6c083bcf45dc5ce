// The tail input against real files in a temp dir and a fake InputContext: following,
// rotation by rename, copytruncate, deletion, re-creation, discovery by glob, restarts that
// resume exactly, failed batches read again, idle flush, parsers, multiline, polling and
// backpressure.
#include "ferry/input/tail.h"

#include "tail_test_support.h"

namespace ferry::input {
namespace {

TEST_F(TailInputTest, FirstStartReadsFromTheEndThenFollows) {
  append(log_, "old1\nold2\n");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  EXPECT_EQ(ctx.gauge("ferry_input_files_watched"), 1);
  append(log_, "new1\nnew2\n");
  EXPECT_EQ(ctx.waitFor(2), (std::vector<std::string>{"new1", "new2"}));
  stop(input);
  EXPECT_EQ(ctx.records().size(), 2u);
  EXPECT_EQ(ctx.tags(), (std::vector<std::string>{"tail", "tail"}));
  EXPECT_EQ(savedOffset(), fs::file_size(log_));
}

TEST_F(TailInputTest, ReadFromHead) {
  append(log_, "old1\nold2\n");
  FakeContext ctx;
  auto c = config();
  c.read_from_head = true;
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(log_, "new1\n");
  EXPECT_EQ(ctx.waitFor(3), (std::vector<std::string>{"old1", "old2", "new1"}));
  stop(input);
}

TEST_F(TailInputTest, RestartResumesExactlyWhereDeliveryEnded) {
  append(log_, "before-first-start\n");
  {
    FakeContext ctx;
    auto input = std::make_unique<TailInput>(config());
    input->start(ctx);
    append(log_, lines("a", 0, 100));
    EXPECT_EQ(ctx.waitFor(100).size(), 100u);
    stop(input);
  }
  EXPECT_EQ(savedOffset(), fs::file_size(log_));
  append(log_, lines("b", 0, 50)); // written while stopped
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, lines("c", 0, 5));
  auto expected = names("b", 0, 50);
  for (auto& s : names("c", 0, 5))
    expected.push_back(s);
  EXPECT_EQ(ctx.waitFor(55), expected);
  stop(input);
}

TEST_F(TailInputTest, FailedBatchesAreReadAgainAfterRestart) {
  append(log_, "x\n");
  {
    FakeContext failing(FakeContext::Mode::kFail);
    auto input = std::make_unique<TailInput>(config());
    input->start(failing);
    append(log_, lines("f", 0, 20));
    EXPECT_EQ(failing.waitFor(20).size(), 20u);
    stop(input);
  }
  EXPECT_EQ(savedOffset(), 2u) << "nothing past the failed batches";
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  EXPECT_EQ(ctx.waitFor(20), names("f", 0, 20));
  stop(input);
  EXPECT_EQ(savedOffset(), fs::file_size(log_));
}

TEST_F(TailInputTest, RotationByRename) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, lines("a", 0, 3));
  ctx.waitFor(3);
  fs::rename(log_, dir_ / "app.log.1");
  append(dir_ / "app.log.1", "a3\n"); // the writer has not reopened yet
  append(log_, lines("b", 0, 2));
  auto got = ctx.waitFor(6);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a0", "a1", "a2", "a3", "b0", "b1"}));
  EXPECT_TRUE(eventually([&] { return ctx.gauge("ferry_input_files_watched") == 1; }))
      << "the old file is closed after rotate_wait";
  EXPECT_EQ(ctx.counter("ferry_input_rotations_total"), 1u);
  append(log_, "b2\n");
  EXPECT_EQ(ctx.waitFor(7).back(), "b2");
  stop(input);
  EXPECT_EQ(ctx.records().size(), 7u);
}

TEST_F(TailInputTest, CopyTruncate) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, lines("long-line-before-truncation-", 0, 3));
  ctx.waitFor(3);
  fs::copy_file(log_, dir_ / "app.log.1");
  fs::resize_file(log_, 0);
  append(log_, "d0\nd1\n"); // shorter than what was read: seen as a truncation
  const auto got = ctx.waitFor(5);
  EXPECT_EQ(std::vector<std::string>(got.begin() + 3, got.end()),
            (std::vector<std::string>{"d0", "d1"}));
  EXPECT_EQ(ctx.counter("ferry_input_truncations_total"), 1u);
  stop(input);
  EXPECT_EQ(savedOffset(), 6u);
}

TEST_F(TailInputTest, DeletedFileIsReadToItsEndThenClosed) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, "one\n");
  ctx.waitFor(1);
  fs::remove(log_);
  EXPECT_TRUE(eventually([&] { return ctx.gauge("ferry_input_files_watched") == 0; }));
  EXPECT_EQ(ctx.counter("ferry_input_rotations_total"), 0u) << "a deletion is not a rotation";
  // Re-created under the same name: a new file, read from its start.
  append(log_, "again\n");
  EXPECT_EQ(ctx.waitFor(2), (std::vector<std::string>{"one", "again"}));
  stop(input);
}

TEST_F(TailInputTest, ReplacedByANewFileWithTheSameName) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, "old\n");
  ctx.waitFor(1);
  test::writeFile(dir_ / "app.log.tmp", "new0\nnew1\n");
  fs::rename(dir_ / "app.log.tmp", log_);
  EXPECT_EQ(ctx.waitFor(3), (std::vector<std::string>{"old", "new0", "new1"}));
  stop(input);
}

TEST_F(TailInputTest, NewFilesAreDiscoveredByGlobAndTaggedByPath) {
  fs::create_directory(dir_ / "logs");
  append(dir_ / "logs" / "a.log", "a-old\n");
  append(dir_ / "logs" / "skip.gz", "");
  FakeContext ctx;
  auto c = config("logs/*");
  c.exclude_paths = {"*.gz"};
  c.tag = "app.*";
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(dir_ / "logs" / "b.log", "b0\nb1\n"); // appeared later: read from its start
  append(dir_ / "logs" / "skip.gz", "zzz\n");
  EXPECT_EQ(ctx.waitFor(2), (std::vector<std::string>{"b0", "b1"}));
  std::string flat = (dir_ / "logs" / "b.log").string().substr(1);
  std::replace(flat.begin(), flat.end(), '/', '.');
  EXPECT_EQ(ctx.tags().at(0), "app." + flat);
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(ctx.records().size(), 2u) << "excluded files are not read";
  stop(input);
}

TEST_F(TailInputTest, HeldLastLineGoesOutAfterIdleFlush) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, "whole\npartial");
  EXPECT_EQ(ctx.waitFor(1), (std::vector<std::string>{"whole"}));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ctx.records().size(), 1u) << "held while it may still be completed";
  EXPECT_EQ(ctx.waitFor(2), (std::vector<std::string>{"whole", "partial"}));
  append(log_, " rest\r\n");
  EXPECT_EQ(ctx.waitFor(3).back(), " rest");
  stop(input);
}

// "partial" went out after idle_flush; the "\n" that the writer adds later ends that line,
// it is no empty record of its own. An empty line after it is one, as ever.
TEST_F(TailInputTest, BareNewlineAfterAFlushedPartialLineIsNoRecord) {
  for (const bool maps : {false, true}) { // lines read in place / parsed into maps
    SCOPED_TRACE(maps ? "maps" : "lines");
    fs::remove(log_);
    fs::remove(dir_ / "tail.db");
    append(log_, "");
    FakeContext ctx;
    auto c = config();
    if (maps) c.path_key = "p";
    auto input = std::make_unique<TailInput>(c);
    input->start(ctx);
    const auto rec = [&](const std::string& log) {
      return maps ? "{\"log\":\"" + log + "\",\"p\":\"" + log_.string() + "\"}" : log;
    };
    append(log_, "whole\npartial");
    EXPECT_EQ(ctx.waitFor(2), (std::vector<std::string>{rec("whole"), rec("partial")}));
    append(log_, "\n");
    std::this_thread::sleep_for(100ms);
    append(log_, "\r\n\nnext\n");
    EXPECT_TRUE(eventually([&] { return ctx.records().back() == rec("next"); }));
    EXPECT_EQ(ctx.records(), (std::vector<std::string>{rec("whole"), rec("partial"), rec(""),
                                                       rec(""), rec("next")}))
        << "the newline after the flushed line is no record; the two after it are";
    stop(input);
  }
}

// The same across a restart: the position saved after the flushed line is mid-line.
TEST_F(TailInputTest, BareNewlineAfterAFlushedPartialLineAcrossARestart) {
  append(log_, "");
  {
    FakeContext ctx;
    auto input = std::make_unique<TailInput>(config());
    input->start(ctx);
    append(log_, "partial");
    EXPECT_EQ(ctx.waitFor(1), (std::vector<std::string>{"partial"}));
    stop(input);
  }
  EXPECT_EQ(savedOffset(), 7u);
  append(log_, "\nafter\n");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  EXPECT_TRUE(eventually([&] { return !ctx.records().empty(); }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ctx.records(), (std::vector<std::string>{"after"}));
  stop(input);
}

TEST_F(TailInputTest, CompletedLineIsOneRecord) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  append(log_, "hel");
  std::this_thread::sleep_for(60ms);
  append(log_, "lo\r\n");
  EXPECT_EQ(ctx.waitFor(1), (std::vector<std::string>{"hello"}));
  stop(input);
}

TEST_F(TailInputTest, LongLinesAreSplitAndCounted) {
  append(log_, "");
  FakeContext ctx;
  auto c = config();
  c.max_line_bytes = 16;
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(log_, std::string(40, 'x') + "\nshort\n");
  EXPECT_EQ(ctx.waitFor(4), (std::vector<std::string>{std::string(16, 'x'), std::string(16, 'x'),
                                                      std::string(8, 'x'), "short"}));
  EXPECT_EQ(ctx.counter("ferry_input_lines_split_total"), 2u);
  stop(input);
}

TEST_F(TailInputTest, VeryLongLinesInBothReadModes) {
  for (const bool parsed : {false, true}) {
    test::TempDir dir;
    const fs::path log = dir / "long.log";
    append(log, "");
    FakeContext ctx;
    auto c = config();
    c.paths = {log.string()};
    c.db_path = (dir / "tail.db").string();
    c.max_line_bytes = 4 << 20;
    if (parsed) {
      c.multiline.start = "^S"; // joined records take the copying path
      c.multiline.timeout = 100ms;
    }
    auto input = std::make_unique<TailInput>(c);
    input->start(ctx);
    const std::string big = "S" + std::string(3 << 20, 'y');
    for (size_t at = 0; at < big.size(); at += 200000)
      append(log, big.substr(at, 200000));
    append(log, "\nS after\n");
    const auto got = ctx.waitFor(2, 10s);
    ASSERT_EQ(got.size(), 2u) << (parsed ? "parsed" : "in place");
    EXPECT_TRUE(got[0] == big) << "a 3 MiB line arrives whole, " << got[0].size() << " bytes";
    EXPECT_EQ(got[1], "S after");
    stop(input);
  }
}

TEST_F(TailInputTest, JsonParserWithPathKey) {
  append(log_, "");
  FakeContext ctx;
  auto c = config();
  c.parser.type = "json";
  c.parser.time_key = "time";
  c.path_key = "file";
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(log_, "{\"time\":\"2024-05-01T12:00:00Z\",\"msg\":\"hi\"}\nnot json\n");
  const auto got = ctx.waitFor(2);
  EXPECT_EQ(got.at(0), "{\"time\":\"2024-05-01T12:00:00Z\",\"msg\":\"hi\",\"file\":\"" +
                           log_.string() + "\"}");
  EXPECT_EQ(got.at(1), "{\"log\":\"not json\",\"file\":\"" + log_.string() + "\"}");
  EXPECT_EQ(ctx.counter("ferry_input_parse_errors_total"), 1u);
  stop(input);
}

TEST_F(TailInputTest, PathKeyWithoutParserMakesMaps) {
  append(log_, "");
  FakeContext ctx;
  auto c = config();
  c.path_key = "path";
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(log_, "plain\n");
  EXPECT_EQ(ctx.waitFor(1).at(0), "{\"log\":\"plain\",\"path\":\"" + log_.string() + "\"}");
  stop(input);
}

TEST_F(TailInputTest, MultilineRecordsAndTheirPosition) {
  append(log_, "");
  auto c = config();
  c.multiline.preset = "java";
  c.multiline.timeout = 150ms;
  {
    FakeContext ctx;
    auto input = std::make_unique<TailInput>(c);
    input->start(ctx);
    append(log_, "ERROR boom\njava.lang.RuntimeException: x\n\tat a.B.c(B.java:1)\nINFO next\n");
    EXPECT_EQ(ctx.waitFor(1).at(0),
              "ERROR boom\njava.lang.RuntimeException: x\n\tat a.B.c(B.java:1)");
    EXPECT_EQ(ctx.waitFor(2).at(1), "INFO next") << "the pending record goes out after the timeout";
    append(log_, "WARN pending\n\tat x.Y.z(Y.java:2)\n");
    std::this_thread::sleep_for(30ms);
    stop(input); // the pending record is not sent: it will be read again
    EXPECT_EQ(ctx.records().size(), 2u);
  }
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  EXPECT_EQ(ctx.waitFor(1), (std::vector<std::string>{"WARN pending\n\tat x.Y.z(Y.java:2)"}));
  stop(input);
}

TEST_F(TailInputTest, PollingWithoutInotify) {
  append(log_, "");
  FakeContext ctx;
  auto c = config();
  c.inotify = false;
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  append(log_, "polled\n");
  EXPECT_EQ(ctx.waitFor(1), (std::vector<std::string>{"polled"}));
  fs::rename(log_, dir_ / "app.log.1");
  append(log_, "after\n");
  EXPECT_EQ(ctx.waitFor(2).back(), "after");
  stop(input);
}

TEST_F(TailInputTest, BackpressureStopsReadingAndLosesNothing) {
  append(log_, "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  ctx.setGate(false);
  append(log_, lines("p", 0, 20000));
  ASSERT_TRUE(ctx.waitBlocked());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ctx.records().size(), 0u);
  ctx.setGate(true);
  EXPECT_EQ(ctx.waitFor(20000), names("p", 0, 20000));
  stop(input);
  EXPECT_EQ(savedOffset(), fs::file_size(log_));
}

TEST_F(TailInputTest, ExitOnEofFinishesWithEverything) {
  append(log_, lines("e", 0, 5000) + "no-newline");
  FakeContext ctx;
  auto c = config();
  c.read_from_head = true;
  c.exit_on_eof = true;
  auto input = std::make_unique<TailInput>(c);
  EXPECT_TRUE(input->finite());
  input->start(ctx);
  EXPECT_TRUE(eventually([&] { return input->finished(); }));
  auto expected = names("e", 0, 5000);
  expected.push_back("no-newline");
  EXPECT_EQ(ctx.records(), expected);
  stop(input);
}

TEST_F(TailInputTest, RotatedWhileStoppedIsReadToItsEnd) {
  append(log_, "");
  {
    FakeContext ctx;
    auto input = std::make_unique<TailInput>(config());
    input->start(ctx);
    append(log_, "r0\n");
    ctx.waitFor(1);
    stop(input);
  }
  append(log_, "r1\n");                 // written while stopped...
  fs::rename(log_, dir_ / "app.log.1"); // ...then rotated while stopped
  append(log_, "n0\n");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(config());
  input->start(ctx);
  auto got = ctx.waitFor(2);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"n0", "r1"}));
  stop(input);
}

TEST_F(TailInputTest, BadSettingsAreRefusedAtConstruction) {
  auto c = config();
  c.parser.type = "regex";
  c.parser.regex = "(unclosed";
  EXPECT_THROW(TailInput{c}, std::invalid_argument);
  c = config();
  c.multiline.preset = "cobol";
  EXPECT_THROW(TailInput{c}, std::invalid_argument);
  c = config();
  c.paths.clear();
  EXPECT_THROW(TailInput{c}, std::invalid_argument);
}

} // namespace
} // namespace ferry::input
