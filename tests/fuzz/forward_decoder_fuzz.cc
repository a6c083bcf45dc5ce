// libFuzzer target for the forward decoder: the input (after a first byte that seeds the chunk
// sizes) is fed in pseudo-random chunks and must decode exactly as when fed whole; records go
// through the batcher (truncation included) and raw values through the PING check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../lib/input/forward/handshake.h"
#include "ferry/input/forward_batcher.h"
#include "ferry/input/forward_decoder.h"

namespace {

using namespace ferry::input::forward;

struct Outcome {
  size_t messages = 0;
  size_t records = 0;
  uint64_t digest = 1469598103934665603ull; // FNV-1a over what was decoded
  int error = -1;
  uint64_t record_digest = 1469598103934665603ull; // over the records alone (time, map)

  static void mixInto(uint64_t& d, std::string_view bytes) {
    for (unsigned char c : bytes)
      d = (d ^ c) * 1099511628211ull;
  }
  static void mixInto(uint64_t& d, uint64_t v) {
    mixInto(d, std::string_view(reinterpret_cast<const char*>(&v), sizeof(v)));
  }
  void mix(std::string_view bytes) { mixInto(digest, bytes); }
  void mix(uint64_t v) { mixInto(digest, v); }
  void mixRecord(int64_t ts, std::string_view map) {
    mixInto(record_digest, static_cast<uint64_t>(ts));
    mixInto(record_digest, map);
  }
  bool operator==(const Outcome&) const = default;
};

constexpr DecoderLimits kLimits{.max_frame_bytes = 256 * 1024, .max_decompressed_bytes = 1 << 20};

// `zero_copy`: the batcher may take the decoder's buffer (ForwardBatcher::add with a source).
void drain(ForwardDecoder& decoder, Outcome& out, ForwardBatcher* batcher, bool zero_copy = false) {
  while (out.error < 0) {
    DecodedMessage m;
    auto status = decoder.next(m);
    if (!status) {
      out.error = static_cast<int>(status.error().error);
      return;
    }
    if (*status == ForwardDecoder::Status::kNeedMore) return;
    ++out.messages;
    out.mix(m.tag);
    out.mix(static_cast<uint64_t>(m.mode));
    if (m.chunk) out.mix(*m.chunk);
    size_t bytes = 0;
    for (const auto& r : m.records) {
      ++out.records;
      out.mix(static_cast<uint64_t>(r.timestamp_ns));
      out.mix(r.map);
      out.mixRecord(r.timestamp_ns, r.map);
      bytes += r.map.size();
    }
    if (bytes != m.record_bytes) __builtin_trap();
    if (batcher != nullptr) {
      batcher->add(m, zero_copy ? &decoder : nullptr);
      batcher->readyAcks().clear();
    }
  }
}

} // namespace

#if !defined(__clang__)
// GCC's -fsanitize-coverage=trace-cmp also reports float compares, which libFuzzer's runtime
// does not take: accept and ignore them (only the GCC build of this target needs these).
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t state = data[0] * 2654435761u + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // Whole.
  Outcome whole;
  {
    ForwardDecoder decoder(kLimits);
    decoder.feed(input);
    drain(decoder, whole, nullptr);
  }

  // Chunked, through the batcher with a tight record limit (exercises truncation).
  BatcherSettings settings;
  settings.max_record_bytes = 64;
  settings.record_too_large = RecordTooLarge::kTruncate;
  settings.target_records = 16;
  settings.target_bytes = 1024;
  size_t pushed = 0;
  ForwardBatcher batcher(settings, [&](ferry::core::BatchRef b) {
    for (size_t i = 0; i < b->size(); ++i) {
      if (b->record(i).data.size() > settings.max_record_bytes) __builtin_trap();
    }
    pushed += b->size();
    return true;
  });
  Outcome chunked;
  {
    ForwardDecoder decoder(kLimits);
    size_t pos = 0;
    while (pos < input.size() && chunked.error < 0) {
      state = state * 1103515245u + 12345u;
      size_t n = 1 + (state >> 16) % ((state & 1) ? 7 : 4096);
      if (n > input.size() - pos) n = input.size() - pos;
      char* dst = decoder.prepare(n);
      for (size_t i = 0; i < n; ++i)
        dst[i] = input[pos + i];
      decoder.commit(n);
      pos += n;
      drain(decoder, chunked, &batcher);
    }
    batcher.flush();
  }
  if (!(whole == chunked)) __builtin_trap(); // splitting must never change the result
  if (pushed > chunked.records) __builtin_trap();

  // Chunked in large reads, through a batcher that may take the decoder's buffers (zero-copy):
  // the batches must hold exactly the records decoded, in order, wherever their bytes live.
  uint64_t batched_digest = Outcome{}.record_digest;
  const BatcherSettings defaults;
  ForwardBatcher taking(defaults, [&](ferry::core::BatchRef b) {
    for (size_t i = 0; i < b->size(); ++i) {
      const auto r = b->record(i);
      Outcome::mixInto(batched_digest, static_cast<uint64_t>(r.timestamp_ns));
      Outcome::mixInto(batched_digest, r.data);
    }
    return true;
  });
  Outcome taken;
  {
    DecoderLimits limits = kLimits;
    limits.min_take_bytes = 16; // fuzz inputs are small: take whenever the layout allows
    ForwardDecoder decoder(limits);
    size_t pos = 0;
    while (pos < input.size() && taken.error < 0) {
      state = state * 1103515245u + 12345u;
      size_t n = 1 + (state >> 16) % 65536;
      if (n > input.size() - pos) n = input.size() - pos;
      decoder.feed(input.substr(pos, n));
      pos += n;
      drain(decoder, taken, &taking, true);
    }
    taking.flush();
  }
  if (!(whole == taken)) __builtin_trap();
  if (taken.error < 0 && batched_digest != taken.record_digest) __builtin_trap();

  // Raw values, as the handshake reads them.
  ForwardDecoder raw(kLimits);
  raw.feed(input);
  for (int i = 0; i < 8; ++i) {
    auto value = raw.nextValue();
    if (!value || !*value) break;
    auto verdict = checkPing(**value, "0123456789abcdef", "key", "host");
    if (verdict.pong.empty()) __builtin_trap();
  }
  return 0;
}
