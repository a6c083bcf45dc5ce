// The `cloudwatch_logs` sink: PutLogEvents (JSON 1.1, SigV4 service `logs`) within CloudWatch
// Logs' limits, with the group and stream created when missing. config.cc holds the option
// table and the names (templates over the tag and record fields), encoder.cc the events and
// the call body, calls.cc the steps of a request (create group / retention / stream, put) and
// the judgement of each answer, plugin.cc the ABI exports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/http.h"

namespace ferry::cloudwatch {

// PutLogEvents limits (docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference).
inline constexpr size_t kMaxEvents = 10'000;
inline constexpr size_t kMaxBatchBytes = 1'048'576; // sum of UTF-8 message bytes + 26 each
inline constexpr size_t kEventOverhead = 26;
inline constexpr size_t kMaxEventBytes = 256 * 1024; // one message + 26
inline constexpr int64_t kMaxSpanMs = 24LL * 3600 * 1000;
inline constexpr std::string_view kTruncatedMark = "[Truncated...]";
inline constexpr std::string_view kService = "logs";

extern const ferry_plugin_descriptor kDescriptor;

// What $(ecs_cluster), $(ecs_task_arn) and $(ecs_task_id) stand for (task metadata v4).
struct EcsInfo {
  std::string cluster, task_arn, task_id;
};

// A name from an option: text and variables. Two spellings: the Go plugin's $(tag),
// $(tag[1]), $(field), $(field['sub']), $(ecs_task_id)...; Fluent Bit's record accessor $TAG,
// $TAG[1], $field, $field['sub']. A variable with no value makes the whole name missing.
class Template {
public:
  static std::expected<Template, std::string> parse(std::string_view option, std::string_view text);
  bool empty() const { return parts_.empty(); }
  bool hasVariables() const;
  bool usesEcs() const;
  std::optional<std::string> render(const ferry_plugin_record& record, const EcsInfo& ecs) const;

private:
  struct Part {
    enum Kind { kText, kTag, kTagPart, kField, kEcs } kind = kText;
    std::string text;              // kText; kEcs: the variable's name
    size_t index = 0;              // kTagPart
    std::vector<std::string> path; // kField
  };
  std::vector<Part> parts_;
};

struct Config {
  std::string region;
  sink::HttpUrl endpoint;
  std::string url;
  Template group, group_template, stream, stream_template;
  std::string stream_prefix;
  bool auto_create_group = false;
  int64_t retention_days = 0;
  std::vector<std::pair<std::string, std::string>> group_tags;
  std::string log_key;
  bool emf = false; // log_format json/emf
  std::string user_agent;
  std::string sts_endpoint;
  uint64_t timeout_ms = 30'000;
  EcsInfo ecs;
};

std::expected<Config, std::string> parseConfig(const sdk::Options& options);
// Reads the ECS task metadata when a name uses $(ecs_...) (start-up only: it may wait 2 s).
void resolveEcs(Config& config);

// The value at `path` in a record: a string's text, or another value's msgpack bytes.
struct FieldValue {
  std::string_view bytes;
  bool is_string = false;
};
std::optional<FieldValue> valueAt(const ferry_plugin_record& record,
                                  const std::vector<std::string>& path);

// Where a record goes. THE partition of the sink: routeOf is the one place it is computed.
struct Route {
  std::string group, stream;
  bool operator==(const Route&) const = default;
};
std::optional<Route> routeOf(const Config& config, const ferry_plugin_record& record);

// One log event: its message as the JSON string's inside (escaped, valid UTF-8) and the
// message's UTF-8 byte count (what CloudWatch counts, before the 26 bytes).
struct Event {
  int64_t ms = 0;
  uint32_t record = 0; // index among the records the request consumed
  std::string json;
  size_t bytes = 0;
};

// The event of a record: the whole record as JSON, or the value of log_key (a string as it
// is, anything else as JSON). nullopt when malformed, missing or empty. Over 256 KiB it is
// cut on a character boundary and ends with kTruncatedMark (`truncated` set).
std::optional<Event> eventOf(const Config& config, const ferry_plugin_record& record,
                             bool& truncated);

enum class Step { kPut, kCreateGroup, kRetention, kCreateStream };
std::string_view stepName(Step step);

class CloudWatchRequest : public sdk::Request {
public:
  Route route;
  std::vector<Event> events;   // in time order (stable)
  std::vector<uint8_t> states; // per consumed record (ferry_record_state)
  std::string put_body;
  Step step = Step::kPut;
  bool started = false;
  uint32_t chained = 0; // CONTINUE steps since the last other verdict
  // The attempt being sent, kept alive for the host.
  std::string call_body, payload_hash;
  std::vector<std::string> header_lines;
  std::vector<const char*> header_ptrs;

  uint64_t heldBytes() const override;
  bool recordStates(std::span<uint8_t> out) const override;
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
  bool stream_exists = false; // created, or found to exist
  bool stream_missing = false;
  bool group_created = false;
};
void judge(CloudWatchRequest& request, const Config& config, const ferry_http_response& response,
           ferry_plugin_verdict& verdict, Outcome& outcome);

} // namespace ferry::cloudwatch
