// libcurl easy-handle fetches for the credential sources. Responses are capped at 1 MiB:
// credential documents are a few KiB and a larger answer means the wrong endpoint.
#include "credentials_http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace ferry::aws::detail {
namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;

struct Sink {
  std::string body;
  bool overflow = false;
};

size_t writeBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body.size() + n > kMaxResponseBytes) {
    sink->overflow = true;
    return 0; // aborts the transfer
  }
  sink->body.append(data, n);
  return n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

void ensureCurlInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

std::string describeUrl(std::string_view url) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  std::string copy(url); // not const: returned by move
  if (!u || curl_url_set(u.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) return copy;
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  curl_url_get(u.get(), CURLUPART_PORT, &port, 0);
  std::string out = fmt::format("{}://{}", scheme ? scheme : "?", host ? host : "?");
  if (port != nullptr) out += fmt::format(":{}", port);
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  return out;
}

std::expected<FetchResponse, std::string> httpFetch(const FetchRequest& request) {
  ensureCurlInit();
  const std::string where = fmt::format("{} {}", request.method, describeUrl(request.url));
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return std::unexpected(fmt::format("{}: curl_easy_init failed", where));
  CURL* h = curl.get();

  // curl_slist_append returns the list's head: a new one only for the first entry.
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto append = [&headers](const char* line) {
    curl_slist* head = curl_slist_append(headers.get(), line);
    if (head != nullptr && !headers) headers.reset(head);
    return head != nullptr;
  };
  for (const std::string& header : request.headers) {
    if (!append(header.c_str())) return std::unexpected(fmt::format("{}: out of memory", where));
  }
  // No "Expect: 100-continue" round trip for a POST body of a few KiB.
  if (request.method == "POST" && !append("Expect:")) {
    return std::unexpected(fmt::format("{}: out of memory", where));
  }

  Sink sink;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &writeBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (request.bypass_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(h);
  if (sink.overflow) {
    return std::unexpected(
        fmt::format("{}: response larger than {} bytes", where, kMaxResponseBytes));
  }
  if (rc != CURLE_OK) {
    return std::unexpected(
        fmt::format("{}: {}", where, error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  FetchResponse response;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(sink.body);
  return response;
}

} // namespace ferry::aws::detail
