// The process_* metrics Prometheus client libraries export on Linux (CPU seconds, resident
// and virtual memory, open and maximum file descriptors, start time), sampled from /proc at
// scrape time: a few small reads per scrape, no thread and no state between scrapes.
#pragma once

#include <optional>
#include <string_view>

namespace ferry::obs {

struct ProcessStats {
  // From /proc/self/stat; absent when it cannot be read (not Linux, /proc not mounted).
  struct Stat {
    double cpu_seconds = 0;        // user + system
    double resident_bytes = 0;     // resident set size
    double virtual_bytes = 0;      // virtual memory size
    double start_time_seconds = 0; // Unix time the process started
  };
  std::optional<Stat> stat;
  std::optional<double> open_fds; // entries of /proc/self/fd
  std::optional<double> max_fds;  // the soft RLIMIT_NOFILE
};

// Samples this process now. Each part that cannot be read is left empty (and not exported).
ProcessStats sampleProcess();

// Parses the text of /proc/<pid>/stat (proc(5)): `ticks_per_second` is sysconf(_SC_CLK_TCK),
// `page_bytes` the page size and `boot_time` /proc/stat's btime. Empty when the text is
// malformed. The command name (field 2) may hold spaces and parentheses, so fields are
// counted from its last ')'.
std::optional<ProcessStats::Stat> parseProcStat(std::string_view text, double ticks_per_second,
                                                double page_bytes, double boot_time);

} // namespace ferry::obs
