// The forward input's single-threaded epoll loop: accepts, reads buffer_chunk_size at a time
// into each connection's decoder, pushes batches, and acks a chunk only after push() took it.
// Backpressure: while paused it stops reading (EPOLLIN off) without closing; push() may block.
// What one connection does when its socket is ready is in connection.cc.
#include "server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "connection.h"
#include "ferry/obs/log.h"
#include "handshake.h"
#include "listener.h"
#include "tls.h"

namespace ferry::input {
namespace {

using forward::Connection;
using forward::kComponent;
using State = forward::Connection::State;
using namespace std::chrono_literals;

constexpr uint64_t kWakeId = 0;
constexpr uint64_t kFirstConnectionId = uint64_t{1} << 20; // below: listener index + 1
constexpr int kMaxEvents = 128;
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr auto kPausedPoll = 20ms;   // how often paused() is re-checked while paused
constexpr auto kAcceptRetry = 100ms; // after EMFILE: stop watching listeners this long
constexpr auto kShutdownWriteBudget = 1s;

std::string localHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

int millisUntil(std::chrono::steady_clock::time_point t) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, 1000));
}

} // namespace

ForwardServer::ForwardServer(const ForwardInputConfig& config, InputContext& context)
    : config_(config), context_(context), next_id_(kFirstConnectionId),
      connections_gauge_(context.metrics().gauge("ferry_input_connections",
                                                 {{"input", context.name()}},
                                                 "Open connections of a forward input")) {
  self_hostname_ = config.self_hostname.empty() ? localHostName() : config.self_hostname;
  batcher_settings_.tag_prefix = config.tag_prefix;
  batcher_settings_.max_record_bytes = config.max_record_bytes;
  batcher_settings_.record_too_large = config.record_too_large;
  batcher_settings_.input_id = context.id();
  batcher_settings_.dropped = &errors("record_too_large");
  batcher_settings_.truncated =
      &context.metrics().counter("ferry_input_records_truncated_total", {{"input", context.name()}},
                                 "Records cut to max_record_bytes (record_too_large: truncate)");
  decoder_limits_.max_frame_bytes = config.buffer_max_size;
  decoder_limits_.max_decompressed_bytes = config.max_decompressed_bytes;

  if (!config.tls_cert.empty())
    tls_ = std::make_unique<forward::TlsContext>(config.tls_cert, config.tls_key);
  try {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      throw std::runtime_error(fmt::format("forward: epoll: {}", std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    for (const auto& address : config.listen) {
      Listener l;
      if (address.kind == ForwardListenAddress::Kind::kUnix) {
        l.fd = forward::listenUnix(address.path, config.socket_mode);
        l.unix_path = address.path;
      } else {
        uint16_t port = 0;
        l.fd = forward::listenTcp(address.host, address.port, port);
        l.tcp = true;
        if (tcp_port_ == 0) tcp_port_ = port;
      }
      listeners_.push_back(l);
      ev.events = EPOLLIN;
      ev.data.u64 = listeners_.size(); // index + 1
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &ev);
      FERRY_LOG_INFO(kComponent, "{}: listening on {}", context.name(),
                     l.tcp ? fmt::format("tcp port {}", tcp_port_) : address.text);
    }
  } catch (...) {
    closeListeners();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    throw;
  }
}

ForwardServer::~ForwardServer() {
  stop();
  join();
  closeListeners();
  while (!connections_.empty())
    closeConnection(*connections_.begin()->second);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ForwardServer::start() {
  thread_ = std::thread([this] { run(); });
}

void ForwardServer::stop() {
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  if (wake_fd_ >= 0) {
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  }
}

void ForwardServer::join() {
  if (thread_.joinable()) thread_.join();
}

obs::Counter& ForwardServer::errors(std::string_view reason) {
  auto it = error_counters_.find(std::string(reason));
  if (it != error_counters_.end()) return *it->second;
  obs::Counter& c = context_.metrics().counter(
      "ferry_input_errors_total", {{"input", context_.name()}, {"reason", std::string(reason)}},
      "Input failures by reason (each closed a connection or dropped a record)");
  error_counters_.emplace(std::string(reason), &c);
  return c;
}

// ---- The loop ----------------------------------------------------------------------------

void ForwardServer::run() {
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr);

  const auto idle_interval = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_timeout / 4), 10ms,
      1000ms);
  next_idle_check_ = Clock::now() + idle_interval;
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_acquire)) {
    int timeout = millisUntil(next_idle_check_);
    if (paused_) timeout = std::min<int>(timeout, kPausedPoll.count());
    if (accept_muted_) timeout = std::min(timeout, millisUntil(accept_retry_at_));
    if (!again_.empty() && !paused_) timeout = 0;
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) {
      FERRY_LOG_ERROR(kComponent, "{}: epoll_wait failed: {}", context_.name(),
                      std::strerror(errno));
      errors("epoll").add();
      std::this_thread::sleep_for(10ms);
      continue;
    }
    updatePaused();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kWakeId) {
        uint64_t count;
        [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
        continue;
      }
      if (id < kFirstConnectionId) {
        if (id - 1 < listeners_.size()) acceptAll(listeners_[id - 1]);
        continue;
      }
      auto it = connections_.find(id);
      if (it != connections_.end()) handleEvent(*it->second, events[i].events);
    }
    if (!again_.empty() && !paused_) {
      std::vector<uint64_t> ids;
      ids.swap(again_);
      for (uint64_t id : ids) {
        auto it = connections_.find(id);
        if (it == connections_.end()) continue;
        Connection& conn = *it->second;
        if (conn.state == State::kTlsHandshake || conn.state == State::kClosing) continue;
        if (readAndProcess(conn)) updateInterest(conn);
      }
    }
    if (accept_muted_ && Clock::now() >= accept_retry_at_) {
      accept_muted_ = false;
      for (size_t i = 0; i < listeners_.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i + 1;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i].fd, &ev);
      }
    }
    if (Clock::now() >= next_idle_check_) {
      checkIdle();
      next_idle_check_ = Clock::now() + idle_interval;
    }
  }
  shutdown();
}

