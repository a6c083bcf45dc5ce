// The output runner's requests once encoded: sending them, and what each verdict does to the
// records a request still holds (resolve, narrow, split, retry, drop). A request knows which
// records it holds, so no sequence of verdicts sends or counts a record twice; a batch is
// resolved for this output when every one of its records is.
#include "ferry/net/http_client.h"
#include "ferry/obs/log.h"
#include "runner_internal.h"

namespace ferry::output {

void OutputRunner::resolveRecords(PendingBatch& p, uint32_t count, core::BatchOutcome outcome) {
  p.worst = worse(p.worst, outcome);
  p.unresolved -= count;
  pending_records_.fetch_sub(count, std::memory_order_relaxed);
  if (p.unresolved == 0) {
    record_bytes_.fetch_sub(p.batch->byteSize(), std::memory_order_relaxed);
    if (resolved_hook_) resolved_hook_(*p.batch, p.worst);
    p.batch->resolveOutput(p.worst);
  }
}

void OutputRunner::resolve(Request& request, core::BatchOutcome outcome) {
  // The hidden records are among those still held, and fare as badly as they did.
  if (request.hidden) outcome = worse(outcome, request.hidden_worst);
  request.forEachHeldRun(
      [&](const Slice& s, uint32_t, uint32_t n) { resolveRecords(*s.pending, n, outcome); });
  request.slices.clear();
  request.states.clear();
  request.held = 0;
  request.hidden = 0;
}

bool OutputRunner::learnStates(Request& request, uint64_t delivered, uint64_t dropped) {
  if (api_.request_records == nullptr || request.handle == nullptr || request.hidden > 0)
    return false;
  std::vector<uint8_t> states(request.encodedRecords(), FERRY_RECORD_HELD);
  if (api_.request_records(instance_, request.handle, states.data(), states.size()) != 0)
    return false;
  uint64_t new_delivered = 0, new_dropped = 0, held = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    const uint8_t before = request.stateAt(i);
    if (states[i] > FERRY_RECORD_DROPPED || (before != FERRY_RECORD_HELD && states[i] != before))
      return false;
    if (before != FERRY_RECORD_HELD) continue;
    new_delivered += states[i] == FERRY_RECORD_DELIVERED;
    new_dropped += states[i] == FERRY_RECORD_DROPPED;
    held += states[i] == FERRY_RECORD_HELD;
  }
  if (new_delivered != delivered || new_dropped != dropped ||
      held + delivered + dropped != request.held) {
    FERRY_LOG_WARN(name(),
                   "the plugin's record states disagree with its verdict ({} delivered, {} dropped "
                   "reported; {} and {} named): going by the counts",
                   delivered, dropped, new_delivered, new_dropped);
    return false;
  }
  // Resolve the newly resolved records now: their batches need not wait for the rest.
  size_t pos = 0;
  for (const auto& s : request.slices) {
    for (uint32_t i = 0; i < s.count; ++i, ++pos) {
      const uint8_t before = request.stateAt(pos);
      if (before != FERRY_RECORD_HELD || states[pos] == FERRY_RECORD_HELD) continue;
      resolveRecords(*s.pending, 1,
                     states[pos] == FERRY_RECORD_DELIVERED ? core::BatchOutcome::kDelivered
                                                           : core::BatchOutcome::kDropped);
    }
  }
  request.states = std::move(states);
  request.held = held;
  return true;
}

std::vector<OutputRunner::Slice> OutputRunner::heldSlices(const Request& request) const {
  std::vector<Slice> out;
  request.forEachHeldRun([&](const Slice& s, uint32_t first, uint32_t n) {
    out.push_back({s.pending, first, n});
  });
  return out;
}

