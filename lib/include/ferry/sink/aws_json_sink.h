// The sink kit, AWS sinks that make their own JSON 1.1 calls, a request walking several APIs
// in turn (CloudWatch Logs: the group and stream a put needs created first, then the put):
// resource tags from an option, the limits of one call as the AWS APIs state them, the request
// that holds one state per record and the attempt being sent, and the sink base that signs
// each attempt (where: AwsService, ferry/sink/aws.h) and bounds how many steps a request
// chains before it is retried. The batch APIs (Firehose, Kinesis) are aws_batch.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_call.h"
#include "ferry/sink/http.h"

namespace ferry::sink {

// The limits of one call: items, bytes (each item's plus item_overhead) and the span of the
// items' times (0: unbounded).
struct AwsCallLimits {
  size_t max_items = 0;
  size_t max_bytes = 0;
  size_t item_overhead = 0;
  int64_t max_span_ms = 0;
};

// What a call holds so far against its limits.
class AwsCallBudget {
public:
  explicit AwsCallBudget(AwsCallLimits limits) : limits_(limits) {}
  // Counts an item of `bytes` at time `ms` when it fits (the first always does); false, and
  // nothing counted, when the call is full.
  bool add(size_t bytes, int64_t ms = 0);
  size_t items() const { return items_; }
  size_t bytes() const { return bytes_; } // overheads included

private:
  AwsCallLimits limits_;
  size_t items_ = 0, bytes_ = 0;
  int64_t lo_ = 0, hi_ = 0;
};

// A request of a JSON sink: one state per record it consumed (ferry_record_state; HELD until
// its event is judged, so a PARTIAL verdict names which were delivered), the attempt being
// sent and the steps chained.
class AwsJsonRequest : public sdk::Request {
public:
  std::vector<uint8_t> states;
  AwsAttempt attempt;   // kept alive for the host until the answer
  uint32_t chained = 0; // CONTINUE verdicts in a row (AwsJsonSink bounds them)

  // One more record consumed: HELD when the request carries it, else DROPPED. Its index.
  size_t consume(bool held);
  // Record `i` delivered or dropped, and counted so in the verdict.
  void resolve(size_t i, bool delivered, ferry_plugin_verdict& verdict);
  bool recordStates(std::span<uint8_t> out) const override;
  uint64_t heldBytes() const override { return step_body.capacity(); }

  std::string step_body; // the body of the attempt when the step built its own (AwsJsonStep)
  std::string what;      // what its calls are about, for messages ("group / stream")
};

// The call of a request's current step: its X-Amz-Target, its body and the extra headers it
// signs. The body views the request, or the step builds its own (`owned`, kept in the request
// until the answer).
struct AwsJsonStep {
  std::string target;
  std::string_view body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> owned;
};

// The HTTP half of a JSON sink: each attempt signed with the current credentials (none yet:
// an error, and the runner retries after a backoff), each answer judged by the sink, and a
// request answered CONTINUE more than max_chained_steps times in a row (something keeps
// answering "missing") retried after a backoff instead ("<what> still missing"). Its
// requests are AwsJsonRequests.
class AwsJsonSink : public sdk::Sink {
public:
  AwsJsonSink(const sdk::Host& host, const AwsService& service, std::string signing_service,
              aws::CredentialsProviderPtr credentials, uint32_t max_chained_steps);

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override;
  void httpResponse(sdk::Request& request, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override;

protected:
  virtual AwsJsonStep call(AwsJsonRequest& request) = 0;
  virtual void judge(AwsJsonRequest& request, const ferry_http_response& response,
                     ferry_plugin_verdict& verdict) = 0;
  // Adds each counter that is not zero (a zero would export a series nothing happened to).
  void countNonZero(std::initializer_list<std::pair<const char*, uint64_t>> counters) const;

  sdk::Host host_;

private:
  AwsJsonClient client_;
  uint32_t max_chained_;
};

} // namespace ferry::sink
