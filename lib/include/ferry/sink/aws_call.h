// The sink kit, AWS calls:
//   - one SigV4-signed HTTP call as the host sends it (S3's REST calls): signed at the
//     attempt's own time (a retry an hour later carries a fresh date), Host sent explicitly so
//     that what is signed is exactly what libcurl sends, and rendered as the URL and
//     "Name: value" lines the host reads, kept alive with the request until its next attempt;
//   - for a sink that makes its own AWS JSON 1.1 calls (CloudWatch Logs: several APIs, one at
//     a time), the attempt signed with the current credentials, and the verdict of a failed
//     call. The batch APIs share more than this (aws_batch.h).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/aws/sigv4.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/http.h"

namespace ferry::sink {

struct SignedCall {
  std::string url;
  std::vector<std::string> header_lines; // the request's own headers, then the signer's
  std::vector<const char*> header_ptrs;

  // Points `out` at this call with `method` and `body` (never a null body: libcurl would
  // then read it from a callback).
  void describe(std::string_view method, std::string_view body, ferry_http_request& out);
};

// Signs `request` with "Host: host" added and renders it, for `url`, into `out`.
void signAwsCall(aws::SigV4Request request, std::string_view host, std::string url,
                 const aws::Credentials& credentials, std::string_view region,
                 std::string_view service, const aws::SigV4Options& options, aws::SystemTime now,
                 SignedCall& out);

// The header lines of the attempt being sent and the pointers the host reads, kept with the
// request until its answer.
struct AwsAttempt {
  std::vector<std::string> lines;
  std::vector<const char*> pointers;
};

// One AWS JSON 1.1 endpoint of a service, the credentials that sign its calls and the
// User-Agent they carry (sent unsigned).
class AwsJsonClient {
public:
  AwsJsonClient(HttpUrl endpoint, std::string region, std::string service,
                aws::CredentialsProviderPtr credentials, std::string user_agent);

  // A POST of `body` with X-Amz-Target `target` and the signed `extra` headers, signed now;
  // an error while the provider has no credentials yet (the runner retries after a backoff).
  std::expected<void, std::string> describe(std::string_view target, std::string_view body,
                                            std::vector<std::pair<std::string, std::string>> extra,
                                            AwsAttempt& held, ferry_http_request& out) const;

  const std::string& url() const { return url_; }

private:
  HttpUrl endpoint_;
  std::string url_, region_, service_, user_agent_;
  aws::CredentialsProviderPtr credentials_;
};

// What a failed call's messages name.
struct AwsCallWords {
  std::string_view call;       // "PutLogEvents"
  std::string_view vendor;     // "CloudWatch Logs"
  std::string_view permission; // "logs:PutLogEvents"
  std::string_view refused;    // what a refused (4xx) call means
};

// "<call>: <what> (HTTP <status> <type>: <message>)".
std::string describeAwsFailure(std::string_view call, std::string_view what,
                               const ferry_http_response& response, const AwsError& error);

// Fails a call as `cls` says (applyStatusClass) with describeAwsFailure's message: for an
// answer the sink judges itself ("log group 'x' does not exist": retried, unhealthy).
void failAwsCall(StatusClass cls, std::string_view call, std::string_view what,
                 const ferry_http_response& response, const AwsError& error,
                 ferry_plugin_verdict& verdict);

// The verdict of an answer that is not 2xx and that the sink does not judge itself: no
// answer retried; throttling (429 or an AWS throttling type) and 5xx retried, throttled;
// refused credentials or permissions (401, 403 or an AWS auth type) retried and unhealthy;
// 413 or RequestEntityTooLargeException split; any other 4xx dropped. Returns the class.
StatusClass judgeAwsFailure(const ferry_http_response& response, const AwsError& error,
                            const AwsCallWords& words, ferry_plugin_verdict& verdict);

} // namespace ferry::sink
