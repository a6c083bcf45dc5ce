// ferry's own log: leveled, one line per message, to stderr, as text or JSON lines.
// Repeats of the same message within a window are counted and summarised, not printed.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace ferry::obs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

void setLogLevel(LogLevel level);
void setLogFormat(LogFormat format);
LogLevel logLevel();
bool parseLogLevel(std::string_view s, LogLevel& out);

// Writes one line (thread-safe). Messages whose text repeats within 10 s are suppressed
// and later reported as "(same message N more times)".
void logMessage(LogLevel level, std::string_view component, std::string_view message);

template <typename... Args>
void logf(LogLevel level, std::string_view component, fmt::format_string<Args...> f,
          Args&&... args) {
  if (level < logLevel()) return;
  logMessage(level, component, fmt::format(f, std::forward<Args>(args)...));
}

#define FERRY_LOG_DEBUG(component, ...) ::ferry::obs::logf(::ferry::obs::LogLevel::kDebug, component, __VA_ARGS__)
#define FERRY_LOG_INFO(component, ...) ::ferry::obs::logf(::ferry::obs::LogLevel::kInfo, component, __VA_ARGS__)
#define FERRY_LOG_WARN(component, ...) ::ferry::obs::logf(::ferry::obs::LogLevel::kWarn, component, __VA_ARGS__)
#define FERRY_LOG_ERROR(component, ...) ::ferry::obs::logf(::ferry::obs::LogLevel::kError, component, __VA_ARGS__)

} // namespace ferry::obs
