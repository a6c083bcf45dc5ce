// The sink kit's AWS calls: a signed call rendered for the host, a JSON 1.1 attempt described
// and signed, a failed answer judged.
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

AwsJsonClient::AwsJsonClient(HttpUrl endpoint, std::string region, std::string service,
                             aws::CredentialsProviderPtr credentials, std::string user_agent)
    : endpoint_(std::move(endpoint)), url_(endpoint_.text()), region_(std::move(region)),
      service_(std::move(service)), user_agent_(std::move(user_agent)),
      credentials_(std::move(credentials)) {}

std::expected<void, std::string>
AwsJsonClient::describe(std::string_view target, std::string_view body,
                        std::vector<std::pair<std::string, std::string>> extra, AwsAttempt& held,
                        ferry_http_request& out) const {
  auto credentials = credentials_->current();
  if (!credentials)
    return std::unexpected("no AWS credentials available yet (see the aws log lines)");
  const AwsJsonCall call{.endpoint = endpoint_,
                         .region = region_,
                         .service = service_,
                         .target = target,
                         .body = body,
                         .extra = std::move(extra),
                         .unsigned_headers = {{"User-Agent", user_agent_}}};
  held.lines = signAwsJsonCall(call, *credentials);
  held.pointers.clear();
  for (const auto& h : held.lines)
    held.pointers.push_back(h.c_str());
  out = {"POST",
         url_.c_str(),
         held.pointers.data(),
         held.pointers.size(),
         reinterpret_cast<const uint8_t*>(body.data()),
         body.size()};
  return {};
}

std::string describeAwsFailure(std::string_view call, std::string_view what,
                               const ferry_http_response& r, const AwsError& e) {
  return fmt::format("{}: {} (HTTP {}{}{}){}{}", call, what, r.status, e.type.empty() ? "" : " ",
                     e.type, e.message.empty() ? "" : ": ", e.message);
}

void failAwsCall(StatusClass cls, std::string_view call, std::string_view what,
                 const ferry_http_response& r, const AwsError& e, ferry_plugin_verdict& v) {
  applyStatusClass(cls, r, v);
  sdk::setMessage(v, describeAwsFailure(call, what, r, e));
}

StatusClass judgeAwsFailure(const ferry_http_response& r, const AwsError& e,
                            const AwsCallWords& words, ferry_plugin_verdict& v) {
  StatusClass cls = classifyStatus(r.status);
  std::string text;
  if (cls == StatusClass::kTransport) {
    text = fmt::format("{}: transport error: {}", words.call, r.error ? r.error : "unknown");
  } else if (cls == StatusClass::kThrottled || isAwsThrottling(e.type)) {
    cls = StatusClass::kThrottled;
    text = describeAwsFailure(words.call, fmt::format("throttled by {}", words.vendor), r, e);
  } else if (cls == StatusClass::kUnauthorized || isAwsAuthError(e.type)) {
    cls = StatusClass::kUnauthorized;
    text = describeAwsFailure(
        words.call,
        fmt::format("AWS refused the credentials or their permission ({})", words.permission), r,
        e);
  } else if (cls == StatusClass::kTooLarge || e.type == "RequestEntityTooLargeException") {
    cls = StatusClass::kTooLarge;
    text = describeAwsFailure(words.call, "request too large", r, e);
  } else if (cls == StatusClass::kRefused) {
    text = describeAwsFailure(words.call, words.refused, r, e);
  } else {
    text = describeAwsFailure(words.call, fmt::format("{} error", words.vendor), r, e);
  }
  applyStatusClass(cls, r, v);
  sdk::setMessage(v, text);
  return cls;
}

} // namespace ferry::sink
