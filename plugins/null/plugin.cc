// The `null` sink: counts records and discards them. Used by benchmarks to measure
// everything but the sink.
#include "ferry/output/plugin_sdk.h"

namespace {

using namespace ferry;

class CountRequest : public sdk::Request {};

class NullSink : public sdk::Sink {
public:
  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t&) override {
    consumed = records.size();
    return std::make_unique<CountRequest>();
  }
  void deliver(sdk::Request&, ferry_plugin_verdict& v) override {
    v.kind = FERRY_VERDICT_DELIVERED;
  }
};

const ferry_plugin_descriptor kDescriptor = {.abi_major = FERRY_PLUGIN_ABI_MAJOR,
                                             .abi_minor = FERRY_PLUGIN_ABI_MINOR,
                                             .type_name = "null",
                                             .description =
                                                 "Counts records and discards them (benchmarks).",
                                             .options = nullptr,
                                             .option_count = 0};

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host&, const sdk::Options&, ferry_plugin_limits& limits) {
  limits.transport = FERRY_TRANSPORT_LOCAL;
  // Small requests keep the records held at once (and so the RSS) low.
  limits.max_records = 8192;
  limits.max_request_bytes = 2 << 20;
  limits.flush_interval_ms = 100;
  return std::make_unique<NullSink>();
}

} // namespace

FERRY_PLUGIN_DEFINE(kDescriptor, makeSink)
