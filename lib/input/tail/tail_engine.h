// The tail input's engine (one thread): which files are followed (tail_engine.cc: discovery,
// rotation, truncation, timers), which of them hold a descriptor (tail_files.cc: at most
// max_open_files, the others parked and reopened by identity) and how their bytes become
// batches (tail_reader.cc: reads into the batch buffer, lines indexed in place, or
// parsed/joined into records).
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>
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

// The descriptor budget when max_open_files is 0: half the open-files limit, at most 1024,
// at least 16; the other half stays for storage, positions, outputs and the HTTP server.
size_t defaultMaxOpenFiles();
// A file rotated away from `path` by rename stays in its directory: the name there now of
// inode `id` if it holds at least `min_size` bytes, or "".
std::string findRenamed(const std::string& path, FileId id, uint64_t min_size);
FileId idOf(const struct stat& st);
// The process (EMFILE) or the system (ENFILE) has no descriptor left.
inline bool outOfDescriptors(int error) {
  return error == EMFILE || error == ENFILE;
}

// One file being followed: one inode, open or, beyond max_open_files, closed ("parked")
// with everything it needs to go on: identity, offsets, the held line and the joiner.
struct TailFile {
  TailFile(size_t max_line, LongLineMode mode) : splitter(max_line, mode) {}

  std::string path; // the name it was found under (also the path_key value)
  std::string tag;
  int fd = -1; // -1 while parked
  int wd = -1; // the inotify watch stays while parked: a write wakes the file up
  std::list<TailFile*>::iterator lru; // while open: its place among the open files
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
  bool gone = false;      // rotated away or deleted while parked, not found again
  bool fd_wait = false;   // refused a descriptor (EMFILE): tried again after kFdRetry
  bool opened = false;    // has had a descriptor (the first open checks for a mid-line start)
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
  // ---- tail_files.cc: the descriptor budget (max_open_files) -----------------------
  enum class Reopen : uint8_t { kOpen, kLater, kGone };
  // Makes sure `f` has a descriptor, parking the least recently read open file when the
  // budget is spent. kLater: none to be had now (EMFILE), the file keeps its turn.
  Reopen acquire(TailFile& f);
  Reopen reopen(TailFile& f);
  void adopt(TailFile& f, int fd);
  void park(TailFile& f);
  void release(TailFile& f); // closes the descriptor, if any, and forgets its LRU place
  // A parked file deleted (or renamed out of reach): its position goes now, the file is
  // closed by the timers; what it held past read_offset is lost (warned about).
  void markGone(TailFile& f);
  // A parked file may have new bytes: its name leads elsewhere, or its size moved.
  bool parkedMayHaveData(const TailFile& f) const;
  // open(2) of a followed file; EMFILE/ENFILE are counted and warned about here.
  int openTracked(const std::string& path);
  void noteFdExhausted(std::string_view what, const std::string& path, int error);
  void handleEvents(const std::vector<tail::WatchEvent>& events);
  void runTimers(SteadyTime now);
  std::chrono::milliseconds nextTimeout(SteadyTime now) const;
  void savePositions(std::chrono::milliseconds interval);
  void finishAll();
  std::string tagFor(const std::string& path) const;
  TailFile* byWatch(int wd);
  bool isFollowed(FileId id) const; // a file of that identity is followed (and not gone)

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
  size_t max_open_ = 0; // max_open_files, resolved
  size_t open_count_ = 0;
  SteadyTime fd_retry_at_{}; // when files refused a descriptor try again (0: none waits)
  std::list<TailFile*> lru_; // open files, least recently read first
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
  obs::Gauge* files_open_ = nullptr;
  obs::Counter* files_parked_ = nullptr;
  obs::Counter* fd_exhausted_ = nullptr;
  obs::Counter* rotations_ = nullptr;
  obs::Counter* truncations_ = nullptr;
  obs::Counter* lines_split_ = nullptr;
  obs::Counter* lines_truncated_ = nullptr;
  obs::Counter* parse_errors_ = nullptr;
  obs::Counter* file_errors_ = nullptr;
  obs::Counter* position_errors_ = nullptr;
};

} // namespace ferry::input
