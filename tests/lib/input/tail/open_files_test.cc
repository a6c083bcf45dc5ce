// The tail input under a descriptor budget (max_open_files) and under the process's limit:
// more files than descriptors are all read, in turn, and files rotated, truncated or
// deleted while closed are handled by identity (device + inode), as when they are open.
#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <map>

#include "ferry/input/tail.h"
#include "tail_test_support.h"

namespace ferry::input {
namespace {

class TailOpenFilesTest : public TailInputTest {
protected:
  TailInputConfig budget(size_t max_open) {
    auto c = config("logs/*.log");
    c.max_open_files = max_open;
    c.read_from_head = true;
    return c;
  }
  fs::path file(int i) { return dir_ / "logs" / ("f" + std::to_string(i) + ".log"); }
  // logs/a.log (first line `a_line`) and logs/b.log ("b-0", then "b-1") with one
  // descriptor between them: b is read last, so a is parked. nullptr on failure.
  std::unique_ptr<TailInput> startWithAParked(FakeContext& ctx, const std::string& a_line) {
    append(a_, a_line + "\n");
    append(b_, "b-0\n");
    auto input = std::make_unique<TailInput>(budget(1));
    input->start(ctx);
    if (ctx.waitFor(2).size() != 2) return nullptr;
    append(b_, "b-1\n");
    if (ctx.waitFor(3).size() != 3 || ctx.gauge("ferry_input_files_open") != 1) return nullptr;
    return input;
  }
  const fs::path a_ = dir_ / "logs" / "a.log";
  const fs::path b_ = dir_ / "logs" / "b.log";
  void SetUp() override { fs::create_directory(dir_ / "logs"); }

  // Descriptors of this process open on files under logs/ (what the budget bounds).
  size_t descriptorsOnLogs() {
    const std::string logs = (dir_ / "logs").string() + "/";
    size_t n = 0;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const auto target = fs::read_symlink(e.path(), ec).string();
      if (!ec && target.starts_with(logs)) ++n;
    }
    return n;
  }
};

// Per file, its records in the order they came.
std::map<std::string, std::vector<std::string>> byFile(const std::vector<std::string>& records) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& r : records)
    out[r.substr(0, r.find('-'))].push_back(r);
  return out;
}

TEST_F(TailOpenFilesTest, MoreFilesThanTheBudgetAreAllReadWithinIt) {
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i)
    append(file(i), lines("f" + std::to_string(i) + "-a", 0, 3));
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(budget(4));
  input->start(ctx);
  std::atomic<bool> sampling{true};
  std::atomic<size_t> peak{0};
  std::thread sampler([&] {
    while (sampling.load()) {
      peak = std::max(peak.load(), descriptorsOnLogs());
      std::this_thread::sleep_for(1ms);
    }
  });
  EXPECT_EQ(ctx.waitFor(kFiles * 3).size(), size_t{kFiles * 3});
  EXPECT_EQ(ctx.gauge("ferry_input_files_watched"), kFiles) << "every file is followed";
  EXPECT_LE(ctx.gauge("ferry_input_files_open"), 4);
  // More lines in every file, the parked ones included: they are woken by their watch.
  for (int i = 0; i < kFiles; ++i)
    append(file(i), lines("f" + std::to_string(i) + "-b", 0, 2));
  EXPECT_EQ(ctx.waitFor(kFiles * 5).size(), size_t{kFiles * 5});
  sampling = false;
  sampler.join();
  EXPECT_LE(peak.load(), 4u) << "never more descriptors than max_open_files";
  EXPECT_GT(ctx.counter("ferry_input_files_parked_total"), 0u);
  stop(input);
  const auto got = byFile(ctx.records());
  ASSERT_EQ(got.size(), size_t{kFiles});
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "f" + std::to_string(i);
    auto expected = names(name + "-a", 0, 3);
    for (auto& s : names(name + "-b", 0, 2))
      expected.push_back(s);
    EXPECT_EQ(got.at(name), expected) << "each file once, in order";
  }
  // Every file's position is saved, the parked ones' too.
  auto loaded = loadPositions((dir_ / "tail.db").string());
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->entries.size(), size_t{kFiles});
  for (const auto& e : loaded->entries)
    EXPECT_EQ(e.offset, fs::file_size(e.path)) << e.path;
}

TEST_F(TailOpenFilesTest, PollingWithABudget) {
  for (int i = 0; i < 6; ++i)
    append(file(i), lines("f" + std::to_string(i) + "-a", 0, 2));
  FakeContext ctx;
  auto c = budget(2);
  c.inotify = false;
  auto input = std::make_unique<TailInput>(c);
  input->start(ctx);
  EXPECT_EQ(ctx.waitFor(12).size(), 12u);
  for (int i = 0; i < 6; ++i)
    append(file(i), "f" + std::to_string(i) + "-b\n");
  EXPECT_EQ(ctx.waitFor(18).size(), 18u);
  EXPECT_LE(ctx.gauge("ferry_input_files_open"), 2);
  stop(input);
}

