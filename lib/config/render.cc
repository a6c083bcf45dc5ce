// renderResolved(): the validated config as YAML, what `ferry validate` prints. Secrets are
// masked; sizes and durations are written in units; the output loads back to the same config.
#include <yaml-cpp/emitter.h>
#include <yaml-cpp/emittermanip.h>

#include <fmt/format.h>

#include "ferry/config/config.h"
#include "ferry/config/interpolate.h"
#include "ferry/config/units.h"

namespace ferry::config {
namespace {

constexpr const char* kMask = "********";

bool isEmpty(const OptionValue& v) {
  switch (v.type) {
  case OptionType::kStringList:
    return v.list.empty();
  case OptionType::kStringMap:
    return v.map.empty();
  case OptionType::kString:
  case OptionType::kEnum:
    return v.text.empty();
  default:
    return false;
  }
}

void emitValue(YAML::Emitter& out, const OptionValue& v, bool secret) {
  // An empty secret is shown as empty: it tells the user the variable was not set, and
  // reveals nothing.
  if (secret && !isEmpty(v)) {
    out << kMask;
    return;
  }
  switch (v.type) {
  case OptionType::kString:
  case OptionType::kEnum:
    out << escapeInterpolation(v.text);
    break;
  case OptionType::kBool:
    out << (v.flag ? "true" : "false");
    break;
  case OptionType::kInt:
    out << v.number;
    break;
  case OptionType::kSize:
    out << formatSize(v.number);
    break;
  case OptionType::kDuration:
    out << formatDuration(v.number);
    break;
  case OptionType::kStringList:
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : v.list)
      out << escapeInterpolation(item);
    out << YAML::EndSeq;
    break;
  case OptionType::kStringMap:
    out << YAML::BeginMap;
    for (const auto& [key, value] : v.map) {
      out << YAML::Key << key << YAML::Value << escapeInterpolation(value);
    }
    out << YAML::EndMap;
    break;
  }
}

void emitOptions(YAML::Emitter& out, const Section& section) {
  auto emit = [&](const std::string& key, const OptionValue& value, bool secret) {
    if (!value.is_set) return;
    out << YAML::Key << key << YAML::Value;
    emitValue(out, value, secret);
  };
  if (section.table != nullptr) {
    for (const auto& spec : *section.table) {
      const auto it = section.values.find(spec.name);
      if (it != section.values.end()) emit(spec.name, it->second, isSecretOption(spec));
    }
  }
  for (const auto& [key, value] : section.values) {
    // Values without a table entry (built by hand): masked by name alone.
    if (section.table == nullptr || findOption(*section.table, key) == nullptr) {
      emit(key, value, isSecretKey(key));
    }
  }
}

void emitHeader(YAML::Emitter& out, const Section& section) {
  out << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << escapeInterpolation(section.type);
  out << YAML::Key << "name" << YAML::Value << escapeInterpolation(section.name);
  if (section.kind != "input") {
    out << YAML::Key << "match" << YAML::Value << escapeInterpolation(section.match);
  }
}

void emitService(YAML::Emitter& out, const ServiceConfig& s) {
  out << YAML::Key << "service" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "log_level" << YAML::Value << s.log_level;
  out << YAML::Key << "log_format" << YAML::Value << s.log_format;
  if (s.http_listen) {
    out << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << escapeInterpolation(*s.http_listen);
    out << YAML::Key << "unhealthy_after" << YAML::Value
        << formatDuration(static_cast<int64_t>(s.http_unhealthy_after_ms));
    if (s.http_health_check) {
      out << YAML::Key << "health_check" << YAML::Value << true;
      out << YAML::Key << "hc_errors_count" << YAML::Value << s.http_hc_errors_count;
      out << YAML::Key << "hc_retry_failure_count" << YAML::Value << s.http_hc_retry_failure_count;
      out << YAML::Key << "hc_period" << YAML::Value
          << formatDuration(static_cast<int64_t>(s.http_hc_period_ms));
    }
    out << YAML::EndMap;
  }
  if (s.storage_path) {
    out << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << escapeInterpolation(*s.storage_path);
    out << YAML::Key << "max_bytes" << YAML::Value
        << formatSize(static_cast<int64_t>(s.storage_max_bytes));
    out << YAML::Key << "sync" << YAML::Value << s.storage_sync;
    out << YAML::Key << "when_full" << YAML::Value << s.storage_when_full;
    out << YAML::EndMap;
  }
  out << YAML::Key << "ring" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "capacity" << YAML::Value << s.ring_capacity;
  out << YAML::EndMap;
  out << YAML::Key << "grace_period" << YAML::Value
      << formatDuration(static_cast<int64_t>(s.grace_period_ms));
  if (!s.plugin_dir.empty()) {
    out << YAML::Key << "plugin_dir" << YAML::Value << escapeInterpolation(s.plugin_dir);
  }
  out << YAML::EndMap;
}

void emitOutputCommon(YAML::Emitter& out, const OutputCommon& c) {
  out << YAML::Key << "retry" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "max_attempts" << YAML::Value << c.retry.max_attempts;
  out << YAML::Key << "initial_backoff" << YAML::Value
      << formatDuration(static_cast<int64_t>(c.retry.initial_backoff_ms));
  out << YAML::Key << "max_backoff" << YAML::Value
      << formatDuration(static_cast<int64_t>(c.retry.max_backoff_ms));
  out << YAML::EndMap;
  out << YAML::Key << "buffer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "max_bytes" << YAML::Value;
  if (c.buffer_auto) {
    out << "auto";
  } else {
    out << formatSize(static_cast<int64_t>(c.buffer_max_bytes));
  }
  out << YAML::EndMap;
  // What auto came to (config::planMemory; `ferry validate` prints the rule beside it).
  if (c.buffer_auto)
    out << YAML::Comment("= " + formatSize(static_cast<int64_t>(c.buffer_max_bytes)));
  out << YAML::Key << "concurrency" << YAML::Value;
  if (c.concurrency == 0) {
    out << "auto";
  } else {
    out << c.concurrency;
  }
  if (c.flush_interval_ms != 0) { // 0 = the plugin's default
    out << YAML::Key << "flush_interval" << YAML::Value
        << formatDuration(static_cast<int64_t>(c.flush_interval_ms));
  }
}

} // namespace

std::string renderResolved(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment(
      fmt::format("ferry: resolved configuration from {} (secrets masked)", config.source));
  out << YAML::BeginMap;
  emitService(out, config.service);
  out << YAML::Key << "inputs" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : config.inputs) {
    emitHeader(out, s);
    emitOptions(out, s);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (!config.filters.empty()) {
    out << YAML::Key << "filters" << YAML::Value << YAML::BeginSeq;
    for (const auto& s : config.filters) {
      emitHeader(out, s);
      emitOptions(out, s);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "outputs" << YAML::Value << YAML::BeginSeq;
  for (const auto& o : config.outputs) {
    emitHeader(out, o.section);
    emitOptions(out, o.section);
    emitOutputCommon(out, o.common);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  std::string text = out.c_str();
  text += '\n';
  return text;
}

} // namespace ferry::config
