// The sink kit, record part: fields by path, the ECS task, names built from them, JSON text.
#include "ferry/sink/record.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "ferry/codec/json.h"
#include "ferry/codec/msgpack_scan.h"
#include "ferry/core/strings.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/ecs.h"

namespace ferry::sink {
namespace {

// A name's characters: $(...) may also hold '-' and '.'; a bare $name ends before them
// ($TAG-logs, $TAG.$field).
bool identChar(char c, bool paren) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         (paren && (c == '-' || c == '.'));
}

// The text of a field (strings as they are, integers and booleans as their JSON text);
// nullopt when absent or another kind.
std::optional<std::string> fieldValue(const ferry_plugin_record& r,
                                      const std::vector<std::string>& path) {
  auto v = recordField(r, path);
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

// The length of the escape or character at esc[i] (ferry's JSON encoder escapes with
// \" \\ \n-style pairs and \u00XX, each standing for one byte).
size_t stepAt(std::string_view esc, size_t i) {
  return esc[i] != '\\' ? 1 : esc[i + 1] == 'u' ? 6 : 2;
}

bool continuation(std::string_view esc, size_t i) {
  return i < esc.size() && (static_cast<unsigned char>(esc[i]) & 0xC0) == 0x80;
}

} // namespace

std::string jsonString(std::string_view text) {
  core::ByteBuffer b;
  codec::appendJsonString(b, text);
  return std::string(b.view());
}

JsonText::JsonText(std::string_view text) {
  escaped = jsonString(text);
  escaped = escaped.substr(1, escaped.size() - 2);
  for (size_t i = 0; i < escaped.size(); ++bytes)
    i += stepAt(escaped, i);
}

void JsonText::cut(size_t limit, std::string_view mark) {
  size_t i = 0, n = 0;
  while (i < escaped.size() && n + 1 <= limit - mark.size()) {
    i += stepAt(escaped, i);
    ++n;
  }
  while (continuation(escaped, i)) { // back to the start of the character
    --i;
    --n;
  }
  escaped.resize(i);
  escaped += mark;
  bytes = n + mark.size();
}

std::optional<FieldValue> recordField(const ferry_plugin_record& r,
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

EcsTask readEcsTask() {
  EcsTask info;
  auto uri = ecsMetadataUri(processEnv("ECS_CONTAINER_METADATA_URI_V4"));
  if (!uri) return info;
  auto doc = ecsTaskDocument(*uri, std::chrono::milliseconds(2000));
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
  info.task_id = taskIdFromTaskDocument(*doc).value_or("");
  return info;
}

std::expected<RecordTemplate, std::string> RecordTemplate::parse(std::string_view option,
                                                                 std::string_view text) {
  RecordTemplate t;
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
    while (end < text.size() && identChar(text[end], paren))
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

bool RecordTemplate::hasVariables() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.kind != p.kText; });
}

bool RecordTemplate::usesEcs() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.kind == p.kEcs; });
}

std::string RecordTemplate::partitionKey() const {
  std::string key;
  bool tag = false;
  for (const Part& p : parts_) {
    if ((p.kind == p.kTag || p.kind == p.kTagPart) && !tag) {
      tag = true;
      key += "$TAG|";
    } else if (p.kind == p.kField) {
      const bool spellable = std::none_of(p.path.begin(), p.path.end(), [](const std::string& k) {
        return k.empty() || k.find_first_of(".()") != std::string::npos;
      });
      if (!spellable) continue;
      key += "$(";
      for (size_t i = 0; i < p.path.size(); ++i)
        key += (i ? "." : "") + p.path[i];
      key += ")|";
    }
  }
  return key;
}

std::optional<std::string> RecordTemplate::render(const ferry_plugin_record& r,
                                                  const EcsTask& ecs) const {
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

} // namespace ferry::sink
