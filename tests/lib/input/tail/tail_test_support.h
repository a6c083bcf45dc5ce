// What the tail input tests share: a fake InputContext that records what the input pushes,
// file helpers, and the fixture (a temp dir, fast timers).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ferry/input/tail.h"
#include "ferry/input/tail_position.h"
#include "test_support.h"

namespace ferry::input {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Records what the input pushes. kDeliver resolves each batch as delivered; kFail lets it
// go unresolved (its finalizer then reports kFailed); a closed gate blocks push().
class FakeContext : public InputContext {
public:
  enum class Mode { kDeliver, kFail };
  explicit FakeContext(Mode mode = Mode::kDeliver) : mode_(mode) {}

  bool push(core::BatchRef batch) override {
    std::unique_lock lock(mu_);
    ++pushes_in_progress_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return gate_open_; });
    --pushes_in_progress_;
    for (size_t i = 0; i < batch->size(); ++i) {
      const auto r = batch->record(i);
      if (batch->format() == core::RecordFormat::kLine) {
        records_.emplace_back(r.data);
      } else {
        records_.push_back(test::printMsgpack(r.data));
      }
      tags_.push_back(batch->tag());
    }
    ++batches_;
    cv_.notify_all();
    lock.unlock();
    if (mode_ == Mode::kDeliver) batch->expectOutputs(0);
    return true;
  }
  bool paused() const override { return false; }
  const std::string& name() const override { return name_; }
  uint32_t id() const override { return 7; }
  obs::Metrics& metrics() override { return metrics_; }

  std::vector<std::string> records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  std::vector<std::string> tags() {
    std::lock_guard lock(mu_);
    return tags_;
  }
  // Whether `record` arrived, searched without copying (a busy input may have pushed many).
  bool has(std::string_view record) {
    std::lock_guard lock(mu_);
    return std::find(records_.begin(), records_.end(), record) != records_.end();
  }
  // Waits until at least n records arrived; returns them.
  std::vector<std::string> waitFor(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
    return records_;
  }
  void setGate(bool open) {
    std::lock_guard lock(mu_);
    gate_open_ = open;
    cv_.notify_all();
  }
  bool waitBlocked(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pushes_in_progress_ > 0; });
  }
  uint64_t counter(const std::string& metric) {
    return metrics_.counterValue(metric, {{"input", name_}});
  }
  int64_t gauge(const std::string& metric) {
    return metrics_.gaugeValue(metric, {{"input", name_}});
  }

private:
  Mode mode_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> records_;
  std::vector<std::string> tags_;
  size_t batches_ = 0;
  bool gate_open_ = true;
  int pushes_in_progress_ = 0;
  std::string name_ = "tail.test";
  obs::Metrics metrics_;
};

void append(const fs::path& p, std::string_view text) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

std::string lines(const std::string& prefix, int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i)
    out += prefix + std::to_string(i) + "\n";
  return out;
}

std::vector<std::string> names(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds timeout = 5s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return ok();
}

class TailInputTest : public ::testing::Test {
protected:
  TailInputConfig config(const std::string& glob = "app.log") {
    TailInputConfig c;
    c.paths = {(dir_ / glob).string()};
    c.db_path = (dir_ / "tail.db").string();
    c.refresh_interval = 50ms;
    c.rotate_wait = 200ms;
    c.idle_flush = 200ms;
    return c;
  }
  // Stops the input and waits until the saved positions include everything delivered.
  static void stop(std::unique_ptr<TailInput>& input) {
    input->stop();
    input->join();
    input.reset();
  }
  uint64_t savedOffset() {
    auto loaded = loadPositions((dir_ / "tail.db").string());
    EXPECT_TRUE(loaded);
    uint64_t max = 0;
    for (const auto& e : loaded->entries)
      max = std::max(max, e.offset);
    return max;
  }

  test::TempDir dir_;
  fs::path log_ = dir_ / "app.log";
};

} // namespace
} // namespace ferry::input
