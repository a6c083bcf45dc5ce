// `ferry replay`: resends each output's dead-letter queue (storage::DeadLetters reads it)
// through a runner of that output, all or nothing per queue.
#include <fmt/format.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "ferry/app/pipeline.h"
#include "ferry/storage/disk_queue.h"

namespace ferry::app {

std::vector<ReplayResult> replayDeadLetters(const config::Config& config,
                                            output::PluginHost& plugins, obs::Metrics& metrics,
                                            const std::string& only,
                                            std::chrono::milliseconds budget,
                                            const ReplayProgressFn& progress) {
  std::vector<ReplayResult> results;
  if (!config.service.storage_path) throw std::runtime_error("service.storage is not configured");
  bool matched = false;
  for (const auto& o : config.outputs) {
    if (!only.empty() && o.section.name != only) continue;
    matched = true;
    auto queue = storage::DeadLetters::open(*config.service.storage_path, o.section.name);
    if (!queue) throw std::runtime_error(queue.error());
    if (!*queue) continue; // nothing given up
    storage::DeadLetters& dead = **queue;
    auto api = plugins.load(o.section.type);
    if (!api) throw std::runtime_error(api.error());
    output::OutputRunner runner(**api, o, metrics, config.service.http_unhealthy_after_ms);
    if (auto ok = runner.init(); !ok) throw std::runtime_error(ok.error());
    ReplayResult r{o.section.name};
    std::atomic<uint64_t> delivered{0};
    runner.setResolvedHook([&delivered](const core::Batch& b, core::BatchOutcome outcome) {
      if (outcome != core::BatchOutcome::kFailed) delivered.fetch_add(b.size());
    });
    runner.start(); // after the hook: the runner thread calls it
    const auto deadline = std::chrono::steady_clock::now() + budget;
    bool read_all = true;
    ReplayProgress p{.output = o.section.name, .queue_bytes = dead.bytes()};
    auto last_report = std::chrono::steady_clock::now();
    const auto report = [&](bool force) {
      if (!progress) return;
      const auto now = std::chrono::steady_clock::now();
      if (!force && now - last_report < std::chrono::milliseconds(100)) return;
      last_report = now;
      p.records = r.records;
      p.delivered = delivered.load();
      progress(p);
    };
    for (;;) {
      while (runner.overBudget() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      auto batch = dead.next();
      if (!batch) throw std::runtime_error(batch.error());
      if (!*batch) break;
      r.records += (**batch)->size();
      p.bytes += (**batch)->buffer().size();
      runner.enqueue(std::move(**batch));
      report(false);
      if (std::chrono::steady_clock::now() >= deadline) {
        read_all = false;
        break;
      }
    }
    while (progress && delivered.load() < r.records &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      report(false);
    }
    runner.finish(deadline);
    runner.join();
    r.delivered = delivered.load();
    report(true);
    r.complete = read_all && r.delivered == r.records;
    // All or nothing: a partly replayed queue is kept whole (resending it may repeat records,
    // never lose them).
    if (r.complete) dead.remove();
    results.push_back(std::move(r));
  }
  if (!only.empty() && !matched)
    throw std::runtime_error(fmt::format("no output named '{}'", only));
  return results;
}

} // namespace ferry::app
