// The output runner: the host side of one sink. It owns everything every sink needs — the
// queue and its byte budget (the records it holds and the bodies of the requests encoded
// from them), batching records into requests by the plugin's limits, a
// flush interval, requests in flight (adaptive), retry with backoff and jitter, delivery
// bookkeeping (each batch's finalizer) and metrics — so a plugin only encodes and judges.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/core/router.h"
#include "ferry/obs/metrics.h"
#include "ferry/output/partition.h"
#include "ferry/output/plugin_host.h"
#include "ferry/output/retry.h"

namespace ferry::net {
class HttpClient;
struct HttpResponse;
} // namespace ferry::net

namespace ferry::output {

struct OutputHealth {
  bool healthy = true;
  std::string reason; // why not, for /health
};

class OutputRunner : public core::OutputQueue {
public:
  // Host defaults where the plugin leaves a limit at 0.
  static constexpr uint32_t kDefaultMaxRecords = 1000;
  static constexpr uint64_t kDefaultMaxRequestBytes = 4ull << 20;
  static constexpr uint64_t kDefaultFlushIntervalMs = 1000;
  static constexpr uint64_t kDefaultRequestTimeoutMs = 30000;
  static constexpr uint32_t kDefaultMaxPartitions = 64; // limits.max_partitions left at 0

  OutputRunner(const PluginApi& api, config::OutputSection config, obs::Metrics& metrics,
               uint64_t unhealthy_after_ms = 60000);
  ~OutputRunner() override;

  // Creates the plugin instance (ferry_on_init). Error text names the output.
  std::expected<void, std::string> init();
  void start();

  // core::OutputQueue
  void enqueue(core::BatchRef batch) override;
  // What it holds, plus the bodies its waiting records will need once encoded (as far as the
  // cap on bodies lets them be), passes buffer.max_bytes: the inputs feeding it pause. So
  // records and bodies together stay within the budget (give or take a batch and a request).
  bool overBudget() const override { return overBudget(0); }
  // The same with `incoming` bytes on their way here (batches in the ring, not yet routed).
  bool overBudget(uint64_t incoming) const {
    return bufferedBytes() + bodiesToCome() + incoming > config_.common.buffer_max_bytes;
  }

  // Sends everything held at once (no flush interval), retrying (with backoff) until `deadline`;
  // then gives up on what is left: those records are counted as failed and their batches resolved
  // as kFailed. The thread ends when nothing is left. Call after the router has stopped feeding
  // this runner.
  void finish(std::chrono::steady_clock::time_point deadline);
  void join();

  const std::string& name() const { return config_.section.name; }
  const std::string& match() const { return config_.section.match; }
  OutputHealth health() const;
  // Set by the pipeline while the disk buffer this output reads cannot take writes (empty:
  // it can again); /health reports the output unhealthy with this reason meanwhile.
  void setStorageFault(std::string reason);
  // All the memory this output holds against buffer.max_bytes: the records of every batch
  // not yet resolved (whether waiting or inside a request) plus the bytes the plugin keeps
  // for each encoded request (its body) until the request is freed.
  uint64_t bufferedBytes() const { return recordBytes() + requestBytes(); }
  uint64_t recordBytes() const { return record_bytes_.load(std::memory_order_relaxed); }
  // Bytes held by encoded requests: being sent, waiting for a slot or for a retry.
  uint64_t requestBytes() const { return request_bytes_.load(std::memory_order_relaxed); }
  // Records given up at shutdown or after the retry budget (the "lost" report).
  uint64_t failedRecords() const { return records_failed_->value(); }
  uint64_t pendingRecords() const { return pending_records_.load(std::memory_order_relaxed); }

  // Called on the runner thread each time this output has resolved a whole batch, just
  // before the batch learns it: disk storage advances this output's cursor with it. Set it
  // before start().
  using ResolvedHook = std::function<void(const core::Batch&, core::BatchOutcome)>;
  void setResolvedHook(ResolvedHook hook) { resolved_hook_ = std::move(hook); }

private:
  struct PendingBatch;
  struct Slice;
  struct Partition;
  struct Request;
  struct Encoded;
  struct EncodeJob;
  class EncodePool;
  using PendingPtr = std::shared_ptr<PendingBatch>;
  using RequestPtr = std::unique_ptr<Request>;

