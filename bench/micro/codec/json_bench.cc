// Records → JSON (msgpack maps and lines) and sink compression (gzip 1/6, zstd 1/3) on
// realistic request logs; baselines: rapidjson's Writer, msgpack-cxx's unpack.
//
// Figures (Release, GCC 12, AMD EPYC 2 vCPU @ 2.6 GHz, shared VM; CPU time, median of 3):
//   appendRecordJson, msgpack map (8 fields, 175 B in, 245 B out)         5.7 M rec/s, 958 MiB/s
//   appendRecordJson, msgpack map, epoch seconds instead of ISO 8601      6.0 M rec/s
//   appendRecordJson, line of JSON text (204 B, every quote escaped)      13.1 M rec/s, 2.5 GiB/s
//   appendRecordJson, plain access-log line (172 B)                       20.4 M rec/s, 3.3 GiB/s
//   appendJsonString, field values / JSON lines                           2.9 / 4.3 GiB/s
//   rapidjson Writer::String, same strings (no UTF-8 repair)              1.6 / 1.9 GiB/s
//   msgpack-cxx unpack only, same records                                 6.5 M rec/s
//   appendIso8601                                                         66 M/s
//   compress 1 MB NDJSON (unique ids and times):  gzip 1: 328 MiB/s, ratio 4.88
//                                                 gzip 6: 165 MiB/s, ratio 5.74
//                                                 zstd 1: 770 MiB/s, ratio 5.27
//                                                 zstd 3: 372 MiB/s, ratio 5.08
//   decompress (output bytes):                    gzip 746 MiB/s, zstd 2.3 GiB/s
#include <benchmark/benchmark.h>
#include <msgpack.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ferry/codec/compress.h"
#include "ferry/codec/json.h"

namespace {

using ferry::codec::Compression;
using ferry::core::ByteBuffer;
using ferry::core::RecordFormat;

constexpr int64_t kMay1 = 1'714'564'800'123'456'789;
constexpr size_t kRecords = 1024; // one batch's worth

struct Fields {
  std::string time, level, msg, request_id, method, path;
  int status;
  double latency_ms;
};

std::vector<Fields> makeFields(size_t count) {
  std::mt19937 rng(2024);
  const char* levels[] = {"info", "info", "info", "warn", "error", "debug"};
  const char* methods[] = {"GET", "GET", "POST", "PUT", "DELETE"};
  const char* paths[] = {"/api/v1/users", "/api/v1/orders/12345", "/healthz", "/api/v2/search"};
  const char* msgs[] = {"request completed", "request completed", "upstream timeout",
                        "cache miss for key user:42"};
  const int statuses[] = {200, 200, 200, 201, 204, 404, 500};
  std::vector<Fields> out;
  for (size_t i = 0; i < count; ++i) {
    Fields f;
    f.time = fmt::format("2024-05-01T12:{:02}:{:02}.{:03}Z", rng() % 60, rng() % 60, rng() % 1000);
    f.level = levels[rng() % std::size(levels)];
    f.msg = msgs[rng() % std::size(msgs)];
    f.request_id = fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", rng(), rng() & 0xffff,
                               rng() & 0xfff, rng() & 0xfff, (uint64_t{rng()} << 16) ^ rng());
    f.method = methods[rng() % std::size(methods)];
    f.path = paths[rng() % std::size(paths)];
    f.status = statuses[rng() % std::size(statuses)];
    f.latency_ms = static_cast<double>(rng() % 100000) / 8.0;
    out.push_back(std::move(f));
  }
  return out;
}

std::string toMsgpack(const Fields& f) {
  msgpack::sbuffer sb;
  msgpack::packer<msgpack::sbuffer> pk(sb);
  pk.pack_map(8);
  pk.pack(std::string("time")), pk.pack(f.time);
  pk.pack(std::string("level")), pk.pack(f.level);
  pk.pack(std::string("msg")), pk.pack(f.msg);
  pk.pack(std::string("request_id")), pk.pack(f.request_id);
  pk.pack(std::string("method")), pk.pack(f.method);
  pk.pack(std::string("path")), pk.pack(f.path);
  pk.pack(std::string("status")), pk.pack(f.status);
  pk.pack(std::string("latency_ms")), pk.pack(f.latency_ms);
  return std::string(sb.data(), sb.size());
}

