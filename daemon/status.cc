// service.http routes. Fluent Bit's endpoints read the same counters as ferry's /metrics:
// its input records/bytes are ferry_input_*_total, its output proc_records the records sent,
// errors and retries_failed ferry_output_requests_given_up_total (refused, retries_exhausted).
#include "status.h"

#include <fmt/format.h>

#include "ferry/codec/json.h"

namespace ferry::daemon {
namespace {

constexpr auto kSampleEvery = std::chrono::seconds(1);

struct OutputCounts {
  uint64_t proc_records, errors, retries, retries_failed, dropped_records;
};

OutputCounts outputCounts(const obs::Metrics& m, const std::string& name) {
  auto records = [&](const char* result) {
    return m.counterValue("ferry_output_records_total", {{"output", name}, {"result", result}});
  };
  auto given_up = [&](const char* reason) {
    return m.counterValue("ferry_output_requests_given_up_total",
                          {{"output", name}, {"reason", reason}});
  };
  return {records("sent"), given_up("refused"),
          m.counterValue("ferry_output_retries_total", {{"output", name}}),
          given_up("retries_exhausted"), records("dropped") + records("failed")};
}

std::pair<uint64_t, uint64_t> inputCounts(const obs::Metrics& m, const std::string& name) {
  return {m.counterValue("ferry_input_records_total", {{"input", name}}),
          m.counterValue("ferry_input_bytes_total", {{"input", name}})};
}

// "Fluent Bit has been running:  0 day, 0 hour, 1 minute and 5 seconds", its wording.
std::string uptimeText(uint64_t s) {
  const uint64_t days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60,
                 seconds = s % 60;
  auto plural = [](uint64_t n) { return n > 1 ? "s" : ""; };
  return fmt::format(
      "Fluent Bit has been running:  {} day{}, {} hour{}, {} minute{} and {} second{}", days,
      plural(days), hours, plural(hours), minutes, plural(minutes), seconds, plural(seconds));
}

obs::HttpReply ferryHealth(const app::Pipeline& pipeline) {
  core::ByteBuffer failing;
  for (const auto& o : pipeline.outputs()) {
    const auto h = o->health();
    if (h.healthy) continue;
    failing.append(failing.empty() ? "" : ",");
    failing.append("{\"name\":");
    codec::appendJsonString(failing, o->name());
    failing.append(",\"reason\":");
    codec::appendJsonString(failing, h.reason);
    failing.push_back('}');
  }
  if (failing.empty()) return {200, "application/json", "{\"status\":\"ok\"}"};
  return {503, "application/json",
          "{\"status\":\"unhealthy\",\"outputs\":[" + std::string(failing.view()) + "]}"};
}

// Fluent Bit's /api/v1/metrics: {"input":{name:{records,bytes}},"filter":{},"output":{...}}.
std::string metricsJson(const app::Pipeline& pipeline, const config::Config& config,
                        const obs::Metrics& m) {
  core::ByteBuffer out;
  out.append("{\"input\":{");
  for (size_t i = 0; i < config.inputs.size(); ++i) {
    const auto [records, bytes] = inputCounts(m, config.inputs[i].name);
    if (i > 0) out.push_back(',');
    codec::appendJsonString(out, config.inputs[i].name);
    out.append(fmt::format(":{{\"records\":{},\"bytes\":{}}}", records, bytes));
  }
  out.append("},\"filter\":{},\"output\":{");
  bool first = true;
  for (const auto& o : pipeline.outputs()) {
    const OutputCounts c = outputCounts(m, o->name());
    if (!first) out.push_back(',');
    first = false;
    codec::appendJsonString(out, o->name());
    out.append(
        fmt::format(":{{\"proc_records\":{},\"errors\":{},\"retries\":{},\"retries_failed\":{},"
                    "\"dropped_records\":{}}}",
                    c.proc_records, c.errors, c.retries, c.retries_failed, c.dropped_records));
  }
  out.append("}}");
  return std::string(out.view());
}

// Fluent Bit's Prometheus names (fluentbit_*{name=...}), then ferry's own series. The
// fluentbit_* families go through a registry of their own, so they are written (and their
// labels escaped) exactly as ferry's are.
std::string metricsPrometheus(const app::Pipeline& pipeline, const config::Config& config,
                              const obs::Metrics& m, uint64_t uptime_s) {
  obs::Metrics fb(false);
  for (const auto& s : config.inputs) {
    const auto [records, bytes] = inputCounts(m, s.name);
    const obs::Labels l{{"name", s.name}};
    fb.counter("fluentbit_input_records_total", l, "Number of input records.").add(records);
    fb.counter("fluentbit_input_bytes_total", l, "Number of input bytes.").add(bytes);
  }
  for (const auto& o : pipeline.outputs()) {
    const OutputCounts c = outputCounts(m, o->name());
    const obs::Labels l{{"name", o->name()}};
    fb.counter("fluentbit_output_proc_records_total", l, "Number of processed output records.")
        .add(c.proc_records);
    fb.counter("fluentbit_output_errors_total", l, "Number of output errors.").add(c.errors);
    fb.counter("fluentbit_output_retries_total", l, "Number of output retries.").add(c.retries);
    fb.counter("fluentbit_output_retries_failed_total", l, "Number of abandoned batches.")
        .add(c.retries_failed);
    fb.counter("fluentbit_output_dropped_records_total", l, "Number of dropped records.")
        .add(c.dropped_records);
  }
  fb.counter("fluentbit_uptime", {}, "Number of seconds that Fluent Bit has been running.")
      .add(uptime_s);
  return fb.renderPrometheus() + m.renderPrometheus();
}

} // namespace

FailureTotals failureTotals(const app::Pipeline& pipeline, const obs::Metrics& metrics) {
  FailureTotals t;
  for (const auto& o : pipeline.outputs()) {
    const OutputCounts c = outputCounts(metrics, o->name());
    t.errors += c.errors;
    t.retry_failures += c.retries_failed;
  }
  return t;
}

StatusEndpoints::StatusEndpoints(const config::ServiceConfig& service, TotalsFn totals)
    : service_(service), totals_(std::move(totals)) {
  if (service_.http_health_check) sampler_ = std::thread([this] { sampleLoop(); });
}

StatusEndpoints::~StatusEndpoints() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void StatusEndpoints::sampleLoop() {
  const auto period = std::chrono::milliseconds(service_.http_hc_period_ms);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const FailureTotals now = totals_();
    lock.lock();
    const auto at = Clock::now();
    samples_.push_back({at, now});
    while (!samples_.empty() && samples_.front().at < at - period)
      samples_.pop_front();
    wake_.wait_for(lock, kSampleEvery, [this] { return stopping_; });
  }
}

