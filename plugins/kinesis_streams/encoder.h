// Records → a Kinesis PutRecords request: each log record one Kinesis record (its JSON, or
// with log_key that field's value; a newline after it unless append_newline is off) with a
// partition key from a record field or random. A call holds at most 500 records and 5 MiB
// of data and partition keys; a record's data and key at most 1 MiB (a longer one is dropped
// and counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "ferry/core/buffer.h"
#include "ferry/filter/record.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/text.h"

namespace ferry::kinesis {

// The PutRecords call as the sink kit's batch API names it.
extern const sink::AwsBatchApi kApi;

struct EncoderSettings {
  std::string stream;
  std::vector<std::string> partition_key; // field path; empty: random keys
  std::string log_key;
  bool append_newline = true;
  codec::RecordJsonOptions json;
  size_t max_records = kMaxRecordsPerCall;
  size_t max_call_bytes = kMaxCallBytes;     // data + partition keys of a call
  size_t max_record_bytes = kMaxRecordBytes; // data + partition key of one record

  static EncoderSettings fromConfig(const KinesisConfig& config);
};

// A PutRecords request ({"StreamName": s, "Records": [{"Data": base64, "PartitionKey": k}]}),
// narrowed to the failed records after a partial failure.
class KinesisRequest : public sink::AwsBatchRequest {
public:
  KinesisRequest() : AwsBatchRequest(kApi) {}
};

struct EncodeStats {
  size_t consumed = 0;    // leading log records covered (encoded + dropped)
  size_t log_records = 0; // encoded into the request
  size_t call_bytes = 0;  // data + partition keys of the request
  size_t malformed = 0;   // dropped: the record's msgpack could not be read
  size_t too_large = 0;   // dropped: data + partition key over max_record_bytes
  size_t no_log_key = 0;  // dropped: log_key set and the record has no such field
  size_t random_keys = 0; // partition_key set, but the record had no usable value
};

// A partition key's length as Kinesis counts it (UTF-16 code units; SIZE_MAX: not UTF-8).
using sink::utf16Units;

// Not thread-safe (scratch buffers, random source): one encoder per sink instance.
class KinesisEncoder {
public:
  explicit KinesisEncoder(EncoderSettings settings);

  // Encodes as many leading records as the call limits allow (at least one consumed when
  // there is one). nullptr when every consumed record was dropped.
  std::unique_ptr<KinesisRequest> encode(std::span<const ferry_plugin_record> records,
                                         EncodeStats& stats);

  const EncoderSettings& settings() const { return settings_; }

private:
  enum class Data { kOk, kMalformed, kNoLogKey };
  Data recordData(const ferry_plugin_record& record);
  // The field at `path`, from fields_ (splitting nested maps into nested_); nullptr if none.
  const filter::Field* find(std::span<const std::string> path);
  // key_ := the record's partition key (fields_ already split, or not when `split` is false);
  // false when it fell back to a random one.
  bool partitionKey(const ferry_plugin_record& record);

  EncoderSettings settings_;
  std::mt19937_64 random_;
  core::ByteBuffer data_;    // one record's data
  core::ByteBuffer members_; // ,"PartitionKey":"..."
  std::string key_, scratch_;
  std::vector<filter::Field> fields_, nested_;
  std::vector<uint64_t> stack_;
  bool split_ = false; // fields_ holds the current record's fields
};

} // namespace ferry::kinesis
