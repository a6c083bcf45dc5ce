// Output runner: one thread per output. Batches arrive from the router; records are taken
// in order into requests of at most the plugin's limits; requests go out (HTTP through one
// libcurl multi handle, or the plugin's own local delivery), and each verdict decides:
// resolve, retry after backoff, split, or drop. A batch is resolved for this output when
// every one of its records is resolved.
//
// Memory: a request keeps its records (the batches stay until resolved) and the plugin keeps
// its body, possibly as large again, until the sink answers. Both count in buffer.max_bytes,
// and the bodies of encoded, unacknowledged requests may take about half of it: no new
// request is encoded while they hold that much (one always may be, so a body larger than
// that still goes out), however many requests the concurrency limit would allow in flight.
// The inputs pause before the records waiting to be encoded would need more than the budget
// leaves for their bodies, so records and bodies together stay within it.
#include "ferry/output/runner.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <cstring>

#include "ferry/net/http_client.h"
#include "ferry/obs/log.h"
#include "ferry/obs/redact.h"

namespace ferry::output {
namespace {

using Clock = std::chrono::steady_clock;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Freed bodies and batches go back to glibc, which keeps them: its arenas grow to a peak and
// the free pieces between live ones stay resident (forward → firehose, 16 MiB budget: ~21 MB
// held, 80-100 MB of RSS, 60 MB of it free in two arenas). Once a runner has freed this much
// in bodies, what is free goes back to the system, at most every kTrimIntervalNs in the process:
// each trim costs page faults later, as the memory is used again (every 100 ms: RSS 45 MB but
// ferry's CPU +80%; 300 ms: 48-53 MB, +35%; 1 s: 56-68 MB, +0%).
constexpr uint64_t kTrimAfterBytes = 1u << 20;
// 1 s: the bench's forward → firehose at 45 k records/s, peak RSS 58-62 MiB (300 ms: 34 k and
// 47 MiB, ferry's records per CPU-second nearly halved).
constexpr int64_t kTrimIntervalNs = 1'000'000'000;

// True if it trimmed (false: it or another runner did, less than kTrimIntervalNs ago).
bool releaseFreedMemory() {
#if defined(__GLIBC__)
  static std::atomic<int64_t> last_ns{0};
  const int64_t now = nowNs();
  int64_t last = last_ns.load(std::memory_order_relaxed);
  if (now - last < kTrimIntervalNs || !last_ns.compare_exchange_strong(last, now)) return false;
  malloc_trim(0);
#endif
  return true;
}

void hostLog(void* ctx, uint32_t level, const char* message, size_t len);
void hostCounterAdd(void* ctx, const char* name, uint64_t value);

} // namespace

// One batch as this output sees it.
struct OutputRunner::PendingBatch {
  core::BatchRef batch;
  uint32_t next = 0;       // first record not yet taken into a request
  uint32_t unresolved = 0; // records not yet resolved for this output
  core::BatchOutcome worst = core::BatchOutcome::kDelivered;
  Clock::time_point arrived;
};

struct OutputRunner::Slice {
  PendingPtr pending;
  uint32_t begin;
  uint32_t count;
};

struct OutputRunner::Request {
  uint64_t id = 0;
  ferry_plugin_request* handle = nullptr;
  std::vector<Slice> slices;
  uint64_t records = 0;
  uint64_t resolved_records = 0; // by PARTIAL verdicts so far
  uint64_t record_bytes = 0;     // of the records it was encoded from
  uint64_t held_bytes = 0;       // counted in request_bytes_ for it (the plugin's side)
  core::BatchOutcome worst = core::BatchOutcome::kDelivered;
  uint32_t attempts = 0; // failed attempts so far
  Clock::time_point not_before;
  Clock::time_point started;
  ferry_http_request http{}; // the attempt in flight
};

// What one ferry_on_encode call produced. Built on any encoder thread (nothing here touches
// runner state); adopted on the runner thread, which counts, resolves and frees.
struct OutputRunner::Encoded {
  RequestPtr request;                     // slices and records; handle null if nothing to send
  size_t dropped = 0;                     // records the encoder refused outright
  std::string error;                      // the encoder failed: its first record is dropped
  ferry_plugin_request* stray = nullptr;  // a handle returned with a failure, to free
};

// One pool encode's results, and the request bytes it was expected to produce (counted
// towards the cap while it runs).
struct OutputRunner::EncodeJob {
  std::vector<Encoded> encoded;
  uint64_t estimate = 0;
};

// Encoder threads for plugins that allow parallel encoding (limits.parallel_encode):
// compression is most of a remote sink's CPU, and one runner thread would cap an output at
// one core. Jobs are independent; results go back through the runner's incoming queue.
class OutputRunner::EncodePool {
public:
  explicit EncodePool(size_t threads) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~EncodePool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  size_t size() const { return threads_.size(); }
  void submit(std::move_only_function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

private:
  void work() {
    for (;;) {
      std::move_only_function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return; // stopping, and nothing left to run
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::move_only_function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

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
  return metrics.histogram("ferry_output_request_duration_seconds", {{"output", output}},
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
    return &metrics_.counter("ferry_output_records_total", {{"output", name()}, {"result", result}},
                             "Records resolved by each output: sent, dropped (refused for good), failed (given up)");
  };
  records_sent_ = records("sent");
  records_dropped_ = records("dropped");
  records_failed_ = records("failed");
  retries_ = &metrics_.counter("ferry_output_retries_total", out, "Request attempts that will be retried");
  const std::string requests_help = "Request attempts to the sink by each output: ok, or error (failed or refused)";
  requests_ok_ = &metrics_.counter("ferry_output_requests_total", {{"output", name()}, {"result", "ok"}}, requests_help);
  requests_failed_ =
      &metrics_.counter("ferry_output_requests_total", {{"output", name()}, {"result", "error"}}, requests_help);
  // Fluent Bit's per-output `errors` and `retries_failed`, which its Health_Check counts.
  auto given_up = [&](const char* reason) {
    return &metrics_.counter("ferry_output_requests_given_up_total", {{"output", name()}, {"reason", reason}},
                             "Requests resolved without delivery: refused for good by the sink, or retries exhausted");
  };
  requests_refused_ = given_up("refused");
  requests_exhausted_ = given_up("retries_exhausted");
  buffer_gauge_ = &metrics_.gauge("ferry_output_buffer_bytes", out,
                                  "Bytes held by each output: its records and its encoded requests");
  request_bytes_gauge_ = &metrics_.gauge("ferry_output_request_bytes", out,
                                         "Bytes held by each output's encoded requests (in flight, waiting for a "
                                         "slot or a retry); part of ferry_output_buffer_bytes");
  bytes_sent_ = &metrics_.counter("ferry_output_bytes_total", out,
                                  "Bytes of the requests each output's sink accepted in full, as sent (encoded, "
                                  "compressed where the sink compresses)");
  // The budget ferry_output_buffer_bytes is held to (`ferry top` shows the fill).
  metrics_.gauge("ferry_output_buffer_max_bytes", out, "Each output's buffer.max_bytes")
      .set(static_cast<int64_t>(config_.common.buffer_max_bytes));
  in_flight_gauge_ = &metrics_.gauge("ferry_output_requests_in_flight", out, "Requests each output has sent and not yet had answered");
  healthy_gauge_ = &metrics_.gauge("ferry_output_healthy", out,
                                   "1 while the output is healthy as /health judges it, 0 while it is failing");
  healthy_gauge_->set(1);
  concurrency_gauge_ = &metrics_.gauge("ferry_output_concurrency_limit", out,
                                       "Requests each output may have in flight now (adaptive, at most its concurrency option)");
  request_duration_ = &requestDuration(metrics_, name()); // exported (all zero) before the first request
  host_api_.abi_major = FERRY_PLUGIN_ABI_MAJOR;
  host_api_.abi_minor = FERRY_PLUGIN_ABI_MINOR;
  host_api_.host_context = this;
  host_api_.log = hostLog;
  host_api_.counter_add = hostCounterAdd;
  last_success_ns_.store(nowNs());
}

OutputRunner::~OutputRunner() {
  if (thread_.joinable()) {
    finish(Clock::now());
    join();
  }
  pool_.reset(); // its threads may be inside ferry_on_encode
  for (auto& [id, r] : in_flight_) api_.request_free(instance_, r->handle);
  for (auto& r : retry_queue_) api_.request_free(instance_, r->handle);
  for (auto& r : ready_) api_.request_free(instance_, r->handle);
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
  const int rc = api_.init(&host_api_, json.data(), json.size(), &instance_, &limits_, error,
                           sizeof error);
  if (rc != 0 || instance_ == nullptr) {
    return std::unexpected(fmt::format("output {} ({}): {}", name(), config_.section.type,
                                       error[0] ? error : "initialisation failed"));
  }
  if (limits_.max_records == 0) limits_.max_records = kDefaultMaxRecords;
  if (limits_.max_request_bytes == 0) limits_.max_request_bytes = kDefaultMaxRequestBytes;
  if (limits_.request_timeout_ms == 0) limits_.request_timeout_ms = kDefaultRequestTimeoutMs;
  flush_interval_ms_ = config_.common.flush_interval_ms   ? config_.common.flush_interval_ms
                       : limits_.flush_interval_ms ? limits_.flush_interval_ms
                                                   : kDefaultFlushIntervalMs;
  const uint32_t max_conc = limits_.transport == FERRY_TRANSPORT_LOCAL ? 1 : limits_.max_concurrency;
  concurrency_ = ConcurrencyLimit(limits_.transport == FERRY_TRANSPORT_LOCAL ? 1 : config_.common.concurrency,
                                  max_conc);
  if (limits_.transport == FERRY_TRANSPORT_HTTP) http_ = std::make_unique<net::HttpClient>();
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  if (limits_.parallel_encode && cores > 1) {
    pool_ = std::make_unique<EncodePool>(std::min<size_t>(cores, 8));
  }
  return {};
}

void OutputRunner::start() { thread_ = std::thread([this] { run(); }); }

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
  deadline_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
  finishing_.store(true);
  {
    std::lock_guard lock(incoming_mu_);
  }
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
  const int64_t since = nowNs() - last_success_ns_.load();
  if (pending_records_.load() > 0 && since > static_cast<int64_t>(unhealthy_after_ms_) * 1'000'000) {
    return {false, fmt::format("no successful delivery for {} s while records wait{}", since / 1'000'000'000,
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
    for (auto& r : adopt(std::move(job.encoded))) ready_.push_back(std::move(r));
  }
  const auto now = Clock::now();
  for (auto& b : batches) {
    auto p = std::make_shared<PendingBatch>();
    p->unresolved = static_cast<uint32_t>(b->size());
    p->arrived = now;
    untaken_records_ += b->size();
    untaken_bytes_.fetch_add(b->byteSize(), std::memory_order_relaxed);
    p->batch = std::move(b);
    if (p->unresolved == 0) {
      record_bytes_.fetch_sub(p->batch->byteSize(), std::memory_order_relaxed);
      if (resolved_hook_) resolved_hook_(*p->batch, core::BatchOutcome::kDelivered);
      p->batch->resolveOutput(core::BatchOutcome::kDelivered);
      continue;
    }
    untaken_.push_back(std::move(p));
  }
}

size_t OutputRunner::untakenRecords() const { return untaken_records_; }

bool OutputRunner::readyToEncode(Clock::time_point now) const {
  if (untaken_.empty()) return false;
  if (finishing_.load(std::memory_order_relaxed)) return true;
  if (untaken_records_ >= limits_.max_records ||
      untaken_bytes_.load(std::memory_order_relaxed) >= limits_.max_request_bytes) {
    return true;
  }
  // Over budget, the inputs feeding this output are paused (or, with storage, it is fed from
  // disk only once it drains): no more records come until it sends, so waiting for a full
  // request or the flush interval would only stall it.
  if (overBudget()) return true;
  return now - untaken_.front()->arrived >= std::chrono::milliseconds(flush_interval_ms_);
}

uint64_t OutputRunner::expectedBodyBytes(uint64_t record_bytes) const {
  return static_cast<uint64_t>(static_cast<double>(record_bytes) * body_ratio_.load(std::memory_order_relaxed));
}

bool OutputRunner::mayEncode() const {
  // Not "held + the next body <= cap": estimated from whole batches, the next body comes out
  // larger than it will be (the plugin stops at its own limit), and a 16 MiB Firehose output
  // then kept one 4 MiB call in flight instead of two.
  const uint64_t held = requestBytes() + encoding_estimate_;
  return held == 0 || held < bodyCap();
}

uint64_t OutputRunner::bodiesToCome() const {
  const uint64_t held = requestBytes();
  const uint64_t room = held < bodyCap() ? bodyCap() - held : 0;
  return std::min(room, expectedBodyBytes(untaken_bytes_.load(std::memory_order_relaxed)));
}

uint64_t OutputRunner::heldBytes(const Request& request) const {
  if (request.handle == nullptr) return 0;
  if (api_.request_bytes) return api_.request_bytes(instance_, request.handle);
  return request.http.body_len; // a plugin older than ABI 1.2: the body it last described
}

void OutputRunner::recount(Request& request) {
  const uint64_t held = heldBytes(request);
  if (held >= request.held_bytes) {
    request_bytes_.fetch_add(held - request.held_bytes, std::memory_order_relaxed);
  } else {
    request_bytes_.fetch_sub(request.held_bytes - held, std::memory_order_relaxed);
  }
  request.held_bytes = held;
}

void OutputRunner::freeRequest(Request& request) {
  api_.request_free(instance_, request.handle);
  request.handle = nullptr;
  request_bytes_.fetch_sub(request.held_bytes, std::memory_order_relaxed);
  freed_since_trim_ += request.held_bytes;
  request.held_bytes = 0;
  if (freed_since_trim_ >= kTrimAfterBytes && releaseFreedMemory()) freed_since_trim_ = 0;
}

std::vector<OutputRunner::Encoded> OutputRunner::encodeRaw(const std::vector<Slice>& slices,
                                                         uint32_t attempts, size_t max_records) const {
  std::vector<ferry_plugin_record> views;
  std::vector<std::pair<size_t, uint32_t>> origin; // (slice index, record index)
  for (size_t s = 0; s < slices.size(); ++s) {
    const auto& sl = slices[s];
    const core::Batch& b = *sl.pending->batch;
    for (uint32_t i = sl.begin; i < sl.begin + sl.count; ++i) {
      const core::RecordView r = b.record(i);
      views.push_back({r.timestamp_ns, b.tag().data(), b.tag().size(),
                       reinterpret_cast<const uint8_t*>(r.data.data()), r.data.size(),
                       static_cast<uint32_t>(b.format())});
      origin.emplace_back(s, i);
    }
  }
  std::vector<Encoded> out;
  size_t pos = 0;
  while (pos < views.size()) {
    const size_t offer = std::min(max_records, views.size() - pos);
    size_t consumed = 0, dropped = 0;
    ferry_plugin_request* handle = nullptr;
    char error[256] = {0};
    const int rc = api_.encode(instance_, views.data() + pos, offer, &consumed, &dropped, &handle,
                               error, sizeof error);
    Encoded e;
    if (rc != 0 || consumed == 0 || consumed > offer) {
      // The plugin could not encode even one record: that record is dropped, and the rest
      // offered again.
      e.error = error[0] ? error : "encoder failed";
      e.stray = handle;
      consumed = 1;
      dropped = 1;
      handle = nullptr;
    }
    e.dropped = dropped;
    auto req = std::make_unique<Request>();
    req->handle = handle;
    req->attempts = attempts;
    req->records = consumed;
    // Asked here, on the thread that encoded it; adopt() counts it.
    req->held_bytes = heldBytes(*req);
    for (size_t k = pos; k < pos + consumed; ++k) {
      req->record_bytes += views[k].data_len;
      const auto [s, i] = origin[k];
      if (!req->slices.empty() && req->slices.back().pending == slices[s].pending &&
          req->slices.back().begin + req->slices.back().count == i) {
        ++req->slices.back().count;
      } else {
        req->slices.push_back({slices[s].pending, i, 1});
      }
    }
    e.request = std::move(req);
    out.push_back(std::move(e));
    pos += consumed;
  }
  return out;
}

std::vector<OutputRunner::RequestPtr> OutputRunner::adopt(std::vector<Encoded> encoded) {
  std::vector<RequestPtr> out;
  for (auto& e : encoded) {
    RequestPtr req = std::move(e.request);
    req->id = next_request_id_++;
    if (!e.error.empty()) {
      FERRY_LOG_WARN(name(), "cannot encode a record, dropping it: {}", e.error);
      if (e.stray) api_.request_free(instance_, e.stray);
    }
    if (e.dropped > 0) {
      // Records the encoder refused outright are resolved as dropped now; the request keeps
      // carrying them only for bookkeeping, so count them here and mark the request.
      records_dropped_->add(e.dropped);
      req->resolved_records = e.dropped;
      req->worst = core::BatchOutcome::kDropped;
    }
    if (req->handle == nullptr) {
      resolve(*req, core::BatchOutcome::kDropped);
    } else {
      request_bytes_.fetch_add(req->held_bytes, std::memory_order_relaxed);
      if (req->record_bytes > 0) {
        // Smoothed, for estimating what the encodes still running will hold.
        body_ratio_.store(0.75 * body_ratio_.load(std::memory_order_relaxed) +
                              0.25 * static_cast<double>(req->held_bytes) / static_cast<double>(req->record_bytes),
                          std::memory_order_relaxed);
      }
      out.push_back(std::move(req));
    }
  }
  return out;
}

std::vector<OutputRunner::RequestPtr> OutputRunner::encodeSlices(const std::vector<Slice>& slices,
                                                                uint32_t attempts, size_t max_records) {
  return adopt(encodeRaw(slices, attempts, max_records));
}

std::vector<OutputRunner::Slice> OutputRunner::takeSlices(size_t& records, uint64_t& bytes) {
  // Take up to the plugin's limits from the untaken batches, in arrival order.
  std::vector<Slice> slices;
  records = 0;
  bytes = 0;
  while (!untaken_.empty() && records < limits_.max_records && bytes < limits_.max_request_bytes) {
    PendingPtr& p = untaken_.front();
    const core::Batch& b = *p->batch;
    uint32_t take = 0;
    while (p->next + take < b.size() && records < limits_.max_records &&
           (bytes < limits_.max_request_bytes || records == 0)) {
      bytes += b.entry(p->next + take).length;
      ++records;
      ++take;
    }
    if (take == 0) break;
    slices.push_back({p, p->next, take});
    p->next += take;
    untaken_records_ -= take;
    if (p->next == b.size()) {
      untaken_bytes_.fetch_sub(b.byteSize(), std::memory_order_relaxed);
      untaken_.pop_front();
    }
  }
  return slices;
}

OutputRunner::RequestPtr OutputRunner::encodeNext() {
  size_t records = 0;
  uint64_t bytes = 0;
  auto slices = takeSlices(records, bytes);
  if (slices.empty()) return nullptr;
  auto reqs = encodeSlices(slices, 0, records);
  if (reqs.empty()) return nullptr;
  // The plugin may cover fewer records than offered: later requests go to the retry queue
  // head, ready now, so order is kept as far as possible.
  for (size_t i = reqs.size(); i-- > 1;) {
    reqs[i]->not_before = Clock::now();
    retry_queue_.push_front(std::move(reqs[i]));
  }
  return std::move(reqs.front());
}

void OutputRunner::encodeInPool() {
  size_t records = 0;
  uint64_t bytes = 0;
  auto slices = takeSlices(records, bytes);
  if (slices.empty()) return;
  ++encoding_jobs_;
  const uint64_t estimate = expectedBodyBytes(bytes);
  encoding_estimate_ += estimate;
  pool_->submit([this, slices = std::move(slices), records, estimate] {
    EncodeJob job{encodeRaw(slices, 0, records), estimate};
    {
      std::lock_guard lock(incoming_mu_);
      encoded_done_.push_back(std::move(job));
    }
    incoming_cv_.notify_one();
    if (http_) http_->wakeup();
  });
}

void OutputRunner::waitForEncoding() {
  {
    std::unique_lock lock(incoming_mu_);
    incoming_cv_.wait(lock, [&] { return encoded_done_.size() >= encoding_jobs_; });
  }
  absorbIncoming();
}

void OutputRunner::resolve(Request& request, core::BatchOutcome outcome) {
  if (static_cast<int>(request.worst) > static_cast<int>(outcome)) outcome = request.worst;
  for (auto& sl : request.slices) {
    PendingBatch& p = *sl.pending;
    if (static_cast<int>(outcome) > static_cast<int>(p.worst)) p.worst = outcome;
    p.unresolved -= sl.count;
    pending_records_.fetch_sub(sl.count, std::memory_order_relaxed);
    if (p.unresolved == 0) {
      record_bytes_.fetch_sub(p.batch->byteSize(), std::memory_order_relaxed);
      if (resolved_hook_) resolved_hook_(*p.batch, p.worst);
      p.batch->resolveOutput(p.worst);
    }
  }
  request.slices.clear();
}

void OutputRunner::dispatch(RequestPtr request) {
  request->started = Clock::now();
  if (limits_.transport == FERRY_TRANSPORT_LOCAL) {
    ferry_plugin_verdict verdict{};
    api_.deliver(instance_, request->handle, &verdict);
    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - request->started);
    handleVerdict(std::move(request), verdict, latency);
    return;
  }
  char error[256] = {0};
  request->http = {};
  if (api_.http_request(instance_, request->handle, &request->http, error, sizeof error) != 0) {
    scheduleRetry(std::move(request), 0, error[0] ? error : "request not ready");
    return;
  }
  recount(*request);
  net::HttpRequest hr;
  hr.id = request->id;
  hr.method = request->http.method ? request->http.method : "POST";
  hr.url = request->http.url ? request->http.url : "";
  for (size_t i = 0; i < request->http.header_count; ++i) hr.headers.emplace_back(request->http.headers[i]);
  hr.body = request->http.body;
  hr.body_len = request->http.body_len;
  hr.timeout_ms = limits_.request_timeout_ms;
  http_->start(hr);
  in_flight_.emplace(request->id, std::move(request));
}

void OutputRunner::onHttpResponse(net::HttpResponse& response) {
  auto it = in_flight_.find(response.id);
  if (it == in_flight_.end()) return;
  RequestPtr request = std::move(it->second);
  in_flight_.erase(it);
  std::vector<const char*> headers;
  headers.reserve(response.headers.size());
  for (const auto& h : response.headers) headers.push_back(h.c_str());
  ferry_http_response r{};
  r.status = response.status;
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = reinterpret_cast<const uint8_t*>(response.body.data());
  r.body_len = response.body.size();
  r.error = response.status == 0 ? response.error.c_str() : nullptr;
  ferry_plugin_verdict verdict{};
  api_.http_response(instance_, request->handle, &r, &verdict);
  handleVerdict(std::move(request), verdict, std::chrono::microseconds(response.elapsed_us));
}

void OutputRunner::handleVerdict(RequestPtr request, const ferry_plugin_verdict& verdict,
                                 std::chrono::microseconds latency) {
  const char* message = verdict.message[0] ? verdict.message : "";
  request_duration_->observe(static_cast<double>(latency.count()) / 1e6);
  recount(*request); // the plugin may have narrowed it (PARTIAL)
  switch (verdict.kind) {
  case FERRY_VERDICT_DELIVERED: {
    requests_ok_->add();
    bytes_sent_->add(request->held_bytes);
    records_sent_->add(request->records - request->resolved_records);
    last_success_ns_.store(nowNs());
    if (verdict.unhealthy == 0) setHealth(false, "");
    concurrency_.onSuccess(latency, static_cast<uint32_t>(in_flight_.size()));
    resolve(*request, core::BatchOutcome::kDelivered);
    freeRequest(*request);
    return;
  }
  case FERRY_VERDICT_DROP: {
    requests_failed_->add();
    requests_refused_->add();
    const uint64_t n = request->records - request->resolved_records;
    records_dropped_->add(n);
    FERRY_LOG_WARN(name(), "sink refused {} records for good, dropped: {}", n, message);
    resolve(*request, core::BatchOutcome::kDropped);
    freeRequest(*request);
    return;
  }
  case FERRY_VERDICT_PARTIAL: {
    records_sent_->add(verdict.records_delivered);
    records_dropped_->add(verdict.records_dropped);
    request->resolved_records += verdict.records_delivered + verdict.records_dropped;
    if (verdict.records_dropped) request->worst = core::BatchOutcome::kDropped;
    if (verdict.records_delivered) last_success_ns_.store(nowNs());
    if (request->resolved_records >= request->records) {
      resolve(*request, core::BatchOutcome::kDelivered);
      freeRequest(*request);
      return;
    }
    if (verdict.throttled) concurrency_.onBackpressure();
    // An attempt that got records through is progress, not a failure: it does not use up
    // the retry budget (the request shrinks every time, so this cannot loop forever).
    const bool progressed = verdict.records_delivered + verdict.records_dropped > 0;
    scheduleRetry(std::move(request), verdict.retry_after_ms, message, !progressed);
    return;
  }
  case FERRY_VERDICT_SPLIT: {
    requests_failed_->add();
    if (request->records - request->resolved_records <= 1) {
      records_dropped_->add(request->records - request->resolved_records);
      requests_refused_->add();
      FERRY_LOG_WARN(name(), "a single record is too large for the sink, dropped: {}", message);
      resolve(*request, core::BatchOutcome::kDropped);
      freeRequest(*request);
      return;
    }
    // Encode the same records again in halves; each half keeps the attempt count.
    freeRequest(*request);
    const size_t half = (request->records + 1) / 2;
    auto parts = encodeSlices(request->slices, request->attempts, half);
    request->slices.clear(); // ownership of the records moved to the parts
    for (size_t i = parts.size(); i-- > 0;) {
      parts[i]->not_before = Clock::now();
      retry_queue_.push_front(std::move(parts[i]));
    }
    return;
  }
  case FERRY_VERDICT_CONTINUE:
    dispatch(std::move(request));
    return;
  case FERRY_VERDICT_RETRY:
  default:
    requests_failed_->add();
    if (verdict.unhealthy) setHealth(true, message);
    if (verdict.throttled || verdict.kind == FERRY_VERDICT_RETRY) concurrency_.onBackpressure();
    scheduleRetry(std::move(request), verdict.retry_after_ms, message);
    return;
  }
}

void OutputRunner::scheduleRetry(RequestPtr request, uint64_t retry_after_ms, const char* why,
                                 bool count_attempt) {
  if (count_attempt) ++request->attempts;
  if (count_attempt && backoff_.exhausted(request->attempts)) {
    const uint64_t n = request->records - request->resolved_records;
    records_failed_->add(n);
    requests_exhausted_->add();
    FERRY_LOG_ERROR(name(), "giving up on {} records after {} attempts: {}", n, request->attempts, why);
    resolve(*request, core::BatchOutcome::kFailed);
    freeRequest(*request);
    return;
  }
  retries_->add();
  auto delay = backoff_.delay(request->attempts);
  if (std::chrono::milliseconds(retry_after_ms) > delay) delay = std::chrono::milliseconds(retry_after_ms);
  FERRY_LOG_WARN(name(), "request failed ({}), retrying in {} ms (attempt {})", why[0] ? why : "error",
                 delay.count(), request->attempts + 1);
  request->not_before = Clock::now() + delay;
  auto pos = std::upper_bound(retry_queue_.begin(), retry_queue_.end(), request->not_before,
                              [](Clock::time_point t, const RequestPtr& r) { return t < r->not_before; });
  retry_queue_.insert(pos, std::move(request));
}

void OutputRunner::giveUpAll() {
  std::vector<net::HttpResponse> aborted;
  if (http_) http_->abortAll(aborted);
  waitForEncoding(); // encodes take milliseconds; their requests are given up below
  std::vector<RequestPtr> all;
  for (auto& r : ready_) all.push_back(std::move(r));
  ready_.clear();
  for (auto& [id, r] : in_flight_) all.push_back(std::move(r));
  in_flight_.clear();
  for (auto& r : retry_queue_) all.push_back(std::move(r));
  retry_queue_.clear();
  uint64_t lost = 0;
  for (auto& r : all) {
    const uint64_t n = r->records - r->resolved_records;
    lost += n;
    resolve(*r, core::BatchOutcome::kFailed);
    freeRequest(*r);
  }
  for (auto& p : untaken_) {
    const uint32_t n = static_cast<uint32_t>(p->batch->size()) - p->next;
    lost += n;
    Request fake;
    fake.slices.push_back({p, p->next, n});
    resolve(fake, core::BatchOutcome::kFailed);
  }
  untaken_.clear();
  untaken_records_ = 0;
  untaken_bytes_.store(0, std::memory_order_relaxed);
  absorbIncoming(); // anything that raced in
  for (auto& p : untaken_) {
    lost += p->batch->size();
    Request fake;
    fake.slices.push_back({p, 0, static_cast<uint32_t>(p->batch->size())});
    resolve(fake, core::BatchOutcome::kFailed);
  }
  untaken_.clear();
  if (lost) {
    records_failed_->add(lost);
    FERRY_LOG_ERROR(name(), "shutdown deadline reached: {} records could not be delivered", lost);
  }
}

void OutputRunner::run() {
  for (;;) {
    absorbIncoming();
    const auto now = Clock::now();
    const bool finishing = finishing_.load();
    if (finishing) {
      const auto deadline = Clock::time_point(std::chrono::nanoseconds(deadline_ns_.load()));
      if (untaken_.empty() && retry_queue_.empty() && in_flight_.empty() && ready_.empty() &&
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
    // Start what we may: due retries first (they are older), then new requests. Backoff is
    // honoured while finishing too: hammering a failing sink would not make it recover
    // sooner, and what is still waiting at the deadline is given up and reported.
    // With an encoder pool, encoding runs ahead of sending: up to the concurrency limit of
    // requests are either in flight, encoded and waiting (ready_), or being encoded. Either
    // way a new request is encoded only while the bytes held by encoded requests allow it
    // (mayEncode): retries and ready requests go out regardless, they are in memory already.
    for (;;) {
      const size_t limit = concurrency_.current();
      RequestPtr next;
      if (in_flight_.size() < limit && !retry_queue_.empty() && retry_queue_.front()->not_before <= now) {
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

    // Sleep until the next thing to do: a response, a retry coming due, the flush interval
    // of the oldest untaken batch (unless encoded requests hold all they may: then a
    // response comes first), or new batches.
    const bool can_send_more = in_flight_.size() < concurrency_.current();
    auto wake = now + std::chrono::milliseconds(200);
    if (can_send_more && !retry_queue_.empty()) wake = std::min(wake, retry_queue_.front()->not_before);
    if (can_send_more && !untaken_.empty() && mayEncode()) {
      wake = std::min(wake, untaken_.front()->arrived + std::chrono::milliseconds(flush_interval_ms_));
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
      for (auto& r : done) onHttpResponse(r);
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
