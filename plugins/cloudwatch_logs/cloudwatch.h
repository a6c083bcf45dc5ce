// The `cloudwatch_logs` sink: PutLogEvents (SigV4 service `logs`) within CloudWatch Logs'
// limits. config.cc: options and names; encoder.cc: events and the body; calls.cc: the steps
// of a request (create group / retention / stream, put) and each answer's verdict.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_json_sink.h"
#include "ferry/sink/record.h"

namespace ferry::cloudwatch {

// PutLogEvents limits (docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference).
inline constexpr size_t kMaxEvents = 10'000;
inline constexpr size_t kMaxBatchBytes = 1'048'576; // sum of UTF-8 message bytes + 26 each
inline constexpr size_t kEventOverhead = 26;
inline constexpr size_t kMaxEventBytes = 256 * 1024; // one message + 26
inline constexpr int64_t kMaxSpanMs = 24LL * 3600 * 1000;
inline constexpr std::string_view kTruncatedMark = "[Truncated...]";

extern const ferry_plugin_descriptor kDescriptor;

struct Config {
  sink::AwsService aws; // region, endpoint, user agent, STS endpoint
  std::string stream_prefix, log_key;
  sink::RecordTemplate group, group_template, stream, stream_template;
  bool auto_create_group = false, emf = false; // emf: log_format json/emf
  int64_t retention_days = 0;
  sink::AwsTags group_tags;
  sink::EcsTask ecs;
  // The runner's partition template (limits.partition_template): records of one partition
  // share a route (routeOf), so a request is one stream's. "" when every record has one route.
  std::string partition;
};

std::expected<Config, std::string> parseConfig(const sdk::Options& options);

// Where a record goes. THE partition of the sink: routeOf is the one place it is computed.
struct Route {
  std::string group, stream;
  auto operator<=>(const Route&) const = default;
};
std::optional<Route> routeOf(const Config& config, const ferry_plugin_record& record);

// One log event: its message escaped for JSON, and its UTF-8 bytes (what CloudWatch counts).
struct Event {
  int64_t ms = 0;
  uint32_t record = 0; // index among the records the request consumed
  std::string json;
  size_t bytes = 0;
};

enum class Step { kPut, kCreateGroup, kRetention, kCreateStream };
std::string_view stepName(Step step);

class CloudWatchRequest : public sink::AwsJsonRequest {
public:
  Route route;
  std::vector<Event> events; // in time order (stable)
  std::string put_body;
  Step step = Step::kPut;

  uint64_t heldBytes() const override {
    return put_body.capacity() + step_body.capacity() + events.capacity() * sizeof(Event);
  }
};

struct EncodeStats {
  size_t consumed = 0, malformed = 0, unroutable = 0, truncated = 0;
};

// A request of the leading records that go to the first routable record's stream, within
// every PutLogEvents limit; nullptr when every consumed record was dropped.
std::unique_ptr<CloudWatchRequest>
encode(const Config& config, std::span<const ferry_plugin_record> records, EncodeStats& stats);

// The body of the current step's call.
std::string callBody(const CloudWatchRequest& request, const Config& config);

// What an answer did, for the sink's counters and its known streams.
struct Outcome {
  uint64_t too_old = 0, expired = 0, too_new = 0, invalid = 0;
  bool stream_exists = false, stream_missing = false, group_created = false;
};
void judge(CloudWatchRequest& request, const Config& config, const ferry_http_response& response,
           ferry_plugin_verdict& verdict, Outcome& outcome);

} // namespace ferry::cloudwatch
