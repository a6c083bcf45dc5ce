// Fluent Bit's [OUTPUT] sections → ferry outputs (part of the converter, fluent_bit_convert.h):
// the keys every output shares (match, retries, storage.total_limit_size into the budgets),
// then one function per plugin: datadog, kinesis_firehose, kinesis_streams / kinesis,
// cloudwatch_logs / cloudwatch, s3 and stdout.
#include "fluent_bit_convert.h"

#include <charconv>
#include <tuple>

namespace ferry::config::fluent_bit {

void Converter::convertOutput(const FbSection& s) {
  Keys k(s, r_.errors, notes_);
  const std::string plugin = s.plugin();
  YAML::Node out(YAML::NodeType::Map);
  const std::string match = matchOf(k);
  if (k.take("match_regex")) k.error("Match_Regex has no ferry equivalent (use Match globs)");
  if (match.empty()) k.error("missing Match");
  if (plugin == "datadog")
    out["type"] = "datadog";
  else if (plugin == "kinesis_firehose" || plugin == "firehose")
    out["type"] = "firehose";
  else if (plugin == "s3")
    out["type"] = "s3";
  else if (plugin == "kinesis_streams" || plugin == "kinesis")
    out["type"] = "kinesis_streams";
  else if (plugin == "cloudwatch_logs" || plugin == "cloudwatch")
    out["type"] = "cloudwatch_logs";
  else if (plugin == "null")
    out["type"] = "null";
  else if (plugin == "stdout")
    out["type"] = "stdout";
  else {
    k.error(plugin.empty() ? "missing Name" : "output '" + plugin + "' has no ferry equivalent");
    return;
  }
  if (const Entry* e = k.take("alias")) out["name"] = e->value;
  out["match"] = match;
  if (const Entry* e = k.take("retry_limit")) {
    const std::string v = toLower(e->value);
    uint64_t n = 0;
    if (v == "no_limits" || v == "false" || v == "off")
      out["retry"]["max_attempts"] = 0;
    else if (v == "no_retries")
      out["retry"]["max_attempts"] = 1;
    else if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) {
      out["retry"]["max_attempts"] = n + 1; // Fluent Bit counts retries, ferry attempts
    } else
      k.error(*e, "expected a number, no_limits or no_retries");
  }
  if (!flush_.empty() && plugin != "null") out["flush_interval"] = flush_;
  k.internal("workers", "ferry adapts concurrency (concurrency: auto)");
  if (const Entry* e = k.take("storage.total_limit_size")) {
    if (auto n = fbSize(e->value))
      storage_budget_ += *n;
    else
      k.error(*e, "expected a size (e.g. 1G)");
  }
  k.internal("log_level", "ferry has one log level (service.log_level)");
  if (plugin == "datadog")
    datadog(k, out);
  else if (plugin == "kinesis_firehose" || plugin == "firehose")
    firehose(k, out);
  else if (plugin == "s3")
    s3(k, out);
  else if (plugin == "kinesis_streams" || plugin == "kinesis")
    kinesis(k, out, plugin == "kinesis");
  else if (plugin == "cloudwatch_logs" || plugin == "cloudwatch")
    cloudwatchLogs(k, out, plugin == "cloudwatch");
  else if (plugin == "stdout")
    stdoutOutput(k, out);
  k.finish();
  outputs_.push_back(out);
}

void Converter::copy(Keys& k, YAML::Node& out, const char* fb, const char* ferry) {
  if (const Entry* e = k.take(fb)) out[ferry] = e->value;
}

