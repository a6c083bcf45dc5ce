// Ring throughput with 1, 2 and 4 producers and one consumer (items/s through the ring).
// Figures and hardware: see bench/README.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ferry/core/ring.h"

namespace {

void BM_RingMpsc(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  constexpr uint64_t kPerProducer = 1 << 18;
  for (auto _ : state) {
    ferry::core::MpscRing<uint64_t> ring(4096);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&ring] {
        for (uint64_t i = 1; i <= kPerProducer; ++i)
          ring.push(i);
      });
    }
    uint64_t received = 0, sum = 0, v = 0;
    const uint64_t total = kPerProducer * producers;
    while (received < total) {
      if (ring.popWait(v, std::chrono::seconds(1))) {
        sum += v;
        ++received;
      }
    }
    for (auto& t : threads)
      t.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kPerProducer * producers);
}
BENCHMARK(BM_RingMpsc)->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);

} // namespace
