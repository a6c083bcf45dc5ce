// Listening sockets for forward. A unix socket path is only ever unlinked when it is a socket
// no process answers on (the leftover of a crash); its mode is set between bind and listen,
// before any client can connect.
#include "listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ferry::input::forward {
namespace {

constexpr int kBacklog = 1024;

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(err)));
}

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error(fmt::format("forward: unix socket path too long: {}", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

} // namespace

int listenUnix(const std::string& path, uint32_t mode) {
  const sockaddr_un addr = unixAddress(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error(
          fmt::format("forward: {} exists and is not a socket; refusing to replace it", path));
    }
    // A live server answers connect(); a file left by a crash refuses it.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) fail("forward: socket", errno);
    const int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int err = errno;
    ::close(probe);
    if (rc == 0) {
      throw std::runtime_error(fmt::format("forward: {} is in use by a running process", path));
    }
    if (err != ECONNREFUSED && err != ENOENT) {
      fail(fmt::format("forward: cannot check the existing socket {}", path), err);
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      fail(fmt::format("forward: cannot remove the stale socket {}", path), errno);
    }
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("forward: socket", errno);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    fail(fmt::format("forward: cannot bind {}", path), err);
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0 || ::listen(fd, kBacklog) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    fail(fmt::format("forward: cannot listen on {}", path), err);
  }
  return fd;
}

int listenTcp(const std::string& host, uint16_t port, uint16_t& bound_port,
              std::string_view component) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int gai =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (gai != 0) {
    throw std::runtime_error(
        fmt::format("{}: cannot resolve {}: {}", component, host, ::gai_strerror(gai)));
  }
  int last_error = EADDRNOTAVAIL;
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, kBacklog) == 0) break;
    last_error = errno;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) fail(fmt::format("{}: cannot listen on {}:{}", component, host, port), last_error);
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  bound_port = port;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    if (local.ss_family == AF_INET) {
      bound_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
      bound_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    }
  }
  return fd;
}

} // namespace ferry::input::forward
