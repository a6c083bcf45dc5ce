// The service endpoint (service.http): GET /health and GET /metrics on a small server of its
// own: one thread, one poll(2) loop over non-blocking sockets, one request per connection.
// Each connection has a deadline (kDeadline to send its request head, again to take the
// answer) and a head size cap; at kMaxConnections the oldest connection is closed to admit a
// new one, so idle or trickling clients never delay a health check. A dependency-free server
// is enough for a few GET routes scraped every few seconds, and it keeps the daemon's attack
// surface to the lines in this file.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ferry::obs {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; version=0.0.4";
  std::string body;
};

class StatusServer {
public:
  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxRequestHead = 8192;
  static constexpr std::chrono::milliseconds kDeadline{2000};

  using Handler = std::function<HttpReply(const std::string& path)>;
  StatusServer(std::string listen, Handler handler);
  ~StatusServer();
  // Binds (throws std::runtime_error naming the address on failure) and starts the thread.
  void start();
  void stop();
  int port() const { return port_; }

private:
  using Clock = std::chrono::steady_clock;
  struct Connection;
  static constexpr int kMaxAcceptsPerRound = 64;
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};

  void run();
  Clock::time_point acceptNew(std::vector<Connection>& conns, Clock::time_point now);
  void progress(Connection& c, Clock::time_point now);
  void route(Connection& c, Clock::time_point now);
  void answer(Connection& c, const HttpReply& reply, bool with_body, Clock::time_point now);

  std::string listen_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace ferry::obs
