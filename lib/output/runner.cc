// Output runner: one thread per output. Batches arrive from the router; records are taken
// in order into requests of at most the plugin's limits (runner_encode.cc); requests go out
// (HTTP through one libcurl multi handle, or the plugin's own local delivery), and each
// verdict decides what becomes of the records the request still holds (runner_requests.cc).
// This file: the runner's life (init, feeding, shutdown, health) and its scheduling loop.
// Memory and the budget: runner_memory.cc.
#include "ferry/output/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ferry/net/http_client.h"
#include "ferry/obs/log.h"
#include "ferry/obs/redact.h"
#include "runner_internal.h"

namespace ferry::output {

using Clock = RunnerClock;

namespace {

void hostLog(void* ctx, uint32_t level, const char* message, size_t len) {
  auto* runner = static_cast<OutputRunner*>(ctx);
  obs::logMessage(static_cast<obs::LogLevel>(std::min<uint32_t>(level, 3)), runner->name(),
                  std::string_view(message, len));
}

void hostCounterAdd(void* ctx, const char* name, uint64_t value) {
  auto* runner = static_cast<OutputRunner*>(ctx);
  std::string n(name);
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return;
  }
  obs::Metrics::global()
      .counter("ferry_output_" + n + "_total", {{"output", runner->name()}},
               "Count the output plugin reports under this name (plugin.h counter_add)")
      .add(value);
}

// Every finished attempt (whatever its verdict) is one observation: slow failures are what
// an operator looks for.
obs::Histogram& requestDuration(obs::Metrics& metrics, const std::string& output) {
  return metrics.histogram(
      "ferry_output_request_duration_seconds", {{"output", output}},
      "Duration of each request attempt to the sink (HTTP round trip or local delivery)");
}

} // namespace

OutputRunner::OutputRunner(const PluginApi& api, config::OutputSection config,
                           obs::Metrics& metrics, uint64_t unhealthy_after_ms)
    : api_(api), config_(std::move(config)), metrics_(metrics),
      unhealthy_after_ms_(unhealthy_after_ms), backoff_(config_.common.retry),
      concurrency_(config_.common.concurrency, 0) {
  const obs::Labels out{{"output", name()}};
  auto records = [&](const char* result) {
    return &metrics_.counter(
        "ferry_output_records_total", {{"output", name()}, {"result", result}},
        "Records resolved by each output: sent, dropped (refused for good), failed (given up)");
  };
  records_sent_ = records("sent");
  records_dropped_ = records("dropped");
  records_failed_ = records("failed");
  retries_ =
      &metrics_.counter("ferry_output_retries_total", out, "Request attempts that will be retried");
  const std::string requests_help =
      "Request attempts to the sink by each output: ok, or error (failed or refused)";
  requests_ok_ = &metrics_.counter("ferry_output_requests_total",
                                   {{"output", name()}, {"result", "ok"}}, requests_help);
  requests_failed_ = &metrics_.counter("ferry_output_requests_total",
                                       {{"output", name()}, {"result", "error"}}, requests_help);
  // Fluent Bit's per-output `errors` and `retries_failed`, which its Health_Check counts.
  auto given_up = [&](const char* reason) {
    return &metrics_.counter(
        "ferry_output_requests_given_up_total", {{"output", name()}, {"reason", reason}},
        "Requests resolved without delivery: refused for good by the sink, or retries exhausted");
  };
  requests_refused_ = given_up("refused");
  requests_exhausted_ = given_up("retries_exhausted");
  buffer_gauge_ =
      &metrics_.gauge("ferry_output_buffer_bytes", out,
                      "Bytes held by each output: its records and its encoded requests");
  request_bytes_gauge_ =
      &metrics_.gauge("ferry_output_request_bytes", out,
                      "Bytes held by each output's encoded requests (in flight, waiting for a "
                      "slot or a retry); part of ferry_output_buffer_bytes");
  bytes_sent_ = &metrics_.counter(
      "ferry_output_bytes_total", out,
      "Bytes of the requests each output's sink accepted in full, as sent (encoded, "
      "compressed where the sink compresses)");
  // The budget ferry_output_buffer_bytes is held to (`ferry top` shows the fill).
  metrics_.gauge("ferry_output_buffer_max_bytes", out, "Each output's buffer.max_bytes")
      .set(static_cast<int64_t>(config_.common.buffer_max_bytes));
  in_flight_gauge_ = &metrics_.gauge("ferry_output_requests_in_flight", out,
                                     "Requests each output has sent and not yet had answered");
  healthy_gauge_ =
      &metrics_.gauge("ferry_output_healthy", out,
                      "1 while the output is healthy as /health judges it, 0 while it is failing");
  healthy_gauge_->set(1);
  concurrency_gauge_ = &metrics_.gauge(
      "ferry_output_concurrency_limit", out,
      "Requests each output may have in flight now (adaptive, at most its concurrency option)");
  request_duration_ =
      &requestDuration(metrics_, name()); // exported (all zero) before the first request
  host_api_.abi_major = FERRY_PLUGIN_ABI_MAJOR;
  host_api_.abi_minor = FERRY_PLUGIN_ABI_MINOR;
  host_api_.host_context = this;
  host_api_.log = hostLog;
  host_api_.counter_add = hostCounterAdd;
  host_api_.encode_partition = hostEncodePartition;
  last_success_ns_.store(runnerNowNs());
}

