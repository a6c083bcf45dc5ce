// A scripted in-process sink plugin for the output runner's tests (LOCAL transport, or HTTP
// with a url), and the fixture that builds a runner around it. Each test file that includes it
// gets its own copy (anonymous namespace): name fixtures apart (gtest keys suites by name).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "ferry/output/runner.h"
#include "test_support.h"

namespace ferry::output {
namespace {

using namespace std::chrono_literals;

struct TestRequest {
  std::vector<std::string> records; // the records it holds now
  std::vector<size_t> positions;    // of each, among those it was encoded from
  std::vector<uint8_t> states;      // ferry_record_state of each record it was encoded from
  std::string body;
  std::string partition; // host->encode_partition during its encode
};

// The script: one verdict per deliver() call, taken in order; DELIVERED when it runs out (or,
// with a judge, the judge decides). With a url, the plugin is an HTTP sink instead: every request
// is POSTed there with a body of body_bytes, and a 200 answer delivers it.
struct Script {
  std::mutex mu;
  std::deque<ferry_plugin_verdict> verdicts;
  std::vector<std::vector<std::string>> delivered; // record payloads of each delivered request
  std::vector<std::string> dropped;                // records the sink or the encoder refused
  // Set: decides each local attempt's verdict instead of `verdicts` (called with mu held);
  // it may narrow the request with settle().
  std::function<void(TestRequest&, ferry_plugin_verdict&)> judge;
  // Set: the encoder refuses the records it is true for (counted in consumed and dropped).
  std::function<bool(std::string_view)> refuse;
  std::vector<size_t> attempt_sizes; // records in each attempt
  uint32_t max_records = 100;
  uint64_t max_request_bytes = 1 << 20;
  size_t encode_cap = 0;        // > 0: encode consumes at most this many records
  uint64_t held_per_record = 0; // what a request reports holding besides its body
  std::string url;
  size_t body_bytes = 0;
  uint64_t live_body_bytes = 0; // of the requests not yet freed
  uint64_t peak_body_bytes = 0;
  bool parallel_encode = false;
  // Partitioned batching (limits.partition_template, max_partitions). With "$TAG", every
  // encode whose records do not all carry the tag the host names is a violation.
  std::string partition_template;
  uint32_t max_partitions = 0;
  size_t partition_violations = 0;
  std::vector<std::string> delivered_partitions; // beside `delivered` (verdicts, not judge)
  std::set<std::thread::id> encode_threads;
  std::set<std::thread::id> deliver_threads;
};

Script* g_script = nullptr;
const ferry_host_api* g_host = nullptr;

// The sink's side of a verdict: fate[i] is what became of the request's i-th record now; the
// delivered and dropped ones are noted and leave the request (its mu held).
void settle(TestRequest& r, const std::vector<uint8_t>& fate) {
  std::vector<std::string> kept, delivered;
  std::vector<size_t> kept_positions;
  for (size_t i = 0; i < r.records.size(); ++i) {
    r.states[r.positions[i]] = fate[i];
    if (fate[i] == FERRY_RECORD_HELD) {
      kept.push_back(std::move(r.records[i]));
      kept_positions.push_back(r.positions[i]);
    } else if (fate[i] == FERRY_RECORD_DELIVERED) {
      delivered.push_back(std::move(r.records[i]));
    } else {
      g_script->dropped.push_back(std::move(r.records[i]));
    }
  }
  if (!delivered.empty()) g_script->delivered.push_back(std::move(delivered));
  r.records = std::move(kept);
  r.positions = std::move(kept_positions);
}

const ferry_plugin_descriptor kDescriptor = {
    FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR, "scripted", "test", nullptr, 0};

int testInit(const ferry_host_api* host, const char*, size_t, ferry_plugin_instance** inst,
             ferry_plugin_limits* limits, char*, size_t) {
  g_host = host;
  *inst = reinterpret_cast<ferry_plugin_instance*>(g_script);
  limits->partition_template =
      g_script->partition_template.empty() ? nullptr : g_script->partition_template.c_str();
  limits->max_partitions = g_script->max_partitions;
  limits->transport = g_script->url.empty() ? FERRY_TRANSPORT_LOCAL : FERRY_TRANSPORT_HTTP;
  limits->max_records = g_script->max_records;
  limits->max_request_bytes = g_script->max_request_bytes;
  limits->flush_interval_ms = 20;
  limits->parallel_encode = g_script->parallel_encode ? 1 : 0;
  return 0;
}
void testDestroy(ferry_plugin_instance*) {}
int testEncode(ferry_plugin_instance*, const ferry_plugin_record* records, size_t count,
               size_t* consumed, size_t* dropped, ferry_plugin_request** out, char*, size_t) {
  size_t n = g_script->encode_cap ? std::min(count, g_script->encode_cap) : count;
  {
    std::lock_guard lock(g_script->mu);
    g_script->encode_threads.insert(std::this_thread::get_id());
  }
  auto* r = new TestRequest;
  const char* key = nullptr;
  const size_t key_len = g_host->encode_partition(g_host->host_context, &key);
  r->partition.assign(key, key_len);
  if (g_script->partition_template == "$TAG") {
    for (size_t i = 0; i < count; ++i) {
      if (std::string_view(records[i].tag, records[i].tag_len) != r->partition) {
        std::lock_guard lock(g_script->mu);
        ++g_script->partition_violations;
      }
    }
  }
  size_t refused = 0;
  r->states.assign(n, FERRY_RECORD_HELD);
  for (size_t i = 0; i < n; ++i) {
    std::string record(reinterpret_cast<const char*>(records[i].data), records[i].data_len);
    if (g_script->refuse && g_script->refuse(record)) {
      std::lock_guard lock(g_script->mu);
      g_script->dropped.push_back(std::move(record));
      r->states[i] = FERRY_RECORD_DROPPED;
      ++refused;
      continue;
    }
    r->records.push_back(std::move(record));
    r->positions.push_back(i);
  }
  {
    std::lock_guard lock(g_script->mu);
    r->body.assign(g_script->body_bytes, 'b');
    g_script->live_body_bytes += r->body.size();
    g_script->peak_body_bytes = std::max(g_script->peak_body_bytes, g_script->live_body_bytes);
  }
  *consumed = n;
  *dropped = refused;
  *out = reinterpret_cast<ferry_plugin_request*>(r);
  return 0;
}
void testDeliver(ferry_plugin_instance*, ferry_plugin_request* req, ferry_plugin_verdict* v) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  std::lock_guard lock(g_script->mu);
  g_script->attempt_sizes.push_back(r->records.size());
  g_script->deliver_threads.insert(std::this_thread::get_id());
  if (g_script->judge) {
    g_script->judge(*r, *v);
    return;
  }
  if (!g_script->verdicts.empty()) {
    *v = g_script->verdicts.front();
    g_script->verdicts.pop_front();
  } else {
    v->kind = FERRY_VERDICT_DELIVERED;
  }
  if (v->kind == FERRY_VERDICT_DELIVERED) {
    g_script->delivered.push_back(r->records);
    g_script->delivered_partitions.push_back(r->partition);
  }
  if (v->kind == FERRY_VERDICT_DROP)
    g_script->dropped.insert(g_script->dropped.end(), r->records.begin(), r->records.end());
  if (v->kind == FERRY_VERDICT_PARTIAL) {
    // The first records_delivered were accepted, the next records_dropped refused; the
    // request keeps the rest.
    std::vector<uint8_t> fate(r->records.size(), FERRY_RECORD_HELD);
    for (size_t i = 0; i < fate.size() && i < v->records_delivered + v->records_dropped; ++i) {
      fate[i] = i < v->records_delivered ? FERRY_RECORD_DELIVERED : FERRY_RECORD_DROPPED;
    }
    settle(*r, fate);
  }
}
int testRequestRecords(ferry_plugin_instance*, const ferry_plugin_request* req, uint8_t* states,
                       size_t count) {
  auto* r = reinterpret_cast<const TestRequest*>(req);
  if (count != r->states.size()) return 1;
  std::copy(r->states.begin(), r->states.end(), states);
  return 0;
}
void testFree(ferry_plugin_instance*, ferry_plugin_request* req) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  {
    std::lock_guard lock(g_script->mu);
    g_script->live_body_bytes -= r->body.size();
  }
  delete r;
}
uint64_t testRequestBytes(ferry_plugin_instance*, const ferry_plugin_request* req) {
  auto* r = reinterpret_cast<const TestRequest*>(req);
  return r->body.size() + r->records.size() * g_script->held_per_record;
}
int testHttpRequest(ferry_plugin_instance*, ferry_plugin_request* req, ferry_http_request* out,
                    char*, size_t) {
  auto* r = reinterpret_cast<TestRequest*>(req);
  out->method = "POST";
  out->url = g_script->url.c_str();
  out->body = reinterpret_cast<const uint8_t*>(r->body.data());
  out->body_len = r->body.size();
  return 0;
}
void testHttpResponse(ferry_plugin_instance*, ferry_plugin_request* req,
                      const ferry_http_response* response, ferry_plugin_verdict* v) {
  v->kind = response->status == 200 ? FERRY_VERDICT_DELIVERED : FERRY_VERDICT_RETRY;
  std::lock_guard lock(g_script->mu);
  if (v->kind == FERRY_VERDICT_DELIVERED)
    g_script->delivered.push_back(reinterpret_cast<TestRequest*>(req)->records);
}