std::string toJsonLine(const Fields& f) {
  return fmt::format(R"({{"time":"{}","level":"{}","msg":"{}","request_id":"{}","method":"{}",)"
                     R"("path":"{}","status":{},"latency_ms":{}}})",
                     f.time, f.level, f.msg, f.request_id, f.method, f.path, f.status,
                     f.latency_ms);
}

// An access-log line: plain text, nothing to escape.
std::string toPlainLine(const Fields& f) {
  return fmt::format("10.0.{}.{} - - [01/May/2024:12:00:00 +0000] \"{} {} HTTP/1.1\" {} 5123 "
                     "\"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt={} id={}",
                     f.status % 256, f.status % 7, f.method, f.path, f.status, f.latency_ms,
                     f.request_id);
}

struct Corpus {
  std::vector<std::string> msgpack, json_lines, plain_lines;
  std::vector<std::string> strings; // every string value, for the escaper baselines
  size_t msgpack_bytes = 0, json_line_bytes = 0, plain_line_bytes = 0, string_bytes = 0;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus c;
    for (const auto& f : makeFields(kRecords)) {
      c.msgpack.push_back(toMsgpack(f));
      c.json_lines.push_back(toJsonLine(f));
      c.plain_lines.push_back(toPlainLine(f));
      for (const std::string* s : {&f.time, &f.level, &f.msg, &f.request_id, &f.method, &f.path}) {
        c.strings.push_back(*s);
        c.string_bytes += s->size();
      }
      c.msgpack_bytes += c.msgpack.back().size();
      c.json_line_bytes += c.json_lines.back().size();
      c.plain_line_bytes += c.plain_lines.back().size();
    }
    return c;
  }();
  return c;
}

// One batch of records per iteration into a reused buffer, as a sink's encoder does.
void runRecords(benchmark::State& state, RecordFormat format, const std::vector<std::string>& recs,
                size_t bytes, ferry::codec::TimeFormat time_format) {
  ferry::codec::RecordJsonOptions options;
  options.time_format = time_format;
  ByteBuffer out(1 << 20);
  size_t out_bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& r : recs) {
      if (!ferry::codec::appendRecordJson(out, format, {kMay1, r}, options)) {
        state.SkipWithError("record rejected");
        return;
      }
      out.push_back('\n');
    }
    out_bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["in_bytes/rec"] = static_cast<double>(bytes) / static_cast<double>(recs.size());
  state.counters["out_bytes/rec"] =
      static_cast<double>(out_bytes) / static_cast<double>(recs.size());
}

void BM_RecordJson_MsgpackMap(benchmark::State& state) {
  runRecords(state, RecordFormat::kMsgpackMap, corpus().msgpack, corpus().msgpack_bytes,
             ferry::codec::TimeFormat::kIso8601);
}
BENCHMARK(BM_RecordJson_MsgpackMap);

void BM_RecordJson_MsgpackMapEpochSeconds(benchmark::State& state) {
  runRecords(state, RecordFormat::kMsgpackMap, corpus().msgpack, corpus().msgpack_bytes,
             ferry::codec::TimeFormat::kEpochSeconds);
}
BENCHMARK(BM_RecordJson_MsgpackMapEpochSeconds);

// A JSON application log read as a line: every quote gets escaped.
void BM_RecordJson_LineOfJson(benchmark::State& state) {
  runRecords(state, RecordFormat::kLine, corpus().json_lines, corpus().json_line_bytes,
             ferry::codec::TimeFormat::kIso8601);
}
BENCHMARK(BM_RecordJson_LineOfJson);

void BM_RecordJson_LinePlain(benchmark::State& state) {
  runRecords(state, RecordFormat::kLine, corpus().plain_lines, corpus().plain_line_bytes,
             ferry::codec::TimeFormat::kIso8601);
}
BENCHMARK(BM_RecordJson_LinePlain);

