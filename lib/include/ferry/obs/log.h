// ferry's own log: leveled, one line per message, to stderr, as text or JSON lines
// (service.log_level, service.log_format). Repeats are rate-limited: the first occurrence
// is printed, later ones within kLogRepeatWindow are counted and summarised in one line
// ("same warning repeated 1,234 more times").
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace ferry::obs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

inline constexpr std::chrono::seconds kLogRepeatWindow{10};

void setLogLevel(LogLevel level);
void setLogFormat(LogFormat format);
LogLevel logLevel();
bool parseLogLevel(std::string_view s, LogLevel& out);
bool parseLogFormat(std::string_view s, LogFormat& out);

// Writes one line (thread-safe). Repeats are recognised by `repeat_key` (component and
// key): FERRY_LOG_* pass the format string, so a message whose numbers change ("retrying
// in 812 ms") still counts as the same; plain logMessage() keys on the text itself.
void logMessage(LogLevel level, std::string_view component, std::string_view message);
void logMessageKeyed(LogLevel level, std::string_view component, std::string_view repeat_key,
                     std::string_view message);

// Prints the summary of every repeat window that has ended (cheap when called often: it
// looks at most once a second). The daemon's main loop calls it so that the count of a
// flood that stopped is not held back until the next message.
void sweepLogRepeats();
// Prints every pending summary now (at exit).
void flushLogRepeats();

// For tests: where lines go (nullptr = stderr) and what time it is (nullptr = steady_clock).
// Both also reset the repeat state.
void setLogWriterForTesting(std::function<void(std::string_view line)> writer);
void setLogClockForTesting(std::function<std::chrono::steady_clock::time_point()> clock);

template <typename... Args>
void logf(LogLevel level, std::string_view component, fmt::format_string<Args...> f,
          Args&&... args) {
  if (level < logLevel()) return;
  const fmt::string_view key = f;
  logMessageKeyed(level, component, std::string_view(key.data(), key.size()),
                  fmt::format(f, std::forward<Args>(args)...));
}

#define FERRY_LOG_DEBUG(component, ...)                                                            \
  ::ferry::obs::logf(::ferry::obs::LogLevel::kDebug, component, __VA_ARGS__)
#define FERRY_LOG_INFO(component, ...)                                                             \
  ::ferry::obs::logf(::ferry::obs::LogLevel::kInfo, component, __VA_ARGS__)
#define FERRY_LOG_WARN(component, ...)                                                             \
  ::ferry::obs::logf(::ferry::obs::LogLevel::kWarn, component, __VA_ARGS__)
#define FERRY_LOG_ERROR(component, ...)                                                            \
  ::ferry::obs::logf(::ferry::obs::LogLevel::kError, component, __VA_ARGS__)

} // namespace ferry::obs
