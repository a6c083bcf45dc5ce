// A POST sink's log lines (ferry/sink/post_sink.h).
#include "ferry/sink/post_sink.h"

namespace ferry::sink {

void reportEncodeStats(const sdk::Host& host, const JsonArrayStats& stats, size_t max_entry_bytes) {
  if (stats.truncated > 0) {
    host.count("truncated", stats.truncated);
    host.log(FERRY_LOG_WARN, "{} entries over {} bytes had their message truncated",
             stats.truncated, max_entry_bytes);
  }
  if (stats.dropped > 0) {
    host.log(FERRY_LOG_WARN,
             "dropped {} records: malformed, or over {} bytes without their message", stats.dropped,
             max_entry_bytes);
  }
}

} // namespace ferry::sink
