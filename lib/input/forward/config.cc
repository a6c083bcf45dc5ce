// The forward input's option table and its reading into ForwardInputConfig. Limits honoured:
// sun_path (108 bytes) for unix sockets, a 16-bit TCP port, file modes up to 07777.
#include <sys/un.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "ferry/config/config.h"
#include "ferry/input/forward.h"
#include "ferry/obs/redact.h"

namespace ferry::input {
namespace {

using config::OptionSpec;
using config::OptionType;

std::unexpected<std::string> bad(const std::string& key, const std::string& why) {
  return std::unexpected(fmt::format("{}: {}", key, why));
}

std::expected<uint32_t, std::string> parseMode(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::unexpected("expected an octal mode like 0660");
  uint32_t mode = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '7') return std::unexpected("expected an octal mode like 0660");
    mode = mode * 8 + static_cast<uint32_t>(ch - '0');
  }
  if (mode > 07777) return std::unexpected("mode above 07777");
  return mode;
}

} // namespace

std::expected<ForwardListenAddress, std::string> parseForwardListen(std::string_view text) {
  ForwardListenAddress a;
  a.text = std::string(text);
  constexpr std::string_view kUnix = "unix://";
  constexpr std::string_view kTcp = "tcp://";
  if (text.starts_with(kUnix)) {
    a.kind = ForwardListenAddress::Kind::kUnix;
    a.path = std::string(text.substr(kUnix.size()));
    if (a.path.empty() || a.path[0] != '/') {
      return std::unexpected("a unix socket needs an absolute path (unix:///run/x.sock)");
    }
    if (a.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return std::unexpected(
          fmt::format("socket path longer than {} bytes", sizeof(sockaddr_un{}.sun_path) - 1));
    }
    return a;
  }
  if (!text.starts_with(kTcp)) {
    return std::unexpected("expected unix:///path or tcp://host:port");
  }
  a.kind = ForwardListenAddress::Kind::kTcp;
  std::string_view rest = text.substr(kTcp.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view port;
  if (rest.starts_with('[')) { // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return std::unexpected("expected tcp://[address]:port");
    }
    a.host = std::string(rest.substr(1, close - 1));
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return std::unexpected("expected tcp://host:port");
    a.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return std::unexpected("the port must be a number from 0 to 65535");
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

const config::OptionTable& forwardInputOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "listen",
                 .type = OptionType::kStringList,
                 .required = true,
                 .doc = "Where to listen: unix:///path/to.sock and/or tcp://host:port (one "
                        "address or a list)."},
      OptionSpec{.name = "tag_prefix",
                 .type = OptionType::kString,
                 .default_value = "",
                 .doc = "Prepended to every tag the clients send."},
      OptionSpec{.name = "shared_key",
                 .type = OptionType::kString,
                 .secret = true,
                 .doc = "When set, TCP clients must pass the HELO/PING/PONG handshake with "
                        "this key (Forward protocol v1). Unix sockets are not checked."},
      OptionSpec{.name = "self_hostname",
                 .type = OptionType::kString,
                 .default_value = "",
                 .doc = "The hostname sent in PONG; default: this host's name."},
      OptionSpec{.name = "socket_mode",
                 .type = OptionType::kString,
                 .default_value = "0660",
                 .doc = "File mode (octal) of the unix sockets."},
      OptionSpec{.name = "tls_cert",
                 .type = OptionType::kString,
                 .doc = "PEM certificate (chain) file; with tls_key, TCP listeners speak TLS."},
      OptionSpec{.name = "tls_key",
                 .type = OptionType::kString,
                 .secret = true,
                 .doc = "PEM private key file for tls_cert."},
      OptionSpec{.name = "max_record_bytes",
                 .type = OptionType::kSize,
                 .default_value = "1MiB",
                 .min_value = 64,
                 .max_value = int64_t{64} * 1024 * 1024,
                 .doc = "Largest record (msgpack map bytes); larger ones follow "
                        "record_too_large and are counted."},
      OptionSpec{.name = "record_too_large",
                 .type = OptionType::kEnum,
                 .default_value = "drop",
                 .enum_values = {"drop", "truncate"},
                 .doc = "drop: drop an oversized record; truncate: cut its `log` field and "
                        "add \"ferry.truncated\": true (dropped when it has no `log` string)."},
      OptionSpec{.name = "buffer_max_size",
                 .type = OptionType::kSize,
                 .default_value = "6MiB",
                 .min_value = 1024,
                 .max_value = int64_t{1024} * 1024 * 1024,
                 .doc = "Largest frame (one forward message); a larger one closes the "
                        "connection."},
      OptionSpec{.name = "buffer_chunk_size",
                 .type = OptionType::kSize,
                 .default_value = "64KiB",
                 .min_value = 512,
                 .max_value = int64_t{16} * 1024 * 1024,
                 .doc = "Bytes read from a socket at a time (the rest of a large frame: up to 16 "
                        "times this)."},
      OptionSpec{.name = "max_connections",
                 .type = OptionType::kInt,
                 .default_value = "1024",
                 .min_value = 1,
                 .max_value = 1'000'000,
                 .doc = "Connections served at once; more are accepted and closed."},
      OptionSpec{.name = "idle_timeout",
                 .type = OptionType::kDuration,
                 .default_value = "60s",
                 .min_value = 1,
                 .max_value = int64_t{24} * 3600 * 1000,
                 .doc = "A client stalled this long in the middle of a frame (or of the "
                        "handshake) is disconnected; idle between frames is fine."},
  };
  return table;
}