OutputRunner::~OutputRunner() {
  if (thread_.joinable()) {
    finish(Clock::now());
    join();
  }
  pool_.reset(); // its threads may be inside ferry_on_encode
  for (auto& [id, r] : in_flight_)
    api_.request_free(instance_, r->handle);
  for (auto& r : retry_queue_)
    api_.request_free(instance_, r->handle);
  for (auto& r : ready_)
    api_.request_free(instance_, r->handle);
  for (auto& job : encoded_done_) {
    for (auto& e : job.encoded) {
      if (e.request && e.request->handle) api_.request_free(instance_, e.request->handle);
      if (e.stray) api_.request_free(instance_, e.stray);
    }
  }
  if (instance_) api_.destroy(instance_);
}

std::expected<void, std::string> OutputRunner::init() {
  // The output's secret options are masked in every log line, its plugin's lines included.
  for (const auto& [key, value] : config_.section.values) {
    const config::OptionSpec* spec =
        config_.section.table ? config::findOption(*config_.section.table, key) : nullptr;
    if (spec ? config::isSecretOption(*spec) : config::isSecretKey(key)) obs::addSecret(value.text);
  }
  const std::string json = config_.section.toJson();
  char error[512] = {0};
  const int rc =
      api_.init(&host_api_, json.data(), json.size(), &instance_, &limits_, error, sizeof error);
  if (rc != 0 || instance_ == nullptr) {
    return std::unexpected(fmt::format("output {} ({}): {}", name(), config_.section.type,
                                       error[0] ? error : "initialisation failed"));
  }
  if (limits_.max_records == 0) limits_.max_records = kDefaultMaxRecords;
  if (limits_.max_request_bytes == 0) limits_.max_request_bytes = kDefaultMaxRequestBytes;
  if (limits_.request_timeout_ms == 0) limits_.request_timeout_ms = kDefaultRequestTimeoutMs;
  if (limits_.max_partitions == 0) limits_.max_partitions = kDefaultMaxPartitions;
  if (limits_.partition_template && limits_.partition_template[0]) {
    auto parsed = PartitionTemplate::parse(limits_.partition_template);
    if (!parsed) {
      return std::unexpected(
          fmt::format("output {} ({}): {}", name(), config_.section.type, parsed.error()));
    }
    partition_template_ = std::move(*parsed);
  }
  flush_interval_ms_ = config_.common.flush_interval_ms ? config_.common.flush_interval_ms
                       : limits_.flush_interval_ms      ? limits_.flush_interval_ms
                                                        : kDefaultFlushIntervalMs;
  const uint32_t max_conc =
      limits_.transport == FERRY_TRANSPORT_LOCAL ? 1 : limits_.max_concurrency;
  concurrency_ = ConcurrencyLimit(
      limits_.transport == FERRY_TRANSPORT_LOCAL ? 1 : config_.common.concurrency, max_conc);
  if (limits_.transport == FERRY_TRANSPORT_HTTP) http_ = std::make_unique<net::HttpClient>();
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (limits_.parallel_encode && cores > 1) {
    pool_ = std::make_unique<EncodePool>(std::min<size_t>(cores, 8));
  }
  return {};
}

