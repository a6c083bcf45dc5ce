// Listening sockets for the forward input: unix (mode set before listen, stale file from a
// crash replaced, anything that is not a socket left alone) and TCP (port 0 = any).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::input::forward {

// Non-blocking, close-on-exec listening socket at `path` with file mode `mode`. Throws
// std::runtime_error when the path is not a socket, is served by a live process, or cannot
// be bound.
int listenUnix(const std::string& path, uint32_t mode);

// Non-blocking, close-on-exec listening TCP socket; `bound_port` receives the actual port.
// Throws std::runtime_error, its message starting with `component`, when it cannot be bound
// (the tcp input shares this).
int listenTcp(const std::string& host, uint16_t port, uint16_t& bound_port,
              std::string_view component = "forward");

} // namespace ferry::input::forward
