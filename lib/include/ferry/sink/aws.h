// The sink kit, AWS part: region names, their DNS suffix and the endpoint of a service, where
// a sink sends and signs, and the error of a JSON-protocol answer, the same for every AWS sink
// (s3, firehose, kinesis_streams, cloudwatch_logs).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/sink/http.h"
#include "ferry/sink/options.h"

namespace ferry::sink {

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// The process environment.
std::optional<std::string> processEnv(const char* name);

// A region name as AWS spells them: lower-case letters, digits and '-' ("eu-west-1").
bool isAwsRegion(std::string_view region);

// The region an option gives (trimmed), else, when `env` is set, AWS_REGION then
// AWS_DEFAULT_REGION from it. Errors name the option: missing, or not a region name.
std::expected<std::string, std::string>
resolveRegion(std::string_view option, std::string_view value, const EnvLookup& env = nullptr);

// "amazonaws.com", or "amazonaws.com.cn" for the China regions.
std::string_view awsDnsSuffix(std::string_view region);
// https://<prefix>.<region>.<suffix>/ : "https://firehose.eu-west-1.amazonaws.com/".
HttpUrl awsServiceUrl(std::string_view host_prefix, std::string_view region);

// `region`, as the AWS sinks declare it (required; checked by resolveRegion).
inline constexpr ferry_plugin_option kAwsRegionOption = {
    .name = "region",
    .type = FERRY_OPTION_STRING,
    .required = 1,
    .doc = "AWS region of the stream, e.g. eu-west-1 (signing scope and default endpoint)."};

// The endpoint of a service: an `endpoint` override when `text` (trimmed) is not empty (see
// parseAwsEndpoint), else awsServiceUrl(host_prefix, region).
std::expected<HttpUrl, std::string> resolveAwsEndpoint(std::string_view option,
                                                       std::string_view text,
                                                       std::string_view host_prefix,
                                                       std::string_view region);

// An `endpoint` override (tests, VPC endpoints, S3-compatible stores):
// http(s)://host[:port][/path] or a bare host name (https is assumed, as Fluent Bit's
// `endpoint` allows). Errors name the option.
std::expected<HttpUrl, std::string> parseAwsEndpoint(std::string_view option,
                                                     std::string_view text);

// Where a sink sends and signs: `region` (required, trimmed), `endpoint` (else
// https://<host_prefix>.<region>.<suffix>/), `timeout` (of one attempt), and, when its table
// declares them, `extra_user_agent` (a header value, sent after "ferry") and `sts_endpoint`
// (an endpoint: web identity credentials are fetched there). Errors name the option.
struct AwsService {
  std::string region;
  HttpUrl endpoint;
  std::string url; // endpoint.text(): what the host sends to
  std::string user_agent = "ferry";
  std::string sts_endpoint;
  uint64_t timeout_ms = 0; // limits.request_timeout_ms
};
std::expected<AwsService, std::string> parseAwsService(const PluginOptions& options,
                                                       std::string_view host_prefix);

// AWS resource tags from a STRING_MAP option (a group's tags, a stream's): name → value, in
// the order given, a value that is not a string as "". Empty when not given.
using AwsTags = std::vector<std::pair<std::string, std::string>>;
AwsTags awsTags(const PluginOptions& options, const char* option);
// The tags as a JSON object: {"name":"value",...}.
std::string awsTagsJson(const AwsTags& tags);

// The AWS error of a failed JSON-protocol call: its type from "__type" (or "code") of the
// body, else the x-amzn-ErrorType header, without a "namespace#" prefix or ":uri" suffix
// (empty if none), and its "message" as a log snippet (secrets masked).
// The JSON body of an answer, parsed (HasParseError() when it is none).
rapidjson::Document awsJsonBody(const ferry_http_response& response);

struct AwsError {
  std::string type;
  std::string message;
};
AwsError awsError(const ferry_http_response& response, size_t max_chars = 160);
// "com.amazonaws.firehose#ResourceNotFoundException" or "X:http://..." → the bare name.
std::string bareAwsErrorType(std::string_view type);
// One row of a sink's table of AWS error codes: the codes ('|'-separated) that make an answer
// `cls`. An `over_status` row decides whatever the status says; the others only refine a
// status that says nothing more specific (the sink's judging says where each kind applies).
struct AwsErrorRow {
  std::string_view codes;
  StatusClass cls;
  bool over_status = false;
};
// The row naming `code`, or nullptr (an empty code names none).
const AwsErrorRow* findAwsError(std::span<const AwsErrorRow> rows, std::string_view code);

// Error types that ask the client to slow down (resending later can succeed).
bool isAwsThrottling(std::string_view type);
// Error types about the credentials or their permissions (an operator must act).
bool isAwsAuthError(std::string_view type);

// The header lines of one signed AWS JSON 1.1 call (POST, X-Amz-Target: target): Host,
// Content-Type, the target, `extra` (signed), the SigV4 headers; unsigned ones after.
// payload_hash: the body's hex SHA-256 if known (computed otherwise).
struct AwsJsonCall {
  const HttpUrl& endpoint;
  std::string_view region, service, target, body, payload_hash;
  std::vector<std::pair<std::string, std::string>> extra, unsigned_headers;
};
std::vector<std::string> signAwsJsonCall(const AwsJsonCall& call, const aws::Credentials& creds);

} // namespace ferry::sink
