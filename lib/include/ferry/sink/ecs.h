// The sink kit, ECS part: the task metadata endpoint v4 ($ECS_CONTAINER_METADATA_URI_V4),
// read the one way every user of it needs: plain HTTP to a link-local address, never through
// a proxy, short timeouts, errors that name the host and never the URI's secret-ish path.
// Used by sinks' default hostname (datadog) and the ecs_metadata filter.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/sink/aws.h"

namespace ferry::sink {

// GETs a URL; the body on HTTP 200, else an error naming the status or the failure.
using MetadataFetch = std::function<std::expected<std::string, std::string>(
    const std::string& url, std::chrono::milliseconds timeout)>;

// The real fetch: libcurl, proxies bypassed, at most 1 s to connect and `timeout` in all.
std::expected<std::string, std::string> fetchMetadata(const std::string& url,
                                                      std::chrono::milliseconds timeout);

// The metadata URI without trailing '/', or nullopt when `value` is empty/unset (not on ECS).
std::optional<std::string> ecsMetadataUri(std::optional<std::string> value);

// The task document (`<uri>/task`) and the container document (`<uri>`).
std::expected<std::string, std::string> ecsTaskDocument(const std::string& uri,
                                                        std::chrono::milliseconds timeout,
                                                        const MetadataFetch& fetch = fetchMetadata);
std::expected<std::string, std::string>
ecsContainerDocument(const std::string& uri, std::chrono::milliseconds timeout,
                     const MetadataFetch& fetch = fetchMetadata);

// The task id, the last path segment of TaskARN
// (arn:aws:ecs:region:account:task/cluster/0123abcd; older ARNs: task/0123abcd), from the
// task document; nullopt when absent, unreadable or not printable.
std::optional<std::string> taskIdFromTaskDocument(std::string_view task_json);

// The host name a sink sends by default: the task id when ECS_CONTAINER_METADATA_URI_V4
// (read through `env`) is set and the task document answers within `timeout`, else the
// host's name (gethostname), else "unknown".
std::string taskIdOrHostname(const EnvLookup& env, const MetadataFetch& fetch,
                             std::chrono::milliseconds timeout);

} // namespace ferry::sink