void Converter::datadog(Keys& k, YAML::Node& out) {
  copy(k, out, "apikey", "api_key");
  copy(k, out, "dd_service", "service");
  copy(k, out, "dd_source", "source");
  copy(k, out, "dd_tags", "tags");
  copy(k, out, "dd_message_key", "message_key");
  // Without dd_hostname Fluent Bit sends no hostname (Datadog takes the host from the
  // record); ferry's default would name the task or the machine instead.
  if (const Entry* e = k.take("dd_hostname"))
    out["hostname"] = e->value;
  else
    out["auto_hostname"] = false;
  const Entry* host = k.take("host");
  const Entry* port = k.take("port");
  const Entry* tls = k.take("tls");
  const bool use_tls = tls ? fbBool(tls->value).value_or(false) : false;
  if (host) {
    constexpr std::string_view kIntake = "http-intake.logs.";
    if (host->value.starts_with(kIntake) && !port) {
      out["site"] = host->value.substr(kIntake.size());
      if (!use_tls) {
        notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] TLS Off: ferry sends to the "
                                     "Datadog site over HTTPS",
                                     host->file, host->line));
      }
    } else {
      const std::string p = port ? ":" + port->value : "";
      out["url"] = fmt::format("{}://{}{}/api/v2/logs", use_tls ? "https" : "http", host->value, p);
    }
  }
  if (const Entry* e = k.take("compress")) {
    const std::string v = toLower(e->value);
    // Fluent Bit compresses on exactly "gzip" and sends anything else uncompressed.
    out["compression"] = v == "gzip" ? "gzip" : "none";
    if (v != "gzip" && v != "none" && v != "off" && !v.empty()) {
      notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] compress {}: Fluent Bit knows only "
                                   "gzip; sent uncompressed, as Fluent Bit does",
                                   e->file, e->line, e->value));
    }
  }
  out["status_from_level"] = false; // Fluent Bit sends level/severity as they are
  if (const Entry* e = k.take("provider")) {
    // Fluent Bit remaps only on exactly "ecs" and ignores any other value.
    if (e->value == "ecs") {
      out["provider"] = "ecs";
    } else {
      notes_.push_back(fmt::format("{}:{}: [OUTPUT datadog] provider {}: Fluent Bit knows "
                                   "only ecs; ignored",
                                   e->file, e->line, e->value));
    }
  }
  if (const Entry* e = k.take("json_date_key"); e && e->value != "timestamp") {
    k.error(*e, "ferry always sends the time as `timestamp`");
  }
  if (const Entry* e = k.take("include_tag_key"); e && fbBool(e->value).value_or(false)) {
    k.error(*e, "ferry does not add the tag to Datadog records");
  }
  k.take("tag_key");
  k.internal("tls.verify", "ferry always verifies certificates");
}

void Converter::firehose(Keys& k, YAML::Node& out) {
  copy(k, out, "delivery_stream", "delivery_stream");
  copy(k, out, "region", "region");
  if (const Entry* e = k.take("endpoint")) {
    // Fluent Bit takes a bare host name here; ferry a URL (a ${VAR} is left as it is).
    const bool bare =
        e->value.find("://") == std::string::npos && e->value.find("${") == std::string::npos;
    out["endpoint"] = bare ? "https://" + e->value : e->value;
  }
  if (const Entry* e = k.take("simple_aggregation")) {
    out["aggregate"] = fbBool(e->value).value_or(false);
  }
  // Fluent Bit adds the record time only under a time_key it is given; ferry's default adds
  // `date`, which would put a field into every record that the stream's consumers never saw.
  if (const Entry* e = k.take("time_key"))
    out["time_key"] = e->value;
  else
    out["time_key"] = "";
  if (const Entry* e = k.take("compression");
      e && toLower(e->value) != "none" && !toLower(e->value).empty()) {
    k.error(*e, "ferry's firehose output sends records uncompressed");
  }
  k.internal("auto_retry_requests", "ferry retries by its retry policy");
}

