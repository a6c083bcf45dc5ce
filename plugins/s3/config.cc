// S3 sink options: the option table (the one place options are declared), validation against
// S3's limits, and the request addressing (virtual-host style on AWS, path style otherwise).
#include "config.h"
#include "ferry/core/strings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>

#include "ferry/aws/sigv4.h"
#include "key_format.h"

namespace ferry::s3 {
namespace {

const ferry_plugin_option kOptions[] = {
    {"bucket", FERRY_OPTION_STRING, nullptr, 1, 0, nullptr, 1, 0, "Bucket the objects go to."},
    {"region", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "AWS region of the bucket (signing and the endpoint); default: env AWS_REGION, then "
     "AWS_DEFAULT_REGION."},
    {"endpoint", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Endpoint override (S3-compatible stores, tests, VPC endpoints), e.g. "
     "http://127.0.0.1:9000; requests then use path-style addressing."},
    {"key_format", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Object key: strftime fields (UTC, when the object is opened), $TAG, $TAG[n], $UUID, "
     "$INDEX; default ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson plus .gz/.zst."},
    {"total_file_size", FERRY_OPTION_SIZE, "64MiB", 0, 0, nullptr,
     static_cast<int64_t>(kMinTotalFileSize), static_cast<int64_t>(kMaxTotalFileSize),
     "Object size (as uploaded, after compression) that closes an object and uploads it."},
    {"upload_timeout", FERRY_OPTION_DURATION, "5m", 0, 0, nullptr, 1000, 24 * 3600 * 1000,
     "Upload whatever is buffered once the oldest record has waited this long."},
    {"part_size", FERRY_OPTION_SIZE, "5MiB", 0, 0, nullptr, static_cast<int64_t>(kMinPartBytes),
     static_cast<int64_t>(kMaxPartBytes),
     "Multipart part size; objects below it are sent with one PutObject."},
    {"compression", FERRY_OPTION_ENUM, "gzip", 0, 0, "gzip|zstd|none", 1, 0,
     "Object compression (the key's extension says it; no Content-Encoding is set)."},
    {"compression_level", FERRY_OPTION_INT, "0", 0, 0, nullptr, 0, 22,
     "Codec level: gzip 1-12, zstd 1-22; 0 = the codec's default."},
    {"storage_class", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "x-amz-storage-class, e.g. STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR; empty = the "
     "bucket's default."},
    {"content_type", FERRY_OPTION_STRING, "application/x-ndjson", 0, 0, nullptr, 1, 0,
     "Content-Type stored with each object."},
    {"acl", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Canned ACL (x-amz-acl), e.g. bucket-owner-full-control; empty = none."},
    {"sse", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "Server-side encryption: AES256 or aws:kms; empty = the bucket's default."},
    {"kms_key_id", FERRY_OPTION_STRING, "", 0, 0, nullptr, 1, 0,
     "KMS key id or ARN with sse: aws:kms; empty = the AWS managed key."},
    {"json_date_key", FERRY_OPTION_STRING, "date", 0, 0, nullptr, 1, 0,
     "Field holding the record's time in each line; empty = none."},
    {"json_date_format", FERRY_OPTION_ENUM, "iso8601", 0, 0, "iso8601|epoch|epoch_ms", 1, 0,
     "Format of json_date_key: ISO 8601 UTC, epoch seconds (fractional), epoch milliseconds."},
    {"timeout", FERRY_OPTION_DURATION, "120s", 0, 0, nullptr, 1000, 3'600'000,
     "HTTP timeout of one request (one PutObject or one part)."},
};

// Storage classes S3 accepts in x-amz-storage-class.
constexpr std::array<std::string_view, 10> kStorageClasses = {
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER",  "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", "EXPRESS_ONEZONE"};
// S3's canned ACLs for objects.
constexpr std::array<std::string_view, 7> kCannedAcls = {
    "private",       "public-read",       "public-read-write",        "authenticated-read",
    "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control"};

using core::trim;

template <size_t N>
std::expected<std::string, std::string> oneOf(const char* option, std::string_view value,
                                              const std::array<std::string_view, N>& allowed) {
  if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
    return std::string(value);
  }
  std::string list;
  for (const auto a : allowed)
    list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
  return std::unexpected(fmt::format("{}: unknown value '{}' (known: {})", option, value, list));
}

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

bool validRegion(std::string_view r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool safeHeaderValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

// "http(s)://host[:port][/prefix]" → scheme, host, prefix (no trailing slash).
std::expected<void, std::string> parseEndpoint(std::string_view url, S3Config& c) {
  const bool http = url.starts_with("http://"), https = url.starts_with("https://");
  if (!http && !https) {
    return std::unexpected(fmt::format("endpoint: expected http(s)://host[:port], got '{}'", url));
  }
  if (std::any_of(url.begin(), url.end(),
                  [](unsigned char ch) { return ch <= 0x20 || ch == 0x7f; }) ||
      url.find_first_of("?#@") != std::string_view::npos) {
    return std::unexpected(
        "endpoint: must not contain spaces, control characters, '?', '#' or '@'");
  }
  std::string_view rest = url.substr(https ? 8 : 7);
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (host.empty()) return std::unexpected(fmt::format("endpoint: no host in '{}'", url));
  c.scheme = https ? "https" : "http";
  c.host = std::string(host);
  c.base_path = std::string(path);
  return {};
}

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    FERRY_PLUGIN_ABI_MAJOR,
    FERRY_PLUGIN_ABI_MINOR,
    "s3",
    "Uploads records to Amazon S3 (or an S3-compatible store) as newline-delimited JSON "
    "objects, gzip/zstd compressed, with multipart upload for large objects.",
    kOptions,
    sizeof kOptions / sizeof kOptions[0]};

std::string_view fileExtension(codec::Compression c) {
  switch (c) {
  case codec::Compression::kGzip:
    return ".gz";
  case codec::Compression::kZstd:
    return ".zst";
  case codec::Compression::kNone:
    break;
  }
  return "";
}

std::string defaultKeyFormat(codec::Compression c) {
  return fmt::format("ferry/$TAG/%Y/%m/%d/%H%M%S-$UUID.ndjson{}", fileExtension(c));
}

std::expected<S3Config, std::string> parseConfig(const sdk::Options& options, EnvLookup env) {
  S3Config c;
  c.bucket = std::string(trim(options.string("bucket")));
  if (!validBucket(c.bucket)) {
    return std::unexpected(
        fmt::format("bucket: '{}' is not a valid bucket name (3-63 of a-z 0-9 . -)", c.bucket));
  }
  c.region = std::string(trim(options.string("region")));
  if (c.region.empty() && env != nullptr) {
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      if (auto v = env(name); v && !trim(*v).empty()) {
        c.region = std::string(trim(*v));
        break;
      }
    }
  }
  if (c.region.empty()) {
    return std::unexpected("region: required (set it, or AWS_REGION in the environment)");
  }
  if (!validRegion(c.region)) return std::unexpected(fmt::format("region: invalid '{}'", c.region));

  c.endpoint = std::string(trim(options.string("endpoint")));
  if (!c.endpoint.empty()) {
    if (auto ok = parseEndpoint(c.endpoint, c); !ok) return std::unexpected(ok.error());
    c.path_style = true;
  } else {
    const std::string_view suffix =
        c.region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    // A dotted bucket name does not match the wildcard certificate of
    // <bucket>.s3.<region>.amazonaws.com, so it is addressed path-style.
    c.path_style = c.bucket.find('.') != std::string::npos;
    c.host = c.path_style ? fmt::format("s3.{}.{}", c.region, suffix)
                          : fmt::format("{}.s3.{}.{}", c.bucket, c.region, suffix);
  }

  auto compression = codec::parseCompression(options.string("compression", "gzip"));
  if (!compression) return std::unexpected("compression: " + compression.error());
  c.compression = *compression;
  auto level = codec::checkCompressionLevel(c.compression, options.integer("compression_level", 0));
  if (!level) return std::unexpected(level.error());
  c.compression_level = *level;

  c.key_format = options.string("key_format");
  if (trim(c.key_format).empty()) c.key_format = defaultKeyFormat(c.compression);
  if (auto ok = checkKeyFormat(c.key_format); !ok)
    return std::unexpected("key_format: " + ok.error());

  const int64_t total = options.integer("total_file_size", static_cast<int64_t>(c.total_file_size));
  const int64_t part = options.integer("part_size", static_cast<int64_t>(c.part_size));
  const int64_t upload_timeout =
      options.integer("upload_timeout", static_cast<int64_t>(c.upload_timeout_ms));
  const int64_t timeout = options.integer("timeout", static_cast<int64_t>(c.timeout_ms));
  if (total < static_cast<int64_t>(kMinTotalFileSize) ||
      total > static_cast<int64_t>(kMaxTotalFileSize)) {
    return std::unexpected(fmt::format("total_file_size: must be {} to {} bytes", kMinTotalFileSize,
                                       kMaxTotalFileSize));
  }
  if (part < static_cast<int64_t>(kMinPartBytes) || part > static_cast<int64_t>(kMaxPartBytes)) {
    return std::unexpected("part_size: must be 5MiB to 5GiB (S3's part limits)");
  }
  if (upload_timeout <= 0) return std::unexpected("upload_timeout: must be positive");
  if (timeout <= 0) return std::unexpected("timeout: must be positive");
  c.total_file_size = static_cast<uint64_t>(total);
  c.part_size = static_cast<uint64_t>(part);
  c.upload_timeout_ms = static_cast<uint64_t>(upload_timeout);
  c.timeout_ms = static_cast<uint64_t>(timeout);

  auto storage_class =
      oneOf("storage_class", trim(options.string("storage_class")), kStorageClasses);
  if (!storage_class) return std::unexpected(storage_class.error());
  c.storage_class = std::move(*storage_class);
  auto acl = oneOf("acl", trim(options.string("acl")), kCannedAcls);
  if (!acl) return std::unexpected(acl.error());
  c.acl = std::move(*acl);
  c.content_type = std::string(trim(options.string("content_type", c.content_type)));
  if (!safeHeaderValue(c.content_type)) {
    return std::unexpected("content_type: contains control characters");
  }
  c.sse = std::string(trim(options.string("sse")));
  if (!c.sse.empty() && c.sse != "AES256" && c.sse != "aws:kms") {
    return std::unexpected(fmt::format("sse: expected AES256 or aws:kms, got '{}'", c.sse));
  }
  c.kms_key_id = std::string(trim(options.string("kms_key_id")));
  if (!c.kms_key_id.empty() && c.sse != "aws:kms") {
    return std::unexpected("kms_key_id: only meaningful with sse: aws:kms");
  }
  if (!safeHeaderValue(c.kms_key_id))
    return std::unexpected("kms_key_id: contains control characters");

  c.json.time_key = options.string("json_date_key", "date");
  const std::string date_format = options.string("json_date_format", "iso8601");
  if (date_format == "iso8601") {
    c.json.time_format = codec::TimeFormat::kIso8601;
  } else if (date_format == "epoch") {
    c.json.time_format = codec::TimeFormat::kEpochSeconds;
  } else if (date_format == "epoch_ms") {
    c.json.time_format = codec::TimeFormat::kEpochMillis;
  } else {
    return std::unexpected(fmt::format("json_date_format: unknown '{}'", date_format));
  }
  if (c.json.time_key.empty()) c.json.time_format = codec::TimeFormat::kNone;
  return c;
}

std::string objectPath(const S3Config& config, std::string_view key) {
  std::string path = config.base_path;
  if (config.path_style) path += "/" + aws::uriEncode(config.bucket);
  path += "/";
  path += aws::uriEncodePath(key);
  return path;
}

std::string objectUrl(const S3Config& config, std::string_view key, std::string_view query) {
  std::string url = fmt::format("{}://{}{}", config.scheme, config.host, objectPath(config, key));
  if (!query.empty()) {
    url += '?';
    url += query;
  }
  return url;
}

uint64_t offerBytes(const S3Config& config) {
  // JSON lines carry the date field and quoting; uncompressed they outgrow the records.
  const double ratio = config.compression == codec::Compression::kNone ? 0.75 : 5.0;
  const auto bytes = static_cast<uint64_t>(static_cast<double>(config.total_file_size) * ratio);
  return std::clamp<uint64_t>(bytes, 1024, kMaxOfferBytes);
}

} // namespace ferry::s3
