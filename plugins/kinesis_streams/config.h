// Kinesis Data Streams sink options: the declared option table, validation, and the
// endpoint (default https://kinesis.<region>.amazonaws.com, from the kit). Vendor limits of
// PutRecords (500 records, 5 MiB per call, 1 MiB per record, data and partition key counted
// together; partition keys of 1 to 256 characters) are constants here and clamp the runner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/codec/json.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/http.h"

namespace ferry::kinesis {

// PutRecords limits (docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords).
inline constexpr size_t kMaxRecordsPerCall = 500;
// Data blobs and partition keys of a call (before base64), summed.
inline constexpr size_t kMaxCallBytes = 5 * 1024 * 1024;
// One record's data plus its partition key (UTF-8 bytes).
inline constexpr size_t kMaxRecordBytes = 1024 * 1024;
// A partition key: 1 to 256 characters (counted here in UTF-16 code units, the stricter).
inline constexpr size_t kMaxPartitionKeyChars = 256;
inline constexpr uint32_t kMaxConcurrency = 64;
inline constexpr uint64_t kDefaultTimeoutMs = 30'000;
inline constexpr std::string_view kTarget = "Kinesis_20131202.PutRecords";
inline constexpr std::string_view kService = "kinesis";

// The `type: kinesis_streams` descriptor (type name, description, option table).
extern const ferry_plugin_descriptor kDescriptor;

struct KinesisConfig {
  std::string stream;
  std::string region;
  sink::HttpUrl endpoint; // default https://kinesis.<region>.amazonaws.com/
  std::string url;        // endpoint.text(): what the host sends to
  // The record field whose value is the partition key, as a path of nested keys
  // ("kubernetes->pod_name" is {"kubernetes": {"pod_name": ...}}); empty: random keys.
  std::vector<std::string> partition_key;
  std::string log_key; // send only this field's value (a string as it is), not the record
  bool append_newline = true;
  codec::RecordJsonOptions json; // time_key / time_format of each record's JSON
  uint64_t timeout_ms = kDefaultTimeoutMs;
};

// Validates the options the host passes (already type-checked against kDescriptor).
std::expected<KinesisConfig, std::string> parseConfig(const sdk::Options& options);

} // namespace ferry::kinesis
