// ecs_metadata: adds the task's ECS metadata to every record, read from the task metadata
// endpoint v4 ($ECS_CONTAINER_METADATA_URI_V4/task, and the container document at the URI
// itself for its labels). Read once at start (bounded by `timeout`), then refreshed every
// refresh_interval on a thread of its own so the router never waits on the network. When
// the endpoint fails, the failure is logged and records pass unchanged.
#include <rapidjson/document.h>

#include <fmt/format.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "ferry/filter/filters.h"
#include "ferry/obs/log.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/ecs.h"

namespace ferry::filter {
namespace {

using config::OptionSpec;
using config::OptionType;
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(name);
  if (it == v.MemberEnd()) return {};
  if (it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return {};
}

// "arn:aws:ecs:us-east-1:123456789012:cluster/prod" → "prod" (FireLens writes the name).
std::string clusterName(const std::string& cluster) {
  if (cluster.rfind("arn:", 0) != 0) return cluster;
  const size_t slash = cluster.find('/');
  return slash == std::string::npos ? cluster : cluster.substr(slash + 1);
}

// The region is the fourth part of an ARN.
std::string regionOf(const std::string& arn) {
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  const size_t end = arn.find(':', pos);
  return end == std::string::npos ? std::string() : arn.substr(pos, end - pos);
}

} // namespace

// Exposed for tests through makeEcsMetadata: task and container documents → fields.
std::expected<Fields, std::string> ecsFieldsFromDocuments(const std::string& task_json,
                                                          const std::string& container_json) {
  rapidjson::Document task, container;
  task.Parse(task_json.data(), task_json.size());
  if (task.HasParseError() || !task.IsObject())
    return std::unexpected("task metadata is not a JSON object");
  container.Parse(container_json.data(), container_json.size());
  const rapidjson::Value empty(rapidjson::kObjectType);
  const rapidjson::Value& labels =
      (!container.HasParseError() && container.IsObject() && container.HasMember("Labels"))
          ? container["Labels"]
          : empty;
  std::string cluster = member(task, "Cluster");
  if (cluster.empty()) cluster = member(labels, "com.amazonaws.ecs.cluster");
  std::string arn = member(task, "TaskARN");
  if (arn.empty()) arn = member(labels, "com.amazonaws.ecs.task-arn");
  std::string family = member(task, "Family");
  if (family.empty()) family = member(labels, "com.amazonaws.ecs.task-definition-family");
  std::string revision = member(task, "Revision");
  if (revision.empty()) revision = member(labels, "com.amazonaws.ecs.task-definition-version");
  Fields fields;
  if (!cluster.empty()) fields.emplace_back("ecs_cluster", clusterName(cluster));
  if (!arn.empty()) fields.emplace_back("ecs_task_arn", arn);
  if (!family.empty()) {
    fields.emplace_back("ecs_task_definition", revision.empty() ? family : family + ":" + revision);
  }
  if (const std::string region = regionOf(arn); !region.empty())
    fields.emplace_back("aws_region", region);
  if (const std::string az = member(task, "AvailabilityZone"); !az.empty()) {
    fields.emplace_back("aws_availability_zone", az);
  }
  if (fields.empty()) return std::unexpected("task metadata has none of Cluster, TaskARN, Family");
  return fields;
}

namespace {

class EcsMetadataFilter final : public core::Filter {
public:
  EcsMetadataFilter(std::string uri, std::chrono::milliseconds refresh,
                    std::chrono::milliseconds timeout, bool overwrite)
      : uri_(std::move(uri)), refresh_(refresh), timeout_(timeout), overwrite_(overwrite) {
    fetch(); // at start, so the first records already carry the metadata
    thread_ = std::thread([this] { refreshLoop(); });
  }
  ~EcsMetadataFilter() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  core::BatchRef apply(core::BatchRef batch) override {
    std::shared_ptr<const FieldAdder> adder;
    {
      std::lock_guard lock(mutex_);
      adder = adder_;
    }
    return adder ? adder->apply(std::move(batch)) : batch;
  }

private:
  void fetch() {
    if (uri_.empty()) {
      FERRY_LOG_WARN("ecs_metadata", "ECS_CONTAINER_METADATA_URI_V4 is not set (not on ECS?): "
                                     "records pass without ECS metadata");
      return;
    }
    auto task = sink::ecsTaskDocument(uri_, timeout_);
    auto container = sink::ecsContainerDocument(uri_, timeout_);
    std::expected<Fields, std::string> fields =
        task ? ecsFieldsFromDocuments(*task, container ? *container : std::string())
             : std::unexpected(task.error());
    if (!fields) {
      FERRY_LOG_WARN("ecs_metadata",
                     "cannot read ECS task metadata: {} (records pass unchanged "
                     "until the next refresh)",
                     fields.error());
      return;
    }
    auto adder = std::make_shared<const FieldAdder>(std::move(*fields), overwrite_);
    std::lock_guard lock(mutex_);
    adder_ = std::move(adder);
  }

