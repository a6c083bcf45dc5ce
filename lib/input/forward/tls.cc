// OpenSSL server context for forward over TLS: certificate and key loaded once at start-up,
// one non-blocking SSL session per accepted TCP connection.
#include "tls.h"

#include <openssl/err.h>

#include <stdexcept>

namespace ferry::input::forward {

std::string tlsErrorString() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

TlsContext::TlsContext(const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr) throw std::runtime_error("TLS: " + tlsErrorString());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) != 1) {
    const std::string why = tlsErrorString();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("TLS: cannot load tls_cert " + cert_file + ": " + why);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    const std::string why = tlsErrorString();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("TLS: cannot use tls_key " + key_file + ": " + why);
  }
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

SslPtr TlsContext::accept(int fd) const {
  SslPtr ssl(SSL_new(ctx_));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return nullptr;
  SSL_set_accept_state(ssl.get());
  return ssl;
}

} // namespace ferry::input::forward
