// Load generator for the forward → null scenario of bench/e2e/run.sh: reads the reference
// data set (one JSON line per record) and sends it over one TCP connection as Fluent forward
// PackedForward frames of --batch records (FireLens-shaped maps: log, source, container_id,
// container_name, with an EventTime), encoding each frame just before it is written, as fast
// as the socket takes them. With --ack every frame carries a `chunk` option and at most
// --window frames wait for their {"ack": chunk}. With --metrics-port it then polls ferry's /metrics
// until the outputs report --expect records sent, so the time covers the whole pipeline, not just
// the socket. With --discard it sends to a reader of its own that discards the bytes: the loopback
// ceiling. Prints one JSON line: records, frames, wire_bytes, send_seconds, total_seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <msgpack.hpp>

#include "loopback.h"

namespace {

struct Options {
  std::string file;
  std::string host = "127.0.0.1";
  int port = 0;
  size_t batch = 1000;
  bool ack = false;
  size_t window = 32;
  int metrics_port = 0;
  uint64_t expect = 0;
  uint64_t limit = 0; // 0 = every line of the file
  double timeout_s = 120;
  bool discard = false; // send to a reader in this process that throws the bytes away
};

// The first record's time (then one second per 2,000 records): 2024-05-01, or with --now the
// start of the run (for sinks that refuse old events, e.g. CloudWatch Logs: over 14 days).
uint32_t g_base_seconds = 1714564800;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "forward_load: %s\n", what.c_str());
  std::exit(2);
}

Options parseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    if (k == "--ack") {
      o.ack = true;
      continue;
    }
    if (k == "--now") {
      g_base_seconds = static_cast<uint32_t>(std::time(nullptr));
      continue;
    }
    if (k == "--discard") {
      o.discard = true;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + std::string(k));
    const char* v = argv[++i];
    if (k == "--file")
      o.file = v;
    else if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = std::atoi(v);
    else if (k == "--batch")
      o.batch = std::strtoull(v, nullptr, 10);
    else if (k == "--window")
      o.window = std::strtoull(v, nullptr, 10);
    else if (k == "--metrics-port")
      o.metrics_port = std::atoi(v);
    else if (k == "--expect")
      o.expect = std::strtoull(v, nullptr, 10);
    else if (k == "--limit")
      o.limit = std::strtoull(v, nullptr, 10);
    else if (k == "--timeout")
      o.timeout_s = std::atof(v);
    else
      die("unknown option " + std::string(k));
  }
  if (o.file.empty() || (o.port <= 0 && !o.discard) || o.batch == 0 || o.window == 0) {
    die("usage: forward_load --file F (--port P | --discard) [--batch 1000] [--ack] [--window 32] "
        "[--metrics-port M --expect N] [--limit N] [--timeout S] [--now]");
  }
  return o;
}

// The data set's lines, encoded frame by frame as they are sent: a client produces its records
// as it goes, so the bytes it writes are hot in its cache. (Pre-encoding the whole data set
// into one large buffer made the generator the bottleneck: on this kind of VM the kernel
// copies from a cold, 700 MB buffer at a third of the speed it copies a recent one.)
class FrameSource {
public:
  explicit FrameSource(const Options& o) : o_(o) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) die("cannot read " + o.file);
    in.seekg(0, std::ios::end);
    text_.resize(static_cast<size_t>(in.tellg()));
    in.seekg(0);
    in.read(text_.data(), static_cast<std::streamsize>(text_.size()));
    if (!in) die("cannot read " + o.file);
  }

  // Encodes the next frame of up to --batch records into `frame`; false when none is left.
  // The entries are packed in place behind a bin32 header whose length is filled in after.
  bool next(msgpack::sbuffer& frame) {
    frame.clear();
    msgpack::packer<msgpack::sbuffer> pk(frame);
    pk.pack_array(3);
    pk.pack(std::string_view("bench"));
    const size_t bin_header = frame.size();
    static constexpr char kBin32[5] = {static_cast<char>(0xc6), 0, 0, 0, 0};
    frame.write(kBin32, sizeof kBin32);
    size_t in_batch = 0;
    while (in_batch < o_.batch && pos_ < text_.size() && (o_.limit == 0 || records_ < o_.limit)) {
      size_t end = text_.find('\n', pos_);
      if (end == std::string::npos) end = text_.size();
      const std::string_view line(text_.data() + pos_, end - pos_);
      pos_ = end + 1;
      if (line.empty()) continue;
      packRecord(pk, line);
      ++records_;
      ++in_batch;
    }
    if (in_batch == 0) return false;
    const uint32_t length = htonl(static_cast<uint32_t>(frame.size() - bin_header - 5));
    std::memcpy(frame.data() + bin_header + 1, &length, 4);
    pk.pack_map(o_.ack ? 2 : 1);
    pk.pack(std::string_view("size"));
    pk.pack(static_cast<uint64_t>(in_batch));
    if (o_.ack) {
      char id[32];
      const int n =
          std::snprintf(id, sizeof id, "bench-%016llx", static_cast<unsigned long long>(frames_));
      pk.pack(std::string_view("chunk"));
      pk.pack(std::string_view(id, static_cast<size_t>(n)));
    }
    ++frames_;
    wire_bytes_ += frame.size();
    return true;
  }

  uint64_t records() const { return records_; }
  uint64_t frames() const { return frames_; }
  uint64_t wireBytes() const { return wire_bytes_; }

