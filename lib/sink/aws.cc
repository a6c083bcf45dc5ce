// The sink kit's AWS helpers: region resolution and service endpoints.
#include "ferry/sink/aws.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "ferry/aws/sigv4.h"
#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"
#include "ferry/sink/record.h"

namespace ferry::sink {

std::optional<std::string> processEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

bool isAwsRegion(std::string_view r) {
  return !r.empty() && r.size() <= 64 && std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::expected<std::string, std::string>
resolveRegion(std::string_view option, std::string_view value, const EnvLookup& env) {
  std::string region(core::trim(value));
  if (region.empty() && env) {
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
      if (auto v = env(name); v && !core::trim(*v).empty()) {
        region = std::string(core::trim(*v));
        break;
      }
    }
  }
  if (region.empty()) {
    return std::unexpected(
        fmt::format("{}: required (set it, or AWS_REGION in the environment)", option));
  }
  if (!isAwsRegion(region)) {
    return std::unexpected(fmt::format("{}: invalid '{}' (not an AWS region name, e.g. eu-west-1)",
                                       option, obs::logSnippet(region, 64)));
  }
  return region;
}

std::string_view awsDnsSuffix(std::string_view region) {
  return region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

HttpUrl awsServiceUrl(std::string_view host_prefix, std::string_view region) {
  HttpUrl url;
  url.host = fmt::format("{}.{}.{}", host_prefix, region, awsDnsSuffix(region));
  return url;
}

std::expected<HttpUrl, std::string> parseAwsEndpoint(std::string_view option,
                                                     std::string_view text) {
  return parseHttpUrl(option, text, UrlRules{.bare_host = true});
}

std::expected<HttpUrl, std::string> resolveAwsEndpoint(std::string_view option,
                                                       std::string_view text,
                                                       std::string_view host_prefix,
                                                       std::string_view region) {
  text = core::trim(text);
  if (text.empty()) return awsServiceUrl(host_prefix, region);
  return parseAwsEndpoint(option, text);
}

std::expected<AwsService, std::string> parseAwsService(const PluginOptions& options,
                                                       std::string_view host_prefix) {
  AwsService s;
  auto region = resolveRegion("region", options.string("region"));
  if (!region) return std::unexpected(region.error());
  s.region = std::move(*region);
  auto url = resolveAwsEndpoint("endpoint", options.string("endpoint"), host_prefix, s.region);
  if (!url) return std::unexpected(url.error());
  s.endpoint = std::move(*url);
  s.url = s.endpoint.text();
  if (findPluginOption(options.descriptor(), "extra_user_agent")) {
    const std::string extra(core::trim(options.string("extra_user_agent")));
    if (auto ok = checkHeaderValue("extra_user_agent", extra); !ok)
      return std::unexpected(ok.error());
    if (!extra.empty()) s.user_agent += " " + extra;
  }
  if (findPluginOption(options.descriptor(), "sts_endpoint")) {
    s.sts_endpoint = std::string(core::trim(options.string("sts_endpoint")));
    if (!s.sts_endpoint.empty()) {
      if (auto e = parseAwsEndpoint("sts_endpoint", s.sts_endpoint); !e)
        return std::unexpected(e.error());
    }
  }
  if (findPluginOption(options.descriptor(), "timeout"))
    s.timeout_ms = static_cast<uint64_t>(options.integer("timeout"));
  return s;
}

AwsTags awsTags(const PluginOptions& options, const char* option) {
  AwsTags tags;
  if (const rapidjson::Value* map = options.value(option); map && map->IsObject()) {
    for (const auto& m : map->GetObject())
      tags.emplace_back(m.name.GetString(), m.value.IsString() ? m.value.GetString() : "");
  }
  return tags;
}

std::string awsTagsJson(const AwsTags& tags) {
  std::string out = "{";
  for (const auto& [k, v] : tags)
    out += (out.size() > 1 ? "," : "") + jsonString(k) + ":" + jsonString(v);
  return out + "}";
}

std::string bareAwsErrorType(std::string_view t) {
  if (const size_t hash = t.rfind('#'); hash != std::string_view::npos) t.remove_prefix(hash + 1);
  if (const size_t colon = t.find(':'); colon != std::string_view::npos) t = t.substr(0, colon);
  return std::string(core::trim(t));
}

rapidjson::Document awsJsonBody(const ferry_http_response& r) {
  rapidjson::Document doc;
  const std::string_view body = bodyOf(r);
  doc.Parse(body.data(), body.size());
  return doc;
}

AwsError awsError(const ferry_http_response& r, size_t max_chars) {
  AwsError e;
  const rapidjson::Document doc = awsJsonBody(r);
  std::string text(bodyOf(r));
  if (!doc.HasParseError() && doc.IsObject()) {
    text.clear();
    for (const char* key : {"__type", "code", "Code"}) {
      if (e.type.empty() && doc.HasMember(key) && doc[key].IsString())
        e.type = bareAwsErrorType({doc[key].GetString(), doc[key].GetStringLength()});
    }
    for (const char* key : {"message", "Message"}) {
      if (text.empty() && doc.HasMember(key) && doc[key].IsString())
        text.assign(doc[key].GetString(), doc[key].GetStringLength());
    }
  }
  if (e.type.empty()) {
    if (auto h = findHeader(headersOf(r), "x-amzn-ErrorType")) e.type = bareAwsErrorType(*h);
  }
  e.message = obs::logSnippet(text, max_chars);
  return e;
}

const AwsErrorRow* findAwsError(std::span<const AwsErrorRow> rows, std::string_view code) {
  if (code.empty()) return nullptr;
  for (const AwsErrorRow& row : rows) {
    for (std::string_view rest = row.codes; !rest.empty();) {
      const size_t bar = rest.find('|');
      if (rest.substr(0, bar) == code) return &row;
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
  }
  return nullptr;
}

bool isAwsThrottling(std::string_view t) {
  return t == "ThrottlingException" || t == "ServiceUnavailableException" ||
         t == "LimitExceededException" || t == "RequestLimitExceeded" ||
         t == "ProvisionedThroughputExceededException";
}

bool isAwsAuthError(std::string_view t) {
  for (std::string_view n :
       {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
        "IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId",
        "ExpiredTokenException", "SignatureDoesNotMatch", "NotAuthorized",
        "MissingAuthenticationTokenException"}) {
    if (t == n) return true;
  }
  return false;
}

std::vector<std::string> signAwsJsonCall(const AwsJsonCall& call, const aws::Credentials& creds) {
  aws::SigV4Request sig;
  sig.method = "POST";
  sig.path = call.endpoint.path;
  sig.headers = {{"Host", call.endpoint.host},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", std::string(call.target)}};
  sig.headers.insert(sig.headers.end(), call.extra.begin(), call.extra.end());
  sig.payload = call.body;
  if (!call.payload_hash.empty()) sig.payload_hash = std::string(call.payload_hash);
  const aws::SigV4Result signature =
      aws::sign(sig, creds, call.region, call.service, std::chrono::system_clock::now());
  std::vector<std::string> lines;
  for (const aws::Headers* list : std::initializer_list<const aws::Headers*>{
           &sig.headers, &signature.headers, &call.unsigned_headers}) {
    for (const auto& [name, value] : *list)
      lines.push_back(fmt::format("{}: {}", name, value));
  }
  return lines;
}

} // namespace ferry::sink