  void refreshLoop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      // Until it has worked once, retry sooner than the refresh interval.
      const auto wait = adder_ ? refresh_ : std::min(refresh_, std::chrono::milliseconds(30'000));
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
      lock.unlock();
      fetch();
      lock.lock();
    }
  }

  std::string uri_;
  std::chrono::milliseconds refresh_, timeout_;
  bool overwrite_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::shared_ptr<const FieldAdder> adder_;
  std::thread thread_;
};

} // namespace

const config::OptionTable& ecsMetadataOptions() {
  static const config::OptionTable table = {
      OptionSpec{.name = "metadata_uri",
                 .type = OptionType::kString,
                 .default_value = "",
                 .doc = "Task metadata endpoint v4; empty = $ECS_CONTAINER_METADATA_URI_V4."},
      OptionSpec{.name = "refresh_interval",
                 .type = OptionType::kDuration,
                 .default_value = "1h",
                 .min_value = 1000,
                 .max_value = int64_t{7} * 24 * 3600 * 1000,
                 .doc = "How often the metadata is read again (retried every 30s until it "
                        "has been read once)."},
      OptionSpec{.name = "timeout",
                 .type = OptionType::kDuration,
                 .default_value = "2s",
                 .min_value = 100,
                 .max_value = 60'000,
                 .doc = "Time allowed for each request to the endpoint."},
      OptionSpec{.name = "overwrite",
                 .type = OptionType::kBool,
                 .default_value = "false",
                 .doc = "true: the metadata replaces fields of the same name a record already "
                        "has; false: the record's own values stay."},
  };
  return table;
}

// The endpoint is fetched over plain HTTP (ECS serves it on a link-local address); a
// configured one in another form could never be read. The environment's value is the agent's.
SettingsResult checkEcsMetadata(const config::Section& s) {
  const std::string& uri = s.getString("metadata_uri");
  if (!uri.empty() && !uri.starts_with("http://") && !uri.starts_with("https://")) {
    return refuse("metadata_uri", fmt::format("'{}' is not an http(s):// URL (e.g. "
                                              "http://169.254.170.2/v4/<id>)",
                                              uri));
  }
  return {};
}

FilterPtr makeEcsMetadata(const config::Section& s) {
  settingsOrThrow(s, checkEcsMetadata(s));
  std::string given = s.getString("metadata_uri");
  const std::string uri =
      sink::ecsMetadataUri(given.empty() ? sink::processEnv("ECS_CONTAINER_METADATA_URI_V4")
                                         : std::optional(std::move(given)))
          .value_or("");
  return std::make_unique<EcsMetadataFilter>(
      uri,
      std::chrono::milliseconds(s.has("refresh_interval") ? s.getInt("refresh_interval")
                                                          : 3'600'000),
      std::chrono::milliseconds(s.has("timeout") ? s.getInt("timeout") : 2000),
      s.has("overwrite") && s.getBool("overwrite"));
}

} // namespace ferry::filter
