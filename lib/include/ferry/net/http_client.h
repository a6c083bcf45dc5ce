// Asynchronous HTTP client over libcurl's multi interface: many requests in flight on one
// thread, keep-alive connection reuse, HTTP/2 multiplexing where the server offers it,
// proxies from HTTPS_PROXY/NO_PROXY (libcurl reads them), TLS verification always on.
// Not thread-safe except wakeup(): one client per runner thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ferry::net {

struct HttpRequest {
  uint64_t id = 0; // caller's token, returned with the response
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  const uint8_t* body = nullptr;    // OWNERSHIP: caller's; valid until the response arrives
  size_t body_len = 0;
  uint64_t timeout_ms = 30000;
};

struct HttpResponse {
  uint64_t id = 0;
  int status = 0; // 0 = transport failure (see error)
  std::vector<std::string> headers;
  std::string body;
  std::string error;
  uint64_t elapsed_us = 0;
};

class HttpClient {
public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void start(const HttpRequest& request);
  // Waits up to timeout_ms for progress (or a wakeup()), appends finished responses.
  void poll(int timeout_ms, std::vector<HttpResponse>& done);
  // Aborts every request in flight (they are reported in `done` with an error).
  void abortAll(std::vector<HttpResponse>& done);
  // Interrupts a poll() in progress. Thread-safe.
  void wakeup();
  size_t inFlight() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocking one-shot request (start-up and credential fetches, never the data path).
HttpResponse httpFetch(const HttpRequest& request);

} // namespace ferry::net