void OutputRunner::dispatch(RequestPtr request) {
  request->started = RunnerClock::now();
  gate_.sent(request->id);
  if (limits_.transport == FERRY_TRANSPORT_LOCAL) {
    ferry_plugin_verdict verdict{};
    api_.deliver(instance_, request->handle, &verdict);
    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(RunnerClock::now() -
                                                                               request->started);
    handleVerdict(std::move(request), verdict, latency);
    return;
  }
  char error[256] = {0};
  request->http = {};
  if (api_.http_request(instance_, request->handle, &request->http, error, sizeof error) != 0) {
    sinkFailed(std::move(request), 0, error[0] ? error : "request not ready");
    return;
  }
  recount(*request);
  net::HttpRequest hr;
  hr.id = request->id;
  hr.method = request->http.method ? request->http.method : "POST";
  hr.url = request->http.url ? request->http.url : "";
  for (size_t i = 0; i < request->http.header_count; ++i)
    hr.headers.emplace_back(request->http.headers[i]);
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
  for (const auto& h : response.headers)
    headers.push_back(h.c_str());
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

void OutputRunner::sinkAnswered() {
  if (!gate_.answered()) return;
  // The outage is over: what waited for it goes now, under the concurrency limit.
  const auto now = RunnerClock::now();
  for (auto& r : retry_queue_)
    r->not_before = std::min(r->not_before, now);
}

void OutputRunner::handleVerdict(RequestPtr request, const ferry_plugin_verdict& verdict,
                                 std::chrono::microseconds latency) {
  const char* message = verdict.message[0] ? verdict.message : "";
  request_duration_->observe(static_cast<double>(latency.count()) / 1e6);
  recount(*request); // the plugin may have narrowed it (PARTIAL)
  if (verdict.kind != FERRY_VERDICT_RETRY && verdict.kind != FERRY_VERDICT_CONTINUE &&
      (verdict.kind != FERRY_VERDICT_PARTIAL ||
       verdict.records_delivered + verdict.records_dropped > 0)) {
    sinkAnswered();
  }
  switch (verdict.kind) {
  case FERRY_VERDICT_DELIVERED: {
    requests_ok_->add();
    bytes_sent_->add(request->held_bytes);
    records_sent_->add(request->held);
    last_success_ns_.store(runnerNowNs());
    if (verdict.unhealthy == 0) setHealth(false, "");
    concurrency_.onSuccess(latency, static_cast<uint32_t>(in_flight_.size()));
    resolve(*request, core::BatchOutcome::kDelivered);
    freeRequest(*request);
    return;
  }
  case FERRY_VERDICT_DROP: {
    requests_failed_->add();
    requests_refused_->add();
    records_dropped_->add(request->held);
    FERRY_LOG_WARN(name(), "sink refused {} records for good, dropped: {}", request->held, message);
    resolve(*request, core::BatchOutcome::kDropped);
    freeRequest(*request);
    return;
  }
  case FERRY_VERDICT_PARTIAL: {
    // Never more than it holds: a plugin over-reporting must not make counts go negative.
    const uint64_t delivered = std::min<uint64_t>(verdict.records_delivered, request->held);
    const uint64_t dropped = std::min<uint64_t>(verdict.records_dropped, request->held - delivered);
    records_sent_->add(delivered);
    records_dropped_->add(dropped);
    if (delivered) last_success_ns_.store(runnerNowNs());
    if (delivered + dropped > 0 && !learnStates(*request, delivered, dropped)) {
      request->held -= delivered + dropped;
      request->hidden += delivered + dropped;
      request->hidden_delivered |= delivered > 0;
      if (dropped) request->hidden_worst = core::BatchOutcome::kDropped;
    }
    if (request->held == 0) {
      resolve(*request, core::BatchOutcome::kDelivered);
      freeRequest(*request);
      return;
    }
    if (verdict.throttled) concurrency_.onBackpressure();
    if (delivered + dropped == 0) {
      sinkFailed(std::move(request), verdict.retry_after_ms, message);
      return;
    }
    // An attempt that got records through is progress, not a failure: it does not use up
    // the retry budget (the request shrinks every time, so this cannot loop forever).
    retryLater(std::move(request), verdict.retry_after_ms, message, false);
    return;
  }
  case FERRY_VERDICT_SPLIT:
    split(std::move(request), verdict, message);
    return;
  case FERRY_VERDICT_CONTINUE:
    dispatch(std::move(request));
    return;
  case FERRY_VERDICT_RETRY:
  default:
    requests_failed_->add();
    if (verdict.unhealthy) setHealth(true, message);
    // Halved once as an outage begins: after that only one probe at a time goes, and each
    // failed probe halving it again would leave the backlog to drain one request at a time.
    if ((verdict.throttled || verdict.kind == FERRY_VERDICT_RETRY) && !gate_.failing()) {
      concurrency_.onBackpressure();
    }
    sinkFailed(std::move(request), verdict.retry_after_ms, message);
    return;
  }
}

void OutputRunner::split(RequestPtr request, const ferry_plugin_verdict& verdict,
                         const char* message) {
  requests_failed_->add();
  gate_.forget(request->id);
  if (request->held <= 1) {
    records_dropped_->add(request->held);
    requests_refused_->add();
    FERRY_LOG_WARN(name(), "a single record is too large for the sink, dropped: {}", message);
    resolve(*request, core::BatchOutcome::kDropped);
    freeRequest(*request);
    return;
  }
  if (request->hidden_delivered) {
    // The sink took some of these records, and the plugin cannot say which: encoding them
    // again would send those twice. The request goes again as the plugin narrowed it.
    FERRY_LOG_WARN(name(),
                   "the sink asks to split a request it took part of, and the plugin cannot name "
                   "the records left: sending it again whole: {}",
                   message);
    retryLater(std::move(request), verdict.retry_after_ms, message, true);
    return;
  }
  // Encode what it holds again in halves (the records the encoder refused, if it could not
  // name them, are offered again and refused again, counted once); each part keeps the
  // attempt count.
  freeRequest(*request);
  const uint64_t offered = request->held + request->hidden;
  auto parts = encodeSlices(heldSlices(*request), request->attempts, (offered + 1) / 2,
                            request->partition, request->hidden_encode_drops);
  request->slices.clear(); // its records are the parts' now
  for (size_t i = parts.size(); i-- > 0;) {
    parts[i]->not_before = RunnerClock::now();
    retry_queue_.push_front(std::move(parts[i]));
  }
}

void OutputRunner::sinkFailed(RequestPtr request, uint64_t retry_after_ms, const char* why) {
  const uint64_t id = request->id;
  const auto until =
      gate_.failed(id, RunnerClock::now(), std::chrono::milliseconds(retry_after_ms));
  ++request->attempts;
  if (giveUpIfExhausted(*request, why)) return;
  queueRetry(std::move(request), until, why);
}

void OutputRunner::retryLater(RequestPtr request, uint64_t retry_after_ms, const char* why,
                              bool count_attempt) {
  if (count_attempt) {
    ++request->attempts;
    if (giveUpIfExhausted(*request, why)) return;
  }
  const auto delay = std::max<std::chrono::milliseconds>(backoff_.delay(request->attempts),
                                                         std::chrono::milliseconds(retry_after_ms));
  queueRetry(std::move(request), RunnerClock::now() + delay, why);
}

bool OutputRunner::giveUpIfExhausted(Request& request, const char* why) {
  if (!backoff_.exhausted(request.attempts)) return false;
  gate_.forget(request.id);
  records_failed_->add(request.held);
  requests_exhausted_->add();
  FERRY_LOG_ERROR(name(), "giving up on {} records after {} attempts: {}", request.held,
                  request.attempts, why);
  resolve(request, core::BatchOutcome::kFailed);
  freeRequest(request);
  return true;
}

void OutputRunner::queueRetry(RequestPtr request, RunnerClock::time_point not_before,
                              const char* why) {
  retries_->add();
  FERRY_LOG_WARN(name(), "request failed ({}), retrying in {} ms (attempt {})",
                 why[0] ? why : "error",
                 std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          not_before - RunnerClock::now())
                                          .count()),
                 request->attempts + 1);
  request->not_before = not_before;
  auto pos = std::upper_bound(
      retry_queue_.begin(), retry_queue_.end(), request->not_before,
      [](RunnerClock::time_point t, const RequestPtr& r) { return t < r->not_before; });
  retry_queue_.insert(pos, std::move(request));
}

