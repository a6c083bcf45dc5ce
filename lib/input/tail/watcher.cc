// inotify (IN_MODIFY and friends on open files, IN_CREATE/IN_MOVED_* on directories) with
// an eventfd for wake-ups; glob(3)/fnmatch(3) for path patterns. Kernel limits honoured: a
// full inotify queue (IN_Q_OVERFLOW) or a refused watch (max_user_watches) only means the
// refresh timer finds what the events missed.
#include "watcher.h"

#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ferry::input::tail {
namespace {

constexpr uint32_t kFileMask = IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB;
constexpr uint32_t kDirectoryMask =
    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;

bool hasWildcard(std::string_view s) {
  return s.find_first_of("*?[{") != std::string_view::npos;
}

} // namespace

FileWatcher::FileWatcher(bool use_inotify) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (use_inotify) inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

FileWatcher::~FileWatcher() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

int FileWatcher::watchFile(int fd, const std::string& path) {
  if (inotify_fd_ < 0) return -1;
  // Through the descriptor: the watch is on the inode we read, whatever the name means now.
  // A file not open yet (max_open_files) is watched by name: its first open checks that the
  // name still leads to the inode it was found as.
  int wd = -1;
  if (fd >= 0) {
    const std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
    wd = ::inotify_add_watch(inotify_fd_, by_fd.c_str(), kFileMask);
  }
  if (wd < 0) wd = ::inotify_add_watch(inotify_fd_, path.c_str(), kFileMask);
  return wd;
}

bool FileWatcher::watchDirectory(const std::string& dir) {
  if (inotify_fd_ < 0) return false;
  const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kDirectoryMask);
  if (wd < 0) return false;
  if (std::find(directory_wds_.begin(), directory_wds_.end(), wd) == directory_wds_.end()) {
    directory_wds_.push_back(wd);
  }
  return true;
}

void FileWatcher::unwatch(int wd) {
  if (inotify_fd_ >= 0 && wd >= 0) ::inotify_rm_watch(inotify_fd_, wd);
}

bool FileWatcher::isDirectory(int wd) const {
  return std::find(directory_wds_.begin(), directory_wds_.end(), wd) != directory_wds_.end();
}

void FileWatcher::wait(std::chrono::milliseconds timeout, std::vector<WatchEvent>& out) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const nfds_t n = inotify_fd_ >= 0 ? 2 : 1;
  const int ms = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 60'000));
  const int rc = ::poll(fds, n, ms);
  if (rc <= 0) return;
  if (fds[0].revents & POLLIN) {
    uint64_t value;
    [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &value, sizeof value);
  }
  if (n < 2 || !(fds[1].revents & POLLIN)) return;
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    const ssize_t len = ::read(inotify_fd_, buf, sizeof buf);
    if (len <= 0) break;
    for (ssize_t at = 0; at < len;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->mask & IN_Q_OVERFLOW) {
        out.push_back({-1, ev->mask});
      } else {
        out.push_back({ev->wd, ev->mask});
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

void FileWatcher::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

std::vector<std::string> expandGlobs(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& excludes) {
  std::vector<std::string> out;
  for (const auto& pattern : patterns) {
    glob_t g{};
    if (::glob(pattern.c_str(), GLOB_BRACE | GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i)
        out.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::erase_if(out, [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return true;
    const size_t slash = path.rfind('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    for (const auto& ex : excludes) {
      if (::fnmatch(ex.c_str(), path.c_str(), 0) == 0 ||
          ::fnmatch(ex.c_str(), name.c_str(), 0) == 0) {
        return true;
      }
    }
    return false;
  });
  return out;
}

std::string literalDirectory(const std::string& pattern) {
  const size_t slash = pattern.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : pattern.substr(0, slash);
  return hasWildcard(dir) ? "" : dir;
}

} // namespace ferry::input::tail
