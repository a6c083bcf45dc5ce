// The sink kit, objects of records: newline-delimited JSON, one record per line, compressed
// in chunks (each chunk a complete gzip member or zstd frame; their concatenation is a valid
// .gz/.zst stream) until the object reaches its target size as stored. An object store sink
// (S3 today) takes as many records as fit; the runner offers the rest again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>

#include "ferry/codec/compress.h"
#include "ferry/codec/json.h"
#include "ferry/core/buffer.h"
#include "ferry/plugin.h"

namespace ferry::sink {

struct ObjectSettings {
  codec::Compression compression = codec::Compression::kGzip;
  int level = 0;
  // The object closes once its uploaded size reaches this (it may pass it by at most one
  // chunk: the size is known only after compressing).
  uint64_t target_bytes = 64ull << 20;
  // Uncompressed bytes per compressed chunk: large enough that chunking costs no ratio,
  // small enough to stop near target_bytes.
  size_t chunk_bytes = 1u << 20;
  codec::RecordJsonOptions json;

  // Chunks of a quarter of the target, from 16 KiB to 1 MiB.
  static ObjectSettings forTarget(codec::Compression compression, int level, uint64_t target_bytes,
                                  codec::RecordJsonOptions json);
};

// Raw record bytes the runner should offer per object so that the stored object is near
// target_bytes: a guess of the ratio (JSON lines outgrow the records' msgpack, gzip/zstd
// shrink logs 5-10x), from 1 KiB to max_bytes.
uint64_t offerBytesFor(const ObjectSettings& settings, uint64_t max_bytes);

struct ObjectStats {
  size_t consumed = 0;    // leading records covered (lines + dropped)
  size_t lines = 0;       // records written
  size_t dropped = 0;     // malformed records (not written)
  uint64_t raw_bytes = 0; // uncompressed NDJSON bytes
};

// Appends to `body` (cleared first) the object for as many leading records as fit. Consumes
// at least one record when there is one. `scratch` holds the uncompressed chunk.
std::expected<ObjectStats, std::string> buildObject(const ObjectSettings& settings,
                                                    std::span<const ferry_plugin_record> records,
                                                    core::ByteBuffer& scratch,
                                                    core::ByteBuffer& body);

} // namespace ferry::sink
