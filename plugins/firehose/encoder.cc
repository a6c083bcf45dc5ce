// Records → PutRecordBatch JSON ({"DeliveryStreamName": s, "Records": [{"Data": base64}]}).
// Sizes are computed before anything is written, so a call never passes 500 records or
// 4 MiB as sent, and a record never passes 1,000 KiB before base64. Each Firehose record is
// base64-encoded straight into the body, which is reserved once.
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

void FirehoseRequest::begin(size_t expected_bytes) {
  records.clear();
  body.clear();
  body.reserve(std::max(expected_bytes, fixedBytes(delivery_stream)));
  body.append(kBodyStart);
  codec::appendJsonString(body, delivery_stream);
  body.append(kRecordsStart);
}

void FirehoseRequest::startRecord(size_t raw_length, uint32_t log_records) {
  if (!records.empty()) body.push_back(',');
  body.append(kDataStart);
  records.push_back({body.size(), raw_length, log_records});
}

void FirehoseRequest::add(std::string_view raw, uint32_t log_records) {
  startRecord(raw.size(), log_records);
  appendBase64(body, raw);
  body.append(kDataEnd);
}

void FirehoseRequest::finish() {
  body.append(kBodyEnd);
  body.shrinkToFit(); // reserved generously; held until the answer comes
  payload_hash.clear();
}

std::string FirehoseRequest::recordData(const FirehoseRecord& r) const {
  const std::string_view text = body.view(r.offset, base64Length(r.length));
  std::string raw(text.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  raw.resize(n < 0 ? 0 : r.length); // EVP_DecodeBlock counts the padding as zero bytes
  return raw;
}

uint64_t FirehoseRequest::logRecords() const {
  uint64_t n = 0;
  for (const auto& r : records)
    n += r.log_records;
  return n;
}

uint64_t FirehoseRequest::retain(const std::vector<bool>& keep) {
  uint64_t removed = 0;
  std::vector<size_t> kept_lengths;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i < keep.size() && keep[i]) kept_lengths.push_back(records[i].length);
  }
  const std::vector<FirehoseRecord> old_records = std::move(records);
  const core::ByteBuffer old_body = std::move(body);
  begin(bodyBytes(delivery_stream, kept_lengths));
  for (size_t i = 0; i < old_records.size(); ++i) {
    const FirehoseRecord& r = old_records[i];
    if (!(i < keep.size() && keep[i])) {
      removed += r.log_records;
      continue;
    }
    // The base64 text moves as it is: the raw data is not kept.
    startRecord(r.length, r.log_records);
    body.append(old_body.view(r.offset, base64Length(r.length)));
    body.append(kDataEnd);
  }
  finish();
  assert(body.size() == bodyBytes(delivery_stream, kept_lengths));
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
  // Reserve the body once (a JSON line is rarely over 1.2 times its record, base64 is 4/3
  // of it), so it is not grown and moved record by record; finish() gives back the rest.
  size_t expected = body_fixed_;
  for (const ferry_plugin_record& record : records) {
    if (expected >= settings_.max_call_bytes) break;
    expected += (record.data_len + 64) * 3 / 2;
  }
  request->begin(std::min(expected, settings_.max_call_bytes));
  size_t body = body_fixed_; // the body's size once finished, computed before writing
  size_t firehose_records = 0;
  uint32_t open_lines = 0; // log records in record_, the Firehose record being filled
  record_.clear();
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
    bool packed = false;
    if (settings_.aggregate && open_lines > 0 && record_.size() + n <= settings_.max_record_bytes) {
      const size_t grown = body - base64Length(record_.size()) + base64Length(record_.size() + n);
      // A new record would cost more than growing this one: when growing does not fit, the
      // call is full.
      if (grown > settings_.max_call_bytes) break;
      ++open_lines;
      body = grown;
      packed = true;
    }
    if (!packed) {
      const size_t cost = recordCost(n, firehose_records == 0);
      if (firehose_records == settings_.max_records || body + cost > settings_.max_call_bytes)
        break;
      if (open_lines > 0) request->add(record_.view(), open_lines);
      record_.clear();
      open_lines = 1;
      ++firehose_records;
      body += cost;
    }
    record_.append(line_.view());
    ++stats.log_records;
    ++stats.consumed;
  }
  if (open_lines > 0) request->add(record_.view(), open_lines);
  stats.firehose_records = request->records.size();
  if (request->records.empty()) return nullptr;
  request->finish();
  assert(request->body.size() == body);
  return request;
}

} // namespace ferry::firehose