std::expected<ForwardInputConfig, std::string> forwardSettings(const config::Section& s) {
  ForwardInputConfig c;
  if (!s.has("listen") || s.getList("listen").empty()) return bad("listen", "required");
  for (const auto& text : s.getList("listen")) {
    auto address = parseForwardListen(text);
    if (!address) return bad("listen", fmt::format("'{}': {}", text, address.error()));
    c.listen.push_back(std::move(*address));
  }
  if (s.has("tag_prefix")) c.tag_prefix = s.getString("tag_prefix");
  if (s.has("shared_key")) c.shared_key = s.getString("shared_key");
  if (s.has("self_hostname")) c.self_hostname = s.getString("self_hostname");
  if (s.has("socket_mode")) {
    auto mode = parseMode(s.getString("socket_mode"));
    if (!mode) return bad("socket_mode", mode.error());
    c.socket_mode = *mode;
  }
  if (s.has("tls_cert")) c.tls_cert = s.getString("tls_cert");
  if (s.has("tls_key")) c.tls_key = s.getString("tls_key");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return bad(c.tls_cert.empty() ? "tls_cert" : "tls_key", "tls_cert and tls_key go together");
  }
  const bool has_tcp = std::any_of(c.listen.begin(), c.listen.end(), [](const auto& a) {
    return a.kind == ForwardListenAddress::Kind::kTcp;
  });
  if (!c.shared_key.empty() && !has_tcp) {
    return bad("shared_key", "the handshake applies to TCP listeners and none is configured");
  }
  if (!c.tls_cert.empty() && !has_tcp) {
    return bad("tls_cert", "TLS applies to TCP listeners and none is configured");
  }
  auto size = [&](const char* key, size_t fallback) {
    return s.has(key) ? static_cast<size_t>(s.getInt(key)) : fallback;
  };
  c.max_record_bytes = size("max_record_bytes", c.max_record_bytes);
  c.buffer_max_size = size("buffer_max_size", c.buffer_max_size);
  c.buffer_chunk_size = size("buffer_chunk_size", c.buffer_chunk_size);
  c.max_connections = size("max_connections", c.max_connections);
  if (s.has("idle_timeout")) c.idle_timeout = std::chrono::milliseconds(s.getInt("idle_timeout"));
  if (s.has("record_too_large")) {
    const std::string& policy = s.getString("record_too_large");
    if (policy == "truncate") {
      c.record_too_large = forward::RecordTooLarge::kTruncate;
    } else if (policy == "drop") {
      c.record_too_large = forward::RecordTooLarge::kDrop;
    } else {
      return bad("record_too_large", "expected drop or truncate");
    }
  }
  return c;
}

ForwardInputConfig forwardConfigFromSection(const config::Section& s) {
  auto c = forwardSettings(s);
  if (!c) throw std::invalid_argument(config::sectionDiagnostic(s, c.error()).format());
  if (!c->shared_key.empty()) obs::addSecret(c->shared_key); // masked in every log line
  return std::move(*c);
}

InputPtr makeForwardInput(const config::Section& section) {
  return std::make_unique<ForwardInput>(forwardConfigFromSection(section));
}

} // namespace ferry::input