void OutputRunner::start() {
  thread_ = std::thread([this] { run(); });
}

void OutputRunner::enqueue(core::BatchRef batch) {
  const uint64_t bytes = batch->byteSize();
  record_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  pending_records_.fetch_add(batch->size(), std::memory_order_relaxed);
  bool wake;
  {
    std::lock_guard lock(incoming_mu_);
    incoming_.push_back(std::move(batch));
    wake = sleeping_;
  }
  if (wake) {
    incoming_cv_.notify_one();
    if (http_) http_->wakeup();
  }
}

void OutputRunner::finish(Clock::time_point deadline) {
  deadline_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
  finishing_.store(true);
  { std::lock_guard lock(incoming_mu_); }
  incoming_cv_.notify_one();
  if (http_) http_->wakeup();
}

void OutputRunner::join() {
  if (thread_.joinable()) thread_.join();
}

OutputHealth OutputRunner::health() const {
  std::lock_guard lock(health_mu_);
  if (auth_unhealthy_) return {false, health_reason_};
  if (!storage_fault_.empty()) return {false, storage_fault_};
  const int64_t since = runnerNowNs() - last_success_ns_.load();
  if (pending_records_.load() > 0 &&
      since > static_cast<int64_t>(unhealthy_after_ms_) * 1'000'000) {
    return {false, fmt::format("no successful delivery for {} s while records wait{}",
                               since / 1'000'000'000,
                               health_reason_.empty() ? "" : ": " + health_reason_)};
  }
  return {true, ""};
}

void OutputRunner::setStorageFault(std::string reason) {
  std::lock_guard lock(health_mu_);
  storage_fault_ = std::move(reason);
}

void OutputRunner::setHealth(bool unhealthy, std::string reason) {
  std::lock_guard lock(health_mu_);
  auth_unhealthy_ = unhealthy;
  health_reason_ = std::move(reason);
}

void OutputRunner::absorbIncoming() {
  std::vector<core::BatchRef> batches;
  std::vector<EncodeJob> encoded;
  {
    std::lock_guard lock(incoming_mu_);
    batches.swap(incoming_);
    encoded.swap(encoded_done_);
  }
  for (auto& job : encoded) {
    --encoding_jobs_;
    encoding_estimate_ -= job.estimate;
    for (auto& r : adopt(std::move(job.encoded)))
      ready_.push_back(std::move(r));
  }
  const auto now = Clock::now();
  for (auto& b : batches) {
    auto p = std::make_shared<PendingBatch>();
    p->unresolved = static_cast<uint32_t>(b->size());
    p->arrived = now;
    p->seq = next_batch_seq_++;
    p->batch = std::move(b);
    if (p->unresolved == 0) {
      record_bytes_.fetch_sub(p->batch->byteSize(), std::memory_order_relaxed);
      if (resolved_hook_) resolved_hook_(*p->batch, core::BatchOutcome::kDelivered);
      p->batch->resolveOutput(core::BatchOutcome::kDelivered);
      continue;
    }
    untaken_records_ += p->batch->size();
    partitionBatch(p);
  }
}

