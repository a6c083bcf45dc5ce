// Blocking HTTP for the credential sources (libcurl easy handles): short timeouts, bounded
// response size, no redirects, proxies bypassed for link-local metadata endpoints.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::aws::detail {

struct FetchRequest {
  std::string method = "GET"; // GET, PUT (empty body) or POST
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;                 // POST only
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{3000};
  bool bypass_proxy = false; // metadata endpoints must never go through a proxy
};

struct FetchResponse {
  long status = 0;
  std::string body;
};

// A transport failure (DNS, connect, timeout, oversized answer) is an error; any HTTP
// status is a response. Error messages name the method and host, never the full URL
// (ECS relative URIs and presigned-style queries are credentials of a sort).
std::expected<FetchResponse, std::string> httpFetch(const FetchRequest& request);

// "scheme://host[:port]" of a URL, for messages; the URL itself when it cannot be parsed.
std::string describeUrl(std::string_view url);

} // namespace ferry::aws::detail
