// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every storage entry.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a byte table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ferry::storage {

// Extends `crc` (0 to start) over `n` bytes. crc32c("123456789") == 0xE3069283.
uint32_t crc32cExtend(uint32_t crc, const void* data, size_t n);
// The table-driven path alone (tests compare it with the instruction path).
uint32_t crc32cPortable(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(std::string_view s) {
  return crc32cExtend(0, s.data(), s.size());
}

} // namespace ferry::storage