void OutputRunner::giveUpAll() {
  std::vector<net::HttpResponse> aborted;
  if (http_) http_->abortAll(aborted);
  waitForEncoding(); // encodes take milliseconds; their requests are given up below
  std::vector<RequestPtr> all;
  all.reserve(ready_.size() + in_flight_.size() + retry_queue_.size());
  for (auto& r : ready_)
    all.push_back(std::move(r));
  ready_.clear();
  for (auto& [id, r] : in_flight_)
    all.push_back(std::move(r));
  in_flight_.clear();
  for (auto& r : retry_queue_)
    all.push_back(std::move(r));
  retry_queue_.clear();
  uint64_t lost = 0;
  for (auto& r : all) {
    lost += r->held;
    resolve(*r, core::BatchOutcome::kFailed);
    freeRequest(*r);
  }
  auto giveUpUntaken = [&] {
    for (auto& [key, part] : partitions_) {
      for (auto& run : part->runs) {
        lost += run.count;
        resolveRecords(*run.pending, run.count, core::BatchOutcome::kFailed);
      }
    }
    partitions_.clear();
  };
  giveUpUntaken();
  untaken_records_ = 0;
  untaken_bytes_.store(0, std::memory_order_relaxed);
  absorbIncoming(); // anything that raced in
  giveUpUntaken();
  if (lost) {
    records_failed_->add(lost);
    FERRY_LOG_ERROR(name(), "shutdown deadline reached: {} records could not be delivered", lost);
  }
}

} // namespace ferry::output
