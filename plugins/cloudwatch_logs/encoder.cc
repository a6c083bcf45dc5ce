// Records → PutLogEvents: the leading records of one stream, each an event of valid UTF-8
// (invalid bytes become U+FFFD, so what is counted is what CloudWatch counts), within 10,000
// events, 1,048,576 bytes (message + 26 each) and a 24-hour span; sorted by time (stable).
#include "cloudwatch.h"
#include "ferry/codec/json.h"
#include "ferry/sink/text.h"

namespace ferry::cloudwatch {
namespace {

// The whole record as JSON, or log_key's value (a string as it is, anything else as JSON);
// nullopt when malformed, missing or empty. Over 256 KiB: cut and marked (`truncated`).
std::optional<Event> eventOf(const Config& c, const ferry_plugin_record& r, bool& truncated) {
  core::ByteBuffer json;
  std::string_view raw;
  const codec::RecordJsonOptions plain{.time_key = "", .time_format = codec::TimeFormat::kNone};
  if (!sink::recordText(r, c.log_key, plain, json, raw)) return std::nullopt;
  sink::JsonText text(raw);
  if (text.bytes == 0) return std::nullopt; // CloudWatch refuses an empty message
  truncated = text.bytes + kEventOverhead > kMaxEventBytes;
  if (truncated) text.cut(kMaxEventBytes - kEventOverhead, kTruncatedMark);
  Event e{.json = std::move(text.escaped), .bytes = text.bytes};
  e.ms = std::max<int64_t>(0, r.timestamp_ns / 1'000'000);
  return e;
}

} // namespace

std::unique_ptr<CloudWatchRequest>
encode(const Config& c, std::span<const ferry_plugin_record> records, EncodeStats& stats) {
  auto req = std::make_unique<CloudWatchRequest>();
  std::optional<Route> first;
  sink::AwsCallBudget budget({kMaxEvents, kMaxBatchBytes, kEventOverhead, kMaxSpanMs});
  for (const ferry_plugin_record& r : records) {
    auto route = routeOf(c, r);
    const bool routable = route.has_value();       // route moves into `first` below
    if (route && first && *route != *first) break; // another stream (a coarser partition)
    bool truncated = false;
    auto event = route ? eventOf(c, r, truncated) : std::nullopt;
    if (event) {
      if (!budget.add(event->bytes, event->ms)) break; // the call is full
      stats.truncated += truncated;
      event->record = static_cast<uint32_t>(req->states.size());
      req->events.push_back(std::move(*event));
      if (!first) first = std::move(route);
    }
    (routable ? stats.malformed : stats.unroutable) += event ? 0 : 1;
    req->consume(event.has_value());
  }
  stats.consumed = req->states.size();
  if (req->events.empty()) return nullptr;
  req->route = std::move(*first);
  req->what = req->route.group + " / " + req->route.stream;
  std::stable_sort(req->events.begin(), req->events.end(),
                   [](const Event& a, const Event& b) { return a.ms < b.ms; });
  std::string& body = req->put_body;
  body.reserve(budget.bytes() + req->events.size() * 40 + 256);
  body += "{\"logGroupName\":" + sink::jsonString(req->route.group) +
          ",\"logStreamName\":" + sink::jsonString(req->route.stream) + ",\"logEvents\":[";
  for (Event& e : req->events) {
    body +=
        fmt::format("{}{{\"timestamp\":{},\"message\":\"", &e == &req->events[0] ? "" : ",", e.ms);
    body += e.json;
    body += "\"}";
    std::string().swap(e.json); // the body holds it now
  }
  body += "]}";
  return req;
}

} // namespace ferry::cloudwatch
