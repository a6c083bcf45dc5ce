// Records → PutLogEvents: the leading records of one stream, each an event of valid UTF-8
// (invalid bytes become U+FFFD, so what is counted is what CloudWatch counts), within 10,000
// events, 1,048,576 bytes (message + 26 each) and a 24-hour span; sorted by time (stable).
#include <algorithm>

#include "cloudwatch.h"
#include "ferry/codec/json.h"

namespace ferry::cloudwatch {
namespace {

// The UTF-8 bytes a JSON string's inside stands for (ferry's encoder escapes only with
// \" \\ \n-style pairs and \u00XX, each one byte).
size_t decodedBytes(std::string_view esc) {
  size_t n = 0;
  for (size_t i = 0; i < esc.size(); ++n)
    i += esc[i] != '\\' ? 1 : esc[i + 1] == 'u' ? 6 : 2;
  return n;
}

// Cuts the escaped text so that it stands for at most `limit` bytes, on a character boundary.
void cutTo(std::string& esc, size_t limit) {
  size_t i = 0, n = 0, last_boundary = 0;
  while (i < esc.size() && n < limit) {
    const size_t step = esc[i] != '\\' ? 1 : esc[i + 1] == 'u' ? 6 : 2;
    i += step;
    ++n;
    if (i >= esc.size() || (static_cast<unsigned char>(esc[i]) & 0xC0) != 0x80) last_boundary = i;
  }
  esc.resize(i < esc.size() && (static_cast<unsigned char>(esc[i]) & 0xC0) == 0x80 ? last_boundary
                                                                                   : i);
}

std::string escaped(std::string_view text) {
  core::ByteBuffer b;
  codec::appendJsonString(b, text);
  return std::string(b.view(1, b.size() - 2));
}

} // namespace

std::optional<Event> eventOf(const Config& c, const ferry_plugin_record& r, bool& truncated) {
  core::ByteBuffer json;
  if (c.log_key.empty()) {
    const codec::RecordJsonOptions plain{.time_key = "", .time_format = codec::TimeFormat::kNone};
    const std::string_view data(reinterpret_cast<const char*>(r.data), r.data_len);
    if (!codec::appendRecordJson(json, static_cast<core::RecordFormat>(r.format),
                                 {r.timestamp_ns, data}, plain))
      return std::nullopt;
  }
  Event e;
  if (c.log_key.empty()) {
    e.json = escaped(json.view());
  } else {
    auto value = valueAt(r, {c.log_key});
    if (!value) return std::nullopt;
    if (value->is_string) {
      e.json = escaped(value->bytes);
    } else {
      if (codec::appendMsgpackAsJson(json, value->bytes) == 0) return std::nullopt;
      e.json = escaped(json.view());
    }
  }
  e.bytes = decodedBytes(e.json);
  if (e.bytes == 0) return std::nullopt; // CloudWatch refuses an empty message
  truncated = e.bytes + kEventOverhead > kMaxEventBytes;
  if (truncated) {
    cutTo(e.json, kMaxEventBytes - kEventOverhead - kTruncatedMark.size());
    e.json += kTruncatedMark;
    e.bytes = decodedBytes(e.json);
  }
  e.ms = std::max<int64_t>(0, r.timestamp_ns / 1'000'000);
  return e;
}

uint64_t CloudWatchRequest::heldBytes() const {
  return put_body.capacity() + call_body.capacity() + events.capacity() * sizeof(Event) +
         states.capacity();
}

bool CloudWatchRequest::recordStates(std::span<uint8_t> out) const {
  if (out.size() != states.size()) return false;
  std::copy(states.begin(), states.end(), out.begin());
  return true;
}

std::unique_ptr<CloudWatchRequest>
encode(const Config& c, std::span<const ferry_plugin_record> records, EncodeStats& stats) {
  auto req = std::make_unique<CloudWatchRequest>();
  std::optional<Route> first;
  size_t bytes = 0;
  int64_t lo = 0, hi = 0;
  for (const ferry_plugin_record& r : records) {
    auto route = routeOf(c, r);
    if (route && first && *route != *first) break; // another stream: a later request
    bool truncated = false;
    auto event = route ? eventOf(c, r, truncated) : std::nullopt;
    if (event) {
      const size_t cost = event->bytes + kEventOverhead;
      if (!req->events.empty() &&
          (req->events.size() == kMaxEvents || bytes + cost > kMaxBatchBytes ||
           std::max(hi, event->ms) - std::min(lo, event->ms) > kMaxSpanMs))
        break;
      if (req->events.empty()) lo = hi = event->ms;
      lo = std::min(lo, event->ms);
      hi = std::max(hi, event->ms);
      bytes += cost;
      stats.truncated += truncated;
      event->record = static_cast<uint32_t>(req->states.size());
      req->events.push_back(std::move(*event));
      if (!first) first = std::move(route);
    }
    (route ? stats.malformed : stats.unroutable) += event ? 0 : 1;
    req->states.push_back(event ? FERRY_RECORD_HELD : FERRY_RECORD_DROPPED);
  }
  stats.consumed = req->states.size();
  if (req->events.empty()) return nullptr;
  req->route = std::move(*first);
  std::stable_sort(req->events.begin(), req->events.end(),
                   [](const Event& a, const Event& b) { return a.ms < b.ms; });
  std::string& body = req->put_body;
  body.reserve(bytes + req->events.size() * 40 + 256);
  body += "{\"logGroupName\":\"" + escaped(req->route.group) + "\",\"logStreamName\":\"" +
          escaped(req->route.stream) + "\",\"logEvents\":[";
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
