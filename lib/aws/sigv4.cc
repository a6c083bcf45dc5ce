// AWS Signature Version 4 over OpenSSL 3 EVP (SHA-256, HMAC-SHA256). Path rules: S3 paths
// are signed as sent; other services' paths are normalised and encoded a second time.
#include "ferry/aws/sigv4.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "ferry/core/strings.h"
#include "ferry/obs/log.h"

namespace ferry::aws {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

// Fetched once: OpenSSL 3 algorithm fetches take a lock and a lookup; the objects are
// immutable and shareable between threads. Held by a static owner that frees them, so a
// plugin that is unloaded (dlclose) leaves nothing behind.
struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct MacFree {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};

EVP_MD* sha256Md() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

EVP_MAC* hmacMac() {
  static const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

void reportCryptoFailure(std::string_view what) {
  // Only a broken OpenSSL install gets here; the request then fails with 403 and is
  // counted by its sink.
  FERRY_LOG_ERROR("aws", "bug: OpenSSL {} failed; requests will be rejected", what);
}

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendEscaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHexUpper[c >> 4]);
  out.push_back(kHexUpper[c & 0xF]);
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims the value and collapses runs of whitespace into one space (SigV4 "Trimall").
std::string trimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (isSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers whose value the signer decides.
bool signerOwned(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-security-token" || lower_name == "x-amz-content-sha256";
}

} // namespace

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_MD* md = sha256Md();
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 ||
      len != out.size()) {
    reportCryptoFailure("SHA-256");
    out.fill(0);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  return hexEncode(sha256(data));
}

Sha256Digest hmacSha256(std::span<const uint8_t> key, std::string_view data) {
  Sha256Digest out{};
  EVP_MAC* mac = hmacMac();
  EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  size_t len = 0;
  const bool ok =
      ctx != nullptr && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size();
  EVP_MAC_CTX_free(ctx);
  if (!ok) {
    reportCryptoFailure("HMAC-SHA256");
    out.fill(0);
  }
  return out;
}

Sha256Digest hmacSha256(std::string_view key, std::string_view data) {
  return hmacSha256(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()), data);
}

std::string hexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHexLower[b >> 4]);
    out.push_back(kHexLower[b & 0xF]);
  }
  return out;
}

std::string amzDate(SystemTime time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

Sha256Digest signingKey(std::string_view secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service) {
  const std::string secret = fmt::format("AWS4{}", secret_access_key);
  const Sha256Digest k_date = hmacSha256(secret, date);
  const Sha256Digest k_region = hmacSha256(k_date, region);
  const Sha256Digest k_service = hmacSha256(k_region, service);
  return hmacSha256(k_service, "aws4_request");
}

std::string uriEncode(std::string_view raw, bool encode_slash) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 4);
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      appendEscaped(out, c);
    }
  }
  return out;
}

std::string uriDecode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int hi = hexValue(encoded[i + 1]);
      const int lo = hexValue(encoded[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(encoded[i]);
  }
  return out;
}

std::string canonicalUri(std::string_view wire_path, bool s3) {
  if (wire_path.empty()) return "/";
  if (s3) {
    // Signed as sent: only make the escapes canonical (upper-case hex) and escape what a
    // caller left raw, so an already-encoded key is never encoded twice.
    std::string out;
    out.reserve(wire_path.size());
    for (size_t i = 0; i < wire_path.size(); ++i) {
      const auto c = static_cast<unsigned char>(wire_path[i]);
      if (c == '%' && i + 2 < wire_path.size() && hexValue(wire_path[i + 1]) >= 0 &&
          hexValue(wire_path[i + 2]) >= 0) {
        const int v = hexValue(wire_path[i + 1]) * 16 + hexValue(wire_path[i + 2]);
        appendEscaped(out, static_cast<unsigned char>(v));
        i += 2;
      } else if (isUnreserved(c) || c == '/') {
        out.push_back(static_cast<char>(c));
      } else {
        appendEscaped(out, c);
      }
    }
    if (out.front() != '/') out.insert(out.begin(), '/');
    return out;
  }
  // RFC 3986 remove_dot_segments, plus empty segments dropped ("//a//" → "/a/").
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= wire_path.size()) {
    size_t end = wire_path.find('/', start);
    if (end == std::string_view::npos) end = wire_path.size();
    const std::string_view segment = wire_path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  const bool trailing_slash =
      wire_path.ends_with('/') || wire_path.ends_with("/.") || wire_path.ends_with("/..");
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += uriEncode(segments[i], true); // the second encoding: '%' becomes "%25"
  }
  if (trailing_slash && !segments.empty()) out.push_back('/');
  return out;
}

