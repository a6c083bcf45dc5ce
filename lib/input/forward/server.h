// The forward input's event loop: one thread, one epoll set for every listener and
// connection. Limits: max_connections, buffer_chunk_size per read, idle_timeout mid-frame.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ferry/input/forward.h"
#include "ferry/obs/metrics.h"

namespace ferry::input {

namespace forward {
class TlsContext;
struct Connection;
} // namespace forward

class ForwardServer {
public:
  // Binds every listener; throws std::runtime_error when one cannot be bound (the ones
  // already bound are released).
  ForwardServer(const ForwardInputConfig& config, InputContext& context);
  ~ForwardServer();
  ForwardServer(const ForwardServer&) = delete;
  ForwardServer& operator=(const ForwardServer&) = delete;

  void start();
  void stop();
  void join();
  uint16_t tcpPort() const { return tcp_port_; }

private:
  using Clock = std::chrono::steady_clock;
  using Connection = forward::Connection;
  struct Listener {
    int fd = -1;
    bool tcp = false;
    std::string unix_path; // removed on shutdown
  };
  enum class Io : uint8_t { kOk, kWouldBlock, kEof, kError };

  void run();
  void shutdown();
  void closeListeners();

  void acceptAll(Listener& listener);
  // Each returns false when it closed the connection (which is then gone).
  bool handleEvent(Connection& conn, uint32_t events);
  bool advanceTls(Connection& conn);
  bool startProtocol(Connection& conn);
  bool readAndProcess(Connection& conn);
  bool processBuffered(Connection& conn);
  bool flushBatcher(Connection& conn);
  bool sendAcks(Connection& conn);
  bool flushOut(Connection& conn);
  bool failConnection(Connection& conn, std::string_view reason, std::string_view detail);
  void closeConnection(Connection& conn);

  Io readSome(Connection& conn, char* buf, size_t n, size_t& got);
  Io writeSome(Connection& conn, const char* buf, size_t n, size_t& put);
  void queueWrite(Connection& conn, std::string_view bytes);
  void updateInterest(Connection& conn);
  void updatePaused();
  void park(Connection& conn);
  void checkIdle();
  obs::Counter& errors(std::string_view reason);

  const ForwardInputConfig& config_;
  InputContext& context_;
  std::string self_hostname_;
  forward::BatcherSettings batcher_settings_;
  forward::DecoderLimits decoder_limits_;
  std::unique_ptr<forward::TlsContext> tls_;
  std::vector<Listener> listeners_;
  uint16_t tcp_port_ = 0;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Loop-thread state.
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  uint64_t next_id_;
  bool paused_ = false;
  bool draining_ = false;     // shutting down: only pending writes are waited for
  bool accept_muted_ = false; // listeners out of the set after EMFILE, until accept_retry_at_
  Clock::time_point accept_retry_at_;
  std::vector<uint64_t> again_; // TLS sessions holding decrypted bytes epoll cannot see
  Clock::time_point next_idle_check_;
  forward::DecodedMessage message_;
  obs::Gauge& connections_gauge_;
  std::unordered_map<std::string, obs::Counter*> error_counters_;
};

} // namespace ferry::input
