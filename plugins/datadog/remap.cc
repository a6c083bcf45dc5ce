// The ECS field → Datadog tag rules of `provider: ecs`. They follow Fluent Bit's out_datadog
// (datadog_remap.c, with the full-ARN task_arn of Fluent Bit 4.x) rule for rule, so that a
// FireLens task moved to ferry ships the same tags; malformed values are kept whole rather
// than dropped, as there.
#include "remap.h"

#include <array>

namespace ferry::datadog {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:ecs:";
constexpr std::string_view kClusterPrefix = "cluster/";
constexpr std::string_view kTaskPrefix = "task/";

void appendTag(std::string& tags, std::string_view name, std::string_view value) {
  if (!tags.empty()) tags.push_back(',');
  tags.append(name);
  tags.push_back(':');
  tags.append(value);
}

// What follows the first `prefix` in `value`, or all of `value` when there is none.
std::string_view after(std::string_view value, std::string_view prefix) {
  const size_t at = value.find(prefix);
  return at == std::string_view::npos ? value : value.substr(at + prefix.size());
}

void containerName(std::string_view v, std::string& tags) {
  if (v.starts_with('/')) v.remove_prefix(1); // Docker names its containers "/name"
  appendTag(tags, "container_name", v);
}

void cluster(std::string_view v, std::string& tags) {
  // ECS_CLUSTER may be a name or an ARN (arn:aws:ecs:region:account:cluster/name).
  appendTag(tags, "cluster_name", after(v, kClusterPrefix));
}

void taskDefinition(std::string_view v, std::string& tags) {
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos) {
    appendTag(tags, "ecs_task_definition", v);
    return;
  }
  appendTag(tags, "task_family", v.substr(0, colon));
  appendTag(tags, "task_version", v.substr(colon + 1));
}

void taskArn(std::string_view v, std::string& tags) {
  appendTag(tags, "task_arn", v);
  if (v.size() > kArnPrefix.size() && v.starts_with(kArnPrefix)) {
    const std::string_view rest = v.substr(kArnPrefix.size());
    if (const size_t colon = rest.find(':'); colon != std::string_view::npos) {
      appendTag(tags, "region", rest.substr(0, colon));
    }
  }
  // New-format ARNs end task/<cluster>/<id>: task_id is then "<cluster>/<id>", as Fluent Bit's.
  appendTag(tags, "task_id", after(v, kTaskPrefix));
}

struct Rule {
  std::string_view key;
  void (*apply)(std::string_view value, std::string& tags);
};

constexpr std::array<Rule, 6> kRules = {{
    {"container_id", [](std::string_view v, std::string& t) { appendTag(t, "container_id", v); }},
    {"container_name", containerName},
    {"container_image",
     [](std::string_view v, std::string& t) { appendTag(t, "container_image", v); }},
    {"ecs_cluster", cluster},
    {"ecs_task_definition", taskDefinition},
    {"ecs_task_arn", taskArn},
}};

const Rule* ruleFor(std::string_view key) {
  for (const Rule& r : kRules) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

} // namespace

bool appendEcsTags(std::string_view key, std::string_view value, std::string& tags) {
  if (value.empty()) return false;
  const Rule* rule = ruleFor(key);
  if (rule == nullptr) return false;
  rule->apply(value, tags);
  return true;
}

} // namespace ferry::datadog
