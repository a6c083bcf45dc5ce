// The sink kit's ECS task metadata reads.
#include "ferry/sink/ecs.h"

#include <unistd.h>

#include <rapidjson/document.h>

#include <fmt/format.h>

#include "../aws/credentials_http.h"
#include "ferry/sink/http.h"

namespace ferry::sink {

std::expected<std::string, std::string> fetchMetadata(const std::string& url,
                                                      std::chrono::milliseconds timeout) {
  aws::detail::FetchRequest request;
  request.url = url;
  request.connect_timeout = std::min(timeout, std::chrono::milliseconds(1000));
  request.total_timeout = timeout;
  request.bypass_proxy = true; // link-local: a proxy could only get it wrong
  auto response = aws::detail::httpFetch(request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200) {
    return std::unexpected(
        fmt::format("HTTP {} from {}", response->status, aws::detail::describeUrl(url)));
  }
  return std::move(response->body);
}

std::optional<std::string> ecsMetadataUri(std::optional<std::string> value) {
  if (!value) return std::nullopt;
  std::string uri = std::move(*value);
  while (!uri.empty() && uri.back() == '/')
    uri.pop_back();
  if (uri.empty()) return std::nullopt;
  return uri;
}

std::expected<std::string, std::string> ecsTaskDocument(const std::string& uri,
                                                        std::chrono::milliseconds timeout,
                                                        const MetadataFetch& fetch) {
  return fetch(uri + "/task", timeout);
}

std::expected<std::string, std::string> ecsContainerDocument(const std::string& uri,
                                                             std::chrono::milliseconds timeout,
                                                             const MetadataFetch& fetch) {
  return fetch(uri, timeout);
}

std::optional<std::string> taskIdFromTaskDocument(std::string_view task_json) {
  rapidjson::Document doc;
  doc.Parse(task_json.data(), task_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto it = doc.FindMember("TaskARN");
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  const std::string_view arn(it->value.GetString(), it->value.GetStringLength());
  const size_t slash = arn.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == arn.size()) return std::nullopt;
  const std::string_view id = arn.substr(slash + 1);
  if (!isSafeHeaderValue(id)) return std::nullopt;
  return std::string(id);
}

std::string taskIdOrHostname(const EnvLookup& env, const MetadataFetch& fetch,
                             std::chrono::milliseconds timeout) {
  if (auto uri = ecsMetadataUri(env("ECS_CONTAINER_METADATA_URI_V4"))) {
    if (auto body = ecsTaskDocument(*uri, timeout, fetch)) {
      if (auto id = taskIdFromTaskDocument(*body)) return *id;
    }
  }
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') return name;
  return "unknown";
}

} // namespace ferry::sink
