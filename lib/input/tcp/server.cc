// The tcp input's loop: one thread, poll(2) over the listener, an eventfd for stop() and the
// connections. Reads chunk_size at a time into each connection's decoder; the records of one
// round share a batch, pushed at the end of the round (or at the batch target). While an
// output it feeds is over budget it stops reading (the clients' sends block in the kernel).
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../forward/listener.h"
#include "ferry/input/tcp.h"
#include "ferry/obs/log.h"

namespace ferry::input {
namespace {

constexpr std::string_view kComponent = "tcp";
constexpr int kPollMs = 100;
constexpr int kPausedPollMs = 20;
constexpr int kMaxAcceptsPerRound = 64;

int64_t realtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

struct TcpInput::Loop {
  struct Connection {
    int fd;
    tcp::TcpDecoder decoder;
  };

  Loop(const TcpInputConfig& c, InputContext& ctx, int listen_fd, int wake_fd)
      : config(c), context(ctx), listen_fd(listen_fd), wake_fd(wake_fd),
        malformed(errors("malformed")), too_large(errors("too_large")),
        refused(errors("max_connections")),
        connections_gauge(ctx.metrics().gauge("ferry_input_connections", {{"input", ctx.name()}},
                                              "Open connections of a forward or tcp input")) {}

  ~Loop() {
    for (auto& conn : conns)
      ::close(conn.fd);
    ::close(listen_fd);
    ::close(wake_fd);
  }

  obs::Counter& errors(const char* reason) {
    return context.metrics().counter(
        "ferry_input_errors_total", {{"input", context.name()}, {"reason", reason}},
        "Input failures by reason (each closed a connection or dropped a record)");
  }

  core::Batch& current() {
    if (!batch) {
      batch =
          core::Batch::create(config.tag,
                              config.format == tcp::Format::kJson ? core::RecordFormat::kMsgpackMap
                                                                  : core::RecordFormat::kLine,
                              config.chunk_size + 4096, 64);
      batch->setInputId(context.id());
    }
    return *batch;
  }

  void pushBatch() {
    if (batch && !batch->empty()) context.push(std::move(batch));
    batch = core::BatchRef();
  }

  // Decodes into the current batch and counts what the decoder skipped.
  bool feed(Connection& conn, std::string_view bytes, bool eof) {
    const uint64_t before = conn.decoder.malformed();
    const int64_t now = realtimeNs();
    bool ok = true;
    if (eof)
      conn.decoder.finish(current(), now);
    else
      ok = conn.decoder.feed(bytes, current(), now);
    if (const uint64_t skipped = conn.decoder.malformed() - before) {
      malformed.add(skipped);
      FERRY_LOG_WARN(kComponent, "{}: invalid JSON message, skipped", context.name());
    }
    if (current().size() >= core::Batch::kTargetRecords ||
        current().buffer().size() >= core::Batch::kTargetBytes) {
      pushBatch();
    }
    return ok;
  }

  void acceptSome() {
    for (int i = 0; i < kMaxAcceptsPerRound; ++i) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          FERRY_LOG_WARN(kComponent, "{}: accept: {}", context.name(), std::strerror(errno));
        }
        return;
      }
      if (conns.size() >= config.max_connections) {
        refused.add();
        ::close(fd);
        continue;
      }
      conns.push_back({fd, tcp::TcpDecoder(config.format, config.separator, config.buffer_size)});
    }
  }

  // False when the connection is done (closed by the client, an error, an overflow).
  bool readSome(Connection& conn) {
    read_buf.resize(config.chunk_size);
    const ssize_t n = ::recv(conn.fd, read_buf.data(), read_buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      feed(conn, {}, true);
      return false;
    }
    if (n == 0) {
      feed(conn, {}, true);
      return false;
    }
    if (!feed(conn, std::string_view(read_buf.data(), static_cast<size_t>(n)), false)) {
      too_large.add();
      FERRY_LOG_WARN(kComponent, "{}: a record exceeds buffer_size ({} bytes): connection closed",
                     context.name(), config.buffer_size);
      return false;
    }
    return true;
  }

  void run(const std::atomic<bool>& stopping) {
    std::vector<pollfd> fds;
    while (!stopping.load(std::memory_order_acquire)) {
      const bool paused = context.paused();
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      fds.push_back({listen_fd, static_cast<short>(paused ? 0 : POLLIN), 0});
      for (const auto& conn : conns)
        fds.push_back({conn.fd, static_cast<short>(paused ? 0 : POLLIN), 0});
      const int rc = ::poll(fds.data(), fds.size(), paused ? kPausedPollMs : kPollMs);
      if (rc < 0 && errno != EINTR) {
        FERRY_LOG_ERROR(kComponent, "{}: poll: {}", context.name(), std::strerror(errno));
        break;
      }
      if (rc <= 0 || paused) continue;
      // Connections first (their pollfd indices are stable until the accepts below).
      std::vector<Connection> open;
      open.reserve(conns.size());
      for (size_t i = 0; i < conns.size(); ++i) {
        const short ev = fds[i + 2].revents;
        if (ev == 0 || readSome(conns[i])) {
          open.push_back(std::move(conns[i]));
        } else {
          ::close(conns[i].fd);
        }
      }
      conns = std::move(open);
      if (fds[1].revents & POLLIN) acceptSome();
      pushBatch();
      connections_gauge.set(static_cast<int64_t>(conns.size()));
    }
    // Stopping: what the connections completed is pushed; a last line without separator too.
    for (auto& conn : conns) {
      feed(conn, {}, true);
      ::close(conn.fd);
    }
    conns.clear();
    connections_gauge.set(0);
    pushBatch();
  }

  const TcpInputConfig& config;
  InputContext& context;
  int listen_fd;
  int wake_fd;
  obs::Counter& malformed;
  obs::Counter& too_large;
  obs::Counter& refused;
  obs::Gauge& connections_gauge;
  std::vector<Connection> conns;
  std::vector<char> read_buf;
  core::BatchRef batch;
  std::thread thread;
  std::atomic<bool> stopping{false};
};

TcpInput::TcpInput(TcpInputConfig config) : config_(std::move(config)) {}

TcpInput::~TcpInput() {
  stop();
  join();
}

void TcpInput::start(InputContext& context) {
  const int listen_fd = forward::listenTcp(config_.host, config_.port, port_, kComponent);
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ::close(listen_fd);
    throw std::runtime_error(fmt::format("tcp: eventfd: {}", std::strerror(errno)));
  }
  loop_ = std::make_unique<Loop>(config_, context, listen_fd, wake_fd);
  FERRY_LOG_INFO(kComponent, "{}: listening on {}:{}", context.name(), config_.host, port_);
  loop_->thread = std::thread([loop = loop_.get()] { loop->run(loop->stopping); });
}

void TcpInput::stop() {
  if (!loop_) return;
  loop_->stopping.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(loop_->wake_fd, &one, sizeof(one));
}

void TcpInput::join() {
  if (loop_ && loop_->thread.joinable()) loop_->thread.join();
}

} // namespace ferry::input
