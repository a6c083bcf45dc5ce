// The forward input's single-threaded epoll loop: accepts, reads buffer_chunk_size at a time
// into each connection's decoder, pushes batches, and acks a chunk only after push() took it.
// Backpressure: while paused it stops reading (EPOLLIN off) without closing; push() may block.
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
#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "ferry/codec/msgpack_scan.h"
#include "ferry/obs/log.h"
#include "handshake.h"
#include "listener.h"
#include "tls.h"

namespace ferry::input {
namespace forward {

struct Connection {
  enum class State : uint8_t { kTlsHandshake, kAwaitPing, kEstablished, kClosing };

  Connection(uint64_t id_in, int fd_in, bool tcp_in, const DecoderLimits& limits,
             const BatcherSettings& settings, ForwardBatcher::PushFn push)
      : id(id_in), fd(fd_in), tcp(tcp_in), decoder(limits), batcher(settings, std::move(push)) {}

  uint64_t id;
  int fd;
  bool tcp;
  SslPtr ssl;
  State state = State::kEstablished;
  ForwardDecoder decoder;
  ForwardBatcher batcher;
  std::string out; // bytes to send (HELO, PONG, acks); [out_sent, size) still pending
  size_t out_sent = 0;
  uint32_t interest = 0;
  bool registered = false;      // in the epoll set
  bool parked = false;          // taken out of the set: hung up while paused
  bool tls_wants_write = false; // the last SSL call needs the socket writable
  bool close_when_flushed = false;
  std::chrono::steady_clock::time_point last_progress;
  std::string nonce;

