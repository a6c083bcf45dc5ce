// S3 sink options: the option table (the one place options are declared), validation against
// S3's limits, and the request addressing (virtual-host style on AWS, path style otherwise).
#include "config.h"
#include "ferry/core/strings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>

#include "ferry/aws/sigv4.h"
#include "ferry/sink/aws.h"

namespace ferry::s3 {
namespace {

// The one place options are declared: their defaults and bounds are read from here.
const ferry_plugin_option kOptions[] = {
    sink::stringOption("bucket", "Bucket the objects go to.", true),
    sink::stringOption(
        "region",
        "AWS region of the bucket (signing and the endpoint); default: env AWS_REGION, then "
        "AWS_DEFAULT_REGION."),
    sink::stringOption("endpoint",
                       "Endpoint override (S3-compatible stores, tests, VPC endpoints), e.g. "
                       "http://127.0.0.1:9000; requests then use path-style addressing."),
    sink::stringOption(
        "key_format",
        "Object key: strftime fields (UTC, when the object is opened), $TAG, $TAG[n], "
        "$UUID, $INDEX; default ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson plus .gz/.zst."),
    {.name = "tag_delimiters",
     .type = FERRY_OPTION_STRING,
     .default_value = ".",
     .doc = "Characters that split the tag into the parts $TAG[0]...$TAG[9] of key_format "
            "(Fluent Bit's s3_key_format_tag_delimiters)."},
    {.name = "total_file_size",
     .type = FERRY_OPTION_SIZE,
     .default_value = "64MiB",
     .min_value = static_cast<int64_t>(kMinTotalFileSize),
     .max_value = static_cast<int64_t>(kMaxTotalFileSize),
     .doc = "Object size (as uploaded, after compression) that closes an object and uploads it."},
    {.name = "upload_timeout",
     .type = FERRY_OPTION_DURATION,
     .default_value = "5m",
     .min_value = 1000,
     .max_value = 24 * 3600 * 1000,
     .doc = "Upload whatever is buffered once the oldest record has waited this long."},
    // S3's part limits are the bounds.
    {.name = "part_size",
     .type = FERRY_OPTION_SIZE,
     .default_value = "5MiB",
     .min_value = static_cast<int64_t>(kMinPartBytes),
     .max_value = static_cast<int64_t>(kMaxPartBytes),
     .doc = "Multipart part size; objects below it are sent with one PutObject."},
    {.name = "compression",
     .type = FERRY_OPTION_ENUM,
     .default_value = "gzip",
     .enum_values = "gzip|zstd|none",
     .doc = "Object compression (the key's extension says it; no Content-Encoding is set)."},
    sink::kCompressionLevelOption,
    // The storage classes and canned ACLs S3 accepts.
    {.name = "storage_class",
     .type = FERRY_OPTION_ENUM,
     .enum_values = "STANDARD|REDUCED_REDUNDANCY|STANDARD_IA|ONEZONE_IA|INTELLIGENT_TIERING|"
                    "GLACIER|DEEP_ARCHIVE|OUTPOSTS|GLACIER_IR|EXPRESS_ONEZONE",
     .doc = "x-amz-storage-class; empty = the bucket's default."},
    {.name = "content_type",
     .type = FERRY_OPTION_STRING,
     .default_value = "application/x-ndjson",
     .doc = "Content-Type stored with each object."},
    {.name = "acl",
     .type = FERRY_OPTION_ENUM,
     .enum_values = "private|public-read|public-read-write|authenticated-read|aws-exec-read|"
                    "bucket-owner-read|bucket-owner-full-control",
     .doc = "Canned ACL (x-amz-acl); empty = none."},
    {.name = "sse",
     .type = FERRY_OPTION_ENUM,
     .enum_values = "AES256|aws:kms",
     .doc = "Server-side encryption: AES256 or aws:kms; empty = the bucket's default."},
    sink::stringOption("kms_key_id",
                       "KMS key id or ARN with sse: aws:kms; empty = the AWS managed key."),
    {.name = "json_date_key",
     .type = FERRY_OPTION_STRING,
     .default_value = "date",
     .doc = "Field holding the record's time in each line; empty = none."},
    {.name = "json_date_format",
     .type = FERRY_OPTION_ENUM,
     .default_value = "iso8601",
     .enum_values = "iso8601|epoch|epoch_ms",
     .doc = "Format of json_date_key: ISO 8601 UTC, epoch seconds (fractional), epoch "
            "milliseconds."},
    sink::timeoutOption("120s", 1000, 3'600'000,
                        "HTTP timeout of one request (one PutObject or one part)."),
};

using core::trim;

// Bucket names as S3 allows them for new buckets: 3-63 of [a-z0-9.-], starting and ending
// with a letter or digit. (Legacy upper-case names only work path-style; refuse them.)
bool validBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  };
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return std::all_of(b.begin(), b.end(), ok) && alnum(b.front()) && alnum(b.back());
}

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "s3",
    .description = "Uploads records to Amazon S3 (or an S3-compatible store) as "
                   "newline-delimited JSON objects, gzip/zstd compressed, with multipart upload "
                   "for large objects.",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::expected<S3Config, std::string> parseConfig(const sdk::Options& options,
                                                 const sink::EnvLookup& env) {
  if (auto ok = options.check(); !ok) return std::unexpected(ok.error());
  S3Config c;
  c.bucket = std::string(trim(options.string("bucket")));
  if (!validBucket(c.bucket)) {
    return std::unexpected(
        fmt::format("bucket: '{}' is not a valid bucket name (3-63 of a-z 0-9 . -)", c.bucket));
  }
  auto region = sink::resolveRegion("region", options.string("region"), env);
  if (!region) return std::unexpected(region.error());
  c.region = std::move(*region);

  if (auto ok = sink::resolveObjectTarget("endpoint", options.string("endpoint"), "s3", c); !ok)
    return std::unexpected(ok.error());

  auto compression = codec::parseCompression(options.string("compression"));
  if (!compression) return std::unexpected("compression: " + compression.error());
  c.compression = *compression;
  auto level = codec::checkCompressionLevel(c.compression, options.integer("compression_level"));
  if (!level) return std::unexpected(level.error());
  c.compression_level = *level;

  c.key_format = options.string("key_format");
  if (trim(c.key_format).empty()) {
    c.key_format = fmt::format("ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson{}",
                               sink::objectExtension(c.compression));
  }
  if (auto ok = sink::checkObjectKeyFormat(c.key_format, kMaxKeyBytes, "S3"); !ok)
    return std::unexpected("key_format: " + ok.error());
  c.tag_delimiters = options.string("tag_delimiters");
  if (c.tag_delimiters.empty()) return std::unexpected("tag_delimiters: must not be empty");

  // The table bounds these (S3's part limits among them).
  c.total_file_size = static_cast<uint64_t>(options.integer("total_file_size"));
  c.part_size = static_cast<uint64_t>(options.integer("part_size"));
  c.upload_timeout_ms = static_cast<uint64_t>(options.integer("upload_timeout"));
  c.timeout_ms = static_cast<uint64_t>(options.integer("timeout"));

  c.storage_class = options.string("storage_class"); // enums: the table checks them
  c.acl = options.string("acl");
  c.content_type = std::string(trim(options.string("content_type")));
  if (auto ok = sink::checkHeaderValue("content_type", c.content_type); !ok)
    return std::unexpected(ok.error());
  c.sse = options.string("sse");
  c.kms_key_id = std::string(trim(options.string("kms_key_id")));
  if (!c.kms_key_id.empty() && c.sse != "aws:kms") {
    return std::unexpected("kms_key_id: only meaningful with sse: aws:kms");
  }
  if (auto ok = sink::checkHeaderValue("kms_key_id", c.kms_key_id); !ok)
    return std::unexpected(ok.error());

  auto json = sink::recordJsonOptions(options, "json_date_key", "json_date_format");
  if (!json) return std::unexpected(json.error());
  c.json = std::move(*json);
  return c;
}

sink::AwsObjectStore objectStore(const S3Config& c) {
  return {.target = c,
          .service = "s3",
          .uri_scheme = "s3",
          .key_format = c.key_format,
          .tag_delimiters = c.tag_delimiters,
          .max_key_bytes = kMaxKeyBytes,
          .part_size = c.part_size,
          .max_parts = kMaxParts,
          .object = sink::ObjectSettings::forTarget(c.compression, c.compression_level,
                                                    c.total_file_size, c.json),
          .abandoned_hint = "an S3 lifecycle rule (AbortIncompleteMultipartUpload) removes such "
                            "uploads"};
}

uint64_t offerBytes(const S3Config& config) {
  return sink::offerBytesFor(objectStore(config).object, kMaxOfferBytes);
}

} // namespace ferry::s3
