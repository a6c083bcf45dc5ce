// cloudwatch_logs options (the one table), their checks, and the names of groups and streams:
// templates over the tag, record fields and the ECS task, and routeOf, the record → stream map.
#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "cloudwatch.h"
#include "ferry/codec/msgpack_scan.h"
#include "ferry/core/strings.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/ecs.h"

namespace ferry::cloudwatch {
namespace {

const ferry_plugin_option kOptions[] = {
    {.name = "region",
     .type = FERRY_OPTION_STRING,
     .required = 1,
     .doc = "AWS region of the log group, e.g. eu-west-1 (signing scope and default endpoint)."},
    {.name = "log_group_name",
     .type = FERRY_OPTION_STRING,
     .required = 1,
     .doc = "Log group; may hold variables: $(tag), $(tag[N]), $(field), $(field['sub']), "
            "$(ecs_cluster), $(ecs_task_id), $(ecs_task_arn)."},
    {.name = "log_group_template",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Log group from $TAG, $TAG[N] and $field['sub'] (record accessor); when a value is "
            "missing, log_group_name is used."},
    {.name = "log_stream_name",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Log stream (variables as in log_group_name); give this or log_stream_prefix."},
    {.name = "log_stream_prefix",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "The stream is this prefix followed by the record's tag."},
    {.name = "log_stream_template",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Log stream from $TAG and record fields; when a value is missing, the stream of "
            "log_stream_name or log_stream_prefix is used."},
    {.name = "auto_create_group",
     .type = FERRY_OPTION_BOOL,
     .default_value = "false",
     .doc = "Create the log group when it does not exist (streams are always created)."},
    {.name = "log_retention_days",
     .type = FERRY_OPTION_INT,
     .default_value = "0",
     .min_value = 0,
     .max_value = 3653,
     .doc = "Retention set on a group ferry creates (1, 3, 5, 7, 14, 30, ... 3653); 0 = never "
            "expire."},
    {.name = "log_group_tags",
     .type = FERRY_OPTION_STRING_MAP,
     .doc = "Tags of a group ferry creates."},
    {.name = "log_key",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Send only this field's value (a string as it is) instead of the whole record as "
            "JSON."},
    {.name = "log_format",
     .type = FERRY_OPTION_ENUM,
     .default_value = "text",
     .enum_values = "text|json/emf",
     .doc = "json/emf marks the events as Embedded Metric Format (x-amzn-logs-format)."},
    {.name = "extra_user_agent",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Appended to the User-Agent header."},
    {.name = "endpoint",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "Endpoint override (tests, VPC endpoints): http(s)://host[:port] or a host name; "
            "default https://logs.<region>.amazonaws.com."},
    {.name = "sts_endpoint",
     .type = FERRY_OPTION_STRING,
     .default_value = "",
     .doc = "STS endpoint for web identity credentials."},
    sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
};

constexpr std::array<int64_t, 22> kRetentionDays = {1,    3,    5,    7,    14,   30,  60,  90,
                                                    120,  150,  180,  365,  400,  545, 731, 1096,
                                                    1827, 2192, 2557, 2922, 3288, 3653};

bool identChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// The text of a field (strings as they are, integers and booleans as their JSON text);
// nullopt when absent or another kind.
std::optional<std::string> fieldValue(const ferry_plugin_record& r,
                                      const std::vector<std::string>& path) {
  auto v = valueAt(r, path);
  if (!v) return std::nullopt;
  if (v->is_string) return std::string(v->bytes);
  input::forward::MsgpackCursor c(v->bytes);
  uint64_t u = 0;
  int64_t i = 0;
  bool b = false;
  if (c.readUint(u)) return std::to_string(u);
  if (c.readInt(i)) return std::to_string(i);
  if (c.readBool(b)) return b ? "true" : "false";
  return std::nullopt;
}

// ECS task metadata, only when a name asks for it and the task endpoint is there.
EcsInfo readEcs() {
  EcsInfo info;
  auto uri = sink::ecsMetadataUri(sink::processEnv("ECS_CONTAINER_METADATA_URI_V4"));
  if (!uri) return info;
  auto doc = sink::ecsTaskDocument(*uri, std::chrono::milliseconds(2000));
  if (!doc) return info;
  rapidjson::Document d;
  d.Parse(doc->data(), doc->size());
  if (d.HasParseError() || !d.IsObject()) return info;
  if (d.HasMember("Cluster") && d["Cluster"].IsString()) {
    info.cluster = d["Cluster"].GetString();
    // A cluster ARN names the cluster after its last '/'.
    if (const size_t slash = info.cluster.rfind('/'); slash != std::string::npos)
      info.cluster.erase(0, slash + 1);
  }
  if (d.HasMember("TaskARN") && d["TaskARN"].IsString()) info.task_arn = d["TaskARN"].GetString();
  info.task_id = sink::taskIdFromTaskDocument(*doc).value_or("");
  return info;
}

} // namespace

std::optional<FieldValue> valueAt(const ferry_plugin_record& r,
                                  const std::vector<std::string>& path) {
  namespace mp = input::forward;
  const std::string_view data(reinterpret_cast<const char*>(r.data), r.data_len);
  if (r.format == FERRY_RECORD_LINE) {
    if (path.size() != 1 || path[0] != "log") return std::nullopt;
    return FieldValue{data, true};
  }
  mp::MsgpackCursor c(data);
  std::vector<uint64_t> stack;
  for (const std::string& key : path) {
    uint64_t pairs = 0;
    if (!c.readMap(pairs)) return std::nullopt;
    bool found = false;
    for (uint64_t i = 0; i < pairs && !found; ++i) {
      std::string_view k;
      if (!c.readStrOrBin(k)) return std::nullopt;
      found = k == key;
      if (!found && !c.skip(stack)) return std::nullopt;
    }
    if (!found) return std::nullopt;
  }
  std::string_view s;
  if (mp::MsgpackCursor probe = c; probe.readStrOrBin(s)) return FieldValue{s, true};
  const char* begin = reinterpret_cast<const char*>(c.position());
  if (!c.skip(stack)) return std::nullopt;
  return FieldValue{
      {begin, static_cast<size_t>(reinterpret_cast<const char*>(c.position()) - begin)}, false};
}

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "cloudwatch_logs",
    .description = "Sends records to Amazon CloudWatch Logs with PutLogEvents (SigV4; up to "
                   "10,000 events / 1 MiB per call; groups and streams created when missing).",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::expected<Template, std::string> Template::parse(std::string_view option,
                                                     std::string_view text) {
  Template t;
  auto bad = [&](std::string_view why) {
    return std::unexpected(fmt::format("{}: {} in '{}'", option, why, text));
  };
  size_t i = 0;
  while (i < text.size()) {
    const size_t dollar = text.find('$', i);
    if (dollar != i) {
      t.parts_.push_back({.text = std::string(text.substr(i, dollar - i))});
      if (dollar == std::string_view::npos) break;
    }
    i = dollar + 1;
    const bool paren = i < text.size() && text[i] == '(';
    const size_t start = paren ? i + 1 : i;
    size_t end = start;
    while (end < text.size() && identChar(text[end]) && (paren || text[end] != '.'))
      ++end;
    if (end == start) return bad("a '$' without a name");
    Part p{.kind = Part::kField, .path = {std::string(text.substr(start, end - start))}};
    // [N] after the tag, ['key'] (or ["key"]) after a field, repeated.
    while (end < text.size() && text[end] == '[') {
      const size_t close = text.find(']', end);
      if (close == std::string_view::npos) return bad("an unclosed '['");
      std::string_view inner = text.substr(end + 1, close - end - 1);
      end = close + 1;
      if (inner.size() >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner.back() == inner[0]) {
        p.path.emplace_back(inner.substr(1, inner.size() - 2));
      } else if (!inner.empty() && std::all_of(inner.begin(), inner.end(), ::isdigit) &&
                 p.path.size() == 1 && core::iequals(p.path[0], "tag")) {
        p.kind = Part::kTagPart;
        p.index = std::stoul(std::string(inner));
      } else {
        return bad("expected [N] after the tag or ['key'] after a field");
      }
    }
    if (paren) {
      if (end >= text.size() || text[end] != ')') return bad("an unclosed '$('");
      ++end;
    }
    const std::string& name = p.path[0];
    if (p.kind == Part::kField && p.path.size() == 1) {
      if ((paren && name == "tag") || (!paren && name == "TAG")) p.kind = Part::kTag;
      if (paren && name.starts_with("ecs_")) {
        if (name != "ecs_cluster" && name != "ecs_task_id" && name != "ecs_task_arn")
          return bad("unknown variable $(" + name + ")");
        p.kind = Part::kEcs;
        p.text = name;
      }
    }
    t.parts_.push_back(std::move(p));
    i = end;
  }
  return t;
}

bool Template::hasVariables() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.kind != p.kText; });
}

