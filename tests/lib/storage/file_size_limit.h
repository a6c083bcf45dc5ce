// A write-failure switch for storage tests: RLIMIT_FSIZE makes a write past it fail
// (EFBIG), as a full disk does (ENOSPC), and part-way through an entry when it falls inside
// one. Restored when the object dies.
#pragma once

#include <sys/resource.h>

#include <csignal>
#include <cstdint>

namespace ferry::test {

class FileSizeLimit {
public:
  explicit FileSizeLimit(uint64_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit l = saved_;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

} // namespace ferry::test
