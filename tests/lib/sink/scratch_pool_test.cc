// The sink kit's ScratchPool: objects made on demand, one per concurrent borrower at most,
// given back at the end of the lease and reused (also across threads).
#include "ferry/sink/scratch_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ferry::sink {
namespace {

struct Counted {
  explicit Counted(int id) : id(id) {}
  int id;
  int uses = 0;
};

TEST(SinkScratchPoolTest, ReusesWhatWasGivenBack) {
  int made = 0;
  ScratchPool<Counted> pool([&] { return std::make_unique<Counted>(made++); });
  {
    auto a = pool.borrow();
    auto b = pool.borrow(); // a is out: a second one is made
    EXPECT_NE(a->id, b->id);
    EXPECT_EQ(pool.idle(), 0u);
  }
  EXPECT_EQ(made, 2);
  EXPECT_EQ(pool.idle(), 2u);
  for (int i = 0; i < 10; ++i) {
    auto c = pool.borrow();
    ++c->uses;
  }
  EXPECT_EQ(made, 2);
}

TEST(SinkScratchPoolTest, NeverLendsOneObjectTwiceAtOnce) {
  std::atomic<int> made = 0;
  ScratchPool<Counted> pool([&] { return std::make_unique<Counted>(made++); });
  std::atomic<bool> shared = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto s = pool.borrow();
        if (++s->uses != 1) shared = true; // another thread holds it too
        --s->uses;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_FALSE(shared);
  EXPECT_LE(made.load(), 4);
  EXPECT_EQ(pool.idle(), static_cast<size_t>(made.load()));
}

} // namespace
} // namespace ferry::sink
