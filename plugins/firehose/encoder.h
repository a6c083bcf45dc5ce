// Records → a Firehose PutRecordBatch request: each record one JSON line (newline
// terminated); with `aggregate`, several lines packed into one Firehose record. A call holds
// at most 500 Firehose records and 4 MiB as sent (base64 included); a record's data at most
// 1,000 KiB (a longer JSON line is dropped and counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "ferry/codec/json.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_batch.h"

namespace ferry::firehose {

// The PutRecordBatch call as the sink kit's batch API names it.
extern const sink::AwsBatchApi kApi;

using sink::appendBase64;
using sink::base64Length;

struct EncoderSettings {
  std::string delivery_stream;
  bool aggregate = false;
  codec::RecordJsonOptions json;
  size_t max_records = kMaxRecordsPerCall;   // Firehose records per call
  size_t max_call_bytes = kMaxCallBytes;     // the JSON body as sent
  size_t max_record_bytes = kMaxRecordBytes; // one record's data, before base64

  static EncoderSettings fromConfig(const FirehoseConfig& config);
};

// One Firehose record: its base64 text inside the body, and how many log records it holds.
using FirehoseRecord = sink::AwsBatchRecord;

// A PutRecordBatch request (the kit's batch request, {"DeliveryStreamName": s, "Records":
// [{"Data": base64}]}); narrowed to the failed records after a partial failure.
class FirehoseRequest : public sink::AwsBatchRequest {
public:
  FirehoseRequest() : AwsBatchRequest(kApi) {}
};

// Bytes of the JSON body holding these records (what begin/add/finish write).
size_t bodyBytes(std::string_view delivery_stream, std::span<const size_t> record_lengths);

struct EncodeStats {
  size_t consumed = 0;    // leading log records covered (encoded + dropped)
  size_t log_records = 0; // encoded into the request
  size_t firehose_records = 0;
  size_t malformed = 0; // dropped: the record's msgpack could not be read
  size_t too_large = 0; // dropped: its JSON line is over max_record_bytes
};

// Not thread-safe (scratch buffers): one encoder per sink instance.
class FirehoseEncoder {
public:
  explicit FirehoseEncoder(EncoderSettings settings);

  // Encodes as many leading records as the call limits allow (at least one consumed when
  // there is one). nullptr when every consumed record was dropped.
  std::unique_ptr<FirehoseRequest> encode(std::span<const ferry_plugin_record> records,
                                          EncodeStats& stats);

  const EncoderSettings& settings() const { return settings_; }

private:
  EncoderSettings settings_;
  size_t body_fixed_ = 0;   // the body without any record
  core::ByteBuffer line_;   // one record's JSON line
  core::ByteBuffer record_; // the Firehose record being filled (several lines when aggregating)
};

} // namespace ferry::firehose
