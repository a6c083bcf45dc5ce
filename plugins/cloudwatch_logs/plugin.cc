// The `cloudwatch_logs` sink: the ABI exports, each step's call, the streams known to exist
// (signing, the chained-step bound: the kit's AwsJsonSink). Runs on the runner thread only.
#include <set>

#include "cloudwatch.h"
#include "ferry/sink/aws_batch.h"

namespace {

using namespace ferry;
using namespace ferry::cloudwatch;

// More steps in a row than a whole create chain: something keeps answering "missing".
constexpr uint32_t kMaxChainedSteps = 6;

class CloudWatchSink : public sink::AwsJsonSink {
public:
  CloudWatchSink(const sdk::Host& host, Config config, aws::CredentialsProviderPtr credentials)
      : AwsJsonSink(host, config.aws, "logs", std::move(credentials), kMaxChainedSteps),
        config_(std::move(config)) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    EncodeStats stats;
    auto request = cloudwatch::encode(config_, records, stats);
    consumed = stats.consumed;
    dropped = stats.malformed + stats.unroutable;
    countNonZero({{"truncated", stats.truncated}, {"unroutable", stats.unroutable}});
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

  const Config& config() const { return config_; }

private:
  sink::AwsJsonStep call(sink::AwsJsonRequest& request) override {
    auto& r = static_cast<CloudWatchRequest&>(request);
    sink::AwsJsonStep step{.target = fmt::format("Logs_20140328.{}", stepName(r.step)),
                           .body = r.put_body};
    if (r.step != Step::kPut) step.owned = callBody(r, config_);
    if (config_.emf && r.step == Step::kPut) step.headers = {{"x-amzn-logs-format", "json/emf"}};
    return step;
  }

  void judge(sink::AwsJsonRequest& request, const ferry_http_response& response,
             ferry_plugin_verdict& verdict) override {
    auto& r = static_cast<CloudWatchRequest&>(request);
    Outcome o;
    cloudwatch::judge(r, config_, response, verdict, o);
    if (o.stream_exists) known_.insert(r.route);
    if (o.stream_missing) known_.erase(r.route);
    if (o.group_created) host_.log(FERRY_LOG_INFO, "created log group {}", r.route.group);
    countNonZero({{"rejected_too_old", o.too_old},
                  {"rejected_expired", o.expired},
                  {"rejected_too_new", o.too_new},
                  {"invalid_events", o.invalid}});
  }

  Config config_;
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
  auto credentials = sink::defaultAwsCredentials(host, c.aws.sts_endpoint);
  limits.transport = FERRY_TRANSPORT_HTTP;
  limits.max_records = static_cast<uint32_t>(kMaxEvents);
  limits.max_request_bytes = kMaxBatchBytes; // the encoder stops at the limit
  // One call at a time keeps each stream's events in order across calls.
  limits.max_concurrency = 1;
  limits.request_timeout_ms = c.aws.timeout_ms;
  host.log(FERRY_LOG_INFO, "cloudwatch_logs: sending to {} via {}", c.aws.region, c.aws.url);
  auto sink = std::make_unique<CloudWatchSink>(host, std::move(*config), std::move(credentials));
  // One open batch per stream: every request is one stream's (the string lives in the sink).
  if (!sink->config().partition.empty())
    limits.partition_template = sink->config().partition.c_str();
  return sink;
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(ferry::cloudwatch::kDescriptor, makeSink,
                            ferry::cloudwatch::parseConfig)
