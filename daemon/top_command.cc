// `ferry top [--url URL] [--interval D]`: fetches /metrics (Prometheus text) and /health from
// a running ferry every interval and shows, per input and output, what moves and what is
// stuck: rates from the difference of two scrapes, buffer fill against buffer.max_bytes,
// requests in flight against the concurrency limit, retries, drops, paused and unhealthy
// states. Plain ANSI on the alternate screen; the terminal is restored however it ends.
#include "top_command.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <msgpack.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "ferry/codec/parsers.h"
#include "ferry/config/units.h"
#include "ferry/net/http_client.h"

namespace ferry::daemon {
namespace {

constexpr const char* kUsage = R"(Usage: ferry top [--url URL] [--interval DURATION]

A live view of a running ferry, read from its HTTP endpoint (service.http.listen) every
interval (default 1s): per input and output, records and bytes per second, buffer fill
against buffer.max_bytes, requests in flight against the concurrency limit, retries, drops,
failures, and the paused, unhealthy and degraded states. q or Ctrl-C quits. When standard
output is not a terminal it prints one snapshot (rates over one interval) and exits.

  --url URL         the endpoint (default http://127.0.0.1:2020)
  --interval D      time between scrapes: 1s, 500ms, ... (default 1s)
)";

using Labels = std::map<std::string, std::string, std::less<>>;

struct Series {
  std::string name;
  Labels labels;
  double value = 0;
};

// One scrape: the samples of /metrics and the outputs /health calls unhealthy.
struct Scrape {
  std::vector<Series> series;
  std::map<std::string, std::string> unhealthy; // output → reason
  std::chrono::steady_clock::time_point at;

  // The sum over the series of `name` whose labels include `match`.
  double sum(std::string_view name, const Labels& match = {}) const {
    double total = 0;
    for (const auto& s : series) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : match) {
        const auto it = s.labels.find(k);
        all = all && it != s.labels.end() && it->second == v;
      }
      if (all) total += s.value;
    }
    return total;
  }
  // Every value `label` takes in the series of `name`, in order.
  std::set<std::string> labelValues(std::string_view name, std::string_view label) const {
    std::set<std::string> out;
    for (const auto& s : series) {
      if (s.name != name) continue;
      if (const auto it = s.labels.find(label); it != s.labels.end()) out.insert(it->second);
    }
    return out;
  }
};

// `name{a="x",b="y"} 12.5 [timestamp]` lines of the Prometheus text format 0.0.4; comments
// and lines it cannot read are skipped.
std::vector<Series> parsePrometheus(std::string_view text) {
  std::vector<Series> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    Series s;
    size_t i = line.find_first_of("{ ");
    if (i == std::string_view::npos) continue;
    s.name = std::string(line.substr(0, i));
    bool ok = true;
    if (line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        const std::string key(line.substr(i, eq - i));
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        if (j >= line.size()) ok = false;
        s.labels.emplace(key, std::move(value));
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i; // '}'
    }
    if (!ok || i >= line.size()) continue;
    const std::string number(line.substr(i + 1, line.find(' ', i + 1) - i - 1));
    char* end = nullptr;
    s.value = std::strtod(number.c_str(), &end);
    if (end == number.c_str()) continue;
    out.push_back(std::move(s));
  }
  return out;
}

