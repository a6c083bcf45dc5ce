// The tail input's descriptor budget. Following a file does not need a descriptor on it all
// the time: beyond max_open_files the least recently read files are closed ("parked") and
// opened again when they may have new bytes (their inotify watch, which needs no
// descriptor, or a size that moved), by path, and only if the path still leads to the same
// inode (device + inode). A file renamed away while parked is found again beside its name
// and read to its end; one deleted while parked is gone, and so is whatever it held that
// had not been read yet. A lack of descriptors (EMFILE, ENFILE) is a warning and a count,
// never an exit: the file keeps its turn, and the budget shrinks so that the rest of the
// daemon (storage, positions, outputs, the HTTP server) keeps the descriptors it needs.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <utility>

#include "ferry/obs/log.h"
#include "tail_engine.h"

namespace ferry::input {

namespace {

constexpr size_t kMinOpenFiles = 16;
constexpr size_t kMaxDefaultOpenFiles = 1024;

} // namespace

FileId idOf(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

size_t defaultMaxOpenFiles() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return kMaxDefaultOpenFiles;
  }
  return std::clamp<size_t>(static_cast<size_t>(limit.rlim_cur / 2), kMinOpenFiles,
                            kMaxDefaultOpenFiles);
}

std::string findRenamed(const std::string& path, FileId id, uint64_t min_size) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  const std::string dir = parent.empty() ? std::string(".") : parent;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return {};
  std::string found;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_ino != id.inode) continue;
    const std::string candidate = dir + "/" + e->d_name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && idOf(st) == id &&
        static_cast<uint64_t>(st.st_size) >= min_size) {
      found = candidate;
      break;
    }
  }
  ::closedir(d);
  return found;
}

void TailEngine::noteFdExhausted(std::string_view what, const std::string& path, int error) {
  fd_exhausted_->add();
  // Something else holds the descriptors this input counted on: give some back for good.
  const size_t before = max_open_;
  if (open_count_ > kMinOpenFiles) {
    max_open_ = std::min(max_open_, std::max(kMinOpenFiles, open_count_ - open_count_ / 8));
  }
  FERRY_LOG_WARN(context_->name(),
                 "cannot {} {}: {} ({} files open by this input, at most {} from now on); "
                 "trying again later",
                 what, path, std::strerror(error), open_count_, max_open_);
  if (max_open_ < before) {
    while (open_count_ > max_open_ && !lru_.empty())
      park(*lru_.front());
  }
}

int TailEngine::openTracked(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && outOfDescriptors(errno)) {
    const int error = errno;
    noteFdExhausted("open", path, error);
    errno = error;
  }
  return fd;
}

TailEngine::Reopen TailEngine::acquire(TailFile& f) {
  if (f.fd >= 0) {
    lru_.splice(lru_.end(), lru_, f.lru); // read now: the last to be parked
    return Reopen::kOpen;
  }
  while (open_count_ >= max_open_ && !lru_.empty())
    park(*lru_.front());
  Reopen got = reopen(f);
  if (got == Reopen::kLater && !lru_.empty()) {
    // The process has no descriptor left: this file takes one of ours, so that files keep
    // taking turns rather than waiting for one that may never come.
    park(*lru_.front());
    got = reopen(f);
  }
  return got;
}

TailEngine::Reopen TailEngine::reopen(TailFile& f) {
  struct stat st {};
  int fd = openTracked(f.path);
  if (fd < 0 && outOfDescriptors(errno)) return Reopen::kLater;
  if (fd >= 0 && (::fstat(fd, &st) != 0 || idOf(st) != f.id)) {
    ::close(fd); // the name leads to another file now
    fd = -1;
  }
  if (fd < 0) {
    // Renamed (rotated) while parked: it is still beside its name, with what is left.
    const std::string moved = findRenamed(f.path, f.id, 0);
    if (!moved.empty()) {
      fd = openTracked(moved);
      if (fd < 0 && outOfDescriptors(errno)) return Reopen::kLater;
      if (fd >= 0 && (::fstat(fd, &st) != 0 || idOf(st) != f.id)) {
        ::close(fd);
        fd = -1;
      }
    }
    if (fd < 0) {
      markGone(f);
      return Reopen::kGone;
    }
    if (!f.rotated) {
      rotations_->add();
      f.rotated = true;
      f.eof_since = std::chrono::steady_clock::now();
      FERRY_LOG_INFO(context_->name(),
                     "{} was rotated to {} while closed (max_open_files): reading the old file "
                     "to its end",
                     f.path, moved);
    }
  }
  adopt(f, fd);
  f.size_hint = static_cast<uint64_t>(st.st_size);
  if (f.size_hint < f.read_offset) restartTruncated(f); // copytruncate while parked
  return Reopen::kOpen;
}

void TailEngine::adopt(TailFile& f, int fd) {
  f.fd = fd;
  if (!std::exchange(f.opened, true) && f.read_offset > 0 && f.carry.empty()) {
    // Resuming after a line whose head already went out (a flushed partial line, a split
    // one): the newline that ends it is not an empty record.
    char before = '\n';
    if (::pread(fd, &before, 1, static_cast<off_t>(f.read_offset - 1)) == 1 && before != '\n') {
      f.splitter.resumeMidLine();
    }
  }
  f.lru = lru_.insert(lru_.end(), &f);
  ++open_count_;
  files_open_->set(static_cast<int64_t>(open_count_));
  if (f.wd < 0) {
    f.wd = watcher_->watchFile(fd, f.path);
    if (f.wd >= 0) by_wd_[f.wd] = &f;
  }
}

void TailEngine::park(TailFile& f) {
  // What was read goes out; the held line, the splitter and the joiner stay with the file.
  if (fill_.file == &f) endFill();
  release(f);
  files_parked_->add();
  FERRY_LOG_DEBUG(context_->name(), "closed {} at offset {} to stay within max_open_files {}",
                  f.path, f.read_offset, max_open_);
}

void TailEngine::release(TailFile& f) {
  if (f.fd < 0) return;
  ::close(f.fd);
  f.fd = -1;
  lru_.erase(f.lru);
  --open_count_;
  files_open_->set(static_cast<int64_t>(open_count_));
}

void TailEngine::markGone(TailFile& f) {
  if (f.size_hint > f.read_offset) {
    FERRY_LOG_WARN(context_->name(),
                   "{} was deleted while closed (max_open_files) and is not found beside its "
                   "name: what it held past offset {} is lost",
                   f.path, f.read_offset);
  } else {
    FERRY_LOG_INFO(context_->name(), "{} was deleted while closed (max_open_files)", f.path);
  }
  tracker_->forget(f.track); // a new file that gets its inode number starts afresh
  f.gone = true;
  f.rotated = true; // closed by the timers, as a rotated file at its end would be
  f.maybe_data = false;
  f.fd_wait = false;
  f.eof_since = SteadyTime{};
}

bool TailEngine::parkedMayHaveData(const TailFile& f) const {
  struct stat st {};
  if (::stat(f.path.c_str(), &st) != 0 || idOf(st) != f.id) return true; // reopen() looks
  return static_cast<uint64_t>(st.st_size) != f.read_offset;
}

} // namespace ferry::input
