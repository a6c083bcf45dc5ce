// Records → PutRecordBatch JSON ({"DeliveryStreamName": s, "Records": [{"Data": base64}]}).
// Sizes are computed before anything is written, so a call never passes 500 records or
// 4 MiB as sent, and a record never passes 1,000 KiB before base64.
#include "encoder.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>

namespace ferry::firehose {
namespace {

constexpr std::string_view kBodyStart = "{\"DeliveryStreamName\":";
constexpr std::string_view kRecordsStart = ",\"Records\":[";
constexpr std::string_view kBodyEnd = "]}";
constexpr std::string_view kDataStart = "{\"Data\":\"";
constexpr std::string_view kDataEnd = "\"}";

size_t fixedBytes(std::string_view delivery_stream) {
  core::ByteBuffer name;
  codec::appendJsonString(name, delivery_stream);
  return kBodyStart.size() + name.size() + kRecordsStart.size() + kBodyEnd.size();
}

// What one record adds to the body.
size_t recordCost(size_t raw_bytes, bool first) {
  return (first ? 0 : 1) + kDataStart.size() + base64Length(raw_bytes) + kDataEnd.size();
}

} // namespace

size_t base64Length(size_t raw_bytes) {
  return (raw_bytes + 2) / 3 * 4;
}

void appendBase64(core::ByteBuffer& out, std::string_view raw) {
  const size_t n = base64Length(raw.size());
  // EVP_EncodeBlock writes a NUL after the text and takes an int length: encode in chunks
  // (a multiple of 3 bytes, so no padding appears in the middle).
  constexpr size_t kChunk = 3 * (1 << 20);
  out.reserve(out.size() + n + 1);
  size_t done = 0;
  while (done < raw.size()) {
    const size_t len = std::min(kChunk, raw.size() - done);
    auto* dst = reinterpret_cast<unsigned char*>(out.prepare(base64Length(len) + 1));
    const int written = EVP_EncodeBlock(
        dst, reinterpret_cast<const unsigned char*>(raw.data() + done), static_cast<int>(len));
    out.commit(static_cast<size_t>(written));
    done += len;
  }
}

EncoderSettings EncoderSettings::fromConfig(const FirehoseConfig& config) {
  EncoderSettings s;
  s.delivery_stream = config.delivery_stream;
  s.aggregate = config.aggregate;
  s.json = config.json;
  return s;
}

// ---- FirehoseRequest ------------------------------------------------------------------------

uint64_t FirehoseRequest::logRecords() const {
  uint64_t n = 0;
  for (const auto& r : records)
    n += r.log_records;
  return n;
}

void FirehoseRequest::buildBody() {
  size_t size = fixedBytes(delivery_stream);
  for (size_t i = 0; i < records.size(); ++i)
    size += recordCost(records[i].length, i == 0);
  body.clear();
  body.reserve(size);
  body.append(kBodyStart);
  codec::appendJsonString(body, delivery_stream);
  body.append(kRecordsStart);
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) body.push_back(',');
    body.append(kDataStart);
    appendBase64(body, recordData(records[i]));
    body.append(kDataEnd);
  }
  body.append(kBodyEnd);
  assert(body.size() == size);
  payload_hash.clear();
}

uint64_t FirehoseRequest::retain(const std::vector<bool>& keep) {
  uint64_t removed = 0;
  std::vector<FirehoseRecord> kept;
  kept.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (i < keep.size() && keep[i]) {
      kept.push_back(records[i]);
    } else {
      removed += records[i].log_records;
    }
  }
  records = std::move(kept);
  buildBody();
  return removed;
}

size_t bodyBytes(std::string_view delivery_stream, std::span<const size_t> record_lengths) {
  size_t size = fixedBytes(delivery_stream);
  for (size_t i = 0; i < record_lengths.size(); ++i)
    size += recordCost(record_lengths[i], i == 0);
  return size;
}

// ---- FirehoseEncoder ------------------------------------------------------------------------

FirehoseEncoder::FirehoseEncoder(EncoderSettings settings) : settings_(std::move(settings)) {
  body_fixed_ = fixedBytes(settings_.delivery_stream);
  settings_.max_records = std::clamp<size_t>(settings_.max_records, 1, kMaxRecordsPerCall);
  settings_.max_call_bytes = std::min(settings_.max_call_bytes, kMaxCallBytes);
  // One record of the largest size must fit in an otherwise empty call.
  const size_t room = settings_.max_call_bytes -
                      std::min(settings_.max_call_bytes, body_fixed_ + recordCost(0, true));
  settings_.max_record_bytes =
      std::min({settings_.max_record_bytes, kMaxRecordBytes, room / 4 * 3});
}

std::unique_ptr<FirehoseRequest>
FirehoseEncoder::encode(std::span<const ferry_plugin_record> records, EncodeStats& stats) {
  stats = {};
  auto request = std::make_unique<FirehoseRequest>();
  request->delivery_stream = settings_.delivery_stream;
  size_t body = body_fixed_;
  for (const ferry_plugin_record& record : records) {
    line_.clear();
    const core::RecordView view{record.timestamp_ns,
                                {reinterpret_cast<const char*>(record.data), record.data_len}};
    if (!codec::appendRecordJson(line_, static_cast<core::RecordFormat>(record.format), view,
                                 settings_.json)) {
      ++stats.malformed;
      ++stats.consumed;
      continue;
    }
    line_.push_back('\n');
    const size_t n = line_.size();
    if (n > settings_.max_record_bytes) {
      ++stats.too_large;
      ++stats.consumed;
      continue;
    }
    auto& out = request->records;
    bool packed = false;
    if (settings_.aggregate && !out.empty() &&
        out.back().length + n <= settings_.max_record_bytes) {
      FirehoseRecord& last = out.back();
      const size_t grown = body - base64Length(last.length) + base64Length(last.length + n);
      // A new record would cost more than growing this one: when growing does not fit, the
      // call is full.
      if (grown > settings_.max_call_bytes) break;
      last.length += n;
      ++last.log_records;
      body = grown;
      packed = true;
    }
    if (!packed) {
      const size_t cost = recordCost(n, out.empty());
      if (out.size() == settings_.max_records || body + cost > settings_.max_call_bytes) break;
      out.push_back({request->data.size(), n, 1});
      body += cost;
    }
    request->data.append(line_.view());
    ++stats.log_records;
    ++stats.consumed;
  }
  stats.firehose_records = request->records.size();
  if (request->records.empty()) return nullptr;
  request->buildBody();
  assert(request->body.size() == body);
  return request;
}

} // namespace ferry::firehose
