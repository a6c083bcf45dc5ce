// Small HTTP/1.1 status server: one thread, one poll(2) loop over non-blocking sockets, one
// request per connection (request line parsed, answered, closed). Serving connections side by
// side is what keeps /health answering within ECS's health-check timeout while other clients
// are slow or idle: each connection only costs a slot and its own deadline.
#include "ferry/obs/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "ferry/obs/log.h"

namespace ferry::obs {
namespace {

const char* reasonPhrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

std::string formatReply(const HttpReply& reply, bool with_body) {
  std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                  "Connection: close\r\n\r\n",
                  reply.status, reasonPhrase(reply.status), reply.content_type, reply.body.size());
  if (with_body) out += reply.body;
  return out;
}

bool headComplete(const std::string& in) {
  return in.find("\r\n\r\n") != std::string::npos || in.find("\n\n") != std::string::npos;
}

} // namespace

struct StatusServer::Connection {
  int fd = -1;
  Clock::time_point opened;
  Clock::time_point deadline;
  std::string in;  // the request head as received so far
  std::string out; // the whole answer, once known
  size_t sent = 0; // bytes of `out` written
  bool writing = false;
  // Refused for its size: once the answer is out, read and discard until the client closes
  // (or the deadline), so that closing with unread bytes does not reset away the answer.
  bool draining = false;
};

StatusServer::StatusServer(std::string listen, Handler handler)
    : listen_(std::move(listen)), handler_(std::move(handler)) {}

StatusServer::~StatusServer() {
  stop();
}

void StatusServer::start() {
  std::string host = listen_, port = "2020";
  if (auto colon = listen_.rfind(':'); colon != std::string::npos) {
    host = listen_.substr(0, colon);
    port = listen_.substr(colon + 1);
  }
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error(fmt::format("service.http.listen {}: {}", listen_, gai_strerror(rc)));
  }
  int fd = -1;
  std::string err;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    throw std::runtime_error(fmt::format("service.http.listen {}: cannot bind: {}", listen_, err));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  listen_fd_ = fd;
  thread_ = std::thread([this] { run(); });
}

void StatusServer::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void StatusServer::run() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  Clock::time_point accept_paused_until{};
  while (!stop_.load()) {
    auto now = Clock::now();
    // Wake at least every 100 ms (stop), and at the nearest connection deadline.
    auto wake = now + std::chrono::milliseconds(100);
    for (const auto& c : conns)
      wake = std::min(wake, c.deadline);
    const bool accepting = now >= accept_paused_until;
    if (!accepting) wake = std::min(wake, accept_paused_until);
    fds.clear();
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    for (const auto& c : conns)
      fds.push_back({c.fd, static_cast<short>(c.writing && !c.draining ? POLLOUT : POLLIN), 0});
    const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait_ms))) < 0 &&
        errno != EINTR) {
      FERRY_LOG_ERROR("http", "poll failed: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    now = Clock::now();
    for (size_t i = 0; i < conns.size(); ++i) {
      if (fds[i + 1].revents != 0) progress(conns[i], now);
    }
    // Closed (fd < 0) and overdue connections go; a client slower than its deadline loses it.
    std::erase_if(conns, [&](Connection& c) {
      if (c.fd >= 0 && now >= c.deadline) {
        ::close(c.fd);
        c.fd = -1;
      }
      return c.fd < 0;
    });
    if (accepting && (fds[0].revents & POLLIN) != 0) {
      accept_paused_until = acceptNew(conns, now);
    }
  }
  for (auto& c : conns)
    ::close(c.fd);
}

// Accepts what is pending (bounded per round). Returns when accepting may resume: now, or a
// little later when the process is out of file descriptors (the pending connection stays in
// the backlog; polling the listener again at once would only spin).
StatusServer::Clock::time_point StatusServer::acceptNew(std::vector<Connection>& conns,
                                                        Clock::time_point now) {
  for (int n = 0; n < kMaxAcceptsPerRound; ++n) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        FERRY_LOG_WARN("http", "cannot accept a connection: {}; pausing accepts for {} ms",
                       std::strerror(errno), kAcceptBackoff.count());
        return now + kAcceptBackoff;
      }
      return now; // EAGAIN (drained), or the client already left (ECONNABORTED...)
    }
    if (conns.size() >= kMaxConnections) {
      // Full: the oldest connection makes room. A fresh health check is answered in one round,
      // so it always outlives the connection it displaces; a flood only churns itself.
      auto oldest = std::min_element(conns.begin(), conns.end(), [](const auto& a, const auto& b) {
        return a.opened < b.opened;
      });
      ::close(oldest->fd);
      conns.erase(oldest);
    }
    conns.push_back(Connection{.fd = fd, .opened = now, .deadline = now + kDeadline});
  }
  return now;
}

// Reads what arrived or writes what the socket takes; sets c.fd = -1 once the connection is
// done (answered, gone, or refused).
void StatusServer::progress(Connection& c, Clock::time_point now) {
  auto finish = [&c] {
    ::close(c.fd);
    c.fd = -1;
  };
  char buf[2048];
  if (c.draining) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) finish();
    return;
  }
  if (!c.writing) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) return finish();
    c.in.append(buf, static_cast<size_t>(n));
    if (!headComplete(c.in)) {
      if (c.in.size() <= kMaxRequestHead) return; // more may come before the deadline
      answer(c, {431, "text/plain", "request head too large\n"}, true, now);
    } else {
      route(c, now);
    }
  }
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) return finish();
    c.sent += static_cast<size_t>(n);
  }
  if (c.in.size() > kMaxRequestHead) {
    ::shutdown(c.fd, SHUT_WR);
    c.draining = true;
    return;
  }
  finish();
}

// A complete request head → its answer.
void StatusServer::route(Connection& c, Clock::time_point now) {
  const auto sp1 = c.in.find(' ');
  const auto sp2 = sp1 == std::string::npos ? sp1 : c.in.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp2 > c.in.find('\n')) {
    answer(c, {400, "text/plain", "bad request\n"}, true, now);
    return;
  }
  const std::string method = c.in.substr(0, sp1);
  std::string path = c.in.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  if (method != "GET" && method != "HEAD") {
    answer(c, {405, "text/plain", "method not allowed\n"}, true, now);
    return;
  }
  answer(c, handler_(path), method != "HEAD", now);
}

// The answer is known: the connection now only writes, with a fresh deadline for that.
void StatusServer::answer(Connection& c, const HttpReply& reply, bool with_body,
                          Clock::time_point now) {
  c.out = formatReply(reply, with_body);
  c.writing = true;
  c.deadline = now + kDeadline;
}

} // namespace ferry::obs
