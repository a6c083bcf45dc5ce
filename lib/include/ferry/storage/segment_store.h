// The disk buffer (SPEC.md "Delivery guarantees", service.storage): an append-only log of
// batches in segment files, one entry per batch, with a per-output cursor persisted beside.
//
// Entry layout (little-endian, as x86-64 and arm64 write it):
//   header = u32 magic | u32 body_length | u64 seq | u32 record_count | u32 crc32c(body) |
//            u32 crc32c(the 24 header bytes before it)
//   body   = u64 seq | u32 record_count | u32 input_id | u16 tag_length | u8 format | u8 0 |
//            tag | record_count × (i64 timestamp_ns, u32 offset, u32 length) | batch bytes
// The magic and the header's own checksum let a reader find the next intact entry after a
// damaged one (it never trusts a length it could not check), and the record count in the
// header survives damage to the body, so a lost entry is counted exactly.
// Segments of the first format (u32 body_length | u32 crc32c(body) | body, no magic) are
// still read; new entries always go to a segment of the current format. Past a damaged
// entry of the old format nothing can be found again: the rest of that segment is lost.
// Sequence numbers grow by one per entry across segments; a segment file is named after
// the sequence number of its first entry (queue/<20 digits>.seg). A cursor is the first
// sequence number an output still needs (queue/cursors/<output>).
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::storage {

enum class SyncPolicy : uint8_t {
  kAlways,   // fdatasync before append() returns: nothing acknowledged is lost, even on power loss
  kInterval, // fdatasync every sync_interval: a process crash loses nothing (the page cache
             // survives it), a power failure may lose the last interval
  kNone,     // never: the kernel writes back when it likes (power failure loses ~30 s)
};
enum class WhenFull : uint8_t { kPause, kDropOldest };

std::optional<SyncPolicy> parseSyncPolicy(std::string_view s);

struct StoreOptions {
  std::string path; // the store keeps its files in <path>/<subdir>
  std::string subdir = "queue";
  uint64_t max_bytes = 1ull << 30;
  SyncPolicy sync = SyncPolicy::kInterval;
  WhenFull when_full = WhenFull::kPause;
  uint64_t segment_bytes = 0; // a new segment starts beyond this; 0 = max_bytes/8 in [64KiB, 64MiB]
};

// One damaged stretch of a segment: from the entry that failed its checks to the next intact
// entry. Entries in it whose header was intact say how many records they held; the others are
// counted by the gap in sequence numbers, their records unknown.
struct Damage {
  uint64_t segment = 0;          // first seq of the segment (its file name)
  uint64_t offset = 0;           // where the damage starts
  uint64_t resume = 0;           // offset of the next intact entry (the segment's end if none)
  uint64_t first_seq = 0;        // the lowest seq the stretch may have held
  uint64_t end_seq = UINT64_MAX; // seq of the entry after it; UINT64_MAX: not knowable
  uint64_t known_entries = 0;    // entries whose header was intact
  uint64_t records = 0;          // the records those held
  // Entries lost (at least, when end_seq is not knowable).
  uint64_t entries() const { return end_seq == UINT64_MAX ? known_entries : end_seq - first_seq; }
  // Lost entries whose record count cannot be known.
  uint64_t unknownEntries() const { return entries() - known_entries; }
};

// What open() found and repaired.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t entries = 0; // valid entries kept
  uint64_t records = 0;
  uint64_t corrupt_entries = 0; // damaged stretches found (a torn tail, a corrupt entry)
  uint64_t truncated_bytes = 0; // cut off torn or damaged segment tails
  uint64_t skipped_bytes = 0;   // damaged bytes inside segments, stepped over when reading
  std::vector<Damage> lost;     // the damaged stretches that held entries an output still needed
};

struct StoredEntry {
  uint64_t seq = 0;
  core::BatchRef batch; // rebuilt from disk: its own buffer, no finalizer, kNoInput
};

class SegmentStore;

// Reads entries in sequence order from a starting point, independently of the writer
// (its own file descriptors; entries are immutable once appended).
class StoreReader {
public:
  StoreReader(const SegmentStore& store, uint64_t from) : store_(&store), next_(from) {}
  StoreReader(StoreReader&&) noexcept;
  StoreReader& operator=(StoreReader&&) noexcept;
  ~StoreReader();
  // The next entry with seq <= max_seq, or nullopt when there is none (yet). Entries lost
  // to drop_oldest or to repair are skipped. An I/O error or a corrupt entry is an error.
  std::expected<std::optional<StoredEntry>, std::string> next(uint64_t max_seq = UINT64_MAX);
  // Sequence number it will read next (at least).
  uint64_t position() const { return next_; }
  // Damage met by the last next() calls that no reader of this store reported before
  // (each damaged stretch is reported once per store, whichever output meets it first).
  std::vector<Damage> takeDamage() { return std::exchange(damage_, {}); }

private:
  void closeFile();
  const SegmentStore* store_;
  uint64_t next_;
  int fd_ = -1;
  uint64_t segment_ = UINT64_MAX; // first seq of the open segment
  uint64_t offset_ = 0;           // file offset of the entry with seq offset_seq_
  uint64_t offset_seq_ = 0;       // lowest seq the entry at offset_ may have
  std::vector<Damage> damage_;
};

