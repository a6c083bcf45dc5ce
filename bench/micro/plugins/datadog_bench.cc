// The Datadog encoder (plugins/datadog/encoder.cc, on the sink kit's record → JSON pieces):
// one request's JSON body from 1,000 FireLens-shaped records (msgpack maps: log plus the ECS
// fields), as is, with provider ecs (the ECS fields become ddtags) and with
// parse_json_message on a JSON log line. Built into the bench from the plugin's sources.
//
// Figures (Release, GCC 12, 2 vCPU shared VM under load from other builds; CPU time per
// 1,000 records, median of 3, runs taken back to back with the encoder before issue 15's
// move into the kit):                     before     after
//   plain                                  436 µs     439 µs    (2.3 M rec/s)
//   provider ecs                           485 µs     501 µs
//   parse_json_message                     938 µs     907 µs
#include <benchmark/benchmark.h>
#include <msgpack.hpp>

#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "datadog/encoder.h"

namespace {

using ferry::datadog::DatadogEncoder;
using ferry::datadog::EncoderSettings;

constexpr int64_t kMay1 = 1'714'564'800'123'456'789;
constexpr size_t kRecords = 1000; // one request's worth

std::string firelensRecord(std::mt19937& rng, bool json_log) {
  msgpack::sbuffer sb;
  msgpack::packer<msgpack::sbuffer> pk(sb);
  const std::string log =
      json_log ? fmt::format(R"({{"level":"info","msg":"request completed","status":{},)"
                             R"("path":"/api/v1/orders/{}","latency_ms":{}}})",
                             200 + rng() % 5, rng() % 100000, rng() % 1000)
               : fmt::format("10.0.0.{} - - \"GET /api/v1/orders/{} HTTP/1.1\" 200 5123 rt={}",
                             rng() % 256, rng() % 100000, rng() % 1000);
  pk.pack_map(7);
  pk.pack(std::string("log")), pk.pack(log);
  pk.pack(std::string("source")), pk.pack(std::string("stdout"));
  pk.pack(std::string("container_id")), pk.pack(fmt::format("{:016x}{:016x}", rng(), rng()));
  pk.pack(std::string("container_name")), pk.pack(std::string("/ecs-app-1-web"));
  pk.pack(std::string("ecs_cluster")), pk.pack(std::string("prod"));
  pk.pack(std::string("ecs_task_arn")),
      pk.pack(fmt::format("arn:aws:ecs:eu-west-1:123456789012:task/prod/{:032x}", rng()));
  pk.pack(std::string("ecs_task_definition")), pk.pack(std::string("web:42"));
  return std::string(sb.data(), sb.size());
}

struct Corpus {
  std::vector<std::string> data;
  std::vector<ferry_plugin_record> records;
  size_t bytes = 0;
};

const Corpus& corpus(bool json_log) {
  static Corpus plain, json;
  Corpus& c = json_log ? json : plain;
  if (c.records.empty()) {
    std::mt19937 rng(2024);
    for (size_t i = 0; i < kRecords; ++i) {
      c.data.push_back(firelensRecord(rng, json_log));
      c.bytes += c.data.back().size();
    }
    for (const std::string& d : c.data) {
      c.records.push_back({kMay1, "app", 3, reinterpret_cast<const uint8_t*>(d.data()), d.size(),
                           FERRY_RECORD_MSGPACK_MAP});
    }
  }
  return c;
}

void run(benchmark::State& state, EncoderSettings settings, bool json_log) {
  const Corpus& c = corpus(json_log);
  settings.service = "checkout";
  settings.source = "nodejs";
  settings.tags = "env:prod";
  settings.hostname = "task-123";
  DatadogEncoder encoder(settings);
  ferry::core::ByteBuffer out;
  for (auto _ : state) {
    auto stats = encoder.encodeJson(c.records, out);
    benchmark::DoNotOptimize(stats);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}

void BM_DatadogEncode_Plain(benchmark::State& state) {
  run(state, {}, false);
}
BENCHMARK(BM_DatadogEncode_Plain);

void BM_DatadogEncode_ProviderEcs(benchmark::State& state) {
  EncoderSettings s;
  s.provider = ferry::datadog::Provider::kEcs;
  run(state, s, false);
}
BENCHMARK(BM_DatadogEncode_ProviderEcs);

void BM_DatadogEncode_ParseJsonMessage(benchmark::State& state) {
  EncoderSettings s;
  s.parse_json_message = true;
  run(state, s, true);
}
BENCHMARK(BM_DatadogEncode_ParseJsonMessage);

} // namespace