private:
  // A FireLens-shaped record: [EventTime, {log, source, container_id, container_name}].
  void packRecord(msgpack::packer<msgpack::sbuffer>& pk, std::string_view line) const {
    // EventTime: ext type 0, big-endian seconds then nanoseconds.
    const uint32_t sec = htonl(g_base_seconds + static_cast<uint32_t>(records_ / 2000));
    const uint32_t nsec = htonl(static_cast<uint32_t>((records_ * 7919) % 1000000000));
    char time[8];
    std::memcpy(time, &sec, 4);
    std::memcpy(time + 4, &nsec, 4);
    pk.pack_array(2);
    pk.pack_ext(8, 0);
    pk.pack_ext_body(time, 8);
    pk.pack_map(4);
    pk.pack(std::string_view("log"));
    pk.pack(line);
    pk.pack(std::string_view("source"));
    pk.pack(std::string_view("stdout"));
    pk.pack(std::string_view("container_id"));
    pk.pack(std::string_view("9f2c4e1d7a6b5c3e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"));
    pk.pack(std::string_view("container_name"));
    pk.pack(std::string_view("/ecs-bench-app-1"));
  }

  const Options& o_;
  std::string text_;
  size_t pos_ = 0;
  uint64_t records_ = 0;
  uint64_t frames_ = 0;
  uint64_t wire_bytes_ = 0;
};

int connectTo(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("bad host " + host);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die(std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Sum of ferry_output_records_total{...result="sent"} from /metrics; -1 when unreachable.
int64_t recordsSent(int port) {
  const int fd = connectTo("127.0.0.1", port);
  if (fd < 0) return -1;
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  writeAll(fd, req.data(), req.size());
  std::string body;
  char buf[16384];
  for (ssize_t r; (r = ::read(fd, buf, sizeof buf)) > 0;)
    body.append(buf, static_cast<size_t>(r));
  ::close(fd);
  int64_t total = 0;
  size_t at = 0;
  while ((at = body.find("\nferry_output_records_total{", at)) != std::string::npos) {
    ++at;
    const size_t eol = body.find('\n', at);
    const std::string_view line(body.data() + at,
                                (eol == std::string::npos ? body.size() : eol) - at);
    if (line.find("result=\"sent\"") == std::string_view::npos) continue;
    const size_t space = line.rfind(' ');
    total += std::strtoll(std::string(line.substr(space + 1)).c_str(), nullptr, 10);
  }
  return total;
}

} // namespace

// --discard: a reader in this process that drains one connection and throws the bytes away,
// so the same sends measure what loopback TCP itself carries on this machine (the ceiling any
// receiver can reach). Returns the listening socket's port; `done` is set at end of stream.
int startDiscardReader(std::thread& reader, std::atomic<bool>& done) {
  uint16_t port = 0;
  const int lfd = bench::listenLoopback(1, port);
  if (lfd < 0) die("cannot listen for --discard");
  reader = std::thread([lfd, &done] {
    const int fd = ::accept(lfd, nullptr, nullptr);
    ::close(lfd);
    if (fd < 0) die("accept failed");
    std::vector<char> buf(1 << 20);
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
    done.store(true);
    done.notify_one();
  });
  return port;
}

int main(int argc, char** argv) {
  Options o = parseArgs(argc, argv);
  FrameSource source(o);
  std::thread discard;
  std::atomic<bool> discarded{false};
  if (o.discard) o.port = startDiscardReader(discard, discarded);
  const int fd = connectTo(o.host, o.port);
  if (fd < 0) die("cannot connect to " + o.host + ":" + std::to_string(o.port));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::atomic<uint64_t> acked{0};
  std::atomic<bool> sending{true};
  std::thread reader;
  if (o.ack) {
    // Counts {"ack": chunk} answers; ferry answers in order on one connection. The main
    // thread shuts the socket down once every frame it sent is acked.
    reader = std::thread([&] {
      msgpack::unpacker un;
      while (true) {
        un.reserve_buffer(65536);
        const ssize_t r = ::read(fd, un.buffer(), un.buffer_capacity());
        if (r <= 0) {
          if (!sending.load()) return;
          die("connection closed before every ack arrived");
        }
        un.buffer_consumed(static_cast<size_t>(r));
        msgpack::object_handle oh;
        while (un.next(oh)) {
          if (oh.get().type != msgpack::type::MAP) die("unexpected answer from ferry");
          acked.fetch_add(1);
          acked.notify_all();
        }
      }
    });
  }

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(o.timeout_s);
  msgpack::sbuffer frame(1 << 20);
  while (source.next(frame)) {
    if (o.ack) {
      const uint64_t sent = source.frames() - 1; // frames written before this one
      for (uint64_t a = acked.load(); sent >= a + o.window; a = acked.load())
        acked.wait(a);
    }
    writeAll(fd, frame.data(), frame.size());
  }
  if (o.ack) {
    for (uint64_t a = acked.load(); a < source.frames(); a = acked.load())
      acked.wait(a);
    sending.store(false);
    ::shutdown(fd, SHUT_RDWR);
    reader.join();
  }
  const auto t_sent = std::chrono::steady_clock::now();
  if (o.discard) {
    ::shutdown(fd, SHUT_WR);
    discarded.wait(false);
    discard.join();
  }
  if (o.metrics_port > 0 && o.expect > 0) {
    while (recordsSent(o.metrics_port) < static_cast<int64_t>(o.expect)) {
      if (std::chrono::steady_clock::now() > deadline) die("timed out waiting for the outputs");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  const auto t_end = std::chrono::steady_clock::now();
  ::close(fd);
  const auto secs = [&](auto t) { return std::chrono::duration<double>(t - t0).count(); };
  std::printf("{\"records\": %llu, \"frames\": %llu, \"wire_bytes\": %llu, \"send_seconds\": %.4f, "
              "\"total_seconds\": %.4f}\n",
              static_cast<unsigned long long>(source.records()),
              static_cast<unsigned long long>(source.frames()),
              static_cast<unsigned long long>(source.wireBytes()), secs(t_sent), secs(t_end));
  return 0;
}
