// The sink kit's AWS helpers: region resolution and service endpoints.
#include "ferry/sink/aws.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"

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

} // namespace ferry::sink
