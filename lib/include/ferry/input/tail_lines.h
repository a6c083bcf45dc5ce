// Line framing for the tail input: finding lines in a read buffer without copying them
// (`\n` and `\r\n`, lines over max_line_bytes split or truncated). Joining lines into
// multiline records is ferry/input/multiline.h.
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
#include "ferry/input/multiline.h"

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

} // namespace ferry::input