void ForwardServer::shutdown() {
  closeListeners();
  // Every wakeup ends by pushing what it decoded; push what is left and send the acks due.
  std::vector<uint64_t> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, conn] : connections_)
    ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = connections_.find(id);
    if (it != connections_.end()) flushBatcher(*it->second);
  }
  // Give pending acks a moment to leave, then close everything.
  draining_ = true;
  const auto deadline = Clock::now() + kShutdownWriteBudget;
  epoll_event events[kMaxEvents];
  while (Clock::now() < deadline) {
    bool pending = false;
    for (auto& [id, conn] : connections_) {
      if (conn->pendingOut() > 0) pending = true;
      updateInterest(*conn);
    }
    if (!pending) break;
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, 10);
    for (int i = 0; i < n; ++i) {
      auto it = connections_.find(events[i].data.u64);
      if (it != connections_.end()) flushOut(*it->second);
    }
  }
  while (!connections_.empty())
    closeConnection(*connections_.begin()->second);
}

void ForwardServer::closeListeners() {
  for (auto& l : listeners_) {
    if (l.fd < 0) continue;
    if (epoll_fd_ >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
    ::close(l.fd);
    l.fd = -1;
    struct stat st {};
    if (!l.unix_path.empty() && ::lstat(l.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(l.unix_path.c_str());
    }
  }
}

void ForwardServer::updatePaused() {
  const bool paused = context_.paused();
  if (paused == paused_) return;
  paused_ = paused;
  if (!paused) {
    // Time spent paused was ours, not the clients': restart their idle clocks, and look at
    // TLS sessions again (they may hold decrypted bytes epoll does not report).
    const auto now = Clock::now();
    for (auto& [id, conn] : connections_) {
      conn->last_progress = now;
      if (conn->ssl) again_.push_back(id);
    }
  }
  for (auto& [id, conn] : connections_)
    updateInterest(*conn);
}

void ForwardServer::updateInterest(Connection& conn) {
  const bool reading = !paused_ && !draining_ && conn.state != State::kClosing;
  uint32_t want = reading ? static_cast<uint32_t>(EPOLLIN) : 0u;
  if (conn.pendingOut() > 0 || conn.tls_wants_write) want |= EPOLLOUT;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = conn.id;
  if (!conn.registered) {
    if (conn.parked && paused_ && !draining_) return; // its peer hung up while we were paused
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, conn.fd, &ev) == 0) {
      conn.registered = true;
      conn.parked = false;
    }
    conn.interest = want;
    return;
  }
  if (want == conn.interest) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd, &ev);
  conn.interest = want;
}