void OutputRunner::run() {
  for (;;) {
    absorbIncoming();
    const auto now = Clock::now();
    const bool finishing = finishing_.load();
    if (finishing) {
      const auto deadline = Clock::time_point(std::chrono::nanoseconds(deadline_ns_.load()));
      if (partitions_.empty() && retry_queue_.empty() && in_flight_.empty() && ready_.empty() &&
          encoding_jobs_ == 0) {
        std::lock_guard lock(incoming_mu_);
        if (incoming_.empty()) break;
        continue;
      }
      if (now >= deadline) {
        giveUpAll();
        break;
      }
    }
    // Start what we may: due retries first (they are older), then new requests. While the
    // sink fails, the retry gate lets one request at a time probe it, at the backoff rate;
    // its first answer releases the rest. Backoff is honoured while finishing too: hammering
    // a failing sink would not make it recover sooner, and what is still waiting at the
    // deadline is given up and reported.
    // With an encoder pool, encoding runs ahead of sending: up to the concurrency limit of
    // requests are either in flight, encoded and waiting (ready_), or being encoded. Either
    // way a new request is encoded only while the bytes held by encoded requests allow it
    // (mayEncode): retries and ready requests go out regardless, they are in memory already.
    for (;;) {
      if (!gate_.maySend(now)) break;
      const size_t limit = concurrency_.current();
      RequestPtr next;
      if (in_flight_.size() < limit && !retry_queue_.empty() &&
          retry_queue_.front()->not_before <= now) {
        next = std::move(retry_queue_.front());
        retry_queue_.pop_front();
      } else if (in_flight_.size() < limit && !ready_.empty()) {
        next = std::move(ready_.front());
        ready_.pop_front();
      } else if (pool_ && encoding_jobs_ < pool_->size() &&
                 in_flight_.size() + ready_.size() + encoding_jobs_ < limit && readyToEncode(now) &&
                 mayEncode()) {
        encodeInPool();
        continue;
      } else if (!pool_ && in_flight_.size() < limit && readyToEncode(now) && mayEncode()) {
        next = encodeNext();
        if (!next) continue;
      } else {
        break;
      }
      dispatch(std::move(next));
    }
    buffer_gauge_->set(static_cast<int64_t>(bufferedBytes()));
    request_bytes_gauge_->set(static_cast<int64_t>(requestBytes()));
    in_flight_gauge_->set(static_cast<int64_t>(in_flight_.size()));
    concurrency_gauge_->set(concurrency_.current());
    healthy_gauge_->set(health().healthy ? 1 : 0);

    // Sleep until the next thing to do: a response, the next probe of a failing sink, a
    // retry coming due, the flush interval of the oldest untaken batch (unless encoded
    // requests hold all they may: then a response comes first), or new batches.
    const bool can_send_more = in_flight_.size() < concurrency_.current() && !gate_.probing();
    auto wake = now + std::chrono::milliseconds(200);
    if (can_send_more && gate_.failing()) {
      wake = std::min(wake, gate_.probeAt());
    } else if (can_send_more && !retry_queue_.empty()) {
      wake = std::min(wake, retry_queue_.front()->not_before);
    }
    if (can_send_more && !gate_.failing() && !partitions_.empty() && mayEncode()) {
      wake = std::min(wake, oldestPartition()->runs.front().pending->arrived +
                                std::chrono::milliseconds(flush_interval_ms_));
    }
    if (finishing) {
      wake = std::min(wake, Clock::time_point(std::chrono::nanoseconds(deadline_ns_.load())));
    }
    const auto wait_ms = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count());
    if (http_ && !in_flight_.empty()) {
      {
        std::lock_guard lock(incoming_mu_);
        sleeping_ = true;
        if ((!incoming_.empty() && can_send_more) || !encoded_done_.empty()) {
          sleeping_ = false;
          continue;
        }
      }
      std::vector<net::HttpResponse> done;
      http_->poll(static_cast<int>(std::min<int64_t>(wait_ms, 200)), done);
      {
        std::lock_guard lock(incoming_mu_);
        sleeping_ = false;
      }
      for (auto& r : done)
        onHttpResponse(r);
    } else {
      std::unique_lock lock(incoming_mu_);
      if (!incoming_.empty() || !encoded_done_.empty() || wait_ms == 0) continue;
      sleeping_ = true;
      incoming_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
        return !incoming_.empty() || !encoded_done_.empty() || finishing_.load() != finishing;
      });
      sleeping_ = false;
    }
  }
  buffer_gauge_->set(static_cast<int64_t>(bufferedBytes()));
  request_bytes_gauge_->set(static_cast<int64_t>(requestBytes()));
  in_flight_gauge_->set(0);
}

} // namespace ferry::output
