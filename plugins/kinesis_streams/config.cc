// Kinesis Data Streams sink options: the option table (the one place options are declared)
// and their validation: stream name and region as AWS allows them, the endpoint override,
// the partition key path, the time fields.
#include "config.h"

#include <algorithm>
#include <cctype>

#include "ferry/core/strings.h"
#include "ferry/obs/redact.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/aws_batch.h"

namespace ferry::kinesis {
namespace {

const ferry_plugin_option kOptions[] = {
    sink::stringOption(
        "stream", "Name of the Kinesis data stream (1-128 characters: letters, digits, _ . -).",
        true),
    sink::kAwsRegionOption,
    sink::stringOption("endpoint",
                       "Endpoint override (tests, VPC endpoints): http(s)://host[:port] or a host "
                       "name; default https://kinesis.<region>.amazonaws.com."),
    sink::stringOption("partition_key",
                       "Record field whose value is the partition key (nested with ->, e.g. "
                       "kubernetes->pod_name); empty, or a record without a usable value "
                       "(missing, empty, not a scalar, over 256 characters): a random key."),
    sink::stringOption("log_key",
                       "Send only this field's value (a string as it is, anything else as JSON) "
                       "instead of the whole record; a record without it is dropped and counted."),
    {.name = "append_newline",
     .type = FERRY_OPTION_BOOL,
     .default_value = "true",
     .doc = "End each record's data with a newline (as Fluent Bit's kinesis_streams does)."},
    sink::kTimeKeyOption,
    sink::kTimeFormatOption,
    sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
};

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "kinesis_streams",
    .description = "Sends records to an Amazon Kinesis data stream with PutRecords (SigV4; up "
                   "to 500 records / 5 MiB per call; partition key from a field or random).",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::expected<KinesisConfig, std::string> parseConfig(const sdk::Options& options) {
  if (auto ok = options.check(); !ok) return std::unexpected(ok.error());
  KinesisConfig c;
  auto target = sink::parseAwsStreamTarget(options, "stream", 128, "kinesis");
  if (!target) return std::unexpected(target.error());
  c.stream = std::move(target->stream);
  c.region = std::move(target->region);
  c.endpoint = std::move(target->endpoint);
  c.url = std::move(target->url);
  const std::string key(core::trim(options.string("partition_key")));
  for (size_t start = 0; !key.empty();) {
    const size_t arrow = key.find("->", start);
    const std::string part(core::trim(std::string_view(key).substr(start, arrow - start)));
    if (part.empty()) {
      return std::unexpected(fmt::format("partition_key: '{}' has an empty part (expected a "
                                         "field name, or names joined by ->)",
                                         obs::logSnippet(key, 80)));
    }
    c.partition_key.push_back(part);
    if (arrow == std::string::npos) break;
    start = arrow + 2;
  }
  c.log_key = std::string(core::trim(options.string("log_key")));
  c.append_newline = options.boolean("append_newline");
  auto json = sink::recordJsonOptions(options, "time_key", "time_format");
  if (!json) return std::unexpected(json.error());
  c.json = std::move(*json);
  c.timeout_ms = static_cast<uint64_t>(options.integer("timeout"));
  return c;
}

} // namespace ferry::kinesis