void Converter::kinesis(Keys& k, YAML::Node& out, bool go_plugin) {
  copy(k, out, "stream", "stream");
  copy(k, out, "region", "region");
  copy(k, out, "log_key", "log_key");
  const Entry* endpoint = k.take("endpoint");
  const Entry* port = go_plugin ? nullptr : k.take("port");
  if (endpoint) {
    // A bare host name means https (a ${VAR} is left as it is); Port goes after the host.
    std::string url = endpoint->value;
    if (url.find("://") == std::string::npos && url.find("${") == std::string::npos)
      url = "https://" + url;
    if (port) {
      const size_t host = url.find("://") == std::string::npos ? 0 : url.find("://") + 3;
      const size_t path = url.find('/', host);
      if (url.substr(host, path - host).find(':') != std::string::npos)
        k.error(*port, "the endpoint already names a port");
      else
        url.insert(path == std::string::npos ? url.size() : path, ":" + port->value);
    }
    out["endpoint"] = url;
  } else if (port && port->value != "443") {
    k.error(*port, "a port needs an endpoint (ferry sends to kinesis.<region>.amazonaws.com:443)");
  } else if (port) {
    notes_.push_back(fmt::format("{}:{}: {} Port 443: the default", port->file, port->line,
                                 k.section().title()));
  }
  // Fluent Bit adds the record time only under a time_key it is given.
  const Entry* time_key = k.take("time_key");
  out["time_key"] = time_key ? time_key->value : std::string();
  if (const Entry* e = k.take("time_key_format")) {
    // ferry writes ISO 8601 UTC with nanoseconds; the C plugin's %9N / %L are nanoseconds.
    const std::string& f = e->value;
    if (go_plugin || (f != "%Y-%m-%dT%H:%M:%S.%9NZ" && f != "%Y-%m-%dT%H:%M:%S.%LZ"))
      k.error(*e, "ferry writes the time as %Y-%m-%dT%H:%M:%S.%9NZ (time_format iso8601), "
                  "epoch or epoch_ms");
  } else if (time_key && !time_key->value.empty()) {
    notes_.push_back(fmt::format("{}:{}: {} time_key: ferry writes the time as ISO 8601 UTC "
                                 "with nanoseconds",
                                 time_key->file, time_key->line, k.section().title()));
  }
  if (go_plugin) {
    copy(k, out, "partition_key", "partition_key");
    const Entry* e = k.take("append_newline");
    out["append_newline"] = e ? fbBool(e->value).value_or(false) : false;
    if (const Entry* d = k.take("data_keys"))
      k.error(*d, "ferry sends the whole record or one field (log_key)");
    if (const Entry* a = k.take("aggregation"); a && fbBool(a->value).value_or(false))
      k.error(*a, "ferry does not write KPL-aggregated records");
    if (const Entry* r = k.take("replace_dots"); r && !r->value.empty())
      k.error(*r, "ferry sends field names as they are");
    k.internal("experimental_concurrency", "ferry adapts concurrency (concurrency: auto)");
    k.internal("experimental_concurrency_retries", "ferry retries by its retry policy");
  } else {
    out["append_newline"] = true;
    k.internal("auto_retry_requests", "ferry retries by its retry policy");
  }
  if (const Entry* e = k.take("compression");
      e && toLower(e->value) != "none" && !toLower(e->value).empty()) {
    k.error(*e, "ferry's kinesis_streams output sends records uncompressed");
  }
  if (const Entry* e = k.take("role_arn"))
    k.error(*e, "ferry does not assume roles: grant kinesis:PutRecords to its own credentials");
  if (const Entry* e = k.take("profile"))
    k.error(*e, "set AWS_PROFILE in ferry's environment instead");
  k.internal("external_id", "only used with role_arn");
  k.internal("sts_endpoint", "only used with role_arn");
}

void Converter::cloudwatchLogs(Keys& k, YAML::Node& out, bool go) {
  for (const char* key :
       {"region", "log_group_name", "log_group_template", "log_stream_name", "log_stream_prefix",
        "log_stream_template", "log_key", "sts_endpoint", "extra_user_agent"})
    copy(k, out, key, key);
  // The Go plugin's names with variables fall back to default_log_*_name, as ferry's
  // templates fall back to the plain names.
  for (const auto& [name, fallback, tmpl] :
       {std::tuple{"log_group_name", "default_log_group_name", "log_group_template"},
        std::tuple{"log_stream_name", "default_log_stream_name", "log_stream_template"}}) {
    const Entry* e = k.take(fallback);
    if (!e) continue;
    if (out[name]) out[tmpl] = out[name].as<std::string>();
    out[name] = e->value;
  }
  if (out["log_stream_name"] && out["log_stream_prefix"]) {
    k.error("needs exactly one of log_stream_name and log_stream_prefix (Fluent Bit refuses "
            "this output too)");
  } else if (!out["log_stream_name"] && !out["log_stream_prefix"]) {
    // AWS's own "send to multiple destinations" FireLens example has neither: each stream is
    // named after the tag, as log_stream_prefix with an empty prefix would name it.
    out["log_stream_name"] = "$(tag)";
    const FbSection& s = k.section();
    notes_.push_back(fmt::format("{}:{}: {}: neither log_stream_name nor log_stream_prefix; "
                                 "each stream is named after the record's tag",
                                 s.file, s.line, s.title()));
  }
  if (const Entry* e = k.take("endpoint")) {
    const bool bare =
        e->value.find("://") == std::string::npos && e->value.find("${") == std::string::npos;
    out["endpoint"] = bare ? "https://" + e->value : e->value;
  }
  if (const Entry* e = k.take("auto_create_group")) {
    if (auto b = fbBool(e->value))
      out["auto_create_group"] = *b;
    else
      k.error(*e, "expected On/Off or true/false");
  }
  if (const Entry* e = k.take("log_retention_days")) out["log_retention_days"] = e->value;
  if (const Entry* e = k.take("log_format")) {
    if (toLower(e->value) == "json/emf")
      out["log_format"] = "json/emf";
    else
      k.error(*e, "ferry knows only json/emf (Embedded Metric Format)");
  }
  if (const Entry* e = k.take("new_log_group_tags")) {
    // key=value,key2=value2
    YAML::Node tags(YAML::NodeType::Map);
    for (size_t pos = 0; pos <= e->value.size();) {
      const size_t comma = std::min(e->value.find(',', pos), e->value.size());
      const std::string pair = e->value.substr(pos, comma - pos);
      const size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        k.error(*e, "expected key=value pairs separated by commas");
        break;
      }
      tags[std::string(trim(pair.substr(0, eq)))] = std::string(trim(pair.substr(eq + 1)));
      pos = comma + 1;
    }
    out["log_group_tags"] = tags;
  }
  k.internal("auto_retry_requests", "ferry retries by its retry policy");
  k.internal("auto_create_stream", "ferry creates missing streams");
  k.internal("credentials_endpoint", "ferry reads credentials from the default AWS chain");
  k.internal("log_group_class", "a group ferry creates is STANDARD");
  if (go) k.internal("experimental_concurrency", "ferry adapts concurrency");
}