// /health's {"status":"unhealthy","outputs":[{"name":…,"reason":…}]}, read with the json
// line parser into msgpack.
std::map<std::string, std::string> parseUnhealthy(const std::string& body) {
  std::map<std::string, std::string> out;
  const auto parser = codec::makeLineParser({.type = "json"});
  core::ByteBuffer packed;
  int64_t ts = 0;
  if (!parser || (*parser)->parse(body, ts, packed) != codec::ParseStatus::kParsed) return out;
  const auto text = [](const msgpack::object& o) {
    return o.type == msgpack::type::STR ? std::string(o.via.str.ptr, o.via.str.size)
                                        : std::string();
  };
  try {
    const auto handle = msgpack::unpack(packed.data(), packed.size());
    const auto& root = handle.get().via.map;
    for (uint32_t i = 0; i < root.size; ++i) {
      if (text(root.ptr[i].key) != "outputs" || root.ptr[i].val.type != msgpack::type::ARRAY)
        continue;
      const auto& list = root.ptr[i].val.via.array;
      for (uint32_t k = 0; k < list.size; ++k) {
        if (list.ptr[k].type != msgpack::type::MAP) continue;
        std::string name, reason;
        for (uint32_t f = 0; f < list.ptr[k].via.map.size; ++f) {
          const auto& kv = list.ptr[k].via.map.ptr[f];
          if (text(kv.key) == "name") name = text(kv.val);
          if (text(kv.key) == "reason") reason = text(kv.val);
        }
        out[name] = reason;
      }
    }
  } catch (const std::exception&) {
    return {}; // msgpack could not unpack it: it names no output
  }
  return out;
}

std::expected<Scrape, std::string> scrape(const std::string& url) {
  net::HttpRequest request;
  request.method = "GET";
  request.url = url + "/metrics";
  request.timeout_ms = 3000;
  const net::HttpResponse metrics = net::httpFetch(request);
  if (metrics.status != 200) {
    return std::unexpected(metrics.status == 0 ? metrics.error
                                               : fmt::format("HTTP {}", metrics.status));
  }
  Scrape s;
  s.at = std::chrono::steady_clock::now();
  s.series = parsePrometheus(metrics.body);
  request.url = url + "/health";
  const net::HttpResponse health = net::httpFetch(request);
  if (health.status == 503) s.unhealthy = parseUnhealthy(health.body);
  return s;
}

class Screen {
public:
  explicit Screen(bool color) : color_(color) {}

  // A line cut to `width` visible columns (escape sequences take none).
  void line(const std::string& text) {
    size_t visible = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\x1b') { // an SGR sequence, kept whole
        const size_t end = std::min(text.find('m', i), text.size() - 1);
        frame_.append(text, i, end - i + 1);
        i = end;
        continue;
      }
      const bool starts_char =
          (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80; // not a UTF-8 tail
      if (starts_char) ++visible;
      if (visible <= width) frame_.push_back(text[i]);
    }
    if (color_) frame_ += "\x1b[0m\x1b[K";
    frame_ += color_ ? "\r\n" : "\n";
  }
  std::string paint(const std::string& text, const char* code) const {
    return color_ ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
  }
  std::string take() { return std::exchange(frame_, {}); }

  size_t width = 160;

private:
  bool color_;
  std::string frame_;
};

double rate(const Scrape& now, const Scrape* before, std::string_view name, const Labels& match) {
  if (!before) return 0;
  const double dt = std::chrono::duration<double>(now.at - before->at).count();
  if (dt <= 0) return 0;
  const double cur = now.sum(name, match), prev = before->sum(name, match);
  return (cur >= prev ? cur - prev : cur) / dt; // a restart resets the counters
}

