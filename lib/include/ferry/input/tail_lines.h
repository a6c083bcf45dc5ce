// Line framing for the tail input: finding lines in a read buffer without copying them
// (`\n` and `\r\n`, lines over max_line_bytes split or truncated), and joining lines into
// multiline records (a start regex, or the java/python/go stack-trace presets).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "ferry/core/buffer.h"

namespace ferry::codec {
class Regex;
}

namespace ferry::input {

enum class LongLineMode : uint8_t { kSplit, kTruncate };

// Finds the records in a buffer that grows by reads. The caller owns the buffer and two
// offsets into it: line_start (the first byte not yet in a record) and scan (where the
// search for '\n' resumes; bytes in [line_start, scan) hold none). Each record is reported
// as emit(start, length, next): a slice of the buffer, and where line_start moves once it is
// taken. Only the truncate mode's "skipping the rest of an over-long line" crosses calls.
class LineSplitter {
public:
  LineSplitter(size_t max_line, LongLineMode mode) : max_line_(max_line), mode_(mode) {}

  template <typename Emit>
  void scan(const char* data, size_t size, size_t& line_start, size_t& scan, Emit&& emit) {
    while (scan < size) {
      const void* nl = std::memchr(data + scan, '\n', size - scan);
      if (nl == nullptr) {
        scan = size;
        break;
      }
      const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - data);
      scan = end + 1;
      const bool continued = std::exchange(continued_, false);
      if (std::exchange(discarding_, false)) { // the rest of a truncated line
        line_start = scan;
        continue;
      }
      size_t length = end - line_start;
      if (length > 0 && data[end - 1] == '\r') --length;
      if (length > max_line_ && mode_ == LongLineMode::kTruncate) {
        ++truncated_;
        emit(line_start, max_line_, scan);
        line_start = scan;
        continue;
      }
      while (length > max_line_) {
        ++split_;
        emit(line_start, max_line_, line_start + max_line_);
        line_start += max_line_;
        length -= max_line_;
      }
      // A line whose head already went out as split records and whose rest is only the
      // '\r' of its "\r\n" ends here without an empty record.
      if (length > 0 || !continued) emit(line_start, length, scan);
      line_start = scan;
    }
    // An incomplete line never holds more than max_line bytes: its head goes out now.
    if (discarding_) {
      line_start = size;
    } else if (size - line_start > max_line_) {
      if (mode_ == LongLineMode::kTruncate) {
        ++truncated_;
        emit(line_start, max_line_, size);
        line_start = size;
        discarding_ = true;
      } else {
        while (size - line_start > max_line_) {
          ++split_;
          emit(line_start, max_line_, line_start + max_line_);
          line_start += max_line_;
        }
        continued_ = true;
      }
    }
    if (scan < line_start) scan = line_start;
  }

  // The incomplete last line [line_start, size) as a record (idle_flush, end of input).
  // Its head is then out: the newline that may still end it ("partial", later "\n") closes
  // that line without an empty record, as the rest of a split line does. Bytes before the
  // newline are a record of their own.
  template <typename Emit>
  void flushPartial(const char* data, size_t size, size_t& line_start, size_t& scan, Emit&& emit) {
    bool emitted = false;
    if (size > line_start && !discarding_ &&
        !(continued_ && size - line_start == 1 && data[size - 1] == '\r')) {
      size_t length = size - line_start;
      if (data[size - 1] == '\r') --length;
      emit(line_start, length, size);
      emitted = true;
    }
    line_start = scan = size;
    continued_ = emitted || continued_ || discarding_;
    discarding_ = false;
  }

  // The line at the current position already has its head out (a reader that resumes in
  // the middle of a line, after a flushed partial line or a split one).
  void resumeMidLine() { continued_ = true; }
  void reset() { discarding_ = continued_ = false; }
  bool discarding() const { return discarding_; }
  // Lines cut into several records / cut short, since the last take.
  uint64_t takeSplit() { return std::exchange(split_, 0); }
  uint64_t takeTruncated() { return std::exchange(truncated_, 0); }
  size_t maxLine() const { return max_line_; }

private:
  size_t max_line_;
  LongLineMode mode_;
  bool discarding_ = false; // truncate: skipping the rest of a line
  bool continued_ = false;  // split: the current line's head went out already
  uint64_t split_ = 0;
  uint64_t truncated_ = 0;
};

