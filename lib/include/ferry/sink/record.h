// The sink kit, record part: what a sink reads from a record beside its body (a field by path,
// for log_key or partition keys), the ECS task, names built from them (CloudWatch groups and
// streams; Kinesis partition keys and S3 keys could use it), and text cut to a byte limit. Two
// spellings, as users write them: the aws-for-fluent-bit Go plugins' $(tag), $(tag[1]), $(field),
// $(field['sub']),
// $(ecs_cluster), $(ecs_task_id), $(ecs_task_arn); Fluent Bit's record accessor $TAG, $TAG[1],
// $field, $field['sub'].
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/plugin.h"

namespace ferry::sink {

// The value at `path` in a record (a line record's only field is "log"): a string's text, or
// another value's msgpack bytes. nullopt when absent or the record is malformed.
struct FieldValue {
  std::string_view bytes;
  bool is_string = false;
};
std::optional<FieldValue> recordField(const ferry_plugin_record& record,
                                      const std::vector<std::string>& path);

// What $(ecs_cluster), $(ecs_task_arn) and $(ecs_task_id) stand for.
struct EcsTask {
  std::string cluster, task_arn, task_id;
};
// From the task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4); empty fields when not on
// ECS or unreadable. Blocks up to 2 s: start-up only.
EcsTask readEcsTask();

// Text as the inside of a JSON string literal (escaped; invalid UTF-8 as U+FFFD) and the
// UTF-8 bytes it stands for, cut to a limit on a character boundary when asked.
struct JsonText {
  std::string escaped;
  size_t bytes = 0;
  explicit JsonText(std::string_view text);
  // Cuts it to at most `limit` bytes (on a character boundary) followed by `mark`.
  void cut(size_t limit, std::string_view mark);
};
// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

class RecordTemplate {
public:
  // Errors name the option.
  static std::expected<RecordTemplate, std::string> parse(std::string_view option,
                                                          std::string_view text);
  bool empty() const { return parts_.empty(); }
  bool hasVariables() const;
  bool usesEcs() const;
  // A partition template (plugin.h, limits.partition_template) whose key determines this
  // template's rendering: $TAG for the tag and its parts, $(a.b) for each field; "" when it
  // has no record variables. A field name that template syntax cannot spell ('.', '(' or ')')
  // is left out, so the key may then be coarser than the name (the encoder still checks).
  std::string partitionKey() const;
  // The name for a record; nullopt when a variable has no value (or the name is empty).
  // Fields give strings as they are, integers and booleans as their JSON text.
  std::optional<std::string> render(const ferry_plugin_record& record, const EcsTask& ecs) const;

private:
  struct Part {
    enum Kind { kText, kTag, kTagPart, kField, kEcs } kind = kText;
    std::string text;              // kText; kEcs: the variable's name
    size_t index = 0;              // kTagPart
    std::vector<std::string> path; // kField
  };
  std::vector<Part> parts_;
};

} // namespace ferry::sink
