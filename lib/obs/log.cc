// ferry's own log lines on stderr. Text: "2026-11-22T21:19:11.123Z WARN  forward: message"
// (newlines in a message escaped, so one message is always one line). JSON:
// {"time":...,"level":"warn","component":"forward","message":...} — easy for ferry itself
// (or any shipper) to parse. A warning or error repeated within kLogRepeatWindow is counted instead
// of printed; the count is reported in one summary line when the window ends (by the next
// occurrence, the periodic sweep, or at exit), so a flood costs two lines per window.
#include "ferry/obs/log.h"
#include "ferry/obs/redact.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferry::obs {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
// Distinct messages tracked at once; past this the table is flushed (summaries printed)
// and emptied, so memory stays bounded whatever the log texts.
constexpr size_t kMaxTrackedMessages = 4096;
constexpr auto kSweepEvery = std::chrono::seconds(1);

struct RepeatState {
  Clock::time_point window_start;
  uint64_t suppressed = 0;
  LogLevel level = LogLevel::kInfo;
  std::string component;
  std::string last_message; // the latest suppressed text (numbers in it may differ)
};

// Guards everything below and the writing itself, so lines never interleave.
std::mutex g_mu;
std::unordered_map<std::string, RepeatState> g_repeats;
Clock::time_point g_last_sweep{};
std::function<void(std::string_view)> g_writer;
std::function<Clock::time_point()> g_clock;

const char* levelName(LogLevel l, bool upper) {
  switch (l) {
  case LogLevel::kDebug:
    return upper ? "DEBUG" : "debug";
  case LogLevel::kInfo:
    return upper ? "INFO" : "info";
  case LogLevel::kWarn:
    return upper ? "WARN" : "warn";
  case LogLevel::kError:
    return upper ? "ERROR" : "error";
  }
  return "info";
}

const char* levelNoun(LogLevel l) {
  switch (l) {
  case LogLevel::kDebug:
    return "debug message";
  case LogLevel::kInfo:
    return "message";
  case LogLevel::kWarn:
    return "warning";
  case LogLevel::kError:
    return "error";
  }
  return "message";
}

// 1234567 → "1,234,567": counts in summaries are read by people scanning a terminal.
std::string groupThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void appendJsonEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        out += fmt::format("\\u{:04x}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
  }
}

// Text lines keep the message readable but never let it break the one-line rule.
void appendTextEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

std::string nowIso() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Clock::time_point now() {
  return g_clock ? g_clock() : Clock::now();
}

// Caller holds g_mu. `repeated` > 0 marks a summary line.
void writeLine(LogLevel level, std::string_view component, std::string_view message,
               uint64_t repeated) {
  std::string line;
  if (static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)) == LogFormat::kJson) {
    line = fmt::format(R"({{"time":"{}","level":"{}","component":")", nowIso(),
                       levelName(level, false));
    appendJsonEscaped(line, component);
    line += R"(","message":")";
    appendJsonEscaped(line, message);
    line += '"';
    if (repeated > 0) line += fmt::format(R"(,"repeated":{})", repeated);
    line += "}\n";
  } else {
    line = fmt::format("{} {:<5} ", nowIso(), levelName(level, true));
    appendTextEscaped(line, component);
    line += ": ";
    appendTextEscaped(line, message);
    if (repeated > 0) {
      line += fmt::format(" (same {} repeated {} more time{})", levelNoun(level),
                          groupThousands(repeated), repeated == 1 ? "" : "s");
    }
    line += '\n';
  }
  if (g_writer) {
    g_writer(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

void writeSummary(RepeatState& st) {
  if (st.suppressed == 0) return;
  writeLine(st.level, st.component, st.last_message, st.suppressed);
  st.suppressed = 0;
}

// Caller holds g_mu. Ends the windows that are over: prints their summaries and forgets
// them (a message seen again later starts afresh and is printed).
void sweep(Clock::time_point t, bool force) {
  if (!force && t - g_last_sweep < kSweepEvery) return;
  g_last_sweep = t;
  for (auto it = g_repeats.begin(); it != g_repeats.end();) {
    if (force || t - it->second.window_start >= kLogRepeatWindow) {
      writeSummary(it->second);
      it = g_repeats.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace

void setLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level));
}
void setLogFormat(LogFormat format) {
  g_format.store(static_cast<int>(format));
}
LogLevel logLevel() {
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

bool parseLogLevel(std::string_view s, LogLevel& out) {
  if (s == "debug")
    out = LogLevel::kDebug;
  else if (s == "info")
    out = LogLevel::kInfo;
  else if (s == "warn" || s == "warning")
    out = LogLevel::kWarn;
  else if (s == "error")
    out = LogLevel::kError;
  else
    return false;
  return true;
}

bool parseLogFormat(std::string_view s, LogFormat& out) {
  if (s == "text")
    out = LogFormat::kText;
  else if (s == "json")
    out = LogFormat::kJson;
  else
    return false;
  return true;
}

void logMessage(LogLevel level, std::string_view component, std::string_view message) {
  logMessageKeyed(level, component, message, message);
}

void logMessageKeyed(LogLevel level, std::string_view component, std::string_view repeat_key,
                     std::string_view raw_message) {
  if (level < logLevel()) return;
  // Every line, whoever wrote it (plugins' lines and verdicts included), loses its secrets.
  const std::string masked = redact(raw_message);
  const std::string_view message = masked;
  if (level < LogLevel::kWarn) {
    // Only warnings and errors come in floods; lifecycle lines ("listening on ...", "started")
    // must always be seen when they happen, even when several share one format.
    std::lock_guard lock(g_mu);
    writeLine(level, component, message, 0);
    return;
  }
  std::string key;
  key.reserve(component.size() + repeat_key.size() + 3);
  key.append(component)
      .append(1, '\0')
      .append(repeat_key)
      .append(1, '\0')
      .push_back(static_cast<char>('0' + static_cast<int>(level)));
  std::lock_guard lock(g_mu);
  const auto t = now();
  sweep(t, false);
  if (g_repeats.size() >= kMaxTrackedMessages) sweep(t, true);
  auto [it, inserted] = g_repeats.try_emplace(std::move(key));
  RepeatState& st = it->second;
  if (!inserted && t - st.window_start < kLogRepeatWindow) {
    ++st.suppressed;
    st.last_message.assign(message);
    return;
  }
  writeSummary(st); // the previous window's count, before the new occurrence
  st.level = level;
  st.component.assign(component);
  st.window_start = t;
  writeLine(level, component, message, 0);
}

void sweepLogRepeats() {
  std::lock_guard lock(g_mu);
  sweep(now(), false);
}

void flushLogRepeats() {
  std::lock_guard lock(g_mu);
  sweep(now(), true);
}

void setLogWriterForTesting(std::function<void(std::string_view line)> writer) {
  std::lock_guard lock(g_mu);
  g_writer = std::move(writer);
  g_repeats.clear();
  g_last_sweep = {};
}

void setLogClockForTesting(std::function<Clock::time_point()> clock) {
  std::lock_guard lock(g_mu);
  g_clock = std::move(clock);
  g_repeats.clear();
  g_last_sweep = {};
}

} // namespace ferry::obs
