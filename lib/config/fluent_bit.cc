// Fluent Bit classic config → ferry YAML. Two steps: read the files (sections, @INCLUDE,
// @SET; keys are case-insensitive, a key may repeat; fluent_bit_reader.cc) and map each section
// to ferry's components. Every key is either mapped, accepted as a Fluent Bit internal (listed
// as a comment in the output), or reported as an error with its file and line. This file holds
// the driver (Converter::run and the two entry points), [SERVICE], the [INPUT]s and the memory
// budgets; the [FILTER]s are in fluent_bit_filters.cc, the [OUTPUT]s in fluent_bit_outputs.cc.
#include "ferry/config/fluent_bit.h"

#include "fluent_bit_convert.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace ferry::config {
namespace fluent_bit {

// ---- Mapping ---------------------------------------------------------------------------

std::string Converter::run(const std::string& name) {
  YAML::Node service(YAML::NodeType::Map);
  // By index: reading a Parsers_File appends sections.
  for (size_t i = 0; i < r_.sections.size(); ++i) {
    if (r_.sections[i].kind == "SERVICE") convertService(r_.sections[i], service);
  }
  for (size_t i = 0; i < r_.sections.size(); ++i) {
    const FbSection& s = r_.sections[i];
    // [PARSER] and [MULTILINE_PARSER] sections serve the filters that name them.
    if (s.kind == "SERVICE" || s.kind == "PARSER" || s.kind == "MULTILINE_PARSER") continue;
    if (s.kind == "INPUT")
      convertInput(s);
    else if (s.kind == "FILTER")
      convertFilter(s);
    else if (s.kind == "OUTPUT")
      convertOutput(s);
    else
      r_.errors.push_back(
          {s.file, s.line, "[" + s.kind + "]", "section type not supported by ferry"});
  }
  budgets(service);
  if (!r_.errors.empty()) throw ConfigError(r_.errors);

  YAML::Node root(YAML::NodeType::Map);
  if (service.size() > 0) root["service"] = service;
  root["inputs"] = inputs_;
  if (filters_.size() > 0) root["filters"] = filters_;
  root["outputs"] = outputs_;
  YAML::Emitter emitter;
  emitter << root;
  std::string out =
      fmt::format("# Converted from the Fluent Bit config {} by `ferry convert`.\n", name);
  for (const auto& n : notes_)
    out += "# note: " + n + "\n";
  out += emitter.c_str();
  out += "\n";
  return out;
}

void Converter::convertService(const FbSection& s, YAML::Node& service) {
  Keys k(s, r_.errors, notes_);
  if (const Entry* e = k.take("flush")) {
    if (auto d = fbDuration(e->value))
      flush_ = *d;
    else
      k.error(*e, "expected seconds");
  }
  if (const Entry* e = k.take("grace")) {
    if (auto d = fbDuration(e->value))
      service["grace_period"] = *d;
    else
      k.error(*e, "expected seconds");
  }
  if (const Entry* e = k.take("log_level")) {
    const std::string l = toLower(e->value);
    if (l == "error" || l == "off")
      service["log_level"] = "error";
    else if (l == "warn" || l == "warning")
      service["log_level"] = "warn";
    else if (l == "info")
      service["log_level"] = "info";
    else if (l == "debug" || l == "trace")
      service["log_level"] = "debug";
    else
      k.error(*e, "expected error, warning, info, debug or trace");
  }
  const Entry* http = k.take("http_server");
  const Entry* listen = k.take("http_listen");
  const Entry* port = k.take("http_port");
  const Entry* hc = k.take("health_check");
  const Entry* hc_errors = k.take("hc_errors_count");
  const Entry* hc_retries = k.take("hc_retry_failure_count");
  const Entry* hc_period = k.take("hc_period");
  if (http && fbBool(http->value).value_or(false)) {
    service["http"]["listen"] =
        fmt::format("{}:{}", listen ? listen->value : "0.0.0.0", port ? port->value : "2020");
    // Fluent Bit's Health_Check, for /api/v1/health.
    if (hc && fbBool(hc->value).value_or(false)) {
      service["http"]["health_check"] = true;
      if (hc_errors) service["http"]["hc_errors_count"] = hc_errors->value;
      if (hc_retries) service["http"]["hc_retry_failure_count"] = hc_retries->value;
      if (hc_period) {
        if (auto d = fbDuration(hc_period->value))
          service["http"]["hc_period"] = *d;
        else
          k.error(*hc_period, "expected seconds");
      }
    }
  } else if (hc && fbBool(hc->value).value_or(false)) {
    notes_.push_back(fmt::format("{}:{}: [SERVICE] Health_Check: unused without HTTP_Server On "
                                 "(as in Fluent Bit)",
                                 hc->file, hc->line));
  }
  if (const Entry* e = k.take("storage.max_chunks_up")) {
    uint64_t n = 0;
    if (std::from_chars(e->value.data(), e->value.data() + e->value.size(), n).ec == std::errc() &&
        n > 0)
      max_chunks_up_ = n;
    else
      k.error(*e, "expected a number of chunks");
  }
  if (const Entry* e = k.take("storage.path")) service["storage"]["path"] = e->value;
  if (const Entry* e = k.take("storage.sync")) {
    if (!service["storage"])
      k.error(*e, "storage.sync without storage.path");
    else
      service["storage"]["sync"] = toLower(e->value) == "full" ? "always" : "interval";
  }
  if (const Entry* e = k.take("parsers_file")) {
    // Its [PARSER] sections serve the parser filter.
    const std::string dir = std::filesystem::path(e->file).parent_path().string();
    const std::string path = e->value.front() == '/' || dir.empty()
                                 ? e->value
                                 : (std::filesystem::path(dir) / e->value).string();
    if (std::filesystem::exists(path)) {
      r_.readFile(path, 1, e->file, e->line);
    } else {
      notes_.push_back(fmt::format("{}:{}: [SERVICE] Parsers_File {} does not exist here; only "
                                   "the parsers json, docker and logfmt are known",
                                   e->file, e->line, e->value));
    }
  }
  if (const Entry* e = k.take("daemon"); e && fbBool(e->value).value_or(false)) {
    k.error(*e, "ferry runs in the foreground (use systemd or the container runtime)");
  }
  for (const char* key : {"storage.metrics", "storage.backlog.mem_limit", "storage.checksum",
                          "storage.delete_irrecoverable_chunks", "coro_stack_size", "scheduler.cap",
                          "scheduler.base", "hot_reload", "log_file"}) {
    k.internal(key, std::string(key) == "log_file" ? "ferry logs to stderr"
                                                   : "ferry sizes and checks itself");
  }
  k.finish();
}

void Converter::convertInput(const FbSection& s) {
  Keys k(s, r_.errors, notes_);
  const std::string plugin = s.plugin();
  if (plugin == "tcp") {
    convertTcp(k);
    return;
  }
  if (plugin != "forward") {
    k.error(plugin.empty() ? "missing Name" : "input '" + plugin + "' has no ferry equivalent");
    return;
  }
  YAML::Node in(YAML::NodeType::Map);
  in["type"] = "forward";
  if (const Entry* e = k.take("alias")) in["name"] = e->value;
  const Entry* unix_path = k.take("unix_path");
  const Entry* listen = k.take("listen");
  const Entry* port = k.take("port");
  if (unix_path) {
    in["listen"] = "unix://" + unix_path->value;
    if (listen || port) {
      notes_.push_back(fmt::format("{}:{}: [INPUT forward] Listen/Port: unused with unix_path "
                                   "(as in Fluent Bit)",
                                   s.file, s.line));
    }
  } else {
    std::string host = listen ? listen->value : "0.0.0.0";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    in["listen"] = fmt::format("tcp://{}:{}", host, port ? port->value : "24224");
  }
  if (const Entry* e = k.take("unix_perm")) in["socket_mode"] = e->value;
  if (const Entry* e = k.take("tag_prefix")) in["tag_prefix"] = e->value;
  if (const Entry* e = k.take("shared_key")) in["shared_key"] = e->value;
  if (const Entry* e = k.take("self_hostname")) in["self_hostname"] = e->value;
  for (const char* key : {"buffer_chunk_size", "buffer_max_size"}) {
    if (const Entry* e = k.take(key)) {
      if (auto n = fbSize(e->value))
        in[key] = std::to_string(*n);
      else
        k.error(*e, "expected a size (e.g. 32KB, 6M)");
    }
  }
  const Entry* tls = k.take("tls");
  const Entry* crt = k.take("tls.crt_file");
  const Entry* key = k.take("tls.key_file");
  if (tls && fbBool(tls->value).value_or(false)) {
    if (!crt || !key)
      k.error(*tls, "tls On needs tls.crt_file and tls.key_file");
    else {
      in["tls_cert"] = crt->value;
      in["tls_key"] = key->value;
    }
  }
  inputBudget(k);
  k.finish();
  inputs_.push_back(in);
}

void Converter::convertTcp(Keys& k) {
  YAML::Node in(YAML::NodeType::Map);
  in["type"] = "tcp";
  if (const Entry* e = k.take("alias")) in["name"] = e->value;
  in["listen"] = [&]() -> std::string {
    const Entry* e = k.take("listen");
    return e ? e->value : "0.0.0.0";
  }();
  in["port"] = [&]() -> std::string {
    const Entry* e = k.take("port");
    return e ? e->value : "5170";
  }();
  if (const Entry* e = k.take("tag")) in["tag"] = e->value;
  if (const Entry* e = k.take("format")) {
    const std::string v = toLower(e->value);
    if (v == "json" || v == "none")
      in["format"] = v;
    else
      k.error(*e, "expected json or none");
  }
  if (const Entry* e = k.take("separator")) in["separator"] = e->value;
  auto kib = [&](const char* key) -> std::optional<uint64_t> {
    const Entry* e = k.take(key);
    if (!e) return std::nullopt;
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(e->value.data(), e->value.data() + e->value.size(), n);
    if (ec != std::errc() || n == 0) {
      k.error(*e, "expected a number of KiB (e.g. 32)");
      return std::nullopt;
    }
    return n * 1024;
  };
  const auto chunk = kib("chunk_size");
  const auto buffer = kib("buffer_size");
  const uint64_t chunk_bytes = chunk.value_or(32 * 1024);
  if (chunk) in["chunk_size"] = std::to_string(chunk_bytes);
  in["buffer_size"] = std::to_string(buffer.value_or(chunk_bytes));
  inputBudget(k);
  k.finish();
  inputs_.push_back(in);
}

void Converter::inputBudget(Keys& k) {
  const Entry* limit = k.take("mem_buf_limit");
  const Entry* type = k.take("storage.type");
  if (type && toLower(type->value) == "filesystem") {
    memory_budget_ += max_chunks_up_ * kChunkBytes;
    budget_sources_.push_back(fmt::format("{}:{}: storage.type filesystem: {} chunks up x 2MiB",
                                          type->file, type->line, max_chunks_up_));
    if (limit) {
      notes_.push_back(fmt::format("{}:{}: {} Mem_Buf_Limit: ignored with storage.type filesystem "
                                   "(as in Fluent Bit)",
                                   limit->file, limit->line, k.section().title()));
    }
  } else if (limit) {
    if (auto n = fbSize(limit->value)) {
      memory_budget_ += *n;
      budget_sources_.push_back(
          fmt::format("{}:{}: Mem_Buf_Limit {}", limit->file, limit->line, limit->value));
    } else {
      k.error(*limit, "expected a size (e.g. 25MB)");
    }
  }
  k.internal("threaded", "ferry's inputs always have their own thread");
  k.internal("routable", "");
  k.internal("storage.pause_on_chunks_overlimit",
             "ferry pauses an input while an output it feeds is full");
}

void Converter::budgets(YAML::Node& service) {
  size_t holders = 0;
  for (const auto& o : outputs_)
    holders += o["type"].as<std::string>() != "null";
  if (memory_budget_ > 0 && holders > 0) {
    const uint64_t share = std::max<uint64_t>(memory_budget_ / holders, kMinOutputBudget);
    for (auto o : outputs_) {
      if (o["type"].as<std::string>() != "null") o["buffer"]["max_bytes"] = std::to_string(share);
    }
    std::string from;
    for (const auto& s : budget_sources_)
      from += (from.empty() ? "" : "; ") + s;
    notes_.push_back(fmt::format(
        "budget: {} bytes of input memory ({}) / {} output(s) = buffer.max_bytes {} each",
        memory_budget_, from, holders, share));
  }
  if (storage_budget_ > 0) {
    if (service["storage"]) {
      service["storage"]["max_bytes"] = std::to_string(storage_budget_);
      notes_.push_back(
          fmt::format("budget: storage.total_limit_size summed = service.storage.max_bytes {}",
                      storage_budget_));
    } else {
      notes_.push_back("storage.total_limit_size: no storage.path, so nothing is buffered on disk");
    }
  }
}

} // namespace fluent_bit

using fluent_bit::Converter;
using fluent_bit::Reader;

std::string convertFluentBitText(const std::string& name, const std::string& dir,
                                 const std::string& text) {
  Reader reader;
  reader.readText(name, dir, text, 0);
  Converter converter(reader);
  return converter.run(name);
}

std::string convertFluentBitFile(const std::string& path) {
  Reader reader;
  reader.readFile(path, 0, "", 0);
  if (!reader.errors.empty() && reader.sections.empty()) throw ConfigError(reader.errors);
  Converter converter(reader);
  return converter.run(path);
}

} // namespace ferry::config
