// The segment store's entry format on disk (layout in ferry/storage/segment_store.h), shared
// by the store (recovery, counting, damage reports) and its readers: an entry's header read
// back and trusted only once checked, its body checked and rebuilt into a batch, and the way
// past a damaged stretch to the next intact entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/storage/segment_store.h"

namespace ferry::storage::detail {

// "<what> <path>: <strerror(errno)>".
std::string errnoText(std::string_view what, const std::string& path);

// An entry's header as read from disk, before its body is checked.
struct Head {
  uint64_t seq = 0;
  uint32_t records = 0;
  uint32_t body_length = 0;
  uint32_t body_crc = 0;
  uint64_t size = 0; // header + body
  bool old_format = false;
};

// The header at `offset`, if it can be trusted: the current format's magic and header
// checksum, or (in a segment of the first format, whose lengths are unchecked) a length
// that fits before `end`. The whole entry must end by `end`, unless `torn_ok` (a checked
// header of an entry cut short still says what the entry held).
std::optional<Head> readHead(int fd, uint64_t offset, uint64_t end, bool old_format,
                             bool torn_ok = false);

// Reads the body of the entry at `offset`, checks it (checksum, layout, and that it says
// what its header says) and rebuilds the batch; nullopt when it fails a check. `body` is
// scratch, reused between calls.
std::optional<StoredEntry> readEntry(int fd, uint64_t offset, const Head& head, std::string& body);

// Damage at `offset`: steps past it to the next entry whose magic, header checksum and body
// checksum all match and whose seq is at least `min_seq`. A damaged length is never followed:
// only a header that passed its checksum says where its entry ends. `end_seq` is the seq
// after the segment's last entry when the caller knows it (UINT64_MAX otherwise).
Damage findResume(int fd, uint64_t segment, uint64_t offset, uint64_t end, uint64_t min_seq,
                  uint64_t end_seq);

struct ScanResult {
  uint64_t bytes = 0; // where the segment ends once a damaged tail is cut off
  uint64_t entries = 0;
  uint64_t records = 0;
  uint64_t next_seq = 0;
  bool old_format = false;
  bool torn = false; // the tail (from `bytes`) is damaged and holds no intact entry
  std::vector<Damage> damage;
};

// Validates a segment entry by entry, stepping over damaged stretches to the next intact
// entry; a damaged tail is left for the caller to cut off. `end_seq`: as for findResume.
ScanResult scanSegment(int fd, uint64_t file_size, uint64_t first_seq, uint64_t end_seq);

} // namespace ferry::storage::detail
