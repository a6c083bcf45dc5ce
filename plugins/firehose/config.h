// Firehose sink options: the declared option table, validation, and the endpoint (default
// https://firehose.<region>.amazonaws.com, from the kit). Vendor limits of PutRecordBatch (500
// records, 4 MiB per call, 1,000 KiB per record) are constants here and clamp the runner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "ferry/codec/json.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/http.h"

namespace ferry::firehose {

// PutRecordBatch limits (docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch).
inline constexpr size_t kMaxRecordsPerCall = 500;
// The whole request as sent (JSON, base64 included): the strictest reading of "4 MiB per call".
inline constexpr size_t kMaxCallBytes = 4 * 1024 * 1024;
// One record's data before base64 (1,000 KiB).
inline constexpr size_t kMaxRecordBytes = 1000 * 1024;
inline constexpr uint32_t kMaxConcurrency = 64;
inline constexpr uint64_t kDefaultTimeoutMs = 30'000;
inline constexpr std::string_view kTarget = "Firehose_20150804.PutRecordBatch";
inline constexpr std::string_view kService = "firehose";

// The `type: firehose` descriptor (type name, description, option table).
extern const ferry_plugin_descriptor kDescriptor;

struct FirehoseConfig {
  std::string delivery_stream;
  std::string region;
  sink::HttpUrl endpoint; // default https://firehose.<region>.amazonaws.com/
  std::string url;        // endpoint.text(): what the host sends to
  bool aggregate = false;
  codec::RecordJsonOptions json; // time_key / time_format of each record's JSON line
  uint64_t timeout_ms = kDefaultTimeoutMs;
};

// Validates the options the host passes (already type-checked against kDescriptor).
std::expected<FirehoseConfig, std::string> parseConfig(const sdk::Options& options);

} // namespace ferry::firehose
