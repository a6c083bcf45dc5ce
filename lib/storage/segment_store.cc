// Segment store: append with CRC32C per entry, repair on open (a torn or corrupt tail is
// truncated and counted), cursors written by temporary file + rename, segments deleted
// once every cursor has passed them. The entry format is in segment_entry.cc, the reader
// that ships the backlog in store_reader.cc.
#include "ferry/storage/segment_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

#include "segment_entry.h"

namespace ferry::storage {
namespace {

using detail::errnoText;
using detail::findResume;
using detail::readHead;
using detail::ScanResult;
using detail::scanSegment;

std::expected<void, std::string> makeDirs(const std::string& path) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST)
      return std::unexpected(errnoText("cannot create", cur));
  }
  return {};
}

void syncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Temporary file, then rename: the file is whole or absent. No fsync: callers can do
// without it after a power failure.
void writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

std::string sanitize(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_')) {
      c = '_';
    }
  }
  return s.empty() || s[0] == '.' ? "_" + s : s;
}

} // namespace

std::optional<SyncPolicy> parseSyncPolicy(std::string_view s) {
  if (s == "always") return SyncPolicy::kAlways;
  if (s == "interval") return SyncPolicy::kInterval;
  if (s == "none") return SyncPolicy::kNone;
  return std::nullopt;
}

// ---- SegmentStore ---------------------------------------------------------------------

SegmentStore::SegmentStore(StoreOptions options) : options_(std::move(options)) {
  dir_ = options_.path + "/" + options_.subdir;
  if (options_.segment_bytes == 0) {
    options_.segment_bytes = std::clamp<uint64_t>(options_.max_bytes / 8, 64 << 10, 64 << 20);
  }
}

