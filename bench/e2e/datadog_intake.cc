// A Datadog Logs intake stand-in for the throughput harness (bench/e2e/run.sh): it accepts
// POST /api/v2/logs, decompresses each body (gzip, zstd or none) with the native libraries,
// counts the entries of the JSON array and the bytes, and answers 202, optionally after
// --latency-ms (the round trip to Datadog that concurrency hides). With --outage-ms it answers
// 503 to every request for that long after the first one (a Datadog outage; those requests
// count as refused, not as records). GET /stats answers
// {requests, records, compressed_bytes, json_bytes, errors, refused, first_ms, last_ms}.
//
// Why native: the harness runs ferry and the intake on the same two cores, and a node intake
// decoding and scanning ~700 MB of JSON took as much CPU as ferry did to produce it, so the
// figures measured the intake. The strict checks (headers, limits, every field) live in the
// e2e tests' intake (tests/e2e/datadog_intake.js); this one only counts.
//
// Counting: ferry writes compact JSON, and inside a JSON string every quote is escaped, so
// `},{"` can only be the boundary between two objects of an array. The bench's records have
// no arrays of objects inside them, so entries = boundaries + 1 (the harness checks the total).
//
// One thread per connection (ferry keeps a few keep-alive connections), 127.0.0.1 only, port
// 0; the port is written to --port-file. Stops on SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <libdeflate.h>
#include <zstd.h>

#include "loopback.h"

namespace {

struct Stats {
  std::atomic<uint64_t> requests{0}, records{0}, compressed_bytes{0}, json_bytes{0}, errors{0},
      refused{0};
  std::atomic<int64_t> first_ms{0}, last_ms{0};
};

Stats g_stats;
int g_latency_ms = 0;
int64_t g_outage_ms = 0;

int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "datadog_intake: %s\n", what.c_str());
  std::exit(2);
}

bool writeAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t w = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

uint64_t countEntries(std::string_view json) {
  if (json.size() < 2 || json.front() != '[' || json == "[]") return 0;
  static constexpr std::string_view kBoundary = "},{\"";
  uint64_t n = 1;
  const char* p = json.data();
  const char* end = p + json.size();
  while (const void* hit =
             ::memmem(p, static_cast<size_t>(end - p), kBoundary.data(), kBoundary.size())) {
    ++n;
    p = static_cast<const char*>(hit) + kBoundary.size();
  }
  return n;
}

// Decompresses `body` per Content-Encoding into `out`; false on a corrupt body.
bool decode(std::string_view encoding, std::string_view body, std::string& out,
            libdeflate_decompressor* inflater) {
  if (encoding.empty() || encoding == "identity") {
    out.assign(body);
    return true;
  }
  if (encoding == "gzip") {
    if (body.size() < 18) return false;
    uint32_t isize; // the gzip trailer: uncompressed size mod 2^32 (bodies are < 4 GiB)
    std::memcpy(&isize, body.data() + body.size() - 4, 4);
    out.resize(isize);
    size_t got = 0;
    return libdeflate_gzip_decompress(inflater, body.data(), body.size(), out.data(), out.size(),
                                      &got) == LIBDEFLATE_SUCCESS &&
           got == isize;
  }
  if (encoding == "zstd") {
    const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) return false;
    out.resize(size);
    const size_t got = ZSTD_decompress(out.data(), out.size(), body.data(), body.size());
    return !ZSTD_isError(got) && got == size;
  }
  return false;
}

std::string header(std::string_view head, std::string_view name) {
  // Case-insensitive "\r\nName:" search; headers are few and short.
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos > name.size() && head[pos + name.size()] == ':' &&
        std::equal(name.begin(), name.end(), head.begin() + static_cast<long>(pos),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      size_t v = pos + name.size() + 1;
      while (v < head.size() && head[v] == ' ')
        ++v;
      const size_t eol = head.find("\r\n", v);
      return std::string(head.substr(v, (eol == std::string_view::npos ? head.size() : eol) - v));
    }
  }
  return {};
}

