// Test helpers for the forward input: frames built with msgpack-cxx (independent of the
// input's own msgpack code), gzip via zlib, and a blocking socket client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include <msgpack.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.h"

namespace ferry::input::forward::testing {

class Packer {
public:
  msgpack::packer<msgpack::sbuffer>& pk() { return pk_; }
  Packer& raw(std::string_view bytes) {
    buf_.write(bytes.data(), bytes.size());
    return *this;
  }
  std::string str() const { return {buf_.data(), buf_.size()}; }

private:
  msgpack::sbuffer buf_;
  msgpack::packer<msgpack::sbuffer> pk_{buf_};
};

enum class TimeFormat { kInt, kEventTime, kExt8, kFloat64, kFloat32 };

inline std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

inline std::string packTime(TimeFormat f, uint32_t sec, uint32_t nsec = 0) {
  Packer p;
  switch (f) {
  case TimeFormat::kInt:
    p.pk().pack_uint32(sec);
    break;
  case TimeFormat::kEventTime:
    p.pk().pack_ext(8, 0);
    p.pk().pack_ext_body((be32(sec) + be32(nsec)).data(), 8);
    break;
  case TimeFormat::kExt8:
    p.raw(std::string("\xc7\x08\x00", 3) + be32(sec) + be32(nsec));
    break;
  case TimeFormat::kFloat64:
    p.pk().pack_double(sec + nsec / 1e9);
    break;
  case TimeFormat::kFloat32:
    p.pk().pack_float(static_cast<float>(sec + nsec / 1e9));
    break;
  }
  return p.str();
}

inline std::string record(int i, std::string_view log = "") {
  return ferry::test::packMap(
      {{"log", log.empty() ? "line " + std::to_string(i) : std::string(log)},
       {"source", "stdout"},
       {"container_id", "c" + std::to_string(i)}});
}

struct Options {
  std::optional<std::string> chunk;
  std::optional<uint64_t> size;
  std::optional<std::string> compressed;
};

inline std::string packOptions(const Options& o) {
  Packer p;
  p.pk().pack_map(
      static_cast<uint32_t>(o.chunk.has_value() + o.size.has_value() + o.compressed.has_value()));
  if (o.chunk) p.pk().pack(std::string("chunk")).pack(*o.chunk);
  if (o.size) p.pk().pack(std::string("size")).pack(*o.size);
  if (o.compressed) p.pk().pack(std::string("compressed")).pack(*o.compressed);
  return p.str();
}

inline std::string messageFrame(std::string_view tag, const std::string& time,
                                const std::string& map,
                                const std::optional<Options>& options = std::nullopt) {
  Packer p;
  p.pk().pack_array(options ? 4 : 3);
  p.pk().pack(std::string(tag));
  p.raw(time).raw(map);
  if (options) p.raw(packOptions(*options));
  return p.str();
}

using Entries = std::vector<std::pair<std::string, std::string>>; // (time bytes, map bytes)

inline Entries makeEntries(int n, TimeFormat f = TimeFormat::kEventTime,
                           uint32_t base = 1700000000) {
  Entries e;
  for (int i = 0; i < n; ++i) {
    e.emplace_back(packTime(f, base + static_cast<uint32_t>(i), static_cast<uint32_t>(i) * 1000),
                   record(i));
  }
  return e;
}

inline std::string forwardFrame(std::string_view tag, const Entries& entries,
                                const std::optional<Options>& options = std::nullopt) {
  Packer p;
  p.pk().pack_array(options ? 3 : 2);
  p.pk().pack(std::string(tag));
  p.pk().pack_array(static_cast<uint32_t>(entries.size()));
  for (const auto& [t, m] : entries) {
    p.pk().pack_array(2);
    p.raw(t).raw(m);
  }
  if (options) p.raw(packOptions(*options));
  return p.str();
}

inline std::string packedEntries(const Entries& entries) {
  Packer p;
  for (const auto& [t, m] : entries) {
    p.pk().pack_array(2);
    p.raw(t).raw(m);
  }
  return p.str();
}

inline std::string packedFrame(std::string_view tag, std::string_view payload,
                               const std::optional<Options>& options = std::nullopt,
                               bool as_str = false) {
  Packer p;
  p.pk().pack_array(options ? 3 : 2);
  p.pk().pack(std::string(tag));
  if (as_str) {
    p.pk().pack_str(static_cast<uint32_t>(payload.size()));
    p.pk().pack_str_body(payload.data(), static_cast<uint32_t>(payload.size()));
  } else {
    p.pk().pack_bin(static_cast<uint32_t>(payload.size()));
    p.pk().pack_bin_body(payload.data(), static_cast<uint32_t>(payload.size()));
  }
  if (options) p.raw(packOptions(*options));
  return p.str();
}

// One gzip member (RFC 1952) of `data`, by zlib.
inline std::string gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  return out;
}

// ---- A blocking client -----------------------------------------------------------------

inline int connectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline int connectTcp(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads one msgpack value from fd within `timeout`; nullopt on timeout or end of stream.
class MsgpackReader {
public:
  explicit MsgpackReader(int fd) : fd_(fd) {}
  std::optional<msgpack::object_handle> next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      msgpack::object_handle oh;
      if (unpacker_.next(oh)) return oh;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      unpacker_.reserve_buffer(4096);
      const ssize_t n = ::recv(fd_, unpacker_.buffer(), 4096, 0);
      if (n <= 0) {
        closed_ = true;
        return std::nullopt;
      }
      unpacker_.buffer_consumed(static_cast<size_t>(n));
    }
  }
  bool closed() const { return closed_; }

private:
  int fd_;
  msgpack::unpacker unpacker_;
  bool closed_ = false;
};

// True when the server closed fd (end of stream or reset) within `timeout`.
inline bool waitClosed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
  return false;
}

// The "ack" value of an {"ack": chunk} response, or "" when it is not one.
inline std::string ackOf(const msgpack::object& o) {
  if (o.type != msgpack::type::MAP || o.via.map.size != 1) return "";
  const auto& kv = o.via.map.ptr[0];
  if (kv.key.as<std::string>() != "ack") return "";
  return kv.val.as<std::string>();
}

} // namespace ferry::input::forward::testing
