// Times as JSON values (json.h): ISO 8601 with nanoseconds, exact epoch seconds with nine
// decimals, epoch milliseconds. Integer arithmetic only: every int64 nanosecond time is
// written exactly, before 1970 included.
#include <charconv>
#include <cstring>

#include "ferry/codec/json.h"

namespace ferry::codec {
namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

inline char* putTwo(char* p, unsigned v) {
  std::memcpy(p, kDigitPairs + 2 * v, 2);
  return p + 2;
}

// Zero-padded 9 digits (nanoseconds): a digit, then four independent pairs.
inline char* putNine(char* p, uint32_t v) {
  *p++ = static_cast<char>('0' + v / 100'000'000);
  v %= 100'000'000;
  const uint32_t hi = v / 10'000, lo = v % 10'000;
  p = putTwo(p, hi / 100);
  p = putTwo(p, hi % 100);
  p = putTwo(p, lo / 100);
  return putTwo(p, lo % 100);
}

constexpr int64_t kNanosPerSecond = 1'000'000'000;

inline int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void appendEpochSeconds(core::ByteBuffer& out, int64_t ns) {
  // Exact seconds.nanoseconds rather than a double (which keeps only ~7 fractional digits
  // at today's epoch); the sign is written apart so -0.5 s reads "-0.500000000".
  char* const start = out.prepare(32);
  char* p = start;
  uint64_t mag = static_cast<uint64_t>(ns);
  if (ns < 0) {
    *p++ = '-';
    mag = 0 - mag;
  }
  p = std::to_chars(p, start + 32, mag / kNanosPerSecond).ptr;
  *p++ = '.';
  p = putNine(p, static_cast<uint32_t>(mag % kNanosPerSecond));
  out.commit(static_cast<size_t>(p - start));
}

} // namespace

void appendTimeValue(core::ByteBuffer& out, int64_t ns, TimeFormat format) {
  switch (format) {
  case TimeFormat::kIso8601:
    out.push_back('"');
    appendIso8601(out, ns);
    out.push_back('"');
    return;
  case TimeFormat::kEpochSeconds:
    appendEpochSeconds(out, ns);
    return;
  case TimeFormat::kEpochMillis: {
    char* dst = out.prepare(24); // the longest: "-9223372036855", 14 chars
    const auto r = std::to_chars(dst, dst + 24, floorDiv(ns, 1'000'000));
    out.commit(static_cast<size_t>(r.ptr - dst));
    return;
  }
  case TimeFormat::kNone:
    return;
  }
}

void appendIso8601(core::ByteBuffer& out, int64_t timestamp_ns) {
  const int64_t secs = floorDiv(timestamp_ns, kNanosPerSecond);
  const auto nanos = static_cast<uint32_t>(timestamp_ns - secs * kNanosPerSecond);
  const int64_t days = floorDiv(secs, 86400);
  const auto sod = static_cast<unsigned>(secs - days * 86400);

  // civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"): proleptic
  // Gregorian, exact for every int64 nanosecond time (years 1677..2262, always 4 digits).
  const int64_t z = days + 719468;
  const int64_t era = floorDiv(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const auto year = static_cast<unsigned>(static_cast<int64_t>(yoe) + era * 400 + (month <= 2));

  char* const start = out.prepare(32);
  char* p = putTwo(start, year / 100);
  p = putTwo(p, year % 100);
  *p++ = '-';
  p = putTwo(p, month);
  *p++ = '-';
  p = putTwo(p, day);
  *p++ = 'T';
  p = putTwo(p, sod / 3600);
  *p++ = ':';
  p = putTwo(p, sod / 60 % 60);
  *p++ = ':';
  p = putTwo(p, sod % 60);
  *p++ = '.';
  p = putNine(p, nanos);
  *p++ = 'Z';
  out.commit(static_cast<size_t>(p - start));
}

} // namespace ferry::codec
