// Records → a Datadog Logs intake v2 request: a JSON array of entries (message, ddsource,
// service, ddtags, hostname, timestamp, the record's fields), at most 1,000 entries and
// 5 MB uncompressed, each entry at most 1 MB (a longer message is truncated); the kit's
// PostSink compresses it (sink::encodeRequest).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "config.h"
#include "ferry/core/buffer.h"
#include "ferry/plugin.h"
#include "ferry/sink/record_object.h"

namespace ferry::datadog {

// What one encode call covered: consumed (entries + dropped), entries, dropped (malformed, or
// too large even with an empty message), truncated (message cut to fit max_entry_bytes).
using EncodeStats = sink::JsonArrayStats;

// Turns records into the JSON body: the kit's record object (ferry/sink/record_object.h)
// with Datadog's reserved attributes as defaults, `status` from the level, and provider ecs.
// Not thread-safe: it keeps scratch buffers, one encoder per encoding thread
// (parallel_encode is on: PostSink's encode() borrows one per call).
class DatadogEncoder : private sink::RecordObjectWriter {
public:
  explicit DatadogEncoder(EncoderSettings settings);

  // Writes into `out` (cleared first) a JSON array of as many leading records as the limits
  // allow: stops before the entry that would pass max_entries or max_payload_bytes. Always
  // consumes at least one record when there is one.
  EncodeStats encodeJson(std::span<const ferry_plugin_record> records, core::ByteBuffer& out);

  const EncoderSettings& settings() const { return settings_; }

private:
  // provider ecs: moves the ECS fields into ddtags, written first.
  bool shape() override;

  EncoderSettings settings_;
  std::string tags_; // ddtags built by the provider
};

// The header lines every request carries: DD-API-KEY, Content-Type, Content-Encoding (unless
// uncompressed) and DD-EVP-ORIGIN.
std::vector<std::string> requestHeaders(const DatadogConfig& config);

} // namespace ferry::datadog