SegmentStore::~SegmentStore() {
  if (fd_ >= 0) {
    if (options_.sync != SyncPolicy::kNone && unsynced_) ::fdatasync(fd_);
    ::close(fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_); // releases the flock
}

std::expected<std::unique_ptr<SegmentStore>, std::string>
SegmentStore::open(StoreOptions options, const std::vector<std::string>& outputs) {
  std::unique_ptr<SegmentStore> store(new SegmentStore(std::move(options))); // private constructor
  if (auto ok = store->recover(outputs); !ok) return std::unexpected(ok.error());
  return store;
}

std::string SegmentStore::segmentPath(uint64_t first_seq) const {
  return fmt::format("{}/{:020}.seg", dir_, first_seq);
}

std::string SegmentStore::reportedPath() const {
  return dir_ + "/damage-reported";
}

std::string SegmentStore::cursorPath(const std::string& output) const {
  return dir_ + "/cursors/" + sanitize(output);
}

std::string SegmentStore::fileNameFor(const std::string& output) {
  return sanitize(output);
}

std::expected<void, std::string> SegmentStore::recover(const std::vector<std::string>& outputs) {
  if (auto ok = makeDirs(dir_ + "/cursors"); !ok) return ok;
  // Two writers would interleave entries: one process per directory.
  const std::string lock_path = dir_ + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) return std::unexpected(errnoText("cannot open", lock_path));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return std::unexpected(fmt::format("{} is in use by another ferry process", dir_));
  }
  std::vector<uint64_t> firsts;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      if (n.size() != 24 || !n.ends_with(".seg")) continue;
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(n.data(), n.data() + 20, v);
      if (ec == std::errc() && p == n.data() + 20) firsts.push_back(v);
    }
    ::closedir(d);
  } else {
    return std::unexpected(errnoText("cannot read", dir_));
  }
  std::sort(firsts.begin(), firsts.end());
  uint64_t next = 0;
  std::vector<Damage> damage, skips; // every stretch found; those inside a segment
  for (size_t i = 0; i < firsts.size(); ++i) {
    const uint64_t first = firsts[i];
    const std::string path = segmentPath(first);
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::unexpected(errnoText("cannot open", path));
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint64_t end_seq = i + 1 < firsts.size() ? firsts[i + 1] : UINT64_MAX;
    const ScanResult r = scanSegment(fd, size, first, end_seq);
    recovery_.corrupt_entries += r.damage.size();
    for (const Damage& d : r.damage) {
      if (d.resume < size) {
        recovery_.skipped_bytes += d.resume - d.offset;
        skips.push_back(d);
      }
      damage.push_back(d);
    }
    if (r.torn) {
      // Nothing intact follows the damage: cut it off, so appends start on a boundary.
      recovery_.truncated_bytes += size - r.bytes;
      if (::ftruncate(fd, static_cast<off_t>(r.bytes)) != 0) {
        ::close(fd);
        return std::unexpected(errnoText("cannot truncate", path));
      }
      ::fsync(fd);
    }
    ::close(fd);
    if (r.entries == 0) {
      ::unlink(path.c_str());
      continue;
    }
    segments_[first] = {first, r.next_seq, r.bytes, r.records, r.old_format};
    total_bytes_ += r.bytes;
    recovery_.segments += 1;
    recovery_.entries += r.entries;
    recovery_.records += r.records;
    next = std::max(next, r.next_seq);
  }
  // Cursors: a cursor file says how far an output got. The next sequence number must not
  // fall below any of them, or new entries would count as delivered already.
  for (const auto& o : outputs) {
    Cursor c;
    const std::string path = cursorPath(o);
    bool found = false;
    if (FILE* f = std::fopen(path.c_str(), "re")) {
      unsigned long long v = 0;
      if (std::fscanf(f, "%llu", &v) == 1) {
        c.seq = v;
        found = true;
      }
      std::fclose(f);
    }
    if (!found) c.dirty = true; // written below, so a crash before the first save keeps it
    cursors_[o] = c;
  }
  for (const auto& [o, c] : cursors_) {
    if (!c.dirty) next = std::max(next, c.seq);
  }
  next_seq_ = next;
  uint64_t min_cursor = UINT64_MAX;
  for (auto& [o, c] : cursors_) {
    if (c.dirty) c.seq = next_seq_; // a new output starts at the end
    if (!segments_.empty()) c.seq = std::max(c.seq, segments_.begin()->first);
    min_cursor = std::min(min_cursor, c.seq);
  }
  {
    // Readers step over the stretches found here silently: they are reported once, below,
    // unless an earlier start or a reader did so already (they stay on disk until collected).
    std::set<std::pair<uint64_t, uint64_t>> reported;
    if (FILE* f = std::fopen(reportedPath().c_str(), "re")) {
      unsigned long long seg = 0, off = 0;
      while (std::fscanf(f, "%llu %llu", &seg, &off) == 2)
        reported.insert({seg, off});
      std::fclose(f);
    }
    std::lock_guard lock(damage_mu_);
    std::string still_there;
    for (const Damage& d : skips) {
      damage_[{d.segment, d.offset}] = d;
      still_there += fmt::format("{} {}\n", d.segment, d.offset);
    }
    for (const Damage& d : damage) {
      // Damage every output had read past cost nothing.
      if (reported.contains({d.segment, d.offset})) continue;
      if (d.end_seq == UINT64_MAX || d.end_seq > min_cursor) recovery_.lost.push_back(d);
    }
    // Best effort: should this fail, the next start reports the same damage again.
    if (still_there.empty()) {
      ::unlink(reportedPath().c_str());
    } else {
      writeFileAtomically(reportedPath(), still_there);
    }
  }
  std::lock_guard lock(mu_);
  // A segment of the first format is never appended to: its damage could not be skipped.
  if (segments_.empty() || segments_.rbegin()->second.bytes >= options_.segment_bytes ||
      segments_.rbegin()->second.end_seq != next_seq_ || segments_.rbegin()->second.old_format) {
    if (auto ok = startSegmentLocked(next_seq_); !ok) return ok;
  } else {
    const std::string path = segmentPath(segments_.rbegin()->first);
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) return std::unexpected(errnoText("cannot open", path));
  }
  return persistCursors();
}