bool Template::usesEcs() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.kind == p.kEcs; });
}

std::optional<std::string> Template::render(const ferry_plugin_record& r,
                                            const EcsInfo& ecs) const {
  std::string out;
  const std::string_view tag(r.tag, r.tag_len);
  for (const Part& p : parts_) {
    std::optional<std::string> v;
    switch (p.kind) {
    case Part::kText:
      v = p.text;
      break;
    case Part::kTag:
      v = std::string(tag);
      break;
    case Part::kTagPart: {
      size_t begin = 0;
      for (size_t n = 0; n < p.index && begin != std::string_view::npos; ++n) {
        begin = tag.find('.', begin);
        if (begin != std::string_view::npos) ++begin;
      }
      if (begin != std::string_view::npos)
        v = std::string(tag.substr(begin, tag.find('.', begin) - begin));
      break;
    }
    case Part::kField:
      v = fieldValue(r, p.path);
      break;
    case Part::kEcs:
      v = p.text == "ecs_cluster"   ? ecs.cluster
          : p.text == "ecs_task_id" ? ecs.task_id
                                    : ecs.task_arn;
      break;
    }
    if (!v || (p.kind != Part::kText && v->empty())) return std::nullopt;
    out += *v;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

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
  auto region = sink::resolveRegion("region", options.string("region"));
  if (!region) return std::unexpected(region.error());
  c.region = std::move(*region);
  const std::string endpoint(core::trim(options.string("endpoint")));
  auto url = endpoint.empty()
                 ? std::expected<sink::HttpUrl, std::string>(sink::awsServiceUrl("logs", c.region))
                 : sink::parseAwsEndpoint("endpoint", endpoint);
  if (!url) return std::unexpected(url.error());
  c.endpoint = std::move(*url);
  c.url = c.endpoint.text();
  for (auto [option, target] : {std::pair{"log_group_name", &c.group},
                                {"log_group_template", &c.group_template},
                                {"log_stream_name", &c.stream},
                                {"log_stream_template", &c.stream_template}}) {
    auto t = Template::parse(option, core::trim(options.string(option)));
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
    return std::unexpected(fmt::format("log_retention_days: {} is not one CloudWatch allows "
                                       "(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
                                       "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
                                       c.retention_days));
  }
  if (const rapidjson::Value* tags = options.value("log_group_tags"); tags && tags->IsObject()) {
    for (const auto& m : tags->GetObject())
      c.group_tags.emplace_back(m.name.GetString(), m.value.IsString() ? m.value.GetString() : "");
  }
  c.log_key = std::string(core::trim(options.string("log_key")));
  c.emf = options.string("log_format") == "json/emf";
  c.user_agent = std::string(core::trim(options.string("extra_user_agent")));
  if (auto ok = sink::checkHeaderValue("extra_user_agent", c.user_agent); !ok)
    return std::unexpected(ok.error());
  c.sts_endpoint = std::string(core::trim(options.string("sts_endpoint")));
  if (!c.sts_endpoint.empty()) {
    if (auto e = sink::parseAwsEndpoint("sts_endpoint", c.sts_endpoint); !e)
      return std::unexpected(e.error());
  }
  c.timeout_ms = static_cast<uint64_t>(options.integer("timeout"));
  return c;
}

// Called by the sink at start-up only (parseConfig must not touch the network).
void resolveEcs(Config& c) {
  if (c.group.usesEcs() || c.stream.usesEcs()) c.ecs = readEcs();
}

} // namespace ferry::cloudwatch
