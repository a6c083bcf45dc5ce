// S3 sink options: the declared option table, validation, and where requests go (virtual-host
// style on AWS, path style behind an `endpoint` override). S3's own limits clamp the settings:
// parts of 5 MiB to 5 GiB, at most 10,000 parts per upload, keys of at most 1,024 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/codec/compress.h"
#include "ferry/codec/json.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/aws_object_sink.h"

namespace ferry::s3 {

// Amazon S3 limits (docs: "Amazon S3 multipart upload limits").
inline constexpr uint64_t kMinPartBytes = 5ull << 20; // every part but the last
inline constexpr uint64_t kMaxPartBytes = 5ull << 30; // one part, and one PutObject
inline constexpr uint64_t kMaxParts = 10'000;         // parts per multipart upload
inline constexpr size_t kMaxKeyBytes = 1024;          // UTF-8 bytes of an object key
// Our own bounds: an object is held in memory while it uploads, so keep it sane.
inline constexpr uint64_t kMinTotalFileSize = 1024;
inline constexpr uint64_t kMaxTotalFileSize = 5ull << 30;
// Raw record bytes the runner offers per object at most: well inside the default
// buffer.max_bytes (256 MiB), so a filling object never pauses the inputs.
inline constexpr uint64_t kMaxOfferBytes = 128ull << 20;
inline constexpr uint32_t kMaxConcurrency = 16;
inline constexpr uint64_t kDefaultTimeoutMs = 120'000;

extern const ferry_plugin_descriptor kDescriptor;

// Where requests go (bucket, region, addressing) is the kit's AwsObjectTarget.
struct S3Config : sink::AwsObjectTarget {
  std::string key_format;
  std::string tag_delimiters = "."; // split the tag into $TAG[n] parts
  uint64_t total_file_size = 64ull << 20;
  uint64_t upload_timeout_ms = 5 * 60 * 1000;
  uint64_t part_size = kMinPartBytes;
  codec::Compression compression = codec::Compression::kGzip;
  int compression_level = 0;
  std::string storage_class;
  std::string content_type = "application/x-ndjson";
  std::string acl;
  std::string sse; // "" | "AES256" | "aws:kms"
  std::string kms_key_id;
  codec::RecordJsonOptions json;
  uint64_t timeout_ms = kDefaultTimeoutMs;
};

// Validates the options (already type-checked against kDescriptor). `env` resolves the
// region when the option is empty (AWS_REGION, then AWS_DEFAULT_REGION). Errors name the
// option.
std::expected<S3Config, std::string> parseConfig(const sdk::Options& options,
                                                 const sink::EnvLookup& env);

// What the kit's object sink needs (ferry/sink/aws_object_sink.h), and the raw bytes the
// runner offers per object (sink::offerBytesFor, at most kMaxOfferBytes).
sink::AwsObjectStore objectStore(const S3Config& config);
uint64_t offerBytes(const S3Config& config);

} // namespace ferry::s3
