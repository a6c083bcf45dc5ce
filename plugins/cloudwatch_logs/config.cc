// cloudwatch_logs options (the one table), their checks, and the names of groups and streams:
// templates over the tag, record fields and the ECS task, and routeOf, the record → stream map.
#include <algorithm>
#include <array>

#include <fmt/ranges.h>

#include "cloudwatch.h"
#include "ferry/core/strings.h"

namespace ferry::cloudwatch {
namespace {

const ferry_plugin_option kOptions[] = {
    sink::stringOption("region",
                       "AWS region of the log group, e.g. eu-west-1 (signing scope, endpoint).", 1),
    sink::stringOption(
        "log_group_name",
        "Log group; may hold $(tag), $(tag[N]), $(field), $(field['sub']), $(ecs_cluster), "
        "$(ecs_task_id), $(ecs_task_arn).",
        1),
    sink::stringOption("log_group_template",
                       "Log group from $TAG, $TAG[N], $field['sub'] (record accessor); "
                       "log_group_name when a value is missing."),
    sink::stringOption("log_stream_name", "Log stream (variables as in log_group_name); this or "
                                          "log_stream_prefix."),
    sink::stringOption("log_stream_prefix",
                       "The stream is this prefix followed by the record's tag."),
    sink::stringOption("log_stream_template",
                       "Log stream as log_group_template; the stream of "
                       "log_stream_name or log_stream_prefix when a value is missing."),
    {.name = "auto_create_group",
     .type = FERRY_OPTION_BOOL,
     .default_value = "false",
     .doc = "Create the log group when it does not exist (streams are always created)."},
    {.name = "log_retention_days",
     .type = FERRY_OPTION_INT,
     .default_value = "0",
     .min_value = 0,
     .max_value = 3653,
     .doc = "Retention of a group ferry creates (1, 3, 5, 7, 14, 30, ... 3653); 0 = forever."},
    {.name = "log_group_tags",
     .type = FERRY_OPTION_STRING_MAP,
     .doc = "Tags of a group ferry creates."},
    sink::stringOption("log_key",
                       "Send only this field's value (a string as it is), not the record as JSON."),
    {.name = "log_format",
     .type = FERRY_OPTION_ENUM,
     .default_value = "text",
     .enum_values = "text|json/emf",
     .doc = "json/emf marks the events as Embedded Metric Format (x-amzn-logs-format)."},
    sink::stringOption("extra_user_agent", "Appended to the User-Agent header."),
    sink::stringOption("endpoint",
                       "Endpoint override (tests, VPC endpoints): http(s)://host[:port] or a host "
                       "name; default https://logs.<region>.amazonaws.com."),
    sink::stringOption("sts_endpoint", "STS endpoint for web identity credentials."),
    sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
};

constexpr std::array<int64_t, 22> kRetentionDays = {1,    3,    5,    7,    14,   30,  60,  90,
                                                    120,  150,  180,  365,  400,  545, 731, 1096,
                                                    1827, 2192, 2557, 2922, 3288, 3653};

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "cloudwatch_logs",
    .description = "Sends records to Amazon CloudWatch Logs with PutLogEvents (SigV4; up to "
                   "10,000 events / 1 MiB per call; groups and streams created when missing).",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::optional<Route> routeOf(const Config& c, const ferry_plugin_record& r) {
  std::optional<std::string> group, stream;
  if (!c.group_template.empty()) group = c.group_template.render(r, c.ecs);
  if (!group) group = c.group.render(r, c.ecs);
  if (!c.stream_template.empty()) stream = c.stream_template.render(r, c.ecs);
  if (!stream && !c.stream.empty()) stream = c.stream.render(r, c.ecs);
  if (!stream && !c.stream_prefix.empty()) stream = c.stream_prefix + std::string(r.tag, r.tag_len);
  if (!group || !stream) return std::nullopt;
  return Route{std::move(*group), std::move(*stream)};
}

std::expected<Config, std::string> parseConfig(const sdk::Options& options) {
  if (auto ok = options.check(); !ok) return std::unexpected(ok.error());
  Config c;
  auto aws = sink::parseAwsService(options, "logs");
  if (!aws) return std::unexpected(aws.error());
  c.aws = std::move(*aws);
  for (auto [option, target] : {std::pair{"log_group_name", &c.group},
                                {"log_group_template", &c.group_template},
                                {"log_stream_name", &c.stream},
                                {"log_stream_template", &c.stream_template}}) {
    auto t = sink::RecordTemplate::parse(option, core::trim(options.string(option)));
    if (!t) return std::unexpected(t.error());
    *target = std::move(*t);
  }
  c.stream_prefix = std::string(core::trim(options.string("log_stream_prefix")));
  if (c.stream.empty() == c.stream_prefix.empty()) {
    return std::unexpected("log_stream_name: give either log_stream_name or log_stream_prefix "
                           "(one of them, as Fluent Bit wants)");
  }
  c.auto_create_group = options.boolean("auto_create_group");
  c.retention_days = options.integer("log_retention_days");
  if (c.retention_days != 0 && std::find(kRetentionDays.begin(), kRetentionDays.end(),
                                         c.retention_days) == kRetentionDays.end()) {
    return std::unexpected(fmt::format("log_retention_days: {} is not one of {}", c.retention_days,
                                       fmt::join(kRetentionDays, ", ")));
  }
  c.group_tags = sink::awsTags(options, "log_group_tags");
  c.log_key = std::string(core::trim(options.string("log_key")));
  c.emf = options.string("log_format") == "json/emf";
  for (const auto* t : {&c.group_template, &c.group, &c.stream_template, &c.stream})
    c.partition += t->partitionKey();
  if (!c.stream_prefix.empty() && c.partition.find("$TAG|") == std::string::npos)
    c.partition += "$TAG|";
  return c;
}

} // namespace ferry::cloudwatch
