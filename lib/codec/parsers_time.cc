// Time parsing for the parsers' time_key: ISO 8601, epoch numbers and a strptime-like
// pattern language, computed with civil-date arithmetic (no locale, no TZ, no libc state).
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>

#include "ferry/codec/parsers.h"

namespace ferry::codec {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

struct Fields {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int yday = -1; // %j, 1-based
  int hour = 0;
  int minute = 0;
  int second = 0;
  int64_t nanos = 0;
  int offset_seconds = 0;
  int pm = -1; // -1 no %p, 0 AM, 1 PM
  bool twelve_hour = false;
  bool have_epoch = false;
  int64_t epoch_ns = 0;
};

class Cursor {
public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool take(char c) {
    if (peek() != c || done()) return false;
    ++i_;
    return true;
  }
  void skipBlanks() {
    while (!done() && std::isspace(static_cast<unsigned char>(s_[i_])))
      ++i_;
  }
  // 1..max_digits digits.
  bool number(int max_digits, int64_t& out) {
    int64_t v = 0;
    int n = 0;
    while (n < max_digits && !done() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      v = v * 10 + (s_[i_++] - '0');
      ++n;
    }
    out = v;
    return n > 0;
  }
  bool number(int max_digits, int& out) {
    int64_t v;
    if (!number(max_digits, v)) return false;
    out = static_cast<int>(v);
    return true;
  }
  // A fraction's digits (after the separator): up to 9 kept, more read and ignored.
  bool fraction(int64_t& nanos) {
    int64_t v = 0;
    int n = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      if (n < 9) {
        v = v * 10 + (s_[i_] - '0');
        ++n;
      }
      ++i_;
    }
    if (n == 0) return false;
    for (int k = n; k < 9; ++k)
      v *= 10;
    nanos = v;
    return true;
  }
  // Case-insensitive match of one of `names`; returns its index.
  int name(const char* const* names, int count) {
    for (int k = 0; k < count; ++k) {
      const size_t len = std::strlen(names[k]);
      if (s_.size() - i_ >= len && strncasecmp(s_.data() + i_, names[k], len) == 0) {
        i_ += len;
        return k;
      }
    }
    return -1;
  }
  // Z, +hh:mm, +hhmm, +hh.
  bool zone(int& offset_seconds) {
    if (take('Z') || take('z')) {
      offset_seconds = 0;
      return true;
    }
    const char sign = peek();
    if (sign != '+' && sign != '-') return false;
    ++i_;
    int hh = 0, mm = 0;
    const size_t start = i_;
    if (!number(2, hh) || i_ - start != 2) return false;
    if (take(':')) {
      const size_t m = i_;
      if (!number(2, mm) || i_ - m != 2) return false;
    } else if (std::isdigit(static_cast<unsigned char>(peek()))) {
      const size_t m = i_;
      if (!number(2, mm) || i_ - m != 2) return false;
    }
    if (hh > 23 || mm > 59) return false;
    offset_seconds = (hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
    return true;
  }
  // Decimal seconds since the epoch, optional sign and fraction.
  bool epochSeconds(int64_t& ns) {
    const bool negative = take('-');
    int64_t secs;
    if (!number(12, secs)) return false;
    int64_t nanos = 0;
    if (take('.') && !fraction(nanos)) return false;
    ns = secs * kNsPerSecond + nanos;
    if (negative) ns = -ns;
    return true;
  }

private:
  std::string_view s_;
  size_t i_ = 0;
};

const char* const kMonths[] = {"january",   "february", "march",    "april",
                               "may",       "june",     "july",     "august",
                               "september", "october",  "november", "december"};
const char* const kMonthsShort[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                             "thursday", "friday", "saturday"};
const char* const kDaysShort[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

bool matchPattern(std::string_view format, Cursor& c, Fields& f);

bool directive(char d, std::string_view rest_of_format, Cursor& c, Fields& f) {
  switch (d) {
  case 'Y': {
    const bool negative = c.take('-');
    if (!c.number(4, f.year)) return false;
    if (negative) f.year = -f.year;
    return true;
  }
  case 'y': {
    int yy;
    if (!c.number(2, yy)) return false;
    f.year = yy < 69 ? 2000 + yy : 1900 + yy; // POSIX: 69–99 → 1969–1999
    return true;
  }
  case 'm':
    return c.number(2, f.month) && f.month >= 1 && f.month <= 12;
  case 'e':
    c.skipBlanks();
    [[fallthrough]];
  case 'd':
    return c.number(2, f.day) && f.day >= 1 && f.day <= 31;
  case 'j':
    return c.number(3, f.yday) && f.yday >= 1 && f.yday <= 366;
  case 'I':
    f.twelve_hour = true;
    [[fallthrough]];
  case 'H':
    return c.number(2, f.hour) && f.hour <= 23;
  case 'M':
    return c.number(2, f.minute) && f.minute <= 59;
  case 'S':
    if (!c.number(2, f.second) || f.second > 60) return false;
    // A fraction right after the seconds, unless the format reads it itself.
    if (!rest_of_format.starts_with('.') && !rest_of_format.starts_with(',') &&
        (c.peek() == '.' || c.peek() == ',')) {
      Cursor probe = c;
      probe.take(c.peek());
      int64_t nanos;
      if (probe.fraction(nanos)) {
        f.nanos = nanos;
        c = probe;
      }
    }
    return true;
  case 'L':
  case 'f':
    return c.fraction(f.nanos);
  case 'p': {
    static const char* const kAmPm[] = {"am", "pm"};
    const int k = c.name(kAmPm, 2);
    if (k < 0) return false;
    f.pm = k;
    return true;
  }
  case 'b':
  case 'h':
  case 'B': {
    int k = c.name(kMonths, 12);
    if (k < 0) k = c.name(kMonthsShort, 12);
    if (k < 0) return false;
    f.month = k + 1;
    return true;
  }
  case 'a':
  case 'A':
    return c.name(kDays, 7) >= 0 || c.name(kDaysShort, 7) >= 0;
  case 'z':
    return c.zone(f.offset_seconds);
  case 'Z': {
    static const char* const kZones[] = {"utc", "gmt", "z"};
    return c.name(kZones, 3) >= 0;
  }
  case 's':
    f.have_epoch = true;
    return c.epochSeconds(f.epoch_ns);
  case 'T':
    return matchPattern("%H:%M:%S", c, f);
  case 'F':
    return matchPattern("%Y-%m-%d", c, f);
  case 'R':
    return matchPattern("%H:%M", c, f);
  case 'D':
    return matchPattern("%m/%d/%y", c, f);
  case 'n':
  case 't':
    c.skipBlanks();
    return true;
  case '%':
    return c.take('%');
  default:
    return false;
  }
}

bool matchPattern(std::string_view format, Cursor& c, Fields& f) {
  for (size_t i = 0; i < format.size(); ++i) {
    const char ch = format[i];
    if (ch == '%' && i + 1 < format.size()) {
      ++i;
      if (!directive(format[i], format.substr(i + 1), c, f)) return false;
    } else if (std::isspace(static_cast<unsigned char>(ch))) {
      c.skipBlanks();
    } else if (!c.take(ch)) {
      return false;
    }
  }
  return true;
}

bool toNanos(Fields& f, int64_t& ns) {
  if (f.have_epoch) {
    ns = f.epoch_ns;
    return true;
  }
  if (f.twelve_hour || f.pm >= 0) {
    if (f.hour < 1 || f.hour > 12) return false;
    f.hour = f.hour % 12 + (f.pm == 1 ? 12 : 0);
  }
  int64_t days;
  if (f.yday > 0) {
    days = daysFromCivil(f.year, 1, 1) + f.yday - 1;
  } else {
    days = daysFromCivil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  }
  const int64_t secs = days * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset_seconds;
  ns = secs * kNsPerSecond + f.nanos;
  return true;
}

// 2024-05-01T12:00:00[.frac][Z|±hh:mm|±hhmm|±hh]; 'T', 't' or a space between date and time.
bool parseIso8601(std::string_view text, int64_t& ns) {
  Cursor c(text);
  Fields f;
  // The separators are checked at their fixed places first, so each number below is
  // exactly as long as ISO 8601 says.
  const auto fixed = [&c](int digits, auto& out) { return c.number(digits, out); };
  if (text.size() < 19) return false;
  for (size_t i : {4u, 7u, 13u, 16u}) {
    if (i == 13 || i == 16) {
      if (text[i] != ':') return false;
    } else if (text[i] != '-') {
      return false;
    }
  }
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return false;
  if (!fixed(4, f.year) || !c.take('-') || !fixed(2, f.month) || !c.take('-') || !fixed(2, f.day)) {
    return false;
  }
  if (!c.take(text[10]) || !fixed(2, f.hour) || !c.take(':') || !fixed(2, f.minute) ||
      !c.take(':') || !fixed(2, f.second)) {
    return false;
  }
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour > 23 || f.minute > 59 ||
      f.second > 60) {
    return false;
  }
  if ((c.peek() == '.' || c.peek() == ',') && (c.take(c.peek()), !c.fraction(f.nanos))) {
    return false;
  }
  if (!c.done() && !c.zone(f.offset_seconds)) return false;
  if (!c.done()) return false;
  return toNanos(f, ns);
}

// "123.456" × 10^scale as an integer, extra fraction digits dropped; false on anything else
// (an exponent, garbage) or on overflow.
bool scaledDecimal(std::string_view text, int scale, int64_t& out) {
  size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  int64_t value = 0;
  int digits = 0, fraction = 0;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
    ++digits;
    if (in_fraction && fraction == scale) continue;
    if (value > (INT64_MAX - (c - '0')) / 10) return false;
    value = value * 10 + (c - '0');
    if (in_fraction) ++fraction;
  }
  if (digits == 0) return false;
  for (; fraction < scale; ++fraction) {
    if (value > INT64_MAX / 10) return false;
    value *= 10;
  }
  out = negative ? -value : value;
  return true;
}

} // namespace

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::expected<TimeParser, std::string> TimeParser::create(std::string_view format) {
  if (format.empty() || format == "iso8601") return TimeParser(Kind::kIso8601, "iso8601");
  if (format == "epoch") return TimeParser(Kind::kEpoch, "epoch");
  if (format == "epoch_ms") return TimeParser(Kind::kEpochMillis, "epoch_ms");
  // Check the directives once, here, so that parse() never meets an unknown one.
  static constexpr std::string_view kKnown = "YymdejHIMSLfpbhBaAzZsTFRDnt%";
  bool any = false;
  bool with_year = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 >= format.size()) return std::unexpected("'" + std::string(format) + "' ends with %");
    if (kKnown.find(format[i + 1]) == std::string_view::npos) {
      return std::unexpected("'" + std::string(format) + "': unsupported directive %" +
                             std::string(1, format[i + 1]));
    }
    any = true;
    with_year =
        with_year || std::string_view("YyFDs").find(format[i + 1]) != std::string_view::npos;
    ++i;
  }
  if (!any) {
    return std::unexpected("'" + std::string(format) +
                           "' has no % directive (expected iso8601, epoch, epoch_ms or a "
                           "strptime pattern)");
  }
  return TimeParser(Kind::kPattern, std::string(format), with_year);
}

