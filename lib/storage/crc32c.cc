// CRC32C: table-driven fallback and the SSE4.2 instruction path, chosen once at run time.
#include "ferry/storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ferry::storage {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u; // reflected Castagnoli

constexpr std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = makeTable();

uint32_t softwareCrc(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hardwareCrc(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8); // unaligned-safe load
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0)
    c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

} // namespace

uint32_t crc32cExtend(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc; // the standard pre- and post-inversion
#if defined(__x86_64__)
  static const bool have_sse42 = __builtin_cpu_supports("sse4.2");
  crc = have_sse42 ? hardwareCrc(crc, p, n) : softwareCrc(crc, p, n);
#else
  crc = softwareCrc(crc, p, n);
#endif
  return ~crc;
}

uint32_t crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return ~softwareCrc(~crc, static_cast<const uint8_t*>(data), n);
}

} // namespace ferry::storage
