// The memory limit from the cgroup, and the output budgets derived from it (see memory.h).
#include "ferry/config/memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string_view>

#include "ferry/config/units.h"
#include "ferry/core/files.h"

namespace ferry::config {
namespace {

namespace fs = std::filesystem;

// cgroup v1 writes "no limit" as a huge page-rounded number (9223372036854771712).
constexpr uint64_t kNoLimitAbove = 1ull << 62;

// A limit file's number; nullopt for "max", a missing file or anything else.
std::optional<uint64_t> readLimit(const fs::path& path) {
  const auto text = core::readSmallFile(path);
  if (!text) return std::nullopt;
  std::string_view v(*text);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
    v.remove_suffix(1);
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n == 0 || n >= kNoLimitAbove) {
    return std::nullopt;
  }
  return n;
}

void lower(std::optional<uint64_t>& limit, std::optional<uint64_t> candidate) {
  if (candidate && (!limit || *candidate < *limit)) limit = candidate;
}

// The lowest of `files` in our group's directory and every one above it up to `base` (a
// parent's limit binds its children; in a container only its own part of the tree shows).
std::optional<uint64_t> lowestUpTo(fs::path base, const std::string& relative,
                                   std::initializer_list<const char*> files) {
  base = base.lexically_normal();
  fs::path dir = (base / fs::path(relative).relative_path()).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path(); // "base/": the group is the root
  std::error_code ec;
  // The path may be the host's while the mount is the container's own group.
  if (!fs::is_directory(dir, ec) || dir.lexically_relative(base).native().starts_with("..")) {
    dir = base;
  }
  std::optional<uint64_t> limit;
  for (;; dir = dir.parent_path()) {
    for (const char* f : files)
      lower(limit, readLimit(dir / f));
    if (dir == base || dir == dir.parent_path()) break;
  }
  return limit;
}

std::optional<uint64_t> memTotal(const fs::path& root) {
  const auto text = core::readSmallFile(root / "proc/meminfo");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string key;
  uint64_t kib = 0;
  while (in >> key) {
    if (key == "MemTotal:" && in >> kib) return kib * 1024;
    in.ignore(1 << 12, '\n');
  }
  return std::nullopt;
}

} // namespace

std::optional<uint64_t> cgroupMemoryLimit(const fs::path& root) {
  const auto cgroups = core::readSmallFile(root / "proc/self/cgroup");
  if (!cgroups) return std::nullopt;
  std::optional<uint64_t> limit;
  std::istringstream in(*cgroups);
  std::string line;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"; v2 is "0::path".
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      lower(limit, lowestUpTo(root / "sys/fs/cgroup", path, {"memory.max", "memory.high"}));
      continue;
    }
    std::istringstream list(controllers);
    std::string c;
    while (std::getline(list, c, ',')) {
      if (c == "memory") {
        lower(limit, lowestUpTo(root / "sys/fs/cgroup/memory", path, {"memory.limit_in_bytes"}));
      }
    }
  }
  if (limit) lower(limit, memTotal(root)); // a limit above the RAM is no limit to plan by
  return limit;
}

std::string MemoryPlan::describe() const {
  const auto size = [](uint64_t n) { return formatSize(static_cast<int64_t>(n)); };
  const std::string from =
      limit ? fmt::format("cgroup memory limit {}; outputs at buffer.max_bytes auto share a "
                          "quarter of it, {}",
                          size(*limit), size(total))
            : fmt::format("no cgroup memory limit; outputs at buffer.max_bytes auto share the "
                          "fixed default {}",
                          size(total));
  if (shared_by == 0) return fmt::format("memory: {} (no output holding records uses auto)", from);
  return fmt::format("memory: {}: {} each for {} output(s)", from, size(each), shared_by);
}

MemoryPlan planMemory(Config& config, std::optional<uint64_t> limit) {
  MemoryPlan plan;
  plan.limit = limit;
  plan.total = limit ? std::clamp<uint64_t>(*limit / kLimitShareDivisor, kMinPerOutput, kMaxTotal)
                     : kDefaultTotal;
  for (const auto& o : config.outputs) {
    if (o.common.buffer_auto && o.section.type != "null") ++plan.shared_by;
  }
  if (plan.shared_by > 0) {
    plan.each = std::max(plan.total / plan.shared_by, kMinPerOutput);
    // The spelling formatSize() prints exactly: a whole number of KiB.
    plan.each &= ~uint64_t{1023};
  }
  for (auto& o : config.outputs) {
    if (!o.common.buffer_auto) continue;
    o.common.buffer_max_bytes = o.section.type == "null" ? kMinPerOutput : plan.each;
  }
  return plan;
}

} // namespace ferry::config
