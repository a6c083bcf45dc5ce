// The sink kit's AWS JSON sinks: where they send, the limits of a call, record states, and
// the attempts signed and bounded.
#include "ferry/sink/aws_json_sink.h"

#include <algorithm>

#include "ferry/core/strings.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/options.h"
#include "ferry/sink/record.h"

namespace ferry::sink {

bool AwsCallBudget::add(size_t bytes, int64_t ms) {
  const size_t cost = bytes + limits_.item_overhead;
  if (items_ > 0 &&
      (items_ == limits_.max_items || bytes_ + cost > limits_.max_bytes ||
       (limits_.max_span_ms > 0 && std::max(hi_, ms) - std::min(lo_, ms) > limits_.max_span_ms)))
    return false;
  if (items_ == 0) lo_ = hi_ = ms;
  lo_ = std::min(lo_, ms);
  hi_ = std::max(hi_, ms);
  bytes_ += cost;
  ++items_;
  return true;
}

bool AwsJsonRequest::recordStates(std::span<uint8_t> out) const {
  if (out.size() != states.size()) return false;
  std::copy(states.begin(), states.end(), out.begin());
  return true;
}

size_t AwsJsonRequest::consume(bool held) {
  states.push_back(held ? FERRY_RECORD_HELD : FERRY_RECORD_DROPPED);
  return states.size() - 1;
}

void AwsJsonRequest::resolve(size_t i, bool delivered, ferry_plugin_verdict& v) {
  states[i] = delivered ? FERRY_RECORD_DELIVERED : FERRY_RECORD_DROPPED;
  (delivered ? v.records_delivered : v.records_dropped) += 1;
}

AwsJsonSink::AwsJsonSink(const sdk::Host& host, const AwsService& service,
                         std::string signing_service, aws::CredentialsProviderPtr credentials,
                         uint32_t max_chained_steps)
    : host_(host), client_(service.endpoint, service.region, std::move(signing_service),
                           std::move(credentials), service.user_agent),
      max_chained_(max_chained_steps) {}

std::expected<void, std::string> AwsJsonSink::httpRequest(sdk::Request& request,
                                                          ferry_http_request& out) {
  auto& r = static_cast<AwsJsonRequest&>(request);
  AwsJsonStep step = call(r);
  r.step_body = step.owned ? std::move(*step.owned) : std::string();
  if (step.owned) step.body = r.step_body;
  return client_.describe(step.target, step.body, std::move(step.headers), r.attempt, out);
}

void AwsJsonSink::countNonZero(
    std::initializer_list<std::pair<const char*, uint64_t>> counters) const {
  for (const auto& [name, n] : counters) {
    if (n > 0) host_.count(name, n);
  }
}

void AwsJsonSink::httpResponse(sdk::Request& request, const ferry_http_response& response,
                               ferry_plugin_verdict& verdict) {
  auto& r = static_cast<AwsJsonRequest&>(request);
  judge(r, response, verdict);
  if (verdict.kind != FERRY_VERDICT_CONTINUE) {
    r.chained = 0;
  } else if (++r.chained > max_chained_) {
    r.chained = 0;
    verdict.kind = FERRY_VERDICT_RETRY;
    sdk::setMessage(verdict, r.what + " still missing");
  }
}

} // namespace ferry::sink
