// The output runner's encoding: the untaken records filed by partition key (one partition
// without limits.partition_template), each request's records taken in order from one
// partition (a full one first; the oldest when due, over budget, or beyond the bound on open
// partitions), offered to the plugin up to its limits (on the runner thread, or on the encoder
// pool for plugins that allow parallel encoding), and the results adopted on the runner
// thread.
#include "ferry/net/http_client.h"
#include "ferry/obs/log.h"
#include "runner_internal.h"

namespace ferry::output {

namespace {
// The partition key of the ferry_on_encode call running on this thread (null: none).
thread_local const std::string* t_encode_partition = nullptr;
} // namespace

size_t hostEncodePartition(void*, const char** key) {
  if (key == nullptr) return 0;
  *key = t_encode_partition ? t_encode_partition->c_str() : "";
  return t_encode_partition ? t_encode_partition->size() : 0;
}

OutputRunner::Partition* OutputRunner::oldestPartition() const {
  Partition* oldest = nullptr;
  for (const auto& [key, p] : partitions_) {
    if (!oldest || p->age() < oldest->age()) oldest = p.get();
  }
  return oldest;
}

OutputRunner::Partition* OutputRunner::nextPartition(RunnerClock::time_point now) const {
  if (partitions_.empty()) return nullptr;
  Partition* oldest = oldestPartition();
  // Too many open: the oldest goes first, whatever its size, until they are within the bound.
  if (partitions_.size() > limits_.max_partitions) return oldest;
  Partition* full = nullptr;
  for (const auto& [key, p] : partitions_) {
    if ((p->records >= limits_.max_records || p->bytes >= limits_.max_request_bytes) &&
        (!full || p->age() < full->age())) {
      full = p.get();
    }
  }
  if (full) return full;
  if (finishing_.load(std::memory_order_relaxed)) return oldest;
  // Over budget, the inputs feeding this output are paused (or, with storage, it is fed from
  // disk only once it drains): no more records come until it sends, so waiting for a full
  // request or the flush interval would only stall it.
  if (overBudget()) return oldest;
  if (now - oldest->runs.front().pending->arrived >= std::chrono::milliseconds(flush_interval_ms_))
    return oldest;
  return nullptr;
}

bool OutputRunner::readyToEncode(RunnerClock::time_point now) const {
  return nextPartition(now) != nullptr;
}

void OutputRunner::partitionBatch(const PendingPtr& pending) {
  const core::Batch& b = *pending->batch;
  const bool per_record = partition_template_.usesFields();
  std::string batch_key;
  if (!per_record && !partition_template_.empty()) {
    batch_key = partition_template_.evaluate(b.tag(), {}, static_cast<uint32_t>(b.format()));
  }
  auto fileRun = [&](std::string key, uint32_t begin, uint32_t end) {
    auto& slot = partitions_[key];
    if (!slot) {
      slot = std::make_unique<Partition>();
      slot->key = std::move(key);
    }
    uint64_t bytes = 0;
    for (uint32_t i = begin; i < end; ++i)
      bytes += b.entry(i).length;
    slot->runs.push_back({pending, begin, end - begin});
    slot->records += end - begin;
    slot->bytes += bytes;
    untaken_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  };
  const auto n = static_cast<uint32_t>(b.size());
  if (!per_record) {
    fileRun(std::move(batch_key), 0, n);
    return;
  }
  uint32_t begin = 0;
  std::string key;
  for (uint32_t i = 0; i < n; ++i) {
    const core::RecordView r = b.record(i);
    std::string k =
        partition_template_.evaluate(b.tag(), r.data, static_cast<uint32_t>(b.format()));
    if (i > 0 && k != key) {
      fileRun(std::move(key), begin, i);
      begin = i;
    }
    key = std::move(k);
  }
  if (n > 0) fileRun(std::move(key), begin, n);
}

std::vector<OutputRunner::Encoded> OutputRunner::encodeRaw(const std::vector<Slice>& slices,
                                                           uint32_t attempts, size_t max_records,
                                                           const std::string& partition) const {
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
    t_encode_partition = &partition;
    const int rc = api_.encode(instance_, views.data() + pos, offer, &consumed, &dropped, &handle,
                               error, sizeof error);
    t_encode_partition = nullptr;
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
    e.dropped = std::min(dropped, consumed);
    auto req = std::make_unique<Request>();
    req->handle = handle;
    req->partition = partition;
    req->attempts = attempts;
    req->held = consumed;
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

std::vector<OutputRunner::RequestPtr> OutputRunner::adopt(std::vector<Encoded> encoded,
                                                          uint64_t counted_drops) {
  std::vector<RequestPtr> out;
  for (auto& e : encoded) {
    RequestPtr req = std::move(e.request);
    req->id = next_request_id_++;
    if (!e.error.empty()) {
      FERRY_LOG_WARN(name(), "cannot encode a record, dropping it: {}", e.error);
      if (e.stray) api_.request_free(instance_, e.stray);
    }
    if (req->handle == nullptr) {
      // Nothing to send: every record it covers is refused.
      e.dropped = req->held;
    }
    // Re-encoding records whose refusals were counted before refuses them again: count
    // only the new ones.
    const uint64_t recount_of_known = std::min<uint64_t>(counted_drops, e.dropped);
    counted_drops -= recount_of_known;
    records_dropped_->add(e.dropped - recount_of_known);
    if (req->handle == nullptr) {
      resolve(*req, core::BatchOutcome::kDropped);
      continue;
    }
    request_bytes_.fetch_add(req->held_bytes, std::memory_order_relaxed);
    learnBodyRatio(*req);
    if (e.dropped > 0 && !learnStates(*req, 0, e.dropped)) {
      // The encoder refused records it cannot name: they ride along, resolved as dropped
      // with the rest of the request.
      req->held -= e.dropped;
      req->hidden += e.dropped;
      req->hidden_encode_drops += e.dropped;
      req->hidden_worst = core::BatchOutcome::kDropped;
    }
    out.push_back(std::move(req));
  }
  return out;
}

std::vector<OutputRunner::RequestPtr>
OutputRunner::encodeSlices(const std::vector<Slice>& slices, uint32_t attempts, size_t max_records,
                           const std::string& partition, uint64_t counted_drops) {
  return adopt(encodeRaw(slices, attempts, max_records, partition), counted_drops);
}

std::vector<OutputRunner::Slice> OutputRunner::takeSlices(size_t& records, uint64_t& bytes,
                                                          std::string& partition) {
  std::vector<Slice> slices;
  records = 0;
  bytes = 0;
  Partition* part = nextPartition(RunnerClock::now());
  if (part == nullptr) return slices;
  partition = part->key;
  while (!part->runs.empty() && records < limits_.max_records &&
         bytes < limits_.max_request_bytes) {
    Slice& run = part->runs.front();
    const core::Batch& b = *run.pending->batch;
    uint32_t take = 0;
    uint64_t taken_bytes = 0;
    while (take < run.count && records < limits_.max_records &&
           (bytes < limits_.max_request_bytes || records == 0)) {
      const uint64_t len = b.entry(run.begin + take).length;
      bytes += len;
      taken_bytes += len;
      ++records;
      ++take;
    }
    if (take == 0) break;
    slices.push_back({run.pending, run.begin, take});
    run.begin += take;
    run.count -= take;
    untaken_records_ -= take;
    part->records -= take;
    part->bytes -= taken_bytes;
    untaken_bytes_.fetch_sub(taken_bytes, std::memory_order_relaxed);
    if (run.count == 0) part->runs.pop_front();
  }
  if (part->runs.empty()) partitions_.erase(part->key);
  return slices;
}

OutputRunner::RequestPtr OutputRunner::encodeNext() {
  size_t records = 0;
  uint64_t bytes = 0;
  std::string partition;
  auto slices = takeSlices(records, bytes, partition);
  if (slices.empty()) return nullptr;
  auto reqs = encodeSlices(slices, 0, records, partition);
  if (reqs.empty()) return nullptr;
  // The plugin may cover fewer records than offered: later requests go to the retry queue
  // head, ready now, so order is kept as far as possible.
  for (size_t i = reqs.size(); i-- > 1;) {
    reqs[i]->not_before = RunnerClock::now();
    retry_queue_.push_front(std::move(reqs[i]));
  }
  return std::move(reqs.front());
}

void OutputRunner::encodeInPool() {
  size_t records = 0;
  uint64_t bytes = 0;
  std::string partition;
  auto slices = takeSlices(records, bytes, partition);
  if (slices.empty()) return;
  ++encoding_jobs_;
  const uint64_t estimate = expectedBodyBytes(bytes);
  encoding_estimate_ += estimate;
  pool_->submit(
      [this, slices = std::move(slices), records, estimate, partition = std::move(partition)] {
        EncodeJob job{encodeRaw(slices, 0, records, partition), estimate};
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

} // namespace ferry::output
