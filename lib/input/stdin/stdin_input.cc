// stdin input: reads large chunks straight into a batch's buffer and indexes the lines in
// place (lines are slices of the read buffer, never copied one by one). A partial last
// line moves to the next batch's buffer. `\r\n` endings lose their `\r`. Lines longer than
// max_line_bytes are split into several records (counted).
#include "ferry/input/stdin_input.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "ferry/obs/log.h"

namespace ferry::input {
namespace {

constexpr size_t kReadChunk = 256 * 1024;

int64_t realtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FdLineInput : public Input {
public:
  FdLineInput(int fd, std::string tag, size_t max_line_bytes)
      : fd_(fd), tag_(std::move(tag)), max_line_(max_line_bytes) {}
  ~FdLineInput() override {
    stop();
    join();
  }

  void start(InputContext& context) override {
    context_ = &context;
    split_counter_ =
        &context.metrics().counter("ferry_input_lines_split_total", {{"input", context.name()}},
                                   "Lines longer than max_line_bytes split into several records");
    thread_ = std::thread([this] { run(); });
  }
  void stop() override { stopping_.store(true); }
  void join() override {
    if (thread_.joinable()) thread_.join();
  }
  bool finite() const override { return true; }
  bool finished() const override { return finished_.load(); }

private:
  bool readableNow() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  // Waits until fd is readable or we are asked to stop. False = stop.
  bool waitReadable() {
    while (!stopping_.load()) {
      pollfd p{fd_, POLLIN, 0};
      const int rc = ::poll(&p, 1, 100);
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return true; // let read() report it
    }
    return false;
  }

  void run() {
    core::BatchRef batch = newBatch();
    size_t line_start = 0; // offset in batch buffer of the current (incomplete) line
    auto flush = [&](bool final) {
      // Moves the incomplete tail to a new batch and pushes the full one.
      core::ByteBuffer& buf = batch->buffer();
      core::BatchRef next = newBatch();
      const size_t tail = buf.size() - line_start;
      if (tail > 0 && !final) next->buffer().append(buf.data() + line_start, tail);
      buf.resize(line_start);
      if (!batch->empty()) context_->push(std::move(batch));
      batch = std::move(next);
      line_start = 0;
    };
    for (;;) {
      // Complete lines go out as soon as the writer pauses: a slow or interactive writer
      // must not wait for a full batch (or for end of input) to see its lines shipped.
      if (batch->size() > 0 && !readableNow()) flush(false);
      if (!waitReadable()) break;
      core::ByteBuffer& buf = batch->buffer();
      char* dst = buf.prepare(kReadChunk);
      const ssize_t n = ::read(fd_, dst, kReadChunk);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        FERRY_LOG_ERROR(context_->name(), "read failed: {}", std::strerror(errno));
        break;
      }
      if (n == 0) break; // end of input
      const size_t begin = buf.size();
      buf.commit(static_cast<size_t>(n));
      const int64_t ts = realtimeNs();
      // Index complete lines in the new bytes.
      const char* base = buf.data();
      size_t scan = begin;
      while (scan < buf.size()) {
        const void* nl = std::memchr(base + scan, '\n', buf.size() - scan);
        if (nl == nullptr) break;
        const size_t end = static_cast<const char*>(nl) - base;
        addLines(*batch, ts, line_start, end);
        line_start = end + 1;
        scan = line_start;
      }
      // An over-long incomplete line is cut into max_line_bytes records now.
      while (buf.size() - line_start > max_line_) {
        batch->addEntry(ts, static_cast<uint32_t>(line_start), static_cast<uint32_t>(max_line_));
        split_counter_->add();
        line_start += max_line_;
      }
      if (batch->size() >= core::Batch::kTargetRecords || line_start >= core::Batch::kTargetBytes) {
        flush(false);
      }
    }
    // End of input: a last line without newline is still a line.
    core::ByteBuffer& buf = batch->buffer();
    if (buf.size() > line_start) {
      addLines(*batch, realtimeNs(), line_start, buf.size());
      line_start = buf.size();
    }
    flush(true);
    finished_.store(true);
  }

  void addLines(core::Batch& b, int64_t ts, size_t start, size_t end) {
    size_t stop = end;
    if (stop > start && b.buffer().data()[stop - 1] == '\r') --stop;
    while (stop - start > max_line_) {
      b.addEntry(ts, static_cast<uint32_t>(start), static_cast<uint32_t>(max_line_));
      split_counter_->add();
      start += max_line_;
    }
    b.addEntry(ts, static_cast<uint32_t>(start), static_cast<uint32_t>(stop - start));
  }

  core::BatchRef newBatch() {
    auto b = core::Batch::create(tag_, core::RecordFormat::kLine, kReadChunk + 4096, 1100);
    b->setInputId(context_->id());
    return b;
  }

  int fd_;
  std::string tag_;
  size_t max_line_;
  InputContext* context_ = nullptr;
  obs::Counter* split_counter_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
};

} // namespace

const config::OptionTable& stdinInputOptions() {
  static const config::OptionTable table = {
      {.name = "tag",
       .type = config::OptionType::kString,
       .default_value = "stdin",
       .doc = "Tag of the records."},
      {.name = "max_line_bytes",
       .type = config::OptionType::kSize,
       .default_value = "1MiB",
       .min_value = 16,
       .max_value = 64ll << 20,
       .doc = "Longer lines are split into several records (counted in "
              "ferry_input_lines_split_total)."},
  };
  return table;
}

InputPtr makeStdinInput(const config::Section& section) {
  return std::make_unique<FdLineInput>(0, section.getString("tag"),
                                       static_cast<size_t>(section.getInt("max_line_bytes")));
}

InputPtr makeFdLineInput(int fd, std::string tag, size_t max_line_bytes) {
  return std::make_unique<FdLineInput>(fd, std::move(tag), max_line_bytes);
}

} // namespace ferry::input