  size_t pendingOut() const { return out.size() - out_sent; }
};

} // namespace forward

namespace {

using forward::Connection;
using State = forward::Connection::State;
using namespace std::chrono_literals;

constexpr uint64_t kWakeId = 0;
constexpr uint64_t kFirstConnectionId = uint64_t{1} << 20; // below: listener index + 1
constexpr int kMaxEvents = 128;
constexpr int kMaxReadsPerWakeup = 16; // fairness between busy connections
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr auto kPausedPoll = 20ms;   // how often paused() is re-checked while paused
constexpr auto kAcceptRetry = 100ms; // after EMFILE: stop watching listeners this long
constexpr auto kShutdownWriteBudget = 1s;
constexpr size_t kMaxPendingOut = 1024 * 1024; // acks a client leaves unread
constexpr std::string_view kComponent = "forward";

std::string localHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// SIGPIPE is blocked on the loop thread (OpenSSL writes with write(2), not MSG_NOSIGNAL); a
// broken pipe leaves it pending, and this takes it back so it is never delivered later.
void discardPendingSigpipe() {
  sigset_t pending;
  if (sigpending(&pending) != 0 || sigismember(&pending, SIGPIPE) != 1) return;
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, SIGPIPE);
  timespec zero{};
  sigtimedwait(&only, nullptr, &zero);
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

// ---- One connection ----------------------------------------------------------------------

bool ForwardServer::handleEvent(Connection& conn, uint32_t events) {
  if ((events & (EPOLLHUP | EPOLLERR)) && paused_) {
    park(conn);
    return true;
  }
  if (conn.state == State::kTlsHandshake && !advanceTls(conn)) return false;
  if (conn.state != State::kTlsHandshake) {
    if (((events & EPOLLOUT) || conn.ssl) && !flushOut(conn)) return false;
    if (!paused_ && conn.state != State::kClosing && !readAndProcess(conn)) return false;
  }
  updateInterest(conn);
  return true;
}

bool ForwardServer::advanceTls(Connection& conn) {
  ERR_clear_error();
  const int rc = SSL_do_handshake(conn.ssl.get());
  if (rc == 1) {
    conn.tls_wants_write = false;
    conn.last_progress = Clock::now();
    return startProtocol(conn);
  }
  switch (SSL_get_error(conn.ssl.get(), rc)) {
  case SSL_ERROR_WANT_READ:
    conn.tls_wants_write = false;
    return true;
  case SSL_ERROR_WANT_WRITE:
    conn.tls_wants_write = true;
    return true;
  default:
    discardPendingSigpipe();
    return failConnection(conn, "tls", "TLS handshake failed: " + forward::tlsErrorString());
  }
}

bool ForwardServer::readAndProcess(Connection& conn) {
  const size_t chunk = config_.buffer_chunk_size;
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    if (context_.paused()) break; // the loop turns EPOLLIN off on its next turn
    // A large frame in progress is read to its end in one call (up to 16 chunks: what a frame
    // claims is only allocated, untouched, until its bytes come), not chunk by chunk.
    const size_t want =
        std::clamp(conn.decoder.buffered() ? conn.decoder.wanted() : 0, chunk, 16 * chunk);
    char* buf = conn.decoder.prepare(want);
    size_t got = 0;
    const Io io = readSome(conn, buf, want, got);
    if (io == Io::kOk) {
      conn.decoder.commit(got);
      conn.last_progress = Clock::now();
      if (!processBuffered(conn)) return false;
      if (conn.state == State::kClosing) break;
      if (!conn.ssl && got < want) break; // drained the socket
      continue;
    }
    if (io == Io::kWouldBlock) break;
    // End of stream or a dead socket: keep what was decoded, then close.
    if (!flushBatcher(conn)) return false;
    if (conn.decoder.buffered() > 0) {
      errors("incomplete_frame").add();
      FERRY_LOG_WARN(kComponent, "{}: a client closed its connection mid-frame", context_.name());
    } else if (io == Io::kError) {
      errors("read_error").add();
      FERRY_LOG_WARN(kComponent, "{}: a connection failed while reading", context_.name());
    }
    closeConnection(conn);
    return false;
  }
  if (!flushBatcher(conn)) return false;
  conn.decoder.trim(4 * chunk);
  if (conn.ssl && SSL_pending(conn.ssl.get()) > 0) again_.push_back(conn.id);
  return true;
}

bool ForwardServer::processBuffered(Connection& conn) {
  while (true) {
    if (conn.state == State::kClosing) return true; // refused: the rest is not read
    if (conn.state == State::kAwaitPing) {
      auto value = conn.decoder.nextValue();
      if (!value) {
        return failConnection(conn, forward::decodeErrorReason(value.error().error),
                              value.error().detail);
      }
      if (!*value) return true;
      auto verdict = forward::checkPing(**value, conn.nonce, config_.shared_key, self_hostname_);
      queueWrite(conn, verdict.pong);
      if (!verdict.authenticated) {
        errors("auth_failed").add();
        FERRY_LOG_WARN(kComponent, "{}: handshake refused: {}", context_.name(), verdict.reason);
        conn.state = State::kClosing;
        conn.close_when_flushed = true;
        return flushOut(conn);
      }
      conn.state = State::kEstablished;
      continue;
    }
    auto status = conn.decoder.next(message_);
    if (!status) {
      return failConnection(conn, forward::decodeErrorReason(status.error().error),
                            status.error().detail);
    }
    if (*status == forward::ForwardDecoder::Status::kNeedMore) return true;
    if (!conn.batcher.add(message_, &conn.decoder))
      return true; // stopping: push() refuses everything now
    if (!conn.batcher.readyAcks().empty() && !sendAcks(conn)) return false;
  }
}

bool ForwardServer::flushBatcher(Connection& conn) {
  conn.batcher.flush();
  return sendAcks(conn);
}

bool ForwardServer::sendAcks(Connection& conn) {
  auto& acks = conn.batcher.readyAcks();
  if (acks.empty()) return true;
  for (const auto& chunk : acks) {
    forward::packMapHeader(conn.out, 1);
    forward::packStr(conn.out, "ack");
    forward::packStr(conn.out, chunk);
  }
  acks.clear();
  if (!flushOut(conn)) return false;
  if (conn.pendingOut() > kMaxPendingOut) {
    return failConnection(conn, "ack_backlog", "a client does not read its acks");
  }
  return true;
}

void ForwardServer::queueWrite(Connection& conn, std::string_view bytes) {
  conn.out.append(bytes);
}

bool ForwardServer::flushOut(Connection& conn) {
  while (conn.pendingOut() > 0) {
    size_t put = 0;
    const Io io = writeSome(conn, conn.out.data() + conn.out_sent, conn.pendingOut(), put);
    if (io == Io::kOk) {
      conn.out_sent += put;
      continue;
    }
    if (io == Io::kWouldBlock) break;
    errors("write_error").add(); // the client went away before reading its acks
    closeConnection(conn);
    return false;
  }
  if (conn.pendingOut() == 0) {
    conn.out.clear();
    conn.out_sent = 0;
    if (conn.close_when_flushed) {
      closeConnection(conn);
      return false;
    }
  } else if (conn.out_sent >= 64 * 1024) {
    conn.out.erase(0, conn.out_sent);
    conn.out_sent = 0;
  }
  return true;
}

bool ForwardServer::failConnection(Connection& conn, std::string_view reason,
                                   std::string_view detail) {
  errors(reason).add();
  FERRY_LOG_WARN(kComponent, "{}: closing a {} connection ({}): {}", context_.name(),
                 conn.tcp ? "tcp" : "unix", reason, detail);
  // What was decoded before the fault is good: push it and try to ack it once.
  conn.batcher.flush();
  auto& acks = conn.batcher.readyAcks();
  for (const auto& chunk : acks) {
    forward::packMapHeader(conn.out, 1);
    forward::packStr(conn.out, "ack");
    forward::packStr(conn.out, chunk);
  }
  acks.clear();
  while (conn.state != State::kTlsHandshake && conn.pendingOut() > 0) {
    size_t put = 0;
    if (writeSome(conn, conn.out.data() + conn.out_sent, conn.pendingOut(), put) != Io::kOk) {
      break;
    }
    conn.out_sent += put;
  }
  closeConnection(conn);
  return false;
}

void ForwardServer::closeConnection(Connection& conn) {
  if (conn.registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn.fd, nullptr);
  conn.ssl.reset();
  ::close(conn.fd);
  connections_gauge_.add(-1);
  connections_.erase(conn.id); // destroys conn
}

ForwardServer::Io ForwardServer::readSome(Connection& conn, char* buf, size_t n, size_t& got) {
  if (conn.ssl) {
    ERR_clear_error();
    const int rc = SSL_read(conn.ssl.get(), buf, static_cast<int>(std::min<size_t>(n, INT_MAX)));
    if (rc > 0) {
      got = static_cast<size_t>(rc);
      return Io::kOk;
    }
    switch (SSL_get_error(conn.ssl.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWouldBlock;
    case SSL_ERROR_WANT_WRITE:
      conn.tls_wants_write = true;
      return Io::kWouldBlock;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEof;
    case SSL_ERROR_SYSCALL:
      return rc == 0 ? Io::kEof : Io::kError;
    default:
      return Io::kError;
    }
  }
  while (true) {
    const ssize_t rc = ::recv(conn.fd, buf, n, 0);
    if (rc > 0) {
      got = static_cast<size_t>(rc);
      return Io::kOk;
    }
    if (rc == 0) return Io::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
    return Io::kError;
  }
}

ForwardServer::Io ForwardServer::writeSome(Connection& conn, const char* buf, size_t n,
                                           size_t& put) {
  if (conn.ssl) {
    ERR_clear_error();
    const int rc = SSL_write(conn.ssl.get(), buf, static_cast<int>(std::min<size_t>(n, INT_MAX)));
    if (rc > 0) {
      put = static_cast<size_t>(rc);
      conn.tls_wants_write = false;
      return Io::kOk;
    }
    switch (SSL_get_error(conn.ssl.get(), rc)) {
    case SSL_ERROR_WANT_WRITE:
      conn.tls_wants_write = true;
      return Io::kWouldBlock;
    case SSL_ERROR_WANT_READ:
      return Io::kWouldBlock;
    default:
      discardPendingSigpipe();
      return Io::kError;
    }
  }
  while (true) {
    const ssize_t rc = ::send(conn.fd, buf, n, MSG_NOSIGNAL);
    if (rc > 0) {
      put = static_cast<size_t>(rc);
      return Io::kOk;
    }
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
    return Io::kError;
  }
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
