// The tail input's engine (one thread): which files are followed (tail_engine.cc: discovery,
// rotation, truncation, timers) and how their bytes become batches (tail_reader.cc: reads
// into the batch buffer, lines indexed in place, or parsed/joined into records).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

#include "ferry/codec/parsers.h"
#include "ferry/core/batch.h"
#include "ferry/input/input.h"
#include "ferry/input/tail.h"
#include "ferry/input/tail_lines.h"
#include "ferry/input/tail_position.h"
#include "watcher.h"

namespace ferry::input {

using SteadyTime = std::chrono::steady_clock::time_point;

// One file being followed: an open descriptor on one inode.
struct TailFile {
  TailFile(size_t max_line, LongLineMode mode) : splitter(max_line, mode) {}

  std::string path; // the name it was found under (also the path_key value)
  std::string tag;
  int fd = -1;
  int wd = -1;
  FileId id;
  uint64_t read_offset = 0;  // the next byte to read
  uint64_t consumed = 0;     // the first byte not yet in a record (nor skipped)
  uint64_t track_pushed = 0; // the end offset last handed to the position tracker
  uint64_t size_hint = 0;    // file size at the last fstat
  core::ByteBuffer carry;    // an incomplete last line while no batch of this file is open
  LineSplitter splitter;
  std::unique_ptr<MultilineJoiner> joiner;
  PositionTracker::FilePtr track;
  bool maybe_data = true; // an event or timer says it may have grown
  bool rotated = false;   // its name no longer leads to it: read to the end, then close
  SteadyTime last_data{}; // when bytes last arrived (idle_flush)
  SteadyTime eof_since{}; // when a rotated file was last seen at its end
};

class TailEngine {
public:
  explicit TailEngine(TailInputConfig config); // throws std::invalid_argument
  ~TailEngine();

  // Loads positions, opens the files found now, saves positions (throws std::runtime_error
  // when the database can be neither read nor written).
  void start(InputContext& context);
  // The thread's body; returns when stop() is called (or, with exit_on_eof, at the end).
  void run();
  void stop();

private:
  struct Fill {
    core::BatchRef batch;
    TailFile* file = nullptr;
    size_t line_start = 0; // in-place mode: buffer offsets, see LineSplitter
    size_t scan = 0;
  };
  enum class Discovery : uint8_t { kAtStart, kLater };

  // ---- tail_engine.cc: files -------------------------------------------------------
  void openFile(const std::string& path, Discovery when,
                const std::map<FileId, PositionEntry>* saved);
  void recoverRotated(const std::map<FileId, PositionEntry>& saved);
  void rescan();
  void checkRotation(TailFile& f);
  bool checkTruncation(TailFile& f);
  void restartTruncated(TailFile& f);
  void closeFile(TailFile& f);
  void handleEvents(const std::vector<tail::WatchEvent>& events);
  void runTimers(SteadyTime now);
  std::chrono::milliseconds nextTimeout(SteadyTime now) const;
  void savePositions(std::chrono::milliseconds interval);
  void finishAll();
  std::string tagFor(const std::string& path) const;
  TailFile* byWatch(int wd);

  // ---- tail_reader.cc: bytes → batches ---------------------------------------------
  // Reads what `f` has (at most a round's budget). True when it reached the end.
  bool pump(TailFile& f);
  // One read: bytes read (0 at the end, -1 on error, errno set); `wanted` is what was asked.
  ssize_t readInPlace(TailFile& f, size_t& wanted);
  ssize_t readParsed(TailFile& f, size_t& wanted);
  void onLine(TailFile& f, std::string_view line, int64_t ts, uint64_t line_offset,
              uint64_t next_offset);
  void emitRecord(TailFile& f, std::string_view record, int64_t ts);
  void ensureFill(TailFile& f);
  // Pushes the batch being filled (its end: the file's committable offset).
  void endFill();
  bool fillFull() const;
  // The held incomplete line as a record (idle_flush, rotation, end of input).
  void flushCarry(TailFile& f);
  void flushJoiner(TailFile& f);
  uint64_t committable(const TailFile& f) const;
  void countLineCuts(TailFile& f);

  TailInputConfig config_;
  codec::LineParserPtr parser_;
  std::unique_ptr<MultilineRules> rules_;
  bool map_records_ = false; // records are msgpack maps (a parser, or path_key)
  bool in_place_ = true;     // lines indexed in the read buffer (no parser, join or path_key)

  InputContext* context_ = nullptr;
  std::shared_ptr<PositionTracker> tracker_;
  std::unique_ptr<tail::FileWatcher> watcher_;
  std::vector<std::unique_ptr<TailFile>> files_;
  std::map<int, TailFile*> by_wd_;
  Fill fill_;
  core::ByteBuffer scratch_;  // parsed mode: one read's bytes
  size_t average_line_ = 128; // bytes, to size reads so a batch holds about 1k records
  SteadyTime now_{};          // the time of the current read (multiline timeouts)
  bool db_existed_ = false;
  std::vector<std::string> watched_dirs_;
  SteadyTime next_refresh_{};
  bool rescan_needed_ = false;
  std::atomic<bool> stopping_{false};

  obs::Gauge* files_watched_ = nullptr;
  obs::Counter* rotations_ = nullptr;
  obs::Counter* truncations_ = nullptr;
  obs::Counter* lines_split_ = nullptr;
  obs::Counter* lines_truncated_ = nullptr;
  obs::Counter* parse_errors_ = nullptr;
  obs::Counter* file_errors_ = nullptr;
  obs::Counter* position_errors_ = nullptr;
};

} // namespace ferry::input