// The time field alone, a second's worth of distinct timestamps.
void BM_Iso8601(benchmark::State& state) {
  ByteBuffer out(1 << 16);
  int64_t ts = kMay1;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < 1000; ++i)
      ferry::codec::appendIso8601(out, ts + i * 1'000'003);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_Iso8601);

// ---- Baselines -------------------------------------------------------------------------

void BM_JsonString_Ferry(benchmark::State& state) {
  const auto& strings = state.range(0) ? corpus().json_lines : corpus().strings;
  size_t bytes = 0;
  for (const auto& s : strings)
    bytes += s.size();
  ByteBuffer out(1 << 20);
  for (auto _ : state) {
    out.clear();
    for (const auto& s : strings)
      ferry::codec::appendJsonString(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * strings.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_JsonString_Ferry)->Arg(0)->Arg(1)->ArgName("lines");

// rapidjson's Writer on the same strings. Default flags: it does not check UTF-8 at all
// (kWriteValidateEncodingFlag would fail the document instead of replacing bytes), so it
// does less than appendJsonString and is still the slower of the two.
void BM_JsonString_RapidjsonWriter(benchmark::State& state) {
  const auto& strings = state.range(0) ? corpus().json_lines : corpus().strings;
  size_t bytes = 0;
  for (const auto& s : strings)
    bytes += s.size();
  rapidjson::StringBuffer sb;
  for (auto _ : state) {
    sb.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartArray();
    for (const auto& s : strings)
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
    benchmark::DoNotOptimize(sb.GetString());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * strings.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_JsonString_RapidjsonWriter)->Arg(0)->Arg(1)->ArgName("lines");

// msgpack-cxx's unpack alone (object tree in a zone, no JSON written): the first half of
// what a msgpack-cxx based encoder would cost.
void BM_MsgpackCxxUnpackOnly(benchmark::State& state) {
  const auto& recs = corpus().msgpack;
  for (auto _ : state) {
    for (const auto& r : recs) {
      msgpack::object_handle oh = msgpack::unpack(r.data(), r.size());
      benchmark::DoNotOptimize(oh.get().via.map.size);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().msgpack_bytes));
}
BENCHMARK(BM_MsgpackCxxUnpackOnly);

// ---- Compression -----------------------------------------------------------------------

// 1 MB of NDJSON as the encoder writes it (what an S3 object or Datadog request holds).
// Every record distinct (ids, times), so no codec finds whole repeated records.
const std::string& ndjson() {
  static const std::string s = [] {
    ByteBuffer out;
    int64_t ts = kMay1;
    for (const auto& f : makeFields(6000)) {
      ferry::codec::appendRecordJson(out, RecordFormat::kMsgpackMap, {ts, toMsgpack(f)}, {});
      out.push_back('\n');
      ts += 1'234'567;
      if (out.size() >= 1'000'000) break;
    }
    return std::string(out.view().substr(0, 1'000'000));
  }();
  return s;
}

void BM_Compress(benchmark::State& state, Compression c, int level) {
  const std::string& in = ndjson();
  ByteBuffer out(in.size() + 4096);
  for (auto _ : state) {
    out.clear();
    if (!ferry::codec::compress(c, level, in, out)) {
      state.SkipWithError("compress failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(out.size());
}
BENCHMARK_CAPTURE(BM_Compress, gzip_1, Compression::kGzip, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compress, gzip_6, Compression::kGzip, 6)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compress, zstd_1, Compression::kZstd, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Compress, zstd_3, Compression::kZstd, 3)->Unit(benchmark::kMillisecond);

// Decompression throughput, counted in decompressed bytes.
void BM_Decompress(benchmark::State& state, Compression c) {
  const std::string& in = ndjson();
  ByteBuffer z;
  (void)ferry::codec::compress(c, 0, in, z);
  ByteBuffer out(in.size() + 4096);
  for (auto _ : state) {
    out.clear();
    if (!ferry::codec::decompress(c, z.view(), out, in.size())) {
      state.SkipWithError("decompress failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}
BENCHMARK_CAPTURE(BM_Decompress, gzip, Compression::kGzip)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decompress, zstd, Compression::kZstd)->Unit(benchmark::kMillisecond);

} // namespace
