// The service endpoint (service.http): GET /health and GET /metrics on a small blocking
// server of its own (one thread, poll(2), one request per connection, bounded request size).
// A dependency-free server is enough for two GET routes scraped every few seconds, and it
// keeps the daemon's attack surface to the lines in this file.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace ferry::obs {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; version=0.0.4";
  std::string body;
};

class StatusServer {
public:
  using Handler = std::function<HttpReply(const std::string& path)>;
  StatusServer(std::string listen, Handler handler);
  ~StatusServer();
  // Binds (throws std::runtime_error naming the address on failure) and starts the thread.
  void start();
  void stop();
  int port() const { return port_; }

private:
  void run();
  void serve(int fd);

  std::string listen_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace ferry::obs
