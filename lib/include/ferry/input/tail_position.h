// Tail positions: the database (tail.db: one line per file — device, inode, offset, path —
// replaced atomically: temp file, fsync, rename, fsync of the directory) and the tracker that
// decides what may be saved: per file, the offset up to which every batch has been resolved,
// in file order (finalizers run out of order on output threads), never past a failed batch.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::input {

// A file is its inode, not its name: logrotate renames, and the name then means another file.
struct FileId {
  uint64_t device = 0;
  uint64_t inode = 0;
  auto operator<=>(const FileId&) const = default;
};

struct PositionEntry {
  FileId id;
  uint64_t offset = 0; // the next byte to read: everything before it was delivered
  std::string path;    // for humans and for finding a rotated file again after a restart
};

struct LoadedPositions {
  bool existed = false; // a database was there (this input has run before)
  size_t bad_lines = 0; // lines that could not be read (skipped)
  std::vector<PositionEntry> entries;
};

// Why a save failed: the message names the step and the file; error is its errno, so that
// a lack of descriptors (EMFILE, ENFILE: retried, a warning) is told from the rest.
struct PositionSaveError {
  std::string message;
  int error = 0;
};

// A missing file is an empty database; an unreadable one is an error.
std::expected<LoadedPositions, std::string> loadPositions(const std::string& path);
// Replaces the database atomically.
std::expected<void, PositionSaveError> savePositions(const std::string& path,
                                                     const std::vector<PositionEntry>& entries);

class PositionTracker : public std::enable_shared_from_this<PositionTracker> {
public:
  struct File;
  using FilePtr = std::shared_ptr<File>;

  // db_path "" keeps positions in memory only (`ferry tail`).
  static std::shared_ptr<PositionTracker> create(std::string db_path);
  // Saves what changed since the last save (the last finalizers may run after the input).
  ~PositionTracker();

  // Starts tracking a file whose bytes before `offset` need no delivery, or returns the
  // existing entry of that inode (a file found again: see resumeOffset()).
  FilePtr track(FileId id, const std::string& path, uint64_t offset);
  // The entry of an inode, or nullptr.
  FilePtr find(FileId id) const;
  // Where reading of a tracked file resumes: past everything already pushed.
  uint64_t resumeOffset(const FilePtr& file) const;
  // A batch of `file` that ends at `end_offset` is about to be pushed. Returns the ticket
  // its finalizer resolves (see finalizer()).
  uint64_t begin(const FilePtr& file, uint64_t end_offset);
  void resolve(const FilePtr& file, uint64_t ticket, core::BatchOutcome outcome);
  // The batch finalizer for a ticket: resolves it and saves when a save is due.
  core::BatchFinalizer finalizer(const FilePtr& file, uint64_t ticket);
  // Bytes up to `offset` need no delivery (skipped, or read into nothing): it counts as a
  // batch already delivered, so it waits for the batches before it like any other.
  void advance(const FilePtr& file, uint64_t offset);
  // The file was truncated: positions restart at `offset` (0); batches in flight from before
  // no longer move it.
  void restart(const FilePtr& file, uint64_t offset);
  // The file is closed. Its entry stays (a rotated file found again under another matching
  // name resumes where it was) until prune() finds it gone.
  void close(const FilePtr& file);
  // The file was deleted and closed: its entry goes now (its inode number may be reused by
  // a new file at once). Batches still in flight resolve against the detached entry.
  void forget(const FilePtr& file);
  // Drops closed entries whose inode is not in `alive` and that have nothing in flight.
  void prune(const std::set<FileId>& alive);

  uint64_t committed(const FilePtr& file) const;
  bool stuck(const FilePtr& file) const;
  std::vector<PositionEntry> snapshot() const;
  bool dirty() const;

  // Saves when something changed and `min_interval` has passed since the last save (0 =
  // now). Returns false when nothing was written; an error when the save failed (the
  // tracker stays dirty, the next call retries).
  std::expected<bool, PositionSaveError> save(std::chrono::milliseconds min_interval);
  // Called with the error of a save made from a finalizer (which cannot return it).
  void setErrorHandler(std::function<void(const PositionSaveError&)> handler);

  static constexpr std::chrono::milliseconds kSaveInterval{200};

private:
  explicit PositionTracker(std::string db_path) : db_path_(std::move(db_path)) {}
  void settleLocked(File& file);

  const std::string db_path_;
  mutable std::mutex mu_;
  std::map<FileId, FilePtr> files_;
  bool dirty_ = false;
  std::mutex save_mu_; // one save at a time; held while writing, never with mu_
  std::chrono::steady_clock::time_point last_save_{};
  std::function<void(const PositionSaveError&)> on_error_;
};

struct PositionTracker::File {
  struct InFlight {
    uint64_t ticket;
    uint64_t end_offset;
    uint8_t state; // 0 pending, 1 delivered or dropped, 2 failed
  };
  FileId id;
  std::string path;
  uint64_t committed = 0;   // saved position: everything before it resolved
  uint64_t pushed = 0;      // end of the last batch begun
  uint64_t next_ticket = 1; // tickets in in_flight are consecutive
  std::deque<InFlight> in_flight;
  bool stuck = false; // a batch failed: the position stays before it until restart
  bool closed = false;
};

} // namespace ferry::input
