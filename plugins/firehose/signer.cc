// SigV4 for each PutRecordBatch attempt. The body's hash is kept with the request (a retry
// re-signs without hashing 4 MiB again); it is cleared when the body is rebuilt.
#include "signer.h"

#include "ferry/aws/sigv4.h"

namespace ferry::firehose {

void describeAttempt(FirehoseRequest& request, const FirehoseConfig& config,
                     const aws::Credentials& credentials, aws::SystemTime now,
                     ferry_http_request& out) {
  if (request.payload_hash.empty()) request.payload_hash = aws::sha256Hex(request.body.view());
  aws::SigV4Request sig;
  sig.method = "POST";
  sig.path = config.endpoint.path;
  // Host is sent explicitly too, so what is signed is exactly what libcurl sends.
  sig.headers = {{"Host", config.endpoint.host},
                 {"Content-Type", std::string(kContentType)},
                 {"X-Amz-Target", std::string(kTarget)}};
  sig.payload = request.body.view();
  sig.payload_hash = request.payload_hash;
  const aws::SigV4Result signature = aws::sign(sig, credentials, config.region, kService, now);

  request.headers.clear();
  for (const auto& [name, value] : sig.headers)
    request.headers.push_back(fmt::format("{}: {}", name, value));
  for (const auto& [name, value] : signature.headers)
    request.headers.push_back(fmt::format("{}: {}", name, value));
  request.header_ptrs.clear();
  for (const auto& h : request.headers)
    request.header_ptrs.push_back(h.c_str());

  out.method = "POST";
  out.url = config.url.c_str();
  out.headers = request.header_ptrs.data();
  out.header_count = request.header_ptrs.size();
  out.body = reinterpret_cast<const uint8_t*>(request.body.data());
  out.body_len = request.body.size();
}

} // namespace ferry::firehose
