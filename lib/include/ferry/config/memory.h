// The memory ferry may use, and the output budgets derived from it (`buffer.max_bytes: auto`,
// the default).
//
// The rule: the limit is the container's, read from the cgroup ferry runs in (v2
// memory.max / memory.high, v1 memory.limit_in_bytes; the lowest along the visible
// hierarchy, no more than the machine's RAM). A quarter of it goes to the output buffers;
// without a limit they get a fixed kDefaultTotal (24 MiB), small enough for a sidecar. That total
// is split evenly among the outputs left at `auto` that hold records (all but `null`), each getting
// at least kMinPerOutput; a `null` output gets kMinPerOutput. Outputs with their own
// `buffer.max_bytes` keep it and take nothing from the total.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ferry/config/config.h"

namespace ferry::config {

inline constexpr uint64_t kDefaultTotal = 24ull << 20; // no limit known
inline constexpr uint64_t kMinPerOutput = 4ull << 20;  // a request and its records
inline constexpr uint64_t kMaxTotal = 1ull << 30;      // however large the limit
inline constexpr uint64_t kLimitShareDivisor = 4;      // a quarter of the limit

// The cgroup memory limit of this process, or nullopt when there is none (or none can be
// read). `root` stands for "/" (tests build a fake /proc and /sys/fs/cgroup under it).
std::optional<uint64_t> cgroupMemoryLimit(const std::filesystem::path& root = "/");

struct MemoryPlan {
  std::optional<uint64_t> limit; // the limit found
  uint64_t total = 0;            // for the `auto` outputs together
  size_t shared_by = 0;          // outputs at `auto` that hold records
  uint64_t each = 0;             // what each of them gets
  // One line saying where the figures come from, for `ferry validate` and the start-up log.
  std::string describe() const;
};

// Sets buffer_max_bytes of every output left at `auto` by the rule above.
MemoryPlan planMemory(Config& config, std::optional<uint64_t> limit);

} // namespace ferry::config
