#include "fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "ferry/obs/log.h"

namespace ferry::daemon {
namespace {

std::string limitText(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

} // namespace

void raiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    FERRY_LOG_WARN("ferry", "cannot read the open-files limit: {}", std::strerror(errno));
    return;
  }
  if (limit.rlim_cur == limit.rlim_max) {
    FERRY_LOG_DEBUG("ferry", "open-files limit {} (already the hard limit)",
                    limitText(limit.rlim_cur));
    return;
  }
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    FERRY_LOG_WARN("ferry", "cannot raise the open-files limit from {} to {}: {}",
                   limitText(before), limitText(limit.rlim_max), std::strerror(errno));
    return;
  }
  FERRY_LOG_INFO("ferry", "open-files limit raised from {} to {} (the hard limit)",
                 limitText(before), limitText(limit.rlim_max));
}

} // namespace ferry::daemon