// With one descriptor for two files, a busy file does not keep the other from being read.
TEST_F(TailOpenFilesTest, ABusyFileDoesNotStarveTheOthers) {
  append(file(0), "");
  append(file(1), "");
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(budget(1));
  input->start(ctx);
  std::atomic<bool> writing{true};
  // The busy file grows for as long as the check lasts (never at its end for long), and the
  // check allows for a slow, loaded machine (sanitizers, two test processes per core).
  std::thread busy([&] {
    const auto end = std::chrono::steady_clock::now() + 12s;
    for (int i = 0; writing.load() && std::chrono::steady_clock::now() < end; ++i) {
      append(file(0), lines("busy-", i * 1000, i * 1000 + 1000));
    }
  });
  std::this_thread::sleep_for(100ms);
  append(file(1), "quiet-0\n");
  const bool seen = eventually([&] { return ctx.has("quiet-0"); }, 10s);
  writing = false;
  busy.join();
  EXPECT_TRUE(seen) << "the quiet file waited for the busy one";
  stop(input);
}

// a.log is parked (the one descriptor went to b.log) when logrotate renames it: the old
// file is found beside its name and read to its end; the new a.log is read from its start.
TEST_F(TailOpenFilesTest, RotatedWhileParkedIsReadToItsEnd) {
  FakeContext ctx;
  auto input = startWithAParked(ctx, "a-0");
  ASSERT_TRUE(input);
  fs::rename(a_, dir_ / "logs" / "a.log.1");
  append(dir_ / "logs" / "a.log.1", "a-1\n"); // the writer has not reopened yet
  append(a_, "a-new-0\n");
  EXPECT_TRUE(eventually([&] { return ctx.records().size() >= 5; }));
  const auto got = byFile(ctx.records());
  EXPECT_EQ(got.at("a"), (std::vector<std::string>{"a-0", "a-1", "a-new-0"}));
  EXPECT_EQ(got.at("b"), (std::vector<std::string>{"b-0", "b-1"}));
  EXPECT_EQ(ctx.counter("ferry_input_rotations_total"), 1u);
  EXPECT_TRUE(eventually([&] { return ctx.gauge("ferry_input_files_watched") == 2; }))
      << "the old a.log is closed after rotate_wait";
  stop(input);
}

TEST_F(TailOpenFilesTest, TruncatedWhileParkedIsReadAgainFromItsStart) {
  FakeContext ctx;
  auto input = startWithAParked(ctx, "a-long-line-before-the-truncation");
  ASSERT_TRUE(input);
  fs::resize_file(a_, 0);
  append(a_, "a-t0\n");
  EXPECT_TRUE(eventually([&] { return ctx.records().size() >= 4; }));
  EXPECT_EQ(ctx.records().back(), "a-t0");
  EXPECT_EQ(ctx.counter("ferry_input_truncations_total"), 1u);
  stop(input);
}

// Deleted while parked, then created again under its name: the new file is a new file
// (read from its start), whatever inode number it gets.
TEST_F(TailOpenFilesTest, DeletedWhileParkedThenRecreated) {
  FakeContext ctx;
  auto input = startWithAParked(ctx, "a-0");
  ASSERT_TRUE(input);
  fs::remove(a_);
  EXPECT_TRUE(eventually([&] { return ctx.gauge("ferry_input_files_watched") == 1; }));
  append(a_, "a-again-0\n");
  EXPECT_TRUE(eventually([&] { return ctx.records().size() >= 4; }));
  EXPECT_EQ(ctx.records().back(), "a-again-0");
  stop(input);
  EXPECT_EQ(ctx.records().size(), 4u);
}

// The process is out of descriptors (a soft limit just above what is open): opens that fail
// with EMFILE are counted and retried, the input neither throws nor stops, and every line
// is read once descriptors free up again.
TEST_F(TailOpenFilesTest, OutOfDescriptorsIsRetriedNeverFatal) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check tests whether memory is readable through a pipe: with every descriptor
  // taken it cannot make one and reports a false "invalid vptr" in std::thread. The normal
  // build runs this test, and e2e.tail_fd_limit_test runs the real binary at the limit.
  GTEST_SKIP() << "needs free descriptors under the sanitizers";
#endif
  constexpr int kFiles = 12;
  for (int i = 0; i < kFiles; ++i)
    append(file(i), lines("f" + std::to_string(i) + "-a", 0, 2));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int highest = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd"))
    highest = std::max(highest, std::stoi(e.path().filename().string()));
  FakeContext ctx;
  auto input = std::make_unique<TailInput>(budget(64)); // more than the process has
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest + 1 + 6);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  // Exactly 6 descriptors left (eventfd, inotify and a few files): fill the holes below the
  // limit, then give 6 back.
  std::vector<int> filler;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
    filler.push_back(fd);
  ASSERT_GE(filler.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    ::close(filler.back());
    filler.pop_back();
  }
  bool started = true;
  try {
    input->start(ctx);
  } catch (const std::exception&) {
    started = false;
  }
  const auto got = ctx.waitFor(kFiles * 2, 10s).size();
  const uint64_t exhausted = ctx.counter("ferry_input_fd_exhausted_total");
  for (int fd : filler)
    ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(started) << "a lack of descriptors must not fail the start";
  EXPECT_EQ(got, size_t{kFiles * 2}) << "files wait their turn for a descriptor";
  EXPECT_GT(exhausted, 0u);
  for (int i = 0; i < kFiles; ++i)
    append(file(i), "f" + std::to_string(i) + "-b-0\n");
  EXPECT_EQ(ctx.waitFor(kFiles * 3).size(), size_t{kFiles * 3});
  stop(input);
  auto loaded = loadPositions((dir_ / "tail.db").string());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->entries.size(), size_t{kFiles}) << "the positions were saved in the end";
}

} // namespace
} // namespace ferry::input