std::string canonicalQuery(std::string_view wire_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= wire_query.size()) {
    size_t end = wire_query.find('&', start);
    if (end == std::string_view::npos) end = wire_query.size();
    const std::string_view part = wire_query.substr(start, end - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      const std::string_view name = part.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
      params.emplace_back(uriEncode(uriDecode(name)), uriEncode(uriDecode(value)));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

SigV4Result sign(const SigV4Request& request, const Credentials& credentials,
                 std::string_view region, std::string_view service, SystemTime time,
                 const SigV4Options& options) {
  SigV4Result result;
  result.amz_date = amzDate(time);
  const std::string_view date = std::string_view(result.amz_date).substr(0, 8);

  std::string payload_hash;
  if (options.unsigned_payload) {
    payload_hash = kUnsignedPayload;
  } else if (request.payload_hash) {
    payload_hash = *request.payload_hash;
  } else {
    payload_hash = sha256Hex(request.payload);
  }
  const bool has_token = !credentials.session_token.empty();

  // Canonical headers: lower-case names, trimmed values, values of a repeated name joined
  // with ',' in the order given; sorted by name (stable, so that order is kept).
  std::vector<std::pair<std::string, std::string>> canonical;
  canonical.reserve(request.headers.size() + 3);
  for (const auto& [name, value] : request.headers) {
    std::string lower = core::toLower(trimAll(name));
    if (signerOwned(lower)) continue;
    canonical.emplace_back(std::move(lower), trimAll(value));
  }
  canonical.emplace_back("x-amz-date", result.amz_date);
  if (options.s3) canonical.emplace_back("x-amz-content-sha256", payload_hash);
  if (has_token && options.sign_security_token) {
    canonical.emplace_back("x-amz-security-token", trimAll(credentials.session_token));
  }
  std::stable_sort(canonical.begin(), canonical.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  for (size_t i = 0; i < canonical.size(); ++i) {
    const bool continues = i > 0 && canonical[i].first == canonical[i - 1].first;
    if (continues) {
      canonical_headers.push_back(',');
    } else {
      if (i > 0) canonical_headers.push_back('\n');
      canonical_headers += canonical[i].first;
      canonical_headers.push_back(':');
      if (!result.signed_headers.empty()) result.signed_headers.push_back(';');
      result.signed_headers += canonical[i].first;
    }
    canonical_headers += canonical[i].second;
  }
  canonical_headers.push_back('\n');

  result.canonical_request = fmt::format(
      "{}\n{}\n{}\n{}\n{}\n{}", request.method, canonicalUri(request.path, options.s3),
      canonicalQuery(request.query), canonical_headers, result.signed_headers, payload_hash);

  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  result.string_to_sign = fmt::format("{}\n{}\n{}\n{}", kSigV4Algorithm, result.amz_date, scope,
                                      sha256Hex(result.canonical_request));

  const Sha256Digest key = signingKey(credentials.secret_access_key, date, region, service);
  result.signature = hexEncode(hmacSha256(key, result.string_to_sign));
  result.authorization =
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kSigV4Algorithm,
                  credentials.access_key_id, scope, result.signed_headers, result.signature);

  result.headers.emplace_back("Authorization", result.authorization);
  result.headers.emplace_back("X-Amz-Date", result.amz_date);
  if (has_token) result.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  if (options.s3) result.headers.emplace_back("x-amz-content-sha256", payload_hash);
  return result;
}

} // namespace ferry::aws