class SegmentStore {
public:
  // Opens (creating directories) and repairs: each segment is scanned, a torn or corrupt
  // tail is truncated and counted. `outputs` get a cursor file at once (a new output starts
  // at the end: it only sees what arrives from now on).
  static std::expected<std::unique_ptr<SegmentStore>, std::string>
  open(StoreOptions options, const std::vector<std::string>& outputs);
  ~SegmentStore();
  SegmentStore(const SegmentStore&) = delete;
  SegmentStore& operator=(const SegmentStore&) = delete;

  const RecoveryReport& recovery() const { return recovery_; }
  const StoreOptions& options() const { return options_; }
  const std::string& directory() const { return dir_; }

  // Appends one batch as one entry and syncs per policy; returns its sequence number.
  // Thread-safe. A failed write or sync is truncated away, so the log stays well formed and
  // the same batch can be appended again later (disk full: the caller retries).
  std::expected<uint64_t, std::string> append(const core::Batch& batch);
  // fdatasync of what was appended since the last sync (the interval policy calls this).
  std::expected<void, std::string> sync();

  uint64_t nextSeq() const;  // what the next append gets
  uint64_t firstSeq() const; // oldest entry still stored (== nextSeq() when empty)
  uint64_t bytes() const;    // bytes of every segment
  bool full() const { return bytes() >= options_.max_bytes; }
  // drop_oldest: deletes the oldest segment (starting a new one first when it is the only
  // one); returns the records it held. Cursors before it move past it.
  uint64_t dropOldest();

  // ---- Cursors --------------------------------------------------------------------------
  uint64_t cursor(const std::string& output) const;
  // Moves the cursor in memory (never backwards); persistCursors() writes it.
  void setCursor(const std::string& output, uint64_t seq);
  // Writes changed cursors (temporary file, fsync unless sync: none, rename).
  std::expected<void, std::string> persistCursors();
  // Deletes segments every output's cursor has passed (never the one being written).
  // Returns how many were deleted.
  size_t collect();
  // Records stored at or after `from` (headers only; for the shutdown report).
  uint64_t countRecords(uint64_t from) const;

  // An output name as a file name (cursor files, dead-letter directories).
  static std::string fileNameFor(const std::string& output);

  // Encodes / decodes one entry (shared with tests and `ferry replay`).
  static void encodeEntry(const core::Batch& batch, uint64_t seq, std::string& out);
  static constexpr uint32_t kMagic = 0x595246F3; // bytes F3 'F' 'R' 'Y'
  static constexpr size_t kHeaderBytes = 28;
  static constexpr size_t kOldPrefixBytes = 8;  // first format: body length + crc
  static constexpr size_t kFixedBodyBytes = 20; // seq..reserved
  // Below the magic read as a length, so an entry of the first format never starts with it.
  static constexpr uint64_t kMaxBodyBytes = 1ull << 30;

private:
  friend class StoreReader;
  struct Segment {
    uint64_t first_seq = 0;
    uint64_t end_seq = 0; // one past the last entry
    uint64_t bytes = 0;
    uint64_t records = 0;
    bool old_format = false; // holds entries of the first format: never appended to
  };
  explicit SegmentStore(StoreOptions options);
  std::expected<void, std::string> recover(const std::vector<std::string>& outputs);
  std::expected<void, std::string> startSegmentLocked(uint64_t first_seq);
  std::string segmentPath(uint64_t first_seq) const;
  std::string cursorPath(const std::string& output) const;
  // Damage inside segments reported already (by an earlier start or a reader), one
  // "<segment> <offset>" a line: stepped over again on the next start, not counted twice.
  std::string reportedPath() const;
  // The segment holding seq, else the first one after it; nullopt when none.
  std::optional<Segment> segmentFor(uint64_t seq) const;
  // A reader met damage at `offset` of segment `seg` (open as fd): the stretch as first
  // found (by recovery or another reader), and whether this is the first report of it.
  std::pair<Damage, bool> damageAt(const Segment& seg, int fd, uint64_t offset,
                                   uint64_t min_seq) const;

  StoreOptions options_;
  std::string dir_;
  RecoveryReport recovery_;

  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_; // by first_seq; the last one is being written
  int fd_ = -1;                          // the last segment, O_APPEND
  int lock_fd_ = -1;                     // flock'ed: one process per directory
  uint64_t next_seq_ = 0;
  uint64_t total_bytes_ = 0;
  bool unsynced_ = false;

  struct Cursor {
    uint64_t seq = 0;
    bool dirty = false;
  };
  mutable std::mutex cursor_mu_;
  std::map<std::string, Cursor> cursors_;
  std::mutex persist_mu_; // one cursor writer at a time

  mutable std::mutex damage_mu_;
  mutable std::map<std::pair<uint64_t, uint64_t>, Damage> damage_; // by (segment, offset)
};

using SegmentStorePtr = std::unique_ptr<SegmentStore>;

} // namespace ferry::storage