bool TimeParser::parse(std::string_view text, int64_t& ns) const {
  switch (kind_) {
  case Kind::kIso8601:
    return parseIso8601(text, ns);
  case Kind::kEpoch: {
    Cursor c(text);
    return c.epochSeconds(ns) && c.done();
  }
  case Kind::kEpochMillis: {
    int64_t ms;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
    ns = ms * 1'000'000;
    return true;
  }
  case Kind::kPattern: {
    Cursor c(text);
    Fields f;
    if (!with_year_) {
      const std::chrono::year_month_day today(
          std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
      f.year = static_cast<int>(today.year());
    }
    if (!matchPattern(format_, c, f)) return false;
    c.skipBlanks();
    if (!c.done()) return false;
    return toNanos(f, ns);
  }
  }
  return false;
}

bool TimeParser::fromNumberText(std::string_view text, int64_t& ns) const {
  // Seconds carry 9 fraction digits to nanoseconds, milliseconds 6.
  if (scaledDecimal(text, kind_ == Kind::kEpochMillis ? 6 : 9, ns)) return true;
  // An exponent ("1.7145648e9"): through a double, rounded to the nearest nanosecond.
  double d;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(d)) return false;
  const double scaled = kind_ == Kind::kEpochMillis ? d * 1e6 : d * 1e9;
  if (std::fabs(scaled) > 9.2e18) return false;
  ns = static_cast<int64_t>(std::llround(scaled));
  return true;
}

} // namespace ferry::codec
