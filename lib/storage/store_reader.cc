// The reader that ships the store's backlog: entries in sequence order, stepping over what
// drop_oldest or repair took and over damage (each damaged stretch reported once per store).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "ferry/storage/segment_store.h"
#include "segment_entry.h"

namespace ferry::storage {

using detail::errnoText;
using detail::readEntry;
using detail::readHead;

StoreReader::StoreReader(StoreReader&& o) noexcept
    : store_(o.store_), next_(o.next_), fd_(std::exchange(o.fd_, -1)), segment_(o.segment_),
      offset_(o.offset_), offset_seq_(o.offset_seq_) {}

StoreReader& StoreReader::operator=(StoreReader&& o) noexcept {
  if (this != &o) {
    closeFile();
    store_ = o.store_;
    next_ = o.next_;
    fd_ = std::exchange(o.fd_, -1);
    segment_ = o.segment_;
    offset_ = o.offset_;
    offset_seq_ = o.offset_seq_;
  }
  return *this;
}

StoreReader::~StoreReader() {
  closeFile();
}

void StoreReader::closeFile() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  segment_ = UINT64_MAX;
}

std::expected<std::optional<StoredEntry>, std::string> StoreReader::next(uint64_t max_seq) {
  for (;;) {
    if (next_ > max_seq) return std::nullopt;
    const auto seg = store_->segmentFor(next_);
    if (!seg) return std::nullopt;
    if (seg->first_seq > next_) next_ = seg->first_seq; // dropped or lost to repair: skip
    if (next_ >= seg->end_seq || next_ > max_seq) return std::nullopt;
    if (seg->first_seq != segment_) {
      closeFile();
      const std::string path = store_->segmentPath(seg->first_seq);
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        if (errno == ENOENT) continue; // deleted under us (drop_oldest): look again
        return std::unexpected(errnoText("cannot open", path));
      }
      segment_ = seg->first_seq;
      offset_ = 0;
      offset_seq_ = seg->first_seq;
    }
    const auto head = readHead(fd_, offset_, seg->bytes, seg->old_format);
    std::string body;
    if (head && head->seq >= offset_seq_ && head->seq > max_seq) return std::nullopt; // past a gap
    if (head && head->seq >= offset_seq_ && head->seq < next_) { // before the wanted entry
      offset_ += head->size;
      offset_seq_ = head->seq + 1;
      continue;
    }
    if (head && head->seq >= offset_seq_) {
      if (auto entry = readEntry(fd_, offset_, *head, body)) {
        offset_ += head->size;
        offset_seq_ = next_ = head->seq + 1;
        return entry;
      }
    }
    // Damage: go on at the next intact entry; what lies between is lost (counted once).
    auto [damage, fresh] = store_->damageAt(*seg, fd_, offset_, offset_seq_);
    if (fresh && (damage.end_seq == UINT64_MAX || damage.end_seq > next_))
      damage_.push_back(damage);
    offset_ = damage.resume;
    offset_seq_ = damage.end_seq == UINT64_MAX ? seg->end_seq : damage.end_seq;
    next_ = std::max(next_, offset_seq_);
    if (offset_ >= seg->bytes) next_ = std::max(next_, seg->end_seq); // on to the next segment
  }
}

} // namespace ferry::storage