// epoll reports a hang-up whatever the interest mask says; while paused the connection is
// taken out of the set (not closed: its unread bytes are read once the pause ends).
void ForwardServer::park(Connection& conn) {
  if (!conn.registered) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
  conn.registered = false;
  conn.parked = true;
  conn.interest = 0;
}

void ForwardServer::checkIdle() {
  if (paused_) return;
  const auto now = Clock::now();
  std::vector<uint64_t> stale;
  for (const auto& [id, conn] : connections_) {
    const bool mid_frame = conn->decoder.buffered() > 0 || conn->state != State::kEstablished;
    if (mid_frame && now - conn->last_progress > config_.idle_timeout) stale.push_back(id);
  }
  for (uint64_t id : stale) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    failConnection(*it->second, "idle_timeout", "client stalled mid-frame past idle_timeout");
  }
}

// ---- Accepting -------------------------------------------------------------------------

void ForwardServer::acceptAll(Listener& listener) {
  for (int i = 0; i < kMaxAcceptsPerWakeup && listener.fd >= 0; ++i) {
    const int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      errors("accept_failed").add();
      FERRY_LOG_WARN(kComponent, "{}: accept failed: {}", context_.name(), std::strerror(errno));
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The pending connection stays queued and the listener stays readable: stop watching
        // listeners for a moment instead of spinning.
        for (const auto& l : listeners_) {
          if (l.fd >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
        }
        accept_muted_ = true;
        accept_retry_at_ = Clock::now() + kAcceptRetry;
      }
      return;
    }
    if (connections_.size() >= config_.max_connections) {
      errors("too_many_connections").add();
      ::close(fd);
      FERRY_LOG_WARN(kComponent, "{}: max_connections ({}) reached; refusing a connection",
                     context_.name(), config_.max_connections);
      continue;
    }
    if (listener.tcp) {
      const int one = 1; // acks are tiny and wanted at once
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    auto owned = std::make_unique<Connection>(
        next_id_++, fd, listener.tcp, decoder_limits_, batcher_settings_,
        [this](core::BatchRef batch) { return context_.push(std::move(batch)); });
    Connection& conn = *owned;
    conn.last_progress = Clock::now();
    connections_.emplace(conn.id, std::move(owned));
    connections_gauge_.add(1);
    if (listener.tcp && tls_) {
      conn.ssl = tls_->accept(fd);
      if (!conn.ssl) {
        failConnection(conn, "tls", "cannot create a TLS session: " + forward::tlsErrorString());
        continue;
      }
      conn.state = State::kTlsHandshake;
    } else if (!startProtocol(conn)) {
      continue;
    }
    updateInterest(conn);
    if (!conn.registered) closeConnection(conn);
  }
}

bool ForwardServer::startProtocol(Connection& conn) {
  if (!conn.tcp || config_.shared_key.empty()) {
    conn.state = State::kEstablished;
    return true;
  }
  conn.nonce = forward::makeNonce();
  if (conn.nonce.empty()) return failConnection(conn, "handshake", "no random bytes for a nonce");
  conn.state = State::kAwaitPing;
  queueWrite(conn, forward::makeHelo(conn.nonce));
  return flushOut(conn);
}

// ---- ForwardInput ------------------------------------------------------------------------

ForwardInput::ForwardInput(ForwardInputConfig config) : config_(std::move(config)) {}

ForwardInput::~ForwardInput() {
  stop();
  join();
}

void ForwardInput::start(InputContext& context) {
  server_ = std::make_unique<ForwardServer>(config_, context);
  server_->start();
}

void ForwardInput::stop() {
  if (server_) server_->stop();
}

void ForwardInput::join() {
  if (server_) server_->join();
}

uint16_t ForwardInput::tcpPort() const {
  return server_ ? server_->tcpPort() : 0;
}

} // namespace ferry::input
