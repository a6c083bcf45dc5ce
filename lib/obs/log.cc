// ferry's own log lines on stderr. Text: "2026-11-22T21:19:11.123Z WARN  forward: message".
// JSON: {"time":...,"level":"warn","component":"forward","message":...}. A message repeated
// within kRepeatWindow is counted instead of printed; the count is reported with the next
// occurrence after the window (or at exit), so floods cost one line per window.
#include "ferry/obs/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferry::obs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
constexpr auto kRepeatWindow = std::chrono::seconds(10);

struct RepeatState {
  std::chrono::steady_clock::time_point window_start;
  uint64_t suppressed = 0;
};

std::mutex g_mu;
std::unordered_map<std::string, RepeatState> g_repeats;

const char* levelName(LogLevel l) {
  switch (l) {
  case LogLevel::kDebug: return "debug";
  case LogLevel::kInfo: return "info";
  case LogLevel::kWarn: return "warn";
  case LogLevel::kError: return "error";
  }
  return "info";
}

void appendJsonEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20) {
        out += fmt::format("\\u{:04x}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
  }
}

std::string nowIso() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void writeLine(LogLevel level, std::string_view component, std::string_view message) {
  std::string line;
  if (static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)) == LogFormat::kJson) {
    line = fmt::format(R"({{"time":"{}","level":"{}","component":")", nowIso(), levelName(level));
    appendJsonEscaped(line, component);
    line += R"(","message":")";
    appendJsonEscaped(line, message);
    line += "\"}\n";
  } else {
    line = fmt::format("{} {:<5} {}: {}\n", nowIso(), levelName(level), component, message);
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace

void setLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
void setLogFormat(LogFormat format) { g_format.store(static_cast<int>(format)); }
LogLevel logLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool parseLogLevel(std::string_view s, LogLevel& out) {
  if (s == "debug") out = LogLevel::kDebug;
  else if (s == "info") out = LogLevel::kInfo;
  else if (s == "warn" || s == "warning") out = LogLevel::kWarn;
  else if (s == "error") out = LogLevel::kError;
  else return false;
  return true;
}

void logMessage(LogLevel level, std::string_view component, std::string_view message) {
  if (level < logLevel()) return;
  std::string key;
  key.reserve(component.size() + message.size() + 1);
  key.append(component).append(1, '\0').append(message);
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(g_mu);
  auto [it, inserted] = g_repeats.try_emplace(std::move(key));
  RepeatState& st = it->second;
  if (!inserted && now - st.window_start < kRepeatWindow) {
    ++st.suppressed;
    return;
  }
  if (st.suppressed > 0) {
    writeLine(level, component,
              fmt::format("{} (same message {} more times)", message, st.suppressed));
  } else {
    writeLine(level, component, message);
  }
  st.window_start = now;
  st.suppressed = 0;
  if (g_repeats.size() > 4096) g_repeats.clear(); // bound memory on unbounded distinct texts
}

} // namespace ferry::obs
