// Records → PutRecordBatch JSON ({"DeliveryStreamName": s, "Records": [{"Data": base64}]},
// written by the sink kit's batch request). Sizes are computed before anything is written,
// so a call never passes 500 records or 4 MiB as sent, and a record never passes 1,000 KiB
// before base64. Each Firehose record is base64-encoded straight into the body, which is
// reserved once.
#include "encoder.h"

#include <algorithm>
#include <cassert>

namespace ferry::firehose {

const sink::AwsBatchApi kApi = {.service = kService,
                                .target = kTarget,
                                .stream_member = "DeliveryStreamName",
                                .failed_count = "FailedPutCount",
                                .results = "RequestResponses",
                                .vendor = "Firehose",
                                .permission = "firehose:PutRecordBatch",
                                .stream_noun = "delivery stream",
                                .stream_option = "delivery_stream"};

namespace {

size_t fixedBytes(std::string_view delivery_stream) {
  return sink::batchFixedBytes(kApi, delivery_stream);
}

// What one record adds to the body.
size_t recordCost(size_t raw_bytes, bool first) {
  return sink::batchRecordBytes(raw_bytes, 0, first);
}

using sink::base64Length;

} // namespace

EncoderSettings EncoderSettings::fromConfig(const FirehoseConfig& config) {
  EncoderSettings s;
  s.delivery_stream = config.delivery_stream;
  s.aggregate = config.aggregate;
  s.json = config.json;
  return s;
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
  request->stream = settings_.delivery_stream;
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