PluginApi testApi() {
  PluginApi api;
  api.path = "<in-process>";
  api.descriptor = &kDescriptor;
  api.init = testInit;
  api.destroy = testDestroy;
  api.encode = testEncode;
  api.deliver = testDeliver;
  api.request_free = testFree;
  api.request_bytes = testRequestBytes;
  api.request_records = testRequestRecords;
  api.http_request = testHttpRequest;
  api.http_response = testHttpResponse;
  return api;
}

[[maybe_unused]] ferry_plugin_verdict verdict(ferry_verdict_kind kind) {
  ferry_plugin_verdict v{};
  v.kind = kind;
  return v;
}

class RunnerTest : public ::testing::Test {
protected:
  void SetUp() override { g_script = &script_; }
  void TearDown() override { g_script = nullptr; }

  std::unique_ptr<OutputRunner> makeRunner(config::RetryPolicy retry = {1, 1, 5},
                                           uint64_t budget = 256ull << 20,
                                           uint64_t flush_interval_ms = 0) {
    config::OutputSection cfg;
    cfg.section.kind = "output";
    cfg.section.type = "scripted";
    cfg.section.name = "scripted";
    cfg.section.match = "*";
    cfg.common.retry = retry;
    cfg.common.buffer_max_bytes = budget;
    cfg.common.flush_interval_ms = flush_interval_ms;
    cfg.common.concurrency = concurrency_;
    auto r = std::make_unique<OutputRunner>(api_, cfg, metrics_);
    auto ok = r->init();
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error());
    return r;
  }

  // Routes a batch to the runner the way the router does (one output).
  core::BatchRef send(OutputRunner& r, size_t n, std::string prefix, core::BatchOutcome* outcome,
                      int* calls, std::string tag = "t") {
    auto b = test::makeLineBatch(std::move(tag), n, prefix);
    b->setFinalizer([outcome, calls](core::BatchOutcome o) {
      if (outcome) *outcome = o;
      if (calls) ++*calls;
    });
    b->expectOutputs(1);
    r.enqueue(b);
    return b;
  }

  uint64_t count(const char* result) {
    return metrics_.counterValue("ferry_output_records_total",
                                 {{"output", "scripted"}, {"result", result}});
  }
  // Requests, not records (Fluent Bit's errors / retries_failed, for /api/v1/health).
  uint64_t givenUp(const char* reason) {
    return metrics_.counterValue("ferry_output_requests_given_up_total",
                                 {{"output", "scripted"}, {"reason", reason}});
  }

  Script script_;
  PluginApi api_ = testApi();
  uint32_t concurrency_ = 0; // auto
  obs::Metrics metrics_;
};

} // namespace
} // namespace ferry::output