std::expected<void, std::string> SegmentStore::startSegmentLocked(uint64_t first_seq) {
  const std::string path = segmentPath(first_seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return std::unexpected(errnoText("cannot create", path));
  if (fd_ >= 0) {
    if (options_.sync != SyncPolicy::kNone && unsynced_) ::fdatasync(fd_);
    ::close(fd_);
  }
  unsynced_ = false;
  fd_ = fd;
  // An empty segment may exist already (a crash right after creating it): reuse it.
  auto& seg = segments_[first_seq];
  seg.first_seq = seg.end_seq = first_seq;
  total_bytes_ -= seg.bytes;
  seg.bytes = seg.records = 0;
  ::ftruncate(fd_, 0);
  // The new file's name must survive a power failure as well as its data.
  if (options_.sync == SyncPolicy::kAlways) syncDirectory(dir_);
  return {};
}

std::expected<uint64_t, std::string> SegmentStore::append(const core::Batch& batch) {
  if (batch.buffer().size() + batch.entries().size() * sizeof(core::RecordEntry) +
          batch.tag().size() >=
      kMaxBodyBytes - kFixedBodyBytes) {
    return std::unexpected("batch too large for one storage entry");
  }
  thread_local std::string scratch;
  std::lock_guard lock(mu_);
  Segment* seg = &segments_.rbegin()->second;
  if (seg->bytes >= options_.segment_bytes) {
    if (auto ok = startSegmentLocked(next_seq_); !ok) return std::unexpected(ok.error());
    seg = &segments_.rbegin()->second;
  }
  const uint64_t seq = next_seq_;
  encodeEntry(batch, seq, scratch);
  size_t done = 0;
  while (done < scratch.size()) {
    const ssize_t w = ::write(fd_, scratch.data() + done, scratch.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string err = errnoText("cannot write", segmentPath(seg->first_seq));
      // Cut a partial entry off so the next append starts on a boundary.
      if (done > 0) ::ftruncate(fd_, static_cast<off_t>(seg->bytes));
      return std::unexpected(err);
    }
    done += static_cast<size_t>(w);
  }
  if (options_.sync == SyncPolicy::kAlways && ::fdatasync(fd_) != 0) {
    // Not known to be on disk: take it back, so that a retry does not store it twice.
    const std::string err = errnoText("cannot sync", segmentPath(seg->first_seq));
    ::ftruncate(fd_, static_cast<off_t>(seg->bytes));
    return std::unexpected(err);
  }
  if (options_.sync != SyncPolicy::kAlways) unsynced_ = true;
  seg->bytes += scratch.size();
  seg->records += batch.size();
  seg->end_seq = seq + 1;
  total_bytes_ += scratch.size();
  next_seq_ = seq + 1;
  return seq;
}

std::expected<void, std::string> SegmentStore::sync() {
  std::lock_guard lock(mu_);
  if (!unsynced_ || fd_ < 0) return {};
  unsynced_ = false;
  if (::fdatasync(fd_) != 0) return std::unexpected(errnoText("cannot sync", dir_));
  return {};
}

uint64_t SegmentStore::nextSeq() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

uint64_t SegmentStore::firstSeq() const {
  std::lock_guard lock(mu_);
  for (const auto& [first, s] : segments_) {
    if (s.end_seq > s.first_seq) return first;
  }
  return next_seq_;
}

uint64_t SegmentStore::bytes() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

std::optional<SegmentStore::Segment> SegmentStore::segmentFor(uint64_t seq) const {
  std::lock_guard lock(mu_);
  auto it = segments_.upper_bound(seq);
  if (it != segments_.begin()) {
    auto prev = std::prev(it);
    if (seq < prev->second.end_seq) return prev->second;
  }
  for (; it != segments_.end(); ++it) {
    if (it->second.end_seq > it->second.first_seq) return it->second;
  }
  return std::nullopt;
}

uint64_t SegmentStore::dropOldest() {
  Segment victim;
  {
    std::lock_guard lock(mu_);
    if (segments_.size() == 1) {
      if (segments_.begin()->second.end_seq == segments_.begin()->second.first_seq) return 0;
      if (!startSegmentLocked(next_seq_)) return 0;
    }
    victim = segments_.begin()->second;
    segments_.erase(segments_.begin());
    total_bytes_ -= victim.bytes;
  }
  ::unlink(segmentPath(victim.first_seq).c_str());
  {
    std::lock_guard lock(cursor_mu_);
    for (auto& [o, c] : cursors_) {
      if (c.seq < victim.end_seq) {
        c.seq = victim.end_seq;
        c.dirty = true;
      }
    }
  }
  return victim.records;
}

uint64_t SegmentStore::cursor(const std::string& output) const {
  std::lock_guard lock(cursor_mu_);
  auto it = cursors_.find(output);
  return it == cursors_.end() ? 0 : it->second.seq;
}

void SegmentStore::setCursor(const std::string& output, uint64_t seq) {
  std::lock_guard lock(cursor_mu_);
  Cursor& c = cursors_[output];
  if (seq > c.seq) {
    c.seq = seq;
    c.dirty = true;
  }
}

std::expected<void, std::string> SegmentStore::persistCursors() {
  std::lock_guard persist(persist_mu_);
  std::vector<std::pair<std::string, uint64_t>> dirty;
  {
    std::lock_guard lock(cursor_mu_);
    for (auto& [o, c] : cursors_) {
      if (c.dirty) dirty.emplace_back(o, c.seq);
      c.dirty = false;
    }
  }
  for (const auto& [o, seq] : dirty) {
    const std::string path = cursorPath(o);
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    const std::string text = fmt::format("{}\n", seq);
    bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (ok && options_.sync != SyncPolicy::kNone) ok = ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
      std::lock_guard lock(cursor_mu_);
      cursors_[o].dirty = true; // try again next time
      return std::unexpected(errnoText("cannot write cursor", path));
    }
  }
  if (!dirty.empty() && options_.sync != SyncPolicy::kNone) syncDirectory(dir_ + "/cursors");
  return {};
}