bool StatusEndpoints::fluentBitHealthy(const FailureTotals& now) {
  if (!service_.http_health_check) return true;
  std::lock_guard lock(mu_);
  if (samples_.empty()) return true;
  const FailureTotals& first = samples_.front().totals;
  return now.errors - first.errors <= service_.http_hc_errors_count &&
         now.retry_failures - first.retry_failures <= service_.http_hc_retry_failure_count;
}

obs::HttpReply StatusEndpoints::reply(const app::Pipeline& pipeline, const config::Config& config,
                                      const std::string& path) {
  const obs::Metrics& metrics = obs::Metrics::global();
  const auto uptime_s = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_)
          .count());
  if (path == "/metrics") return {200, "text/plain; version=0.0.4", metrics.renderPrometheus()};
  if (path == "/health") return ferryHealth(pipeline);
  if (path == "/api/v1/health") {
    if (fluentBitHealthy(failureTotals(pipeline, metrics))) return {200, "text/plain", "ok\n"};
    return {500, "text/plain", "error\n"};
  }
  if (path == "/api/v1/uptime") {
    core::ByteBuffer out;
    out.append(fmt::format("{{\"uptime_sec\":{},\"uptime_hr\":", uptime_s));
    codec::appendJsonString(out, uptimeText(uptime_s));
    out.push_back('}');
    return {200, "application/json", std::string(out.view())};
  }
  if (path == "/api/v1/metrics")
    return {200, "application/json", metricsJson(pipeline, config, metrics)};
  if (path == "/api/v1/metrics/prometheus") {
    return {200, "text/plain; version=0.0.4",
            metricsPrometheus(pipeline, config, metrics, uptime_s)};
  }
  if (path == "/") {
    // Fluent Bit's build-info shape, for tools that probe it; the edition says it is ferry.
    return {
        200, "application/json",
        fmt::format("{{\"fluent-bit\":{{\"version\":\"{}\",\"edition\":\"ferry\",\"flags\":[]}}}}",
                    FERRY_VERSION)};
  }
  return {404, "text/plain", "not found: try /health, /metrics or /api/v1/health\n"};
}

} // namespace ferry::daemon