std::string statsJson() {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"requests\":%llu,\"records\":%llu,\"compressed_bytes\":%llu,\"json_bytes\":%llu,"
                "\"errors\":%llu,\"refused\":%llu,\"first_ms\":%lld,\"last_ms\":%lld}",
                static_cast<unsigned long long>(g_stats.requests.load()),
                static_cast<unsigned long long>(g_stats.records.load()),
                static_cast<unsigned long long>(g_stats.compressed_bytes.load()),
                static_cast<unsigned long long>(g_stats.json_bytes.load()),
                static_cast<unsigned long long>(g_stats.errors.load()),
                static_cast<unsigned long long>(g_stats.refused.load()),
                static_cast<long long>(g_stats.first_ms.load()),
                static_cast<long long>(g_stats.last_ms.load()));
  return buf;
}

std::string response(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

// Serves one keep-alive connection until the peer closes it.
void serve(int fd) {
  libdeflate_decompressor* inflater = libdeflate_alloc_decompressor();
  std::string in, json;
  std::vector<char> buf(1 << 20);
  while (true) {
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r <= 0) goto done;
      in.append(buf.data(), static_cast<size_t>(r));
    }
    {
      const std::string head = in.substr(0, head_end + 2);
      const size_t length = std::strtoull(header(head, "Content-Length").c_str(), nullptr, 10);
      if (header(head, "Expect") == "100-continue" && in.size() < head_end + 4 + length &&
          !writeAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
        goto done;
      }
      while (in.size() < head_end + 4 + length) {
        const ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r <= 0) goto done;
        in.append(buf.data(), static_cast<size_t>(r));
      }
      const std::string_view body(in.data() + head_end + 4, length);
      std::string reply;
      if (head.starts_with("GET /stats ")) {
        reply = response(200, "OK", statsJson());
      } else {
        const int64_t t = nowMs();
        int64_t first = 0;
        g_stats.first_ms.compare_exchange_strong(first, t);
        g_stats.requests.fetch_add(1);
        g_stats.compressed_bytes.fetch_add(body.size());
        if (g_outage_ms > 0 && t - g_stats.first_ms.load() < g_outage_ms) {
          g_stats.refused.fetch_add(1);
          reply = response(503, "Service Unavailable", "{\"errors\":[\"outage\"]}");
        } else if (head.starts_with("POST /api/v2/logs ") &&
                   decode(header(head, "Content-Encoding"), body, json, inflater)) {
          g_stats.json_bytes.fetch_add(json.size());
          g_stats.records.fetch_add(countEntries(json));
          reply = response(202, "Accepted", "{}");
        } else {
          g_stats.errors.fetch_add(1);
          reply = response(400, "Bad Request", "{\"errors\":[\"bad request\"]}");
        }
        g_stats.last_ms.store(nowMs());
        if (g_latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_latency_ms));
      }
      in.erase(0, head_end + 4 + length);
      if (!writeAll(fd, reply)) goto done;
    }
  }
done:
  libdeflate_free_decompressor(inflater);
  ::close(fd);
}

} // namespace

int main(int argc, char** argv) {
  std::string port_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    if (k == "--port-file")
      port_file = argv[i + 1];
    else if (k == "--latency-ms")
      g_latency_ms = std::atoi(argv[i + 1]);
    else if (k == "--outage-ms")
      g_outage_ms = std::atoll(argv[i + 1]);
    else
      die("usage: datadog_intake --port-file F [--latency-ms MS] [--outage-ms MS]");
  }
  if (port_file.empty()) die("--port-file is required");
  std::signal(SIGPIPE, SIG_IGN);

  uint16_t port = 0;
  const int lfd = bench::listenLoopback(64, port);
  if (lfd < 0) die("cannot listen on 127.0.0.1");
  {
    std::ofstream(port_file + ".tmp") << port;
    if (std::rename((port_file + ".tmp").c_str(), port_file.c_str()) != 0) die("cannot write port");
  }
  while (true) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      die(std::string("accept failed: ") + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(serve, fd).detach();
  }
}
