// Firehose sink options: the option table (the one place options are declared) and their
// validation: stream name and region as AWS allows them, the endpoint override, time fields.
#include "config.h"
#include "ferry/core/strings.h"

#include <algorithm>
#include <cctype>

#include "ferry/obs/redact.h"
#include "ferry/sink/aws.h"
#include "ferry/sink/aws_batch.h"
#include "ferry/sink/options_bind.h"

namespace ferry::firehose {
namespace {

using C = FirehoseConfig;

// The one place options are declared: their defaults, bounds and fields are read from here.
// Rows without a field are read together below (the stream target, the time fields).
constexpr sink::BoundOption<C> kBound[] = {
    {{.name = "delivery_stream",
      .type = FERRY_OPTION_STRING,
      .required = 1,
      .doc = "Name of the Firehose delivery stream (1-64 characters: letters, digits, _ . -)."}},
    {sink::kAwsRegionOption},
    {{.name = "endpoint",
      .type = FERRY_OPTION_STRING,
      .default_value = "",
      .doc = "Endpoint override (tests, VPC endpoints): http(s)://host[:port] or a host name; "
             "default https://firehose.<region>.amazonaws.com."}},
    {{.name = "aggregate",
      .type = FERRY_OPTION_BOOL,
      .default_value = "false",
      .doc = "Pack several newline-separated JSON records into each Firehose record (up to "
             "1,000 KiB); Firehose bills per 5 KB record, so this cuts the bill."},
     sink::field<&C::aggregate>},
    {sink::kTimeKeyOption},
    {sink::kTimeFormatOption},
    {sink::timeoutOption("30s", 100, 600'000, "HTTP timeout of one request attempt."),
     sink::field<&C::timeout_ms>},
};
constexpr auto kOptions = sink::optionRows(kBound);

} // namespace

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "firehose",
    .description = "Sends records to an Amazon Data Firehose delivery stream with "
                   "PutRecordBatch (SigV4; up to 500 records / 4 MiB per call; optional "
                   "aggregation).",
    .options = kOptions.data(),
    .option_count = kOptions.size()};

std::expected<FirehoseConfig, std::string> parseConfig(const sdk::Options& options) {
  FirehoseConfig c;
  if (auto ok = sink::readOptions(options, kBound, c); !ok) return std::unexpected(ok.error());
  auto target = sink::parseAwsStreamTarget(options, "delivery_stream", 64, "firehose");
  if (!target) return std::unexpected(target.error());
  c.delivery_stream = std::move(target->stream);
  c.region = std::move(target->region);
  c.endpoint = std::move(target->endpoint);
  c.url = std::move(target->url);
  auto json = sink::recordJsonOptions(options, "time_key", "time_format");
  if (!json) return std::unexpected(json.error());
  c.json = std::move(*json);
  return c;
}

} // namespace ferry::firehose
