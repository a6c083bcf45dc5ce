// One forward connection's state, shared by the loop (server.cc) and the per-connection
// steps that read, decode, ack and write (connection.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/input/forward_batcher.h"
#include "ferry/input/forward_decoder.h"
#include "tls.h"

namespace ferry::input::forward {

inline constexpr std::string_view kComponent = "forward"; // the log component

struct Connection {
  enum class State : uint8_t { kTlsHandshake, kAwaitPing, kEstablished, kClosing };

  Connection(uint64_t id_in, int fd_in, bool tcp_in, const DecoderLimits& limits,
             const BatcherSettings& settings, ForwardBatcher::PushFn push)
      : id(id_in), fd(fd_in), tcp(tcp_in), decoder(limits), batcher(settings, std::move(push)) {}

  uint64_t id;
  int fd;
  bool tcp;
  SslPtr ssl;
  State state = State::kEstablished;
  ForwardDecoder decoder;
  ForwardBatcher batcher;
  std::string out; // bytes to send (HELO, PONG, acks); [out_sent, size) still pending
  size_t out_sent = 0;
  uint32_t interest = 0;
  bool registered = false;      // in the epoll set
  bool parked = false;          // taken out of the set: hung up while paused
  bool tls_wants_write = false; // the last SSL call needs the socket writable
  bool close_when_flushed = false;
  std::chrono::steady_clock::time_point last_progress;
  std::string nonce;

  size_t pendingOut() const { return out.size() - out_sent; }
};

} // namespace ferry::input::forward
