// The `stdout` sink: JSON lines (default) or the readable `pretty` form on standard output.
// A closed stdout (EPIPE) can never take records again: they are dropped and counted.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ferry/output/local_sink.h"

namespace {

using namespace ferry;

class StdoutSink : public sdk::Sink {
public:
  explicit StdoutSink(output::LineEncoding enc) : enc_(std::move(enc)) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    return output::encodeLines(records, enc_, consumed, dropped);
  }

  void deliver(sdk::Request& request, ferry_plugin_verdict& v) override {
    auto& r = static_cast<output::LinesRequest&>(request);
    const int err = output::writeAll(STDOUT_FILENO, r.bytes.data(), r.bytes.size());
    if (err == 0) {
      v.kind = FERRY_VERDICT_DELIVERED;
    } else if (err == EPIPE || err == EBADF) {
      v.kind = FERRY_VERDICT_DROP;
      sdk::setMessage(v, std::string("stdout is closed: ") + std::strerror(err));
    } else {
      v.kind = FERRY_VERDICT_RETRY;
      sdk::setMessage(v, std::string("write to stdout failed: ") + std::strerror(err));
    }
  }

private:
  output::LineEncoding enc_;
};

const ferry_plugin_option kOptions[] = {
    FERRY_LOCAL_SINK_OPTIONS,
    {.name = "color",
     .type = FERRY_OPTION_ENUM,
     .default_value = "auto",
     .enum_values = "auto|always|never",
     .doc = "Colour the pretty form: auto = when stdout is a terminal."},
};

const ferry_plugin_descriptor kDescriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .type_name = "stdout",
    .description = "Writes records to standard output as JSON lines or in a readable form.",
    .options = kOptions,
    .option_count = std::size(kOptions)};

std::expected<std::unique_ptr<sdk::Sink>, std::string>
makeSink(const sdk::Host&, const sdk::Options& options, ferry_plugin_limits& limits) {
  auto enc = output::lineEncodingFromOptions(options);
  if (!enc) return std::unexpected(enc.error());
  const std::string color = options.string("color");
  enc->pretty.color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO));
  limits.transport = FERRY_TRANSPORT_LOCAL;
  limits.max_records = 4096;
  limits.max_request_bytes = 1 << 20;
  limits.flush_interval_ms = 100; // a terminal wants to see records soon
  return std::make_unique<StdoutSink>(std::move(*enc));
}

} // namespace

FERRY_PLUGIN_DEFINE_CHECKED(kDescriptor, makeSink, ferry::output::lineEncodingFromOptions)
