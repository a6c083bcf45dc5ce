// AWS Signature Version 4 (header form): canonical request, string to sign, signing key
// and Authorization header, as AWS's SigV4 test suite and the S3 header-auth docs define.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/aws/credentials.h"

namespace ferry::aws {

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;
using Sha256Digest = std::array<uint8_t, 32>;

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Request {
  std::string_view method; // "GET", "POST", ...
  // The path as sent on the wire (percent-encoded, e.g. built with uriEncodePath()).
  std::string_view path = "/";
  // The query string as sent on the wire, without '?'. Names and values are decoded and
  // re-encoded the AWS way, so encode them with uriEncode() ('+' is a literal plus).
  std::string_view query;
  // Every header here is signed; Host must be present. Authorization, X-Amz-Date,
  // X-Amz-Security-Token and x-amz-content-sha256 belong to the signer and are ignored.
  Headers headers;
  std::string_view payload;
  // Hex SHA-256 of the payload when already known (or kUnsignedPayload); saves hashing
  // a large body twice.
  std::optional<std::string> payload_hash;
};

struct SigV4Options {
  // S3: the path is neither normalised nor encoded a second time, and the payload hash
  // is sent (and signed) as x-amz-content-sha256.
  bool s3 = false;
  // Sign "UNSIGNED-PAYLOAD" instead of the body's hash (S3 over TLS only).
  bool unsigned_payload = false;
  // Some services want X-Amz-Security-Token added after signing, outside the signature.
  bool sign_security_token = true;
};

struct SigV4Result {
  // To add to the request: Authorization, X-Amz-Date, X-Amz-Security-Token (when the
  // credentials carry a token) and x-amz-content-sha256 (S3).
  Headers headers;
  std::string authorization;
  std::string amz_date; // 20150830T123600Z
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
};

SigV4Result sign(const SigV4Request& request, const Credentials& credentials,
                 std::string_view region, std::string_view service, SystemTime time,
                 const SigV4Options& options = {});

// ---- Building blocks (exposed for the S3/Firehose sinks and for tests) -----------------

Sha256Digest sha256(std::string_view data);
std::string sha256Hex(std::string_view data);
Sha256Digest hmacSha256(std::span<const uint8_t> key, std::string_view data);
Sha256Digest hmacSha256(std::string_view key, std::string_view data);
std::string hexEncode(std::span<const uint8_t> bytes);

// "20150830T123600Z" (UTC).
std::string amzDate(SystemTime time);
// The signing key: HMAC("AWS4" + secret, date), then region, service, "aws4_request".
Sha256Digest signingKey(std::string_view secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service);

// RFC 3986 encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) kept,
// everything else %XX with upper-case hex; '/' kept unless encode_slash.
std::string uriEncode(std::string_view raw, bool encode_slash = true);
// An object key or path to its wire form: each segment encoded, '/' kept.
inline std::string uriEncodePath(std::string_view raw) {
  return uriEncode(raw, false);
}
// Decodes %XX escapes (only those; '+' stays '+'). Invalid escapes are kept as they are.
std::string uriDecode(std::string_view encoded);

// The canonical URI: S3 keeps the path as given (only its escapes made canonical); other
// services remove dot segments and empty segments, then encode each segment again.
std::string canonicalUri(std::string_view wire_path, bool s3);
// Parameters decoded, re-encoded, sorted by name then value; a bare name gets "=".
std::string canonicalQuery(std::string_view wire_query);

} // namespace ferry::aws