void render(Screen& screen, const std::string& url, const Scrape& now, const Scrape* before) {
  std::string version = "?";
  for (const auto& s : now.series) {
    if (s.name == "ferry_build_info" && s.labels.contains("version"))
      version = s.labels.at("version");
  }
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char clock[16];
  std::strftime(clock, sizeof clock, "%H:%M:%S", &tm);
  std::string head = fmt::format("ferry top  {}  ferry {}  ring {:.0f}/{:.0f}", url, version,
                                 now.sum("ferry_ring_slots_used"), now.sum("ferry_ring_capacity"));
  if (std::any_of(now.series.begin(), now.series.end(),
                  [](const Series& s) { return s.name == "ferry_storage_bytes"; })) {
    head += fmt::format("  storage {}", human(now.sum("ferry_storage_bytes"), "B", true));
    if (now.sum("ferry_storage_degraded") > 0)
      head += "  " + screen.paint("STORAGE DEGRADED", "1;31");
  }
  screen.line(head + fmt::format("  {}  (q quits)", clock));
  screen.line("");

  screen.line(screen.paint(fmt::format("{:<24} {:>10} {:>12} {:>14} {:>8}  {}", "INPUT",
                                       "RECORDS/S", "BYTES/S", "RECORDS", "ERRORS", "STATE"),
                           "7"));
  for (const auto& input : now.labelValues("ferry_input_records_total", "input")) {
    const Labels l{{"input", input}};
    const double errors = now.sum("ferry_input_errors_total", l);
    std::string state = screen.paint("ok", "32");
    if (now.sum("ferry_input_paused", l) > 0) {
      state = screen.paint("paused (an output is over its budget)", "1;33");
    } else if (rate(now, before, "ferry_input_errors_total", l) > 0) {
      state = screen.paint("errors", "31");
    }
    screen.line(fmt::format("{:<24} {:>10} {:>12} {:>14} {:>8}  {}", input,
                            human(rate(now, before, "ferry_input_records_total", l), "", false),
                            human(rate(now, before, "ferry_input_bytes_total", l), "B/s", true),
                            human(now.sum("ferry_input_records_total", l), "", false),
                            human(errors, "", false), state));
  }
  screen.line("");
  screen.line(
      screen.paint(fmt::format("{:<24} {:>10} {:>12} {:>14} {:>24} {:>9} {:>8} {:>8} {:>8}  {}",
                               "OUTPUT", "RECORDS/S", "BYTES/S", "SENT", "BUFFER USED/MAX",
                               "IN FLIGHT", "RETRIES", "DROPPED", "FAILED", "STATE"),
                   "7"));
  for (const auto& output : now.labelValues("ferry_output_records_total", "output")) {
    const Labels l{{"output", output}};
    const double used = now.sum("ferry_output_buffer_bytes", l);
    const double max = now.sum("ferry_output_buffer_max_bytes", l);
    const std::string fill = max > 0 ? fmt::format("{}/{} {:>3.0f}%", human(used, "B", true),
                                                   human(max, "B", true), 100 * used / max)
                                     : human(used, "B", true);
    const double retries = rate(now, before, "ferry_output_retries_total", l);
    std::string state = screen.paint("ok", "32");
    if (const auto it = now.unhealthy.find(output); it != now.unhealthy.end()) {
      state = screen.paint("UNHEALTHY: " + it->second, "1;31");
    } else if (max > 0 && used >= max) {
      state = screen.paint("full (inputs paused)", "1;33");
    } else if (retries > 0) {
      state = screen.paint("retrying", "33");
    }
    screen.line(fmt::format(
        "{:<24} {:>10} {:>12} {:>14} {:>24} {:>9} {:>8} {:>8} {:>8}  {}", output,
        human(rate(now, before, "ferry_output_records_total",
                   {{"output", output}, {"result", "sent"}}),
              "", false),
        human(rate(now, before, "ferry_output_bytes_total", l), "B/s", true),
        human(now.sum("ferry_output_records_total", {{"output", output}, {"result", "sent"}}), "",
              false),
        fill,
        fmt::format("{:.0f}/{:.0f}", now.sum("ferry_output_requests_in_flight", l),
                    now.sum("ferry_output_concurrency_limit", l)),
        human(now.sum("ferry_output_retries_total", l), "", false),
        human(now.sum("ferry_output_records_total", {{"output", output}, {"result", "dropped"}}),
              "", false),
        human(now.sum("ferry_output_records_total", {{"output", output}, {"result", "failed"}}), "",
              false),
        state));
  }
}

volatile sig_atomic_t g_stop = 0;
void onSignal(int) {
  g_stop = 1;
}

// Raw keys, no echo, the alternate screen, no cursor; undone by the destructor.
class Terminal {
public:
  Terminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      have_termios_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    write("\x1b[?1049h\x1b[?25l");
  }
  ~Terminal() {
    write("\x1b[?25h\x1b[?1049l");
    if (have_termios_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  static void write(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  static size_t width() {
    winsize ws{};
    return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 160;
  }
  // Waits `ms` (other keys do not cut it short); true as soon as q, Q or Ctrl-C is typed or
  // a signal came. A standard input at its end (`< /dev/null`) is no longer polled.
  bool quitWithin(int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (g_stop) return true;
      if (left <= 0) return false;
      pollfd p{keys_open_ ? STDIN_FILENO : -1, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0 || g_stop) continue;
      char keys[32];
      const ssize_t n = ::read(STDIN_FILENO, keys, sizeof keys);
      if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) keys_open_ = false;
        continue;
      }
      for (ssize_t i = 0; i < n; ++i) {
        if (keys[i] == 'q' || keys[i] == 'Q' || keys[i] == 3) return true;
      }
    }
  }

