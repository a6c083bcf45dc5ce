// `provider: ecs`: the ECS metadata FireLens adds to every record (container_*, ecs_*) moved
// into Datadog tags, the way Fluent Bit's out_datadog does with `provider ecs`, so that the
// searches, monitors and dashboards users scoped by those tags keep matching after the switch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::datadog {

enum class Provider : uint8_t {
  kNone, // every field stays an attribute
  kEcs,  // the ECS fields become `ddtags` (see appendEcsTags)
};

// Appends the Datadog tags of one ECS field to `tags` (comma-separated, after what is there):
//   container_id, container_image   → container_id:<v>, container_image:<v>
//   container_name                  → container_name:<v without one leading '/'>
//   ecs_cluster                     → cluster_name:<what follows "cluster/", else v>
//   ecs_task_definition "family:N"  → task_family:family,task_version:N
//                        (no ':')   → ecs_task_definition:<v>
//   ecs_task_arn                    → task_arn:<v>, region:<r> when v is arn:aws:ecs:<r>:...,
//                                     task_id:<what follows "task/", else v>
// False, leaving `tags` alone, when the key is not an ECS field or the value is empty: the
// field then stays an attribute.
bool appendEcsTags(std::string_view key, std::string_view value, std::string& tags);

} // namespace ferry::datadog
