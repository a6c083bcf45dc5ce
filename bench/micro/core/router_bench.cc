// Router cost per batch: glob match (cached per tag) and fan-out by reference to N outputs.
// Figures and hardware: see bench/README.md.
#include <benchmark/benchmark.h>

#include "ferry/core/router.h"

namespace {

using namespace ferry::core;

class CountingQueue : public OutputQueue {
public:
  void enqueue(BatchRef b) override {
    ++count;
    b->resolveOutput(BatchOutcome::kDelivered);
  }
  bool overBudget() const override { return false; }
  uint64_t count = 0;
};

void BM_RouterFanOut(benchmark::State& state) {
  const int outputs = static_cast<int>(state.range(0));
  Router router;
  std::vector<CountingQueue> queues(outputs);
  for (int i = 0; i < outputs; ++i)
    router.addOutput(i % 2 ? "app.*" : "*", &queues[i]);
  const char* tags[] = {"app.web", "app.worker", "db", "ecs.firelens"};
  size_t n = 0;
  for (auto _ : state) {
    BatchRef b = Batch::create(tags[n++ % 4], RecordFormat::kLine);
    b->append(1, "x");
    benchmark::DoNotOptimize(router.route(std::move(b)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouterFanOut)->Arg(1)->Arg(3)->Arg(8);

} // namespace
