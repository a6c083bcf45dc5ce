// What wakes the tail thread: inotify events on the files it holds open (by inode, through
// /proc/self/fd, so a rename cannot misdirect the watch) and on the directories of its globs,
// or nothing but a timer when inotify is off or unavailable (polling). An eventfd wakes it
// at once for stop(). Also: glob expansion with exclusions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::input::tail {

struct WatchEvent {
  int wd;
  uint32_t mask;
};

class FileWatcher {
public:
  // use_inotify false (or inotify unavailable): polling() is true and wait() only sleeps.
  explicit FileWatcher(bool use_inotify);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  bool polling() const { return inotify_fd_ < 0; }
  // Watches a file (by its descriptor, or by path when fd is -1) for writes, renames,
  // deletion and link changes; the watch needs no descriptor of its own. -1 when polling
  // or when the watch could not be added (the periodic refresh still covers the file).
  int watchFile(int fd, const std::string& path);
  // Watches a directory for files appearing, leaving or being renamed. False on failure.
  bool watchDirectory(const std::string& dir);
  void unwatch(int wd);
  bool isDirectory(int wd) const;
  // Waits up to `timeout` for events (or wake()). Events are appended to `out`; an
  // overflow of the kernel queue is reported as a single event with wd -1.
  void wait(std::chrono::milliseconds timeout, std::vector<WatchEvent>& out);
  void wake();

private:
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<int> directory_wds_;
};

// Every regular file matched by one of `patterns` (glob(3) with braces) and by none of
// `excludes` (fnmatch against the whole path or against the file name), sorted, unique.
std::vector<std::string> expandGlobs(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& excludes);

// The directory part of a glob when it has no wildcard ("/var/log/app/*.log" →
// "/var/log/app"); "" otherwise.
std::string literalDirectory(const std::string& pattern);

} // namespace ferry::input::tail
