// Load generator for the forward → null scenario of bench/e2e/run.sh: reads the reference
// data set (one JSON line per record), pre-encodes it as Fluent forward PackedForward frames
// of --batch records (FireLens-shaped maps: log, source, container_id, container_name, with
// an EventTime), then sends them all over one TCP connection as fast as the socket takes
// them. With --ack every frame carries a `chunk` option and at most --window frames wait for
// their {"ack": chunk}. With --metrics-port it then polls ferry's /metrics until the outputs
// report --expect records sent, so the time covers the whole pipeline, not just the socket.
// Prints one JSON line: records, frames, wire_bytes, send_seconds, total_seconds.
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
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <msgpack.hpp>

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
};

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
    if (i + 1 >= argc) die("missing value for " + std::string(k));
    const char* v = argv[++i];
    if (k == "--file") o.file = v;
    else if (k == "--host") o.host = v;
    else if (k == "--port") o.port = std::atoi(v);
    else if (k == "--batch") o.batch = std::strtoull(v, nullptr, 10);
    else if (k == "--window") o.window = std::strtoull(v, nullptr, 10);
    else if (k == "--metrics-port") o.metrics_port = std::atoi(v);
    else if (k == "--expect") o.expect = std::strtoull(v, nullptr, 10);
    else if (k == "--limit") o.limit = std::strtoull(v, nullptr, 10);
    else if (k == "--timeout") o.timeout_s = std::atof(v);
    else die("unknown option " + std::string(k));
  }
  if (o.file.empty() || o.port <= 0 || o.batch == 0 || o.window == 0) {
    die("usage: forward_load --file F --port P [--batch 1000] [--ack] [--window 32] "
        "[--metrics-port M --expect N] [--limit N] [--timeout S]");
  }
  return o;
}

// Frames of one tag, each a complete PackedForward message, laid end to end in `wire`.
struct Encoded {
  std::string wire;
  std::vector<size_t> frame_ends;
  uint64_t records = 0;
};

Encoded encode(const Options& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) die("cannot read " + o.file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Encoded out;
  msgpack::sbuffer entries;
  msgpack::sbuffer frame;
  size_t in_batch = 0;
  uint64_t chunk_id = 0;
  const auto flush = [&] {
    if (in_batch == 0) return;
    frame.clear();
    msgpack::packer<msgpack::sbuffer> pk(frame);
    pk.pack_array(3);
    pk.pack(std::string_view("bench"));
    pk.pack_bin(static_cast<uint32_t>(entries.size()));
    pk.pack_bin_body(entries.data(), static_cast<uint32_t>(entries.size()));
    pk.pack_map(o.ack ? 2 : 1);
    pk.pack(std::string_view("size"));
    pk.pack(static_cast<uint64_t>(in_batch));
    if (o.ack) {
      char id[32];
      const int n = std::snprintf(id, sizeof id, "bench-%016llx",
                                  static_cast<unsigned long long>(chunk_id++));
      pk.pack(std::string_view("chunk"));
      pk.pack(std::string_view(id, static_cast<size_t>(n)));
    }
    out.wire.append(frame.data(), frame.size());
    out.frame_ends.push_back(out.wire.size());
    entries.clear();
    in_batch = 0;
  };
  msgpack::packer<msgpack::sbuffer> pk(entries);
  const uint32_t base_seconds = 1714564800;
  size_t pos = 0;
  while (pos < text.size() && (o.limit == 0 || out.records < o.limit)) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    // EventTime: ext type 0, big-endian seconds then nanoseconds.
    const uint32_t sec = htonl(base_seconds + static_cast<uint32_t>(out.records / 2000));
    const uint32_t nsec = htonl(static_cast<uint32_t>((out.records * 7919) % 1000000000));
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
    ++out.records;
    if (++in_batch == o.batch) flush();
  }
  flush();
  return out;
}

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
  for (ssize_t r; (r = ::read(fd, buf, sizeof buf)) > 0;) body.append(buf, static_cast<size_t>(r));
  ::close(fd);
  int64_t total = 0;
  size_t at = 0;
  while ((at = body.find("\nferry_output_records_total{", at)) != std::string::npos) {
    ++at;
    const size_t eol = body.find('\n', at);
    const std::string_view line(body.data() + at, (eol == std::string::npos ? body.size() : eol) - at);
    if (line.find("result=\"sent\"") == std::string_view::npos) continue;
    const size_t space = line.rfind(' ');
    total += std::strtoll(std::string(line.substr(space + 1)).c_str(), nullptr, 10);
  }
  return total;
}

} // namespace

int main(int argc, char** argv) {
  const Options o = parseArgs(argc, argv);
  const Encoded enc = encode(o);
  const int fd = connectTo(o.host, o.port);
  if (fd < 0) die("cannot connect to " + o.host + ":" + std::to_string(o.port));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::atomic<uint64_t> acked{0};
  std::thread reader;
  if (o.ack) {
    // Counts {"ack": chunk} answers; ferry answers in order on one connection.
    reader = std::thread([&] {
      msgpack::unpacker un;
      while (acked.load() < enc.frame_ends.size()) {
        un.reserve_buffer(65536);
        const ssize_t r = ::read(fd, un.buffer(), un.buffer_capacity());
        if (r <= 0) die("connection closed before every ack arrived");
        un.buffer_consumed(static_cast<size_t>(r));
        msgpack::object_handle oh;
        while (un.next(oh)) {
          if (oh.get().type != msgpack::type::MAP) die("unexpected answer from ferry");
          acked.fetch_add(1);
          acked.notify_one();
        }
      }
    });
  }

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(o.timeout_s);
  if (!o.ack) {
    writeAll(fd, enc.wire.data(), enc.wire.size());
  } else {
    size_t start = 0;
    for (size_t i = 0; i < enc.frame_ends.size(); ++i) {
      for (uint64_t a = acked.load(); i >= a + o.window; a = acked.load()) acked.wait(a);
      writeAll(fd, enc.wire.data() + start, enc.frame_ends[i] - start);
      start = enc.frame_ends[i];
    }
    reader.join();
  }
  const auto t_sent = std::chrono::steady_clock::now();
  if (o.metrics_port > 0 && o.expect > 0) {
    while (recordsSent(o.metrics_port) < static_cast<int64_t>(o.expect)) {
      if (std::chrono::steady_clock::now() > deadline) die("timed out waiting for the outputs");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  const auto t_end = std::chrono::steady_clock::now();
  ::close(fd);
  const auto secs = [&](auto t) { return std::chrono::duration<double>(t - t0).count(); };
  std::printf("{\"records\": %llu, \"frames\": %zu, \"wire_bytes\": %zu, \"send_seconds\": %.4f, "
              "\"total_seconds\": %.4f}\n",
              static_cast<unsigned long long>(enc.records), enc.frame_ends.size(), enc.wire.size(),
              secs(t_sent), secs(t_end));
  return 0;
}