private:
  termios saved_{};
  bool have_termios_ = false;
  bool keys_open_ = true;
};

} // namespace

std::string human(double v, const char* unit, bool binary) {
  const double base = binary ? 1024 : 1000;
  static constexpr const char* kBinary[] = {"", "Ki", "Mi", "Gi", "Ti"};
  static constexpr const char* kDecimal[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (std::fabs(v) >= base && i < 4) {
    v /= base;
    ++i;
  }
  const char* prefix = binary ? kBinary[i] : kDecimal[i];
  if (i == 0 && v == std::floor(v)) return fmt::format("{:.0f}{}{}", v, *unit ? " " : "", unit);
  return fmt::format("{:.1f}{}{}{}", v, (*unit || *prefix) && binary ? " " : "", prefix, unit);
}

int topCommand(const std::vector<std::string>& args) {
  std::string url = "http://127.0.0.1:2020";
  int64_t interval_ms = 1000;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    const std::string flag = a.substr(0, a.find('='));
    if (flag != "--url" && flag != "--interval") {
      std::fprintf(stderr, "ferry top: unknown option '%s'\n\n%s", a.c_str(), kUsage);
      return 1;
    }
    std::string value;
    if (a.size() > flag.size()) {
      value = a.substr(flag.size() + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      std::fprintf(stderr, "ferry top: %s needs a value\n\n%s", flag.c_str(), kUsage);
      return 1;
    }
    if (flag == "--url") {
      url = value.find("://") == std::string::npos ? "http://" + value : value;
      while (url.ends_with('/'))
        url.pop_back();
    } else {
      const auto ms = config::parseDuration(value);
      if (!ms || *ms < 100) {
        std::fprintf(stderr, "ferry top: --interval: %s\n",
                     ms ? "at least 100ms" : ms.error().c_str());
        return 1;
      }
      interval_ms = *ms;
    }
  }
  signal(SIGPIPE, SIG_IGN);

  if (::isatty(STDOUT_FILENO) != 1) {
    // One snapshot: two scrapes one interval apart, so that the rates mean something.
    auto first = scrape(url);
    if (first) {
      ::usleep(static_cast<useconds_t>(interval_ms * 1000));
      auto second = scrape(url);
      if (second) {
        Screen screen(false);
        screen.width = 1000;
        render(screen, url, *second, &*first);
        std::fputs(screen.take().c_str(), stdout);
        return 0;
      }
      first = std::move(second);
    }
    std::fprintf(stderr, "ferry top: cannot read %s/metrics: %s\n", url.c_str(),
                 first.error().c_str());
    return 2;
  }

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  Terminal terminal;
  std::optional<Scrape> before;
  while (!g_stop) {
    const auto started = std::chrono::steady_clock::now();
    Screen screen(true);
    screen.width = Terminal::width();
    auto now = scrape(url);
    if (now) {
      render(screen, url, *now, before ? &*before : nullptr);
      before = std::move(*now);
    } else {
      screen.line(fmt::format("ferry top  {}", url));
      screen.line("");
      screen.line(screen.paint(
          fmt::format("cannot read {}/metrics: {} (retrying; is service.http.listen set?)", url,
                      now.error()),
          "1;31"));
    }
    Terminal::write("\x1b[H" + screen.take() + "\x1b[J");
    const auto spent = std::chrono::steady_clock::now() - started;
    const int wait_ms = static_cast<int>(std::max<int64_t>(
        0, interval_ms - std::chrono::duration_cast<std::chrono::milliseconds>(spent).count()));
    if (terminal.quitWithin(wait_ms)) break;
  }
  return 0;
}

} // namespace ferry::daemon
