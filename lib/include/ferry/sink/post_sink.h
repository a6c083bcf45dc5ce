// The sink kit, a POST sink: one whose every request is one compressed JSON array POSTed to
// a fixed URL with fixed header lines and judged by its status alone (Datadog's intake; the
// next plain HTTP sinks alike). The vendor gives its encoder, URL, headers and status words;
// PostSink does the rest of encode(): an encoder borrowed per call from a pool (so the host
// may call it from several threads, limits.parallel_encode), compression, and the log lines
// about what was truncated or dropped.
#pragma once

#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ferry/codec/compress.h"
#include "ferry/core/buffer.h"
#include "ferry/output/plugin_sdk.h"
#include "ferry/plugin.h"
#include "ferry/sink/http_body.h"
#include "ferry/sink/record_json.h"
#include "ferry/sink/scratch_pool.h"
#include "ferry/sink/status.h"

namespace ferry::sink {

// An encoder fills `out` with the JSON array of as many leading records as its limits allow:
//   JsonArrayStats encodeJson(std::span<const ferry_plugin_record> records, core::ByteBuffer& out)
// encodeRequest compresses that array into a request (`raw` is scratch space for it); no
// request (nullptr) when every record was dropped.
template <typename Encoder>
std::expected<std::unique_ptr<BodyRequest>, std::string>
encodeRequest(Encoder& encoder, codec::Compression compression, int level,
              std::span<const ferry_plugin_record> records, core::ByteBuffer& raw,
              JsonArrayStats& stats) {
  stats = encoder.encodeJson(records, raw);
  if (stats.entries == 0) return std::unique_ptr<BodyRequest>();
  auto request = std::make_unique<BodyRequest>();
  request->entries = stats.entries;
  if (auto ok = compressBody(*request, compression, level, raw); !ok)
    return std::unexpected(ok.error());
  return request;
}

// Counts and logs what an encode call truncated (counter "truncated") or dropped: entries
// over max_entry_bytes have their message cut; a record still over it, or malformed, goes.
void reportEncodeStats(const sdk::Host& host, const JsonArrayStats& stats, size_t max_entry_bytes);

struct PostSettings {
  std::string url;
  std::vector<std::string> headers; // every request's header lines
  codec::Compression compression = codec::Compression::kGzip;
  int level = 0;
  size_t max_entry_bytes = 0; // the encoders' bound on one entry (for the log lines)
  const StatusWords* words = nullptr;
};

template <typename Encoder> class PostSink : public sdk::Sink {
public:
  using MakeEncoder = std::function<std::unique_ptr<Encoder>()>;

  PostSink(const sdk::Host& host, PostSettings settings, MakeEncoder make)
      : host_(host), settings_(std::move(settings)), target_(settings_.url, settings_.headers),
        scratch_([make = std::move(make)] {
          auto s = std::make_unique<Scratch>();
          s->encoder = make();
          return s;
        }) {}

  std::expected<sdk::RequestPtr, std::string> encode(std::span<const ferry_plugin_record> records,
                                                     size_t& consumed, size_t& dropped) override {
    JsonArrayStats stats;
    auto request = [&] {
      auto scratch = scratch_.borrow();
      return encodeRequest(*scratch->encoder, settings_.compression, settings_.level, records,
                           scratch->raw, stats);
    }();
    if (!request) return std::unexpected(request.error());
    consumed = stats.consumed;
    dropped = stats.dropped;
    reportEncodeStats(host_, stats, settings_.max_entry_bytes);
    return sdk::RequestPtr(std::move(*request));
  }

  std::expected<void, std::string> httpRequest(sdk::Request& request,
                                               ferry_http_request& out) override {
    target_.describe(static_cast<BodyRequest&>(request).body, out);
    return {};
  }

  void httpResponse(sdk::Request&, const ferry_http_response& response,
                    ferry_plugin_verdict& verdict) override {
    judgeStatus(response, verdict, *settings_.words);
  }

private:
  // What one encode() call borrows: an encoder and the uncompressed body.
  struct Scratch {
    std::unique_ptr<Encoder> encoder;
    core::ByteBuffer raw;
  };

  sdk::Host host_;
  PostSettings settings_;
  PostTarget target_; // every request goes to the same URL with the same headers
  ScratchPool<Scratch> scratch_;
};

} // namespace ferry::sink
