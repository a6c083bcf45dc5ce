// One signed call rendered for the host.
#include "ferry/sink/aws_call.h"

#include <array>

#include <fmt/format.h>

namespace ferry::sink {

void signAwsCall(aws::SigV4Request request, std::string_view host, std::string url,
                 const aws::Credentials& credentials, std::string_view region,
                 std::string_view service, const aws::SigV4Options& options, aws::SystemTime now,
                 SignedCall& out) {
  request.headers.emplace_back("Host", std::string(host));
  const aws::SigV4Result signature = aws::sign(request, credentials, region, service, now, options);
  out.url = std::move(url);
  out.header_lines.clear();
  out.header_lines.reserve(request.headers.size() + signature.headers.size());
  for (const auto& [name, value] : request.headers)
    out.header_lines.push_back(fmt::format("{}: {}", name, value));
  for (const auto& [name, value] : signature.headers)
    out.header_lines.push_back(fmt::format("{}: {}", name, value));
}

void SignedCall::describe(std::string_view method, std::string_view body, ferry_http_request& out) {
  // The host keeps the pointer, so it names a string that lives as long as the program.
  static constexpr std::array<const char*, 6> kMethods = {"GET",  "PUT",    "POST",
                                                          "HEAD", "DELETE", "PATCH"};
  out.method = "POST";
  for (const char* m : kMethods) {
    if (method == m) out.method = m;
  }
  header_ptrs.clear();
  header_ptrs.reserve(header_lines.size());
  for (const auto& h : header_lines)
    header_ptrs.push_back(h.c_str());
  out.url = url.c_str();
  out.headers = header_ptrs.data();
  out.header_count = header_ptrs.size();
  out.body = reinterpret_cast<const uint8_t*>(body.empty() ? "" : body.data());
  out.body_len = body.size();
}

} // namespace ferry::sink