size_t SegmentStore::collect() {
  uint64_t min_cursor = UINT64_MAX;
  {
    std::lock_guard lock(cursor_mu_);
    for (const auto& [o, c] : cursors_)
      min_cursor = std::min(min_cursor, c.seq);
  }
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(mu_);
    while (segments_.size() > 1 && segments_.begin()->second.end_seq <= min_cursor) {
      doomed.push_back(segments_.begin()->first);
      total_bytes_ -= segments_.begin()->second.bytes;
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t first : doomed)
    ::unlink(segmentPath(first).c_str());
  return doomed.size();
}

uint64_t SegmentStore::countRecords(uint64_t from) const {
  std::vector<Segment> segs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [f, s] : segments_) {
      if (s.end_seq > from) segs.push_back(s);
    }
  }
  uint64_t total = 0;
  for (const auto& s : segs) {
    if (s.first_seq >= from) {
      total += s.records;
      continue;
    }
    // The segment holding `from`: walk its headers, stepping over damage.
    const int fd = ::open(segmentPath(s.first_seq).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    uint64_t off = 0, floor = s.first_seq;
    while (off < s.bytes) {
      if (const auto head = readHead(fd, off, s.bytes, s.old_format); head && head->seq >= floor) {
        if (head->seq >= from) total += head->records;
        off += head->size;
        floor = head->seq + 1;
        continue;
      }
      const Damage d = findResume(fd, s.first_seq, off, s.bytes, floor, s.end_seq);
      off = d.resume;
      floor = d.end_seq;
    }
    ::close(fd);
  }
  return total;
}

std::pair<Damage, bool> SegmentStore::damageAt(const Segment& seg, int fd, uint64_t offset,
                                               uint64_t min_seq) const {
  std::lock_guard lock(damage_mu_);
  const auto key = std::make_pair(seg.first_seq, offset);
  if (auto it = damage_.find(key); it != damage_.end()) return {it->second, false};
  Damage d = findResume(fd, seg.first_seq, offset, seg.bytes, min_seq, seg.end_seq);
  damage_[key] = d;
  // Remembered across a restart, so that the next start does not report it again.
  const int out = ::open(reportedPath().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (out >= 0) {
    const std::string line = fmt::format("{} {}\n", seg.first_seq, offset);
    [[maybe_unused]] const ssize_t w = ::write(out, line.data(), line.size());
    ::close(out);
  }
  return {d, true};
}

} // namespace ferry::storage