void Converter::s3(Keys& k, YAML::Node& out) {
  copy(k, out, "bucket", "bucket");
  copy(k, out, "region", "region");
  copy(k, out, "endpoint", "endpoint");
  copy(k, out, "storage_class", "storage_class");
  copy(k, out, "content_type", "content_type");
  copy(k, out, "canned_acl", "acl");
  copy(k, out, "json_date_key", "json_date_key");
  // $TAG, $TAG[n], $INDEX, $UUID and strftime fields mean what they mean in Fluent Bit
  // (the runner keeps one object stream per tag).
  copy(k, out, "s3_key_format", "key_format");
  copy(k, out, "s3_key_format_tag_delimiters", "tag_delimiters");
  for (const auto& [fb, ferry] : {std::pair{"total_file_size", "total_file_size"},
                                  std::pair{"upload_chunk_size", "part_size"}}) {
    if (const Entry* e = k.take(fb)) {
      if (auto n = fbSize(e->value))
        out[ferry] = std::to_string(*n);
      else
        k.error(*e, "expected a size (e.g. 50M)");
    }
  }
  if (const Entry* e = k.take("upload_timeout")) {
    if (auto d = fbDuration(e->value))
      out["upload_timeout"] = *d;
    else
      k.error(*e, "expected a duration (e.g. 10m)");
  }
  if (const Entry* e = k.take("compression")) {
    const std::string v = toLower(e->value);
    if (v == "gzip" || v == "zstd")
      out["compression"] = v;
    else if (v == "none" || v == "off")
      out["compression"] = "none";
    else
      k.error(*e, "expected gzip, zstd or none");
  } else {
    out["compression"] = "none"; // Fluent Bit's default
  }
  if (const Entry* e = k.take("json_date_format")) {
    const std::string v = toLower(e->value);
    if (v == "iso8601" || v == "epoch")
      out["json_date_format"] = v;
    else
      k.error(*e, "expected iso8601 or epoch");
  }
  k.internal("use_put_object", "ferry chooses PutObject or multipart by size");
  k.internal("store_dir", "ferry buffers in memory or in service.storage");
  k.internal("store_dir_limit_size", "see service.storage.max_bytes");
  k.internal("preserve_data_ordering", "ferry keeps order per output");
  k.internal("send_content_md5", "SigV4 signs the payload hash");
  k.internal("auto_retry_requests", "ferry retries by its retry policy");
}

void Converter::stdoutOutput(Keys& k, YAML::Node& out) {
  if (const Entry* e = k.take("format")) {
    const std::string v = toLower(e->value);
    if (v != "json_lines" && v != "json" && v != "json_stream") {
      k.error(*e, "ferry prints JSON lines (format json_lines)");
    }
  }
  copy(k, out, "json_date_key", "time_key");
  if (const Entry* e = k.take("json_date_format")) {
    const std::string v = toLower(e->value);
    if (v == "iso8601" || v == "epoch")
      out["time_format"] = v;
    else
      k.error(*e, "expected iso8601 or epoch");
  }
}

} // namespace ferry::config::fluent_bit
