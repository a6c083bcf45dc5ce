// The sink kit's AWS object-store pieces: addressing, REST calls signed, XML errors read,
// object keys.
#include "ferry/sink/aws_object.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/http.h"
#include "ferry/sink/xml.h"

namespace ferry::sink {
namespace {

// At most `max` bytes of `s`, unprintable ones blanked (codes and regions go into messages).
std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (const char ch : s.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(c >= 0x20 && c < 0x7f ? ch : ' ');
  }
  return out;
}

} // namespace

std::expected<void, std::string> resolveObjectTarget(std::string_view option,
                                                     std::string_view endpoint,
                                                     std::string_view service, AwsObjectTarget& t) {
  t.endpoint = std::string(core::trim(endpoint));
  // An override is addressed path-style; so is a dotted bucket name on AWS (it does not match
  // the wildcard certificate of <bucket>.s3.<region>.amazonaws.com).
  t.path_style = !t.endpoint.empty() || t.bucket.find('.') != std::string::npos;
  const std::string prefix =
      t.path_style ? std::string(service) : t.bucket + "." + std::string(service);
  auto url = resolveAwsEndpoint(option, t.endpoint, prefix, t.region);
  if (!url) return std::unexpected(url.error());
  t.scheme = url->scheme;
  t.host = url->host;
  t.base_path = url->path;
  while (!t.base_path.empty() && t.base_path.back() == '/')
    t.base_path.pop_back();
  return {};
}

std::string objectPath(const AwsObjectTarget& t, std::string_view key) {
  std::string path = t.base_path;
  if (t.path_style) path += "/" + aws::uriEncode(t.bucket);
  path += "/";
  path += aws::uriEncodePath(key);
  return path;
}

std::string objectUrl(const AwsObjectTarget& t, std::string_view key, std::string_view query) {
  std::string url = fmt::format("{}://{}{}", t.scheme, t.host, objectPath(t, key));
  if (!query.empty()) {
    url += '?';
    url += query;
  }
  return url;
}

void signObjectCall(const AwsObjectTarget& t, std::string_view service, const AwsRestCall& call,
                    const aws::Credentials& creds, const std::string& payload_hash, SignedCall& out,
                    aws::SystemTime now) {
  const std::string path = objectPath(t, call.key); // the request views it
  aws::SigV4Request req{.method = call.method,
                        .path = path,
                        .query = call.query,
                        .headers = call.headers,
                        .payload = call.body,
                        .payload_hash = payload_hash};
  signAwsCall(std::move(req), t.host, objectUrl(t, call.key, call.query), creds, t.region, service,
              {.s3 = true}, now, out);
}

AwsRestCall abortUploadCall(const OpenUpload& upload) {
  return {.method = "DELETE",
          .key = upload.key,
          .query = "uploadId=" + aws::uriEncode(upload.upload_id),
          .body = {},
          .headers = {}};
}

bool hasXmlError(const ferry_http_response& r) {
  return bodyOf(r).find("<Error>") != std::string_view::npos;
}

AwsXmlError awsXmlError(const ferry_http_response& r) {
  AwsXmlError e;
  e.status = r.status;
  if (r.status == 0) {
    e.message = r.error != nullptr ? r.error : "transport error";
    return e;
  }
  const std::string_view body = bodyOf(r);
  e.code = printable(xmlText(body, "Code"), 64);
  e.message = obs::logSnippet(xmlText(body, "Message"), 160);
  e.region = printable(xmlText(body, "Region"), 32);
  if (e.region.empty()) {
    if (auto h = findHeader(headersOf(r), "x-amz-bucket-region")) e.region = printable(*h, 32);
  }
  return e;
}

std::string_view objectExtension(codec::Compression c) {
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

std::string objectKey(std::string_view format, const NameContext& context) {
  std::string key = expandNameTemplate(format, context);
  key.erase(0, std::min(key.find_first_not_of('/'), key.size()));
  return key;
}

std::expected<void, std::string> checkObjectKeyFormat(std::string_view format, size_t max_bytes,
                                                      std::string_view vendor) {
  const std::string sample = objectKey(format, {"app.stdout", 0, 0, ""});
  if (sample.empty()) return std::unexpected("gives an empty key");
  if (sample.size() > max_bytes) {
    return std::unexpected(
        fmt::format("gives keys of {} bytes; {} allows {}", sample.size(), vendor, max_bytes));
  }
  return {};
}

} // namespace ferry::sink
