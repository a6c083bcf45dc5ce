// process_* metrics from /proc (see the header). Read at scrape time only.
#include "ferry/obs/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "ferry/core/files.h"

namespace ferry::obs {
namespace {

using core::readSmallFile;

std::optional<double> parseNumber(std::string_view s) {
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return static_cast<double>(v);
}

// /proc/stat's "btime N" line: the boot time in Unix seconds, which start times count from.
std::optional<double> bootTime() {
  const auto text = readSmallFile("/proc/stat");
  if (!text) return std::nullopt;
  const std::string_view all(*text);
  for (size_t pos = 0; pos < all.size();) {
    size_t eol = all.find('\n', pos);
    if (eol == std::string_view::npos) eol = all.size();
    const std::string_view line = all.substr(pos, eol - pos);
    if (line.starts_with("btime ")) return parseNumber(line.substr(6));
    pos = eol + 1;
  }
  return std::nullopt;
}

std::optional<double> openFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  double n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1; // not the descriptor this listing holds open
}

} // namespace

std::optional<ProcessStats::Stat> parseProcStat(std::string_view text, double ticks_per_second,
                                                double page_bytes, double boot_time) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  // Fields from 3 (state) on, space separated; field k is at index k - 3.
  std::vector<std::string_view> fields;
  for (size_t pos = close + 1; pos < text.size() && fields.size() < 24;) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n'))
      ++pos;
    size_t end = pos;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n')
      ++end;
    if (end > pos) fields.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  if (fields.size() < 22) return std::nullopt;
  const auto utime = parseNumber(fields[14 - 3]);
  const auto stime = parseNumber(fields[15 - 3]);
  const auto start = parseNumber(fields[22 - 3]);
  const auto vsize = parseNumber(fields[23 - 3]);
  const auto rss = parseNumber(fields[24 - 3]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcessStats::Stat s;
  s.cpu_seconds = (*utime + *stime) / ticks_per_second;
  s.resident_bytes = *rss * page_bytes;
  s.virtual_bytes = *vsize;
  s.start_time_seconds = boot_time + *start / ticks_per_second;
  return s;
}

ProcessStats sampleProcess() {
  ProcessStats p;
  const auto stat = readSmallFile("/proc/self/stat");
  static const std::optional<double> boot = bootTime(); // fixed while the system is up
  if (stat && boot) {
    p.stat = parseProcStat(*stat, static_cast<double>(sysconf(_SC_CLK_TCK)),
                           static_cast<double>(sysconf(_SC_PAGESIZE)), *boot);
  }
  p.open_fds = openFds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) p.max_fds = static_cast<double>(lim.rlim_cur);
  return p;
}

} // namespace ferry::obs
