// One forward connection's steps, called by the loop (server.cc) when its socket is ready:
// the TLS handshake, reads into the decoder, the PING/PONG handshake, batches pushed and
// their chunks acked, and the writes of what is queued for the client.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "connection.h"
#include "ferry/codec/msgpack_scan.h"
#include "ferry/obs/log.h"
#include "handshake.h"
#include "server.h"

namespace ferry::input {
namespace {

using forward::kComponent;
using State = forward::Connection::State;

constexpr int kMaxReadsPerWakeup = 16;         // fairness between busy connections
constexpr size_t kMaxPendingOut = 1024 * 1024; // acks a client leaves unread

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

// Packs the acks the batcher has ready into conn.out; false when there were none.
bool queueAcks(forward::Connection& conn) {
  auto& acks = conn.batcher.readyAcks();
  if (acks.empty()) return false;
  for (const auto& chunk : acks) {
    forward::packMapHeader(conn.out, 1);
    forward::packStr(conn.out, "ack");
    forward::packStr(conn.out, chunk);
  }
  acks.clear();
  return true;
}

} // namespace

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
  if (!queueAcks(conn)) return true;
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
  queueAcks(conn);
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

} // namespace ferry::input
