// Bytes → batches. Plain lines (no parser, no multiline, no path_key) are read straight into
// the batch buffer and indexed in place, as the stdin input does: a record is a slice of
// the read buffer. Otherwise a read goes to a scratch buffer and each line (or joined
// multiline record) is parsed into the batch as a msgpack map, or copied as a line. Each
// batch ends at a file offset that the position tracker saves once the batch is delivered.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ferry/obs/log.h"
#include "tail_engine.h"

namespace ferry::input {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kRoundBudget = 4 * 1024 * 1024; // per file per round: files take turns
constexpr size_t kMinRoom = 1024;

int64_t realtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

uint64_t TailEngine::committable(const TailFile& f) const {
  return f.joiner && f.joiner->pending() ? f.joiner->pendingOffset() : f.consumed;
}

bool TailEngine::fillFull() const {
  const core::Batch& b = *fill_.batch;
  return b.size() >= core::Batch::kTargetRecords || b.buffer().size() >= core::Batch::kTargetBytes;
}

void TailEngine::countLineCuts(TailFile& f) {
  if (const uint64_t n = f.splitter.takeSplit()) lines_split_->add(n);
  if (const uint64_t n = f.splitter.takeTruncated()) lines_truncated_->add(n);
}

void TailEngine::ensureFill(TailFile& f) {
  if (fill_.batch && fill_.file == &f) return;
  endFill();
  const uint64_t ahead = f.size_hint > f.read_offset ? f.size_hint - f.read_offset : 0;
  const size_t want = f.carry.size() + static_cast<size_t>(std::min<uint64_t>(ahead, 1u << 30)) + 1;
  const size_t bytes = std::clamp<size_t>(want, 4096, core::Batch::kTargetBytes);
  const size_t records =
      std::min<size_t>(core::Batch::kTargetRecords + 64, bytes / average_line_ + 16);
  fill_.batch = core::Batch::create(
      f.tag, map_records_ ? core::RecordFormat::kMsgpackMap : core::RecordFormat::kLine, bytes,
      records);
  fill_.batch->setInputId(context_->id());
  fill_.file = &f;
  if (in_place_) {
    // The incomplete line moves back in front of the next read.
    fill_.batch->buffer().append(f.carry.view());
    fill_.line_start = 0;
    fill_.scan = f.carry.size();
    f.carry.clear();
  }
}

void TailEngine::endFill() {
  if (!fill_.batch) return;
  TailFile& f = *fill_.file;
  core::BatchRef batch = std::move(fill_.batch);
  if (in_place_) {
    core::ByteBuffer& buf = batch->buffer();
    f.carry.append(buf.data() + fill_.line_start, buf.size() - fill_.line_start);
    buf.resize(fill_.line_start);
  }
  fill_ = {};
  const uint64_t end = committable(f);
  if (batch->empty()) {
    // Nothing to deliver, but skipped bytes (a truncated line's rest) still move the position.
    if (end != f.track_pushed) {
      tracker_->advance(f.track, end);
      f.track_pushed = end;
    }
    return;
  }
  const uint64_t ticket = tracker_->begin(f.track, end);
  f.track_pushed = end;
  batch->setFinalizer(tracker_->finalizer(f.track, ticket));
  context_->push(std::move(batch)); // blocks under backpressure: reading waits with it
}

bool TailEngine::pump(TailFile& f) {
  size_t total = 0;
  bool read_any = false;
  while (!stopping_.load(std::memory_order_relaxed)) {
    size_t wanted = 0;
    const ssize_t n = in_place_ ? readInPlace(f, wanted) : readParsed(f, wanted);
    if (n < 0) {
      file_errors_->add();
      FERRY_LOG_ERROR(context_->name(), "cannot read {}: {}; closing it", f.path,
                      std::strerror(errno));
      if (fill_.file == &f) endFill();
      f.rotated = true; // closed by the timers, as a rotated file at its end would be
      f.eof_since = SteadyTime{};
      return true;
    }
    if (n > 0) {
      read_any = true;
      total += static_cast<size_t>(n);
    }
    if (n == 0 || static_cast<size_t>(n) < wanted) {
      // At the end for now: what is read goes out (a writer may pause for a long time).
      if (fill_.file == &f) endFill();
      if (read_any || f.eof_since == SteadyTime{}) f.eof_since = std::chrono::steady_clock::now();
      // Shorter than what was read (copytruncate): its new content is read at once.
      return !checkTruncation(f);
    }
    if (total >= kRoundBudget) return false;
  }
  return false;
}

ssize_t TailEngine::readInPlace(TailFile& f, size_t& wanted) {
  ensureFill(f);
  core::ByteBuffer* buf = &fill_.batch->buffer();
  if (buf->capacity() - buf->size() < kMinRoom) {
    // Grow a small buffer, or one that holds nothing but the start of a long line (moving
    // it to a new batch again and again would copy it over and over).
    if (buf->capacity() < core::Batch::kTargetBytes || fill_.batch->empty()) {
      buf->reserve(buf->capacity() * 2); // records are offsets: moving the bytes is fine
    } else {
      endFill();
      ensureFill(f);
      buf = &fill_.batch->buffer();
    }
  }
  core::Batch& batch = *fill_.batch;
  // Read about as much as the batch's remaining ~1k records take, so batches stay near it.
  const size_t records_left =
      core::Batch::kTargetRecords - std::min(batch.size(), core::Batch::kTargetRecords - 1);
  wanted = std::min({buf->capacity() - buf->size(), kReadChunk,
                     std::max<size_t>(records_left * average_line_, 4096)});
  ssize_t n;
  do {
    n = ::pread(f.fd, buf->prepare(wanted), wanted, static_cast<off_t>(f.read_offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  buf->commit(static_cast<size_t>(n));
  f.read_offset += static_cast<uint64_t>(n);
  f.last_data = std::chrono::steady_clock::now();
  const int64_t ts = realtimeNs();
  const size_t before = batch.size();
  f.splitter.scan(buf->data(), buf->size(), fill_.line_start, fill_.scan,
                  [&batch, ts](size_t start, size_t length, size_t) {
                    batch.addEntry(ts, static_cast<uint32_t>(start), static_cast<uint32_t>(length));
                  });
  f.consumed = f.read_offset - (buf->size() - fill_.line_start);
  if (const size_t added = batch.size() - before; added > 0) {
    average_line_ = std::max<size_t>(16, (average_line_ * 7 + static_cast<size_t>(n) / added) / 8);
  }
  countLineCuts(f);
  if (fillFull()) endFill();
  return n;
}

ssize_t TailEngine::readParsed(TailFile& f, size_t& wanted) {
  // The held partial line goes in front of the read. A long one changes hands instead of
  // being copied (it grows read after read until its newline).
  if (f.carry.size() >= kReadChunk) {
    std::swap(scratch_, f.carry);
  } else {
    scratch_.clear();
    scratch_.append(f.carry.view());
  }
  f.carry.clear();
  size_t line_start = 0;
  size_t scan = scratch_.size();
  const uint64_t base = f.read_offset - scratch_.size();
  wanted = kReadChunk;
  ssize_t n;
  do {
    n = ::pread(f.fd, scratch_.prepare(wanted), wanted, static_cast<off_t>(f.read_offset));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) { // the held line goes back, by the way it came
    if (scratch_.size() >= kReadChunk) {
      std::swap(scratch_, f.carry);
    } else {
      f.carry.append(scratch_.view());
    }
    return n;
  }
  scratch_.commit(static_cast<size_t>(n));
  f.read_offset += static_cast<uint64_t>(n);
  now_ = f.last_data = std::chrono::steady_clock::now();
  const int64_t ts = realtimeNs();
  f.splitter.scan(scratch_.data(), scratch_.size(), line_start, scan,
                  [&](size_t start, size_t length, size_t next) {
                    onLine(f, std::string_view(scratch_.data() + start, length), ts, base + start,
                           base + next);
                  });
  f.consumed = base + line_start;
  if (line_start == 0 && scratch_.size() >= kReadChunk) {
    std::swap(scratch_, f.carry);
    scratch_.clear();
  } else {
    f.carry.append(scratch_.data() + line_start, scratch_.size() - line_start);
  }
  countLineCuts(f);
  return n;
}

void TailEngine::onLine(TailFile& f, std::string_view line, int64_t ts, uint64_t line_offset,
                        uint64_t next_offset) {
  f.consumed = next_offset;
  if (f.joiner) {
    f.joiner->add(line, ts, line_offset, now_, [&](std::string_view record, int64_t record_ts) {
      emitRecord(f, record, record_ts);
    });
  } else {
    emitRecord(f, line, ts);
  }
  // Checked after the joiner has taken the line: a batch ends where the pending record starts.
  if (fill_.batch && fill_.file == &f && fillFull()) endFill();
}

void TailEngine::emitRecord(TailFile& f, std::string_view record, int64_t ts) {
  ensureFill(f);
  core::Batch& batch = *fill_.batch;
  if (!map_records_) {
    batch.append(ts, record);
    return;
  }
  core::ByteBuffer& buf = batch.buffer();
  const size_t at = buf.size();
  const codec::ExtraField path_field{config_.path_key, f.path};
  const std::span<const codec::ExtraField> extra =
      config_.path_key.empty() ? std::span<const codec::ExtraField>()
                               : std::span<const codec::ExtraField>(&path_field, 1);
  int64_t record_ts = ts;
  const codec::ParseStatus status = parser_->parse(record, record_ts, buf, extra);
  if (status == codec::ParseStatus::kNotParsed) {
    // Kept as {log: line}, counted: a line is never dropped for its format.
    codec::appendLogMap(buf, record, extra);
    parse_errors_->add();
  } else if (status == codec::ParseStatus::kBadTime) {
    parse_errors_->add();
  }
  batch.addEntry(record_ts, static_cast<uint32_t>(at), static_cast<uint32_t>(buf.size() - at));
}

void TailEngine::flushCarry(TailFile& f) {
  if (fill_.file == &f) endFill();
  if (f.carry.empty()) {
    f.splitter.reset();
    return;
  }
  const int64_t ts = realtimeNs();
  if (in_place_) {
    ensureFill(f);
    core::Batch& batch = *fill_.batch;
    core::ByteBuffer& buf = batch.buffer();
    f.splitter.flushPartial(buf.data(), buf.size(), fill_.line_start, fill_.scan,
                            [&batch, ts](size_t start, size_t length, size_t) {
                              batch.addEntry(ts, static_cast<uint32_t>(start),
                                             static_cast<uint32_t>(length));
                            });
  } else {
    scratch_.clear();
    scratch_.append(f.carry.view());
    f.carry.clear();
    size_t line_start = 0, scan = scratch_.size();
    const uint64_t base = f.read_offset - scratch_.size();
    now_ = std::chrono::steady_clock::now();
    f.splitter.flushPartial(scratch_.data(), scratch_.size(), line_start, scan,
                            [&](size_t start, size_t length, size_t next) {
                              onLine(f, std::string_view(scratch_.data() + start, length), ts,
                                     base + start, base + next);
                            });
  }
  f.consumed = f.read_offset;
}

void TailEngine::flushJoiner(TailFile& f) {
  if (!f.joiner || !f.joiner->pending()) return;
  f.joiner->flush([&](std::string_view record, int64_t ts) { emitRecord(f, record, ts); });
}

} // namespace ferry::input