// `multiline: { start: REGEX, timeout: 2s }` or `multiline: { preset: java|python|go }`.
struct MultilineOptions {
  std::string start;  // a record begins at a line that matches (RE2, searched)
  std::string preset; // java|python|go
  std::chrono::milliseconds timeout{2000};
  bool enabled() const { return !start.empty() || !preset.empty(); }
};

// What a line is to the record being built.
enum class LineRole : uint8_t { kStart, kContinuation };

// Per-file state that the presets' rules carry from line to line.
struct MultilineState {
  uint8_t phase = 0;
};

// The rules: immutable, shared by every file of an input.
class MultilineRules {
public:
  static std::expected<std::unique_ptr<MultilineRules>, std::string>
  create(const MultilineOptions& options);
  ~MultilineRules();
  LineRole classify(std::string_view line, MultilineState& state) const;
  std::chrono::milliseconds timeout() const { return timeout_; }

private:
  enum class Preset : uint8_t { kNone, kJava, kPython, kGo };
  MultilineRules() = default;
  LineRole java(std::string_view line, MultilineState& state) const;
  LineRole python(std::string_view line, MultilineState& state) const;
  LineRole go(std::string_view line, MultilineState& state) const;

  Preset preset_ = Preset::kNone;
  std::unique_ptr<codec::Regex> start_;
  std::chrono::milliseconds timeout_{2000};
};

// Joins the lines of one file into records. The record being built is a copy (its lines
// joined by '\n'); it remembers the file offset of its first line, which is as far as the
// file's position may be saved while the record is pending.
class MultilineJoiner {
public:
  MultilineJoiner(const MultilineRules& rules, size_t max_bytes) : rules_(rules), max_(max_bytes) {}

  // emit(record, timestamp_ns) receives a finished record (the view lives until it returns).
  template <typename Emit>
  void add(std::string_view line, int64_t ts, uint64_t line_offset,
           std::chrono::steady_clock::time_point now, Emit&& emit) {
    const LineRole role = rules_.classify(line, state_);
    const bool joins = role == LineRole::kContinuation && has_pending_ &&
                       pending_.size() + 1 + line.size() <= max_;
    if (!joins) {
      flush(emit);
      has_pending_ = true;
      pending_ts_ = ts;
      pending_offset_ = line_offset;
      pending_.append(line);
      first_length_ = line.size();
    } else {
      pending_.push_back('\n');
      pending_.append(line);
    }
    last_line_ = now;
  }

  template <typename Emit> void flush(Emit&& emit) {
    if (!has_pending_) return;
    // Blank lines that a stack trace rule took in at its end are not part of the record.
    std::string_view record = pending_.view();
    while (record.size() > first_length_ && record.back() == '\n')
      record.remove_suffix(1);
    emit(record, pending_ts_);
    pending_.clear();
    has_pending_ = false;
  }

  // Forgets the pending record (the file was truncated under it).
  void reset() {
    pending_.clear();
    has_pending_ = false;
    state_ = {};
  }
  bool pending() const { return has_pending_; }
  uint64_t pendingOffset() const { return pending_offset_; }
  bool expired(std::chrono::steady_clock::time_point now) const {
    return has_pending_ && now - last_line_ >= rules_.timeout();
  }
  std::chrono::steady_clock::time_point deadline() const { return last_line_ + rules_.timeout(); }

private:
  const MultilineRules& rules_;
  size_t max_;
  MultilineState state_;
  core::ByteBuffer pending_;
  bool has_pending_ = false;
  size_t first_length_ = 0;
  int64_t pending_ts_ = 0;
  uint64_t pending_offset_ = 0;
  std::chrono::steady_clock::time_point last_line_{};
};

} // namespace ferry::input
