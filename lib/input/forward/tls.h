// Server-side TLS for forward's TCP listeners (OpenSSL, non-blocking sessions). Honours:
// TLS 1.2 or later only; partial and moving-buffer writes so SSL_write can resume after
// SSL_ERROR_WANT_WRITE from a growing output buffer.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace ferry::input::forward {

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

class TlsContext {
public:
  // Loads the certificate chain and key (PEM). Throws std::runtime_error with OpenSSL's
  // reason when either cannot be used.
  TlsContext(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server session on a connected non-blocking socket; null on failure.
  SslPtr accept(int fd) const;

private:
  SSL_CTX* ctx_ = nullptr;
};

// Drains OpenSSL's thread-local error queue into one line.
std::string tlsErrorString();

} // namespace ferry::input::forward
