// The cgroup memory limit reader (over fake /proc and /sys/fs/cgroup trees) and the budget
// plan derived from it.
#include "ferry/config/memory.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace ferry::config {
namespace {

namespace fs = std::filesystem;

fs::path uniqueRoot() {
  static int n = 0;
  return fs::temp_directory_path() /
         ("ferry-cgroup-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
}

class CgroupTree {
public:
  CgroupTree() : root_(uniqueRoot()) {
    fs::remove_all(root_);
    write("proc/meminfo", "MemTotal:       24000000 kB\nMemFree:  100 kB\n");
  }
  ~CgroupTree() { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  const fs::path& root() const { return root_; }

private:
  fs::path root_;
};

TEST(CgroupMemoryLimit, V2LimitOfOwnGroup) {
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/system.slice/ferry.service\n");
  t.write("sys/fs/cgroup/system.slice/ferry.service/memory.max", "134217728\n");
  t.write("sys/fs/cgroup/system.slice/ferry.service/memory.high", "max\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 134217728u);
}

TEST(CgroupMemoryLimit, V2ParentLimitBindsAndMemoryHighCounts) {
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/ecs/task/container\n");
  t.write("sys/fs/cgroup/ecs/task/container/memory.max", "max\n");
  t.write("sys/fs/cgroup/ecs/task/memory.max", "536870912\n");
  t.write("sys/fs/cgroup/ecs/memory.high", "268435456\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 268435456u);
}

TEST(CgroupMemoryLimit, V2InsideAContainerNamespace) {
  // cgroupns: /proc/self/cgroup says "/", the mount is the container's own group.
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/\n");
  t.write("sys/fs/cgroup/memory.max", "104857600\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 104857600u);
}

TEST(CgroupMemoryLimit, V2HostPathNotMountedFallsBackToTheMount) {
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/docker/abc123\n");
  t.write("sys/fs/cgroup/memory.max", "209715200\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 209715200u);
}

TEST(CgroupMemoryLimit, NoLimitAnywhere) {
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/user.slice\n");
  t.write("sys/fs/cgroup/user.slice/memory.max", "max\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), std::nullopt);
}

TEST(CgroupMemoryLimit, V1LimitAndItsNoLimitSpelling) {
  CgroupTree t;
  t.write("proc/self/cgroup", "12:cpu,cpuacct:/docker/x\n4:memory:/docker/x\n");
  t.write("sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), std::nullopt);
  t.write("sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes", "67108864\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 67108864u);
}

TEST(CgroupMemoryLimit, LimitAboveTheMachineIsTheMachine) {
  CgroupTree t;
  t.write("proc/self/cgroup", "0::/big\n");
  t.write("sys/fs/cgroup/big/memory.max", "1099511627776\n"); // 1 TiB
  EXPECT_EQ(cgroupMemoryLimit(t.root()), 24000000ull * 1024);
}

TEST(CgroupMemoryLimit, UnreadableOrGarbage) {
  EXPECT_EQ(cgroupMemoryLimit(uniqueRoot()), std::nullopt); // no /proc at all
  CgroupTree t;
  t.write("proc/self/cgroup", "garbage\n0::/g\n");
  t.write("sys/fs/cgroup/g/memory.max", "12abc\n");
  EXPECT_EQ(cgroupMemoryLimit(t.root()), std::nullopt);
}

Config withOutputs(std::initializer_list<std::pair<const char*, uint64_t>> outputs) {
  Config c;
  for (const auto& [type, fixed] : outputs) {
    OutputSection o;
    o.section.type = type;
    if (fixed != 0) {
      o.common.buffer_max_bytes = fixed;
      o.common.buffer_auto = false;
    }
    c.outputs.push_back(o);
  }
  return c;
}

TEST(MemoryPlan, NoLimitSharesTheFixedDefault) {
  Config c = withOutputs({{"datadog", 0}, {"firehose", 0}, {"null", 0}});
  const MemoryPlan plan = planMemory(c, std::nullopt);
  EXPECT_EQ(plan.total, kDefaultTotal);
  EXPECT_EQ(plan.shared_by, 2u);
  EXPECT_EQ(c.outputs[0].common.buffer_max_bytes, 12ull << 20);
  EXPECT_EQ(c.outputs[1].common.buffer_max_bytes, 12ull << 20);
  EXPECT_EQ(c.outputs[2].common.buffer_max_bytes, kMinPerOutput);
  EXPECT_NE(plan.describe().find("no cgroup memory limit"), std::string::npos) << plan.describe();
  EXPECT_NE(plan.describe().find("12MiB each for 2 output(s)"), std::string::npos)
      << plan.describe();
}

TEST(MemoryPlan, AQuarterOfTheLimitAndExplicitBudgetsKept) {
  Config c = withOutputs({{"datadog", 0}, {"s3", 100ull << 20}});
  const MemoryPlan plan = planMemory(c, 256ull << 20);
  EXPECT_EQ(plan.total, 64ull << 20);
  EXPECT_EQ(plan.shared_by, 1u);
  EXPECT_EQ(c.outputs[0].common.buffer_max_bytes, 64ull << 20);
  EXPECT_EQ(c.outputs[1].common.buffer_max_bytes, 100ull << 20); // its own, untouched
  EXPECT_NE(plan.describe().find("cgroup memory limit 256MiB; outputs at buffer.max_bytes auto "
                                 "share a quarter of it, 64MiB: 64MiB each for 1 output(s)"),
            std::string::npos)
      << plan.describe();
}

TEST(MemoryPlan, FloorsAndCeiling) {
  Config small = withOutputs({{"datadog", 0}, {"firehose", 0}, {"s3", 0}});
  planMemory(small, 20ull << 20); // a quarter is 5 MiB: each gets the floor
  for (const auto& o : small.outputs)
    EXPECT_EQ(o.common.buffer_max_bytes, kMinPerOutput);
  Config huge = withOutputs({{"datadog", 0}});
  EXPECT_EQ(planMemory(huge, 64ull << 30).total, kMaxTotal);
  EXPECT_EQ(huge.outputs[0].common.buffer_max_bytes, kMaxTotal);
  // Uneven shares are whole KiB, so validate's rendering of them reads back exactly.
  Config three = withOutputs({{"datadog", 0}, {"firehose", 0}, {"s3", 0}});
  planMemory(three, std::nullopt);
  EXPECT_EQ(three.outputs[0].common.buffer_max_bytes % 1024, 0u);
  EXPECT_LE(three.outputs[0].common.buffer_max_bytes * 3, kDefaultTotal);
}

} // namespace
} // namespace ferry::config
