// The `cloudwatch_logs` sink: the ABI exports, SigV4 per attempt, the streams known to exist.
// Everything runs on the runner thread (no parallel encoding).
#include <chrono>
#include <set>

#include "cloudwatch.h"
#include "ferry/sink/aws_batch.h"

namespace {

using namespace ferry;
using namespace ferry::cloudwatch;

// More steps in a row than a whole create chain: something keeps answering "missing".
constexpr uint32_t kMaxChainedSteps = 6;

class CloudWatchSink : public sdk::Sink {
public:
  CloudWatchSink(const sdk::Host& host, Config config, aws::CredentialsProviderPtr credentials)
      : host_(host), config_(std::move(config)),
        client_(config_.endpoint, config_.region, "logs", std::move(credentials),
                "ferry" + (config_.user_agent.empty() ? "" : " " + config_.user_agent)) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    EncodeStats stats;
    auto request = cloudwatch::encode(config_, records, stats);
    consumed = stats.consumed;
    dropped = stats.malformed + stats.unroutable;
    if (stats.truncated > 0) host_.count("truncated", stats.truncated);
    if (stats.unroutable > 0) host_.count("unroutable", stats.unroutable);
    if (dropped > 0) {
      host_.log(FERRY_LOG_WARN,
                "dropped {} malformed or empty records, {} whose group or stream "
                "name has no value",
                stats.malformed, stats.unroutable);
    }
    // A stream this instance knows to exist starts with the put, another with CreateLogStream.
    if (request && !known_.contains(request->route)) request->step = Step::kCreateStream;
    return sdk::RequestPtr(std::move(request));
  }

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override {
    auto& r = static_cast<CloudWatchRequest&>(request);
    const bool put = r.step == Step::kPut;
    r.call_body = put ? std::string() : callBody(r, config_);
    std::vector<std::pair<std::string, std::string>> extra;
    if (config_.emf && put) extra = {{"x-amzn-logs-format", "json/emf"}};
    return client_.describe(fmt::format("Logs_20140328.{}", stepName(r.step)),
                            put ? r.put_body : r.call_body, std::move(extra), r.attempt, out);
  }

  void httpResponse(sdk::Request& request, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override {
    auto& r = static_cast<CloudWatchRequest&>(request);
    Outcome o;
    judge(r, config_, response, verdict, o);
    if (o.stream_exists) known_.insert(r.route);
    if (o.stream_missing) known_.erase(r.route);
    if (o.group_created) host_.log(FERRY_LOG_INFO, "created log group {}", r.route.group);
    for (auto [name, n] : {std::pair{"rejected_too_old", o.too_old},
                           {"rejected_expired", o.expired},
                           {"rejected_too_new", o.too_new},
                           {"invalid_events", o.invalid}}) {
      if (n > 0) host_.count(name, n);
    }
    if (verdict.kind != FERRY_VERDICT_CONTINUE) {
      r.chained = 0;
    } else if (++r.chained > kMaxChainedSteps) {
      r.chained = 0;
      verdict.kind = FERRY_VERDICT_RETRY;
      sdk::setMessage(verdict, fmt::format("{} / {} still missing", r.route.group, r.route.stream));
    }
  }

  const Config& config() const { return config_; }

private:
  sdk::Host host_;
  Config config_;
  sink::AwsJsonClient client_;
  std::set<Route> known_; // streams known to exist
};

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host& host, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto config = parseConfig(options);
  if (!config) return std::unexpected(config.error());
  Config& c = *config;
  if (c.group.usesEcs() || c.group_template.usesEcs() || c.stream.usesEcs() ||
      c.stream_template.usesEcs())
    c.ecs = sink::readEcsTask();
  auto credentials = sink::defaultAwsCredentials(host, c.sts_endpoint);
  limits.transport = FERRY_TRANSPORT_HTTP;
  limits.max_records = static_cast<uint32_t>(kMaxEvents);
  limits.max_request_bytes = kMaxBatchBytes; // the encoder stops at the limit
  // One call at a time keeps each stream's events in order across calls.
  limits.max_concurrency = 1;
  limits.request_timeout_ms = config->timeout_ms;
  host.log(FERRY_LOG_INFO, "cloudwatch_logs: sending to {} via {}", config->region, config->url);
  auto sink = std::make_unique<CloudWatchSink>(host, std::move(*config), std::move(credentials));
  // One open batch per stream: every request is one stream's (the string lives in the sink).
  if (!sink->config().partition.empty())
    limits.partition_template = sink->config().partition.c_str();
  return sink;
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::cloudwatch::kDescriptor, makeSink,
                            ferry::cloudwatch::parseConfig)
