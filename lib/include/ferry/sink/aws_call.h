// The sink kit, one SigV4-signed HTTP call as the host sends it: signed at the attempt's own
// time (a retry an hour later carries a fresh date), Host sent explicitly so that what is
// signed is exactly what libcurl sends, and rendered as the URL and "Name: value" lines the
// host reads, kept alive with the request until its next attempt.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ferry/aws/credentials.h"
#include "ferry/aws/sigv4.h"
#include "ferry/plugin.h"

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

} // namespace ferry::sink
