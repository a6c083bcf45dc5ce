// Records → PutRecords JSON, written by the sink kit's batch request. Every limit is checked
// before a record is written: a call never passes 500 records or 5 MiB of data and partition
// keys, a record never passes 1 MiB of both; partition keys are 1 to 256 characters of
// well-formed UTF-8 (else a random key).
#include "encoder.h"

#include <algorithm>
#include <cstring>

#include "ferry/codec/json.h"

namespace ferry::kinesis {

const sink::AwsBatchApi kApi = {.service = kService,
                                .target = kTarget,
                                .stream_member = "StreamName",
                                .failed_count = "FailedRecordCount",
                                .results = "Records",
                                .vendor = "Kinesis",
                                .permission = "kinesis:PutRecords",
                                .stream_noun = "stream",
                                .stream_option = "stream"};

EncoderSettings EncoderSettings::fromConfig(const KinesisConfig& config) {
  EncoderSettings s;
  s.stream = config.stream;
  s.partition_key = config.partition_key;
  s.log_key = config.log_key;
  s.append_newline = config.append_newline;
  s.json = config.json;
  return s;
}

KinesisEncoder::KinesisEncoder(EncoderSettings settings)
    : settings_(std::move(settings)), random_(std::random_device{}()) {
  settings_.max_records = std::clamp<size_t>(settings_.max_records, 1, kMaxRecordsPerCall);
  settings_.max_call_bytes = std::min(settings_.max_call_bytes, kMaxCallBytes);
  settings_.max_record_bytes =
      std::min({settings_.max_record_bytes, kMaxRecordBytes, settings_.max_call_bytes});
}

const filter::Field* KinesisEncoder::find(std::span<const std::string> path) {
  const filter::Field* f = filter::findField(fields_, path.front());
  for (size_t i = 1; f != nullptr && i < path.size(); ++i) {
    if (f->text || !filter::splitFields(core::RecordFormat::kMsgpackMap, f->value, nested_, stack_))
      return nullptr;
    f = filter::findField(nested_, path[i]);
  }
  return f;
}

KinesisEncoder::Data KinesisEncoder::recordData(const ferry_plugin_record& record) {
  data_.clear();
  split_ = false;
  const std::string_view bytes(reinterpret_cast<const char*>(record.data), record.data_len);
  const auto format = static_cast<core::RecordFormat>(record.format);
  if (settings_.log_key.empty()) {
    const core::RecordView view{record.timestamp_ns, bytes};
    if (!codec::appendRecordJson(data_, format, view, settings_.json)) return Data::kMalformed;
  } else {
    if (!filter::splitFields(format, bytes, fields_, stack_)) return Data::kMalformed;
    split_ = true;
    const filter::Field* f = filter::findField(fields_, settings_.log_key);
    if (f == nullptr) return Data::kNoLogKey;
    std::string_view text;
    if (f->text) {
      data_.append(f->value);
    } else if (filter::fieldText(*f, scratch_, text)) {
      data_.append(text);
    } else if (codec::appendMsgpackAsJson(data_, f->value) == 0) {
      return Data::kMalformed;
    }
  }
  if (settings_.append_newline) data_.push_back('\n');
  return Data::kOk;
}

bool KinesisEncoder::partitionKey(const ferry_plugin_record& record) {
  key_.clear();
  if (!settings_.partition_key.empty()) {
    const std::string_view bytes(reinterpret_cast<const char*>(record.data), record.data_len);
    if (!split_) {
      split_ = filter::splitFields(static_cast<core::RecordFormat>(record.format), bytes, fields_,
                                   stack_);
    }
    std::string_view text;
    const filter::Field* f = split_ ? find(settings_.partition_key) : nullptr;
    if (f != nullptr && filter::fieldText(*f, scratch_, text)) {
      const size_t units = utf16Units(text);
      if (units >= 1 && units <= kMaxPartitionKeyChars) {
        key_.assign(text);
        return true;
      }
    }
  }
  // 128 random bits as 32 hex digits: spread evenly over the shards' hash ranges.
  static constexpr char kHex[] = "0123456789abcdef";
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = random_();
    for (int i = 0; i < 16; ++i, bits >>= 4)
      key_.push_back(kHex[bits & 0xF]);
  }
  return settings_.partition_key.empty();
}

std::unique_ptr<KinesisRequest> KinesisEncoder::encode(std::span<const ferry_plugin_record> records,
                                                       EncodeStats& stats) {
  stats = {};
  auto request = std::make_unique<KinesisRequest>();
  request->stream = settings_.stream;
  // Reserve the body once (JSON grows a record a little, base64 by a third); finish()
  // gives back the rest.
  const size_t fixed = sink::batchFixedBytes(kApi, settings_.stream);
  const size_t most = fixed + sink::base64Length(settings_.max_call_bytes) +
                      settings_.max_records * (64 + 6 * kMaxPartitionKeyChars);
  size_t expected = fixed;
  for (size_t i = 0; i < records.size() && i < settings_.max_records && expected < most; ++i)
    expected += (records[i].data_len + 64) * 2 + 64;
  request->begin(std::min(expected, most));
  for (const ferry_plugin_record& record : records) {
    if (request->records.size() == settings_.max_records) break;
    const Data d = recordData(record);
    if (d != Data::kOk) {
      ++(d == Data::kMalformed ? stats.malformed : stats.no_log_key);
      ++stats.consumed;
      continue;
    }
    const bool keyed = partitionKey(record);
    const size_t n = data_.size() + key_.size();
    if (n > settings_.max_record_bytes) {
      ++stats.too_large;
      ++stats.consumed;
      continue;
    }
    if (stats.call_bytes + n > settings_.max_call_bytes) break;
    if (!keyed) ++stats.random_keys;
    members_.clear();
    members_.append(",\"PartitionKey\":");
    codec::appendJsonString(members_, key_);
    request->add(data_.view(), 1, members_.view());
    stats.call_bytes += n;
    ++stats.log_records;
    ++stats.consumed;
  }
  if (request->records.empty()) return nullptr;
  request->finish();
  return request;
}

} // namespace ferry::kinesis
