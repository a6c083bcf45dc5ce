// Objects of records: one JSON object per line (ferry::codec's record writer: the time field,
// then the record's fields), compressed chunk by chunk.
#include "ferry/sink/compressed_object.h"

#include <algorithm>

#include "ferry/core/batch.h"

namespace ferry::sink {

ObjectSettings ObjectSettings::forTarget(codec::Compression compression, int level,
                                         uint64_t target_bytes, codec::RecordJsonOptions json) {
  ObjectSettings s;
  s.compression = compression;
  s.level = level;
  s.target_bytes = target_bytes;
  s.chunk_bytes = static_cast<size_t>(std::clamp<uint64_t>(target_bytes / 4, 16 * 1024, 1u << 20));
  s.json = std::move(json);
  return s;
}

uint64_t offerBytesFor(const ObjectSettings& settings, uint64_t max_bytes) {
  // JSON lines carry the date field and quoting; uncompressed they outgrow the records.
  const double ratio = settings.compression == codec::Compression::kNone ? 0.75 : 5.0;
  const auto bytes = static_cast<uint64_t>(static_cast<double>(settings.target_bytes) * ratio);
  return std::clamp<uint64_t>(bytes, 1024, max_bytes);
}

std::expected<ObjectStats, std::string> buildObject(const ObjectSettings& settings,
                                                    std::span<const ferry_plugin_record> records,
                                                    core::ByteBuffer& scratch,
                                                    core::ByteBuffer& body) {
  ObjectStats stats;
  body.clear();
  scratch.clear();
  const bool plain = settings.compression == codec::Compression::kNone;
  const size_t chunk = std::max<size_t>(settings.chunk_bytes, 1);
  auto flush = [&]() -> std::expected<void, std::string> {
    if (scratch.empty()) return {};
    auto ok = codec::compress(settings.compression, settings.level, scratch.view(), body);
    scratch.clear();
    return ok;
  };
  for (const auto& r : records) {
    // Uploaded size so far; uncompressed bytes count as they are when there is no codec.
    const uint64_t size = body.size() + (plain ? scratch.size() : 0);
    if (stats.consumed > 0 && size >= settings.target_bytes) break;
    const size_t before = scratch.size();
    const core::RecordView view{r.timestamp_ns,
                                {reinterpret_cast<const char*>(r.data), r.data_len}};
    ++stats.consumed;
    if (!codec::appendRecordJson(scratch, static_cast<core::RecordFormat>(r.format), view,
                                 settings.json)) {
      ++stats.dropped;
      continue;
    }
    scratch.push_back('\n');
    ++stats.lines;
    stats.raw_bytes += scratch.size() - before;
    if (scratch.size() >= chunk) {
      if (auto ok = flush(); !ok) return std::unexpected(ok.error());
    }
  }
  if (auto ok = flush(); !ok) return std::unexpected(ok.error());
  return stats;
}

} // namespace ferry::sink
