// The `forward` input: a Fluent Forward Protocol v1 server on unix sockets and TCP (optional
// TLS, optional shared_key handshake). Limits: buffer_max_size per frame, max_record_bytes per
// record, max_connections, idle_timeout for a client stalled mid-frame.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/config/options.h"
#include "ferry/input/forward_batcher.h"
#include "ferry/input/input.h"

namespace ferry::input {

struct ForwardListenAddress {
  enum class Kind : uint8_t { kUnix, kTcp };
  Kind kind = Kind::kTcp;
  std::string path;  // kUnix
  std::string host;  // kTcp; "" = every address
  uint16_t port = 0; // kTcp; 0 = a free port (tests)
  std::string text;  // as configured
};

// "unix:///var/run/fluent.sock", "tcp://127.0.0.1:24224", "tcp://[::1]:24224".
std::expected<ForwardListenAddress, std::string> parseForwardListen(std::string_view text);

struct ForwardInputConfig {
  std::vector<ForwardListenAddress> listen;
  std::string tag_prefix;
  std::string shared_key;    // empty: no handshake
  std::string self_hostname; // empty: gethostname()
  uint32_t socket_mode = 0660;
  std::string tls_cert; // PEM files; both set: TCP listeners speak TLS
  std::string tls_key;
  size_t max_record_bytes = 1024 * 1024;
  forward::RecordTooLarge record_too_large = forward::RecordTooLarge::kDrop;
  size_t buffer_max_size = 6 * 1024 * 1024;
  size_t buffer_chunk_size = 64 * 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  size_t max_decompressed_bytes = 64 * 1024 * 1024; // not an option: a gzip bomb guard
};

const config::OptionTable& forwardInputOptions();
// Reads a validated section, with nothing opened: the registry's settings check and the
// factory alike. An error names the key on a value the option types cannot check (a listen
// address, a socket mode, a lone tls_cert): "listen: 'udp://x': expected ...".
std::expected<ForwardInputConfig, std::string> forwardSettings(const config::Section& section);
// The same, throwing std::invalid_argument naming the file and line too; registers the
// shared_key as a secret masked in the log.
ForwardInputConfig forwardConfigFromSection(const config::Section& section);
InputPtr makeForwardInput(const config::Section& section);

class ForwardServer;

class ForwardInput final : public Input {
public:
  explicit ForwardInput(ForwardInputConfig config);
  ~ForwardInput() override;

  // Binds every listener (throws std::runtime_error when one cannot be bound) and starts the
  // event-loop thread.
  void start(InputContext& context) override;
  void stop() override;
  void join() override;

  // The port the first tcp:// listener is bound to, after start() (tests bind port 0).
  uint16_t tcpPort() const;

private:
  ForwardInputConfig config_;
  std::unique_ptr<ForwardServer> server_;
};

} // namespace ferry::input
