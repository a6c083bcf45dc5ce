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

namespace ferry::firehose {

// Base64 (RFC 4648, padded, no line breaks), as the JSON protocol carries blobs.
size_t base64Length(size_t raw_bytes);
void appendBase64(core::ByteBuffer& out, std::string_view raw);

struct EncoderSettings {
  std::string delivery_stream;
  bool aggregate = false;
  codec::RecordJsonOptions json;
  size_t max_records = kMaxRecordsPerCall;   // Firehose records per call
  size_t max_call_bytes = kMaxCallBytes;     // the JSON body as sent
  size_t max_record_bytes = kMaxRecordBytes; // one record's data, before base64

  static EncoderSettings fromConfig(const FirehoseConfig& config);
};

// One Firehose record: its base64 text inside FirehoseRequest::body, and how many log
// records it holds.
struct FirehoseRecord {
  size_t offset = 0; // of the base64 text in body
  size_t length = 0; // raw bytes (before base64)
  uint32_t log_records = 0;
};

// A request as the runner holds it: the PutRecordBatch body and nothing else (the raw JSON
// lines are base64-encoded straight into it, so a request costs its body, once). After a
// partial failure it is narrowed to the records that failed (retain()), the body rebuilt
// from their base64 text.
class FirehoseRequest : public sdk::Request {
public:
  std::string_view delivery_stream;    // the instance's config outlives its requests
  std::vector<FirehoseRecord> records; // still to deliver, in order
  core::ByteBuffer body;               // PutRecordBatch JSON for `records`
  std::string payload_hash;            // hex SHA-256 of body, for SigV4 (set by the signer)
  // The attempt last described (ferry_http_request points into these).
  std::vector<std::string> headers;
  std::vector<const char*> header_ptrs;

  // Writing the body: begin() (reserving about `expected_bytes`), add() each Firehose
  // record's raw data, finish().
  void begin(size_t expected_bytes = 0);
  void add(std::string_view raw, uint32_t log_records);
  void finish();

  // A record's raw data, decoded from the body (tests, logs).
  std::string recordData(const FirehoseRecord& r) const;
  uint64_t logRecords() const;
  // Keeps only the records whose flag is set (flags.size() == records.size()), rebuilds the
  // body; returns the log records of those removed.
  uint64_t retain(const std::vector<bool>& keep);

  uint64_t heldBytes() const override {
    return body.capacity() + records.capacity() * sizeof(FirehoseRecord);
  }

private:
  // Writes the separator and the record's opening, and notes where its base64 text starts.
  void startRecord(size_t raw_length, uint32_t log_records);
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