  // runner.cc: the loop.
  void run();
  void absorbIncoming();
  // runner_encode.cc
  bool readyToEncode(std::chrono::steady_clock::time_point now) const;
  // Encoded requests may hold half the budget (plus the request that crossed it): mayEncode()
  // says whether they leave room for another one, bodiesToCome() what the untaken records'
  // bodies are expected to add (from the request bytes recent encodes gave per record byte).
  uint64_t bodyCap() const { return config_.common.buffer_max_bytes / 2; }
  uint64_t expectedBodyBytes(uint64_t record_bytes) const;
  bool mayEncode() const;
  uint64_t bodiesToCome() const;
  RequestPtr encodeNext();
  // `counted_drops`: refusals of these records already counted (a re-encode refuses them
  // again).
  std::vector<RequestPtr> encodeSlices(const std::vector<Slice>& slices, uint32_t attempts,
                                       size_t max_records, const std::string& partition,
                                       uint64_t counted_drops = 0);
  // Thread-safe part of encoding (plugin calls only); adopt() does the bookkeeping on the
  // runner thread.
  std::vector<Encoded> encodeRaw(const std::vector<Slice>& slices, uint32_t attempts,
                                 size_t max_records, const std::string& partition) const;
  std::vector<RequestPtr> adopt(std::vector<Encoded> encoded, uint64_t counted_drops = 0);
  // The partition to encode from now (full ones first, the oldest when over the bound or
  // due), or null when none is due.
  Partition* nextPartition(std::chrono::steady_clock::time_point now) const;
  Partition* oldestPartition() const;
  // Files a new batch's records under their partitions (limits.partition_template).
  void partitionBatch(const PendingPtr& pending);
  // Takes up to the plugin's limits from one partition, in arrival order; `partition` gets
  // its key.
  std::vector<Slice> takeSlices(size_t& records, uint64_t& record_bytes, std::string& partition);
  void encodeInPool();
  void waitForEncoding();
  // runner_requests.cc: sending, verdicts, resolution.
  void dispatch(RequestPtr request);
  void handleVerdict(RequestPtr request, const ferry_plugin_verdict& verdict,
                     std::chrono::microseconds latency);
  void split(RequestPtr request, const ferry_plugin_verdict& verdict, const char* message);
  // Resolves every record the request still holds, and empties it.
  void resolve(Request& request, core::BatchOutcome outcome);
  void resolveRecords(PendingBatch& pending, uint32_t count, core::BatchOutcome outcome);
  // Asks the plugin which records the request still holds (ferry_on_request_records) and
  // resolves those a verdict (or the encoder) resolved; false when it cannot say or its
  // answer disagrees with the counts.
  bool learnStates(Request& request, uint64_t delivered, uint64_t dropped);
  std::vector<Slice> heldSlices(const Request& request) const;
  // The sink failed as a failing sink does: the request waits for the retry gate.
  void sinkFailed(RequestPtr request, uint64_t retry_after_ms, const char* why);
  // The request alone goes again after its own backoff (a partial resend, a split the
  // plugin cannot name the records for).
  void retryLater(RequestPtr request, uint64_t retry_after_ms, const char* why, bool count_attempt);
  bool giveUpIfExhausted(Request& request, const char* why);
  void queueRetry(RequestPtr request, std::chrono::steady_clock::time_point not_before,
                  const char* why);
  void sinkAnswered();
  void giveUpAll();
  void onHttpResponse(net::HttpResponse& response);
  // runner_memory.cc: the plugin's view of what a request holds (ferry_on_request_bytes, or
  // the body of the attempt last described); recount() brings request_bytes_ up to date with
  // it, and freeRequest() gives it back with the request.
  uint64_t heldBytes(const Request& request) const;
  void recount(Request& request);
  void freeRequest(Request& request);
  void learnBodyRatio(const Request& request);
  void setHealth(bool unhealthy, std::string reason);

  const PluginApi& api_;
  config::OutputSection config_;
  obs::Metrics& metrics_;
  uint64_t unhealthy_after_ms_;
  ferry_host_api host_api_{};
  ferry_plugin_instance* instance_ = nullptr;
  ferry_plugin_limits limits_{};
  uint64_t flush_interval_ms_ = kDefaultFlushIntervalMs;
  ResolvedHook resolved_hook_;

  // Incoming batches from the router (the only cross-thread hand-over).
  std::mutex incoming_mu_;
  std::condition_variable incoming_cv_;
  std::vector<core::BatchRef> incoming_;
  std::vector<EncodeJob> encoded_done_; // results of pool encodes
  bool sleeping_ = false;

  // Runner-thread state.
  // Records not yet in a request, by partition key (one partition, "", without a template).
  PartitionTemplate partition_template_;
  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
  uint64_t next_batch_seq_ = 0; // arrival order of batches, for the oldest partition
  size_t untaken_records_ = 0;
  std::atomic<uint64_t> untaken_bytes_{0}; // written by the runner thread only
  std::deque<RequestPtr> retry_queue_;     // ordered by not_before
  std::unordered_map<uint64_t, RequestPtr> in_flight_;
  uint64_t next_request_id_ = 1;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<EncodePool> pool_;    // only for plugins with limits.parallel_encode
  size_t encoding_jobs_ = 0;            // submitted to pool_, result not yet adopted
  uint64_t encoding_estimate_ = 0;      // request bytes those jobs are expected to produce
  std::atomic<double> body_ratio_{1.0}; // recent request bytes per record byte encoded
  std::deque<RequestPtr> ready_;        // encoded by the pool, waiting for a slot
  Backoff backoff_;
  RetryGate gate_{backoff_};
  ConcurrencyLimit concurrency_;

  std::thread thread_;
  std::atomic<bool> finishing_{false};
  std::atomic<int64_t> deadline_ns_{0};

  std::atomic<uint64_t> record_bytes_{0};  // batches not yet resolved for this output
  std::atomic<uint64_t> request_bytes_{0}; // held by encoded requests, by their plugin
  std::atomic<uint64_t> pending_records_{0};
  mutable std::mutex health_mu_;
  bool auth_unhealthy_ = false;
  std::string health_reason_;
  std::string storage_fault_; // set while the disk buffer cannot take writes
  std::atomic<int64_t> last_success_ns_{0};

  obs::Counter* records_sent_;
  obs::Counter* records_dropped_;
  obs::Counter* records_failed_;
  obs::Counter* retries_;
  obs::Counter* requests_ok_;
  obs::Counter* bytes_sent_;
  obs::Counter* requests_failed_;
  obs::Counter* requests_refused_ = nullptr; // ferry_output_requests_given_up_total
  obs::Counter* requests_exhausted_ = nullptr;
  obs::Gauge* buffer_gauge_;
  obs::Gauge* request_bytes_gauge_;
  obs::Gauge* in_flight_gauge_;
  obs::Gauge* concurrency_gauge_;
  obs::Gauge* healthy_gauge_; // health() as of the runner loop's last turn (at most 200 ms old)
  obs::Histogram* request_duration_;
};

using OutputRunnerPtr = std::unique_ptr<OutputRunner>;

} // namespace ferry::output
