// The sink kit, AWS object stores (S3, and the S3-compatible stores behind an `endpoint`):
// where a REST call on an object goes (virtual-host style on AWS, path style behind an
// override or for a dotted bucket), one call before signing and its signing, the error an XML
// answer carries, and the keys a key template gives. The sink (plugins/s3) names its limits
// and headers; the upload steps are ferry/sink/multipart.h, the sink around them
// ferry/sink/aws_object_sink.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "ferry/aws/credentials.h"
#include "ferry/aws/sigv4.h"
#include "ferry/codec/compress.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws_call.h"
#include "ferry/sink/multipart.h"
#include "ferry/sink/object_key.h"

namespace ferry::sink {

// Where requests go: scheme://host[:port] and the path prefix before /bucket (path style) or
// before /key (virtual-host style).
struct AwsObjectTarget {
  std::string bucket;
  std::string region;
  std::string scheme = "https";
  std::string host; // the Host header: host[:port]
  std::string base_path;
  bool path_style = false;
  std::string endpoint; // as given (for the log); empty on AWS
};

// Fills the addressing of `target` (bucket and region set): an `endpoint` override (option
// `option`, trimmed; see parseAwsEndpoint) is addressed path-style, and so is a dotted bucket
// name on AWS (it does not match the wildcard certificate of <bucket>.<service>.<region>...);
// otherwise https://<bucket>.<service>.<region>.amazonaws.com. Errors name the option.
std::expected<void, std::string> resolveObjectTarget(std::string_view option,
                                                     std::string_view endpoint,
                                                     std::string_view service,
                                                     AwsObjectTarget& target);

// The URL path (wire form, percent-encoded) of an object, and its full URL with `query`.
std::string objectPath(const AwsObjectTarget& target, std::string_view key);
std::string objectUrl(const AwsObjectTarget& target, std::string_view key, std::string_view query);

// One REST call on an object before signing: the signer adds Host, X-Amz-Date,
// x-amz-content-sha256, the security token and Authorization.
struct AwsRestCall {
  std::string method;
  std::string key;
  std::string query; // wire form, without '?'
  std::string_view body;
  aws::Headers headers;
};

// Signs `call` for `target` at `now` (S3's rules: the path as sent, the payload hash header)
// and renders it into `out`. payload_hash: the body's hex SHA-256.
void signObjectCall(const AwsObjectTarget& target, std::string_view service,
                    const AwsRestCall& call, const aws::Credentials& credentials,
                    const std::string& payload_hash, SignedCall& out,
                    aws::SystemTime now = std::chrono::system_clock::now());

// The AbortMultipartUpload call of an open upload: DELETE <key>?uploadId=<id>.
AwsRestCall abortUploadCall(const OpenUpload& upload);

// The error of an XML answer (<Error><Code>..</Code><Message>..</Message></Error>; bodiless
// errors only have the status): its status, code, message (a log snippet, secrets masked) and
// the region a PermanentRedirect names (<Region>, else x-amz-bucket-region). With status 0 the
// message is the transport error.
struct AwsXmlError {
  int status = 0;
  std::string code;
  std::string message;
  std::string region;
};
AwsXmlError awsXmlError(const ferry_http_response& response);
// Whether a 2xx body carries an <Error> after all (CompleteMultipartUpload may answer 200 and
// fail in the body).
bool hasXmlError(const ferry_http_response& response);

// ".gz", ".zst" or "" for the compression: what an object's key ends with.
std::string_view objectExtension(codec::Compression compression);

// The key of one object: the template expanded (ferry/sink/object_key.h) without a leading
// '/' (object keys do not start with one).
std::string objectKey(std::string_view format, const NameContext& context);
// Refuses a template that cannot give a usable key: empty, or longer than max_bytes with a
// short tag ("gives keys of N bytes; <vendor> allows M").
std::expected<void, std::string> checkObjectKeyFormat(std::string_view format, size_t max_bytes,
                                                      std::string_view vendor);

} // namespace ferry::sink
