// Time parsing for the parsers' time_key: ISO 8601, epoch numbers and strptime patterns read
// the way Fluent Bit reads them (flb_parser_time_lookup over flb_strptime), computed with
// civil-date arithmetic: no locale, and no TZ unless Time_System_Timezone asks for the host's.
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>

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
  int century = -1; // %C
  int yy = -1;      // %y, resolved at the end against %C as strptime does
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
  // %z as flb_strptime reads it: blanks, then Z, UT, UTC, GMT, ±hh, ±hhmm, ±hh:mm, or one of
  // the RFC 822 North American zones (EST, EDT, ... PDT).
  bool zone(int& offset_seconds) {
    skipBlanks();
    static const char* const kNamed[] = {"gmt", "utc", "ut", "z"};
    if (name(kNamed, 4) >= 0) {
      offset_seconds = 0;
      return true;
    }
    static const char* const kStandard[] = {"est", "cst", "mst", "pst"};
    static const char* const kDaylight[] = {"edt", "cdt", "mdt", "pdt"};
    if (const int k = name(kStandard, 4); k >= 0) {
      offset_seconds = (-5 - k) * 3600;
      return true;
    }
    if (const int k = name(kDaylight, 4); k >= 0) {
      offset_seconds = (-4 - k) * 3600;
      return true;
    }
    const char sign = peek();
    if (sign != '+' && sign != '-') return false;
    ++i_;
    if (!digitAt(0) || !digitAt(1)) return false;
    int offset = ((s_[i_] - '0') * 10 + (s_[i_ + 1] - '0')) * 3600;
    i_ += 2;
    take(':');
    if (digitAt(0)) {
      if (!digitAt(1)) return false;
      offset += ((s_[i_] - '0') * 10 + (s_[i_ + 1] - '0')) * 60;
      i_ += 2;
    }
    offset_seconds = sign == '-' ? -offset : offset;
    return true;
  }
  // %Z: a zone abbreviation not followed by a letter or digit.
  bool zoneName(int& offset_seconds) {
    for (const auto& z : kZoneNames) {
      const size_t len = std::strlen(z.name);
      if (s_.size() - i_ < len || strncasecmp(s_.data() + i_, z.name, len) != 0) continue;
      if (i_ + len < s_.size() && std::isalnum(static_cast<unsigned char>(s_[i_ + len]))) continue;
      i_ += len;
      offset_seconds = z.offset_minutes * 60;
      return true;
    }
    return false;
  }
  // Fluent Bit's %L: up to 9 digits read as the double "0.<digits>", times 10^9, truncated
  // (so ".000065" is 64999 ns there, and here). More digits are left in the text.
  bool fluentBitFraction(int64_t& nanos) {
    char buf[12] = {'0', '.'};
    size_t n = 0;
    while (n < 9 && digitAt(0)) {
      buf[2 + n++] = s_[i_++];
    }
    if (n == 0) return false;
    double d = 0;
    std::from_chars(buf, buf + 2 + n, d);
    nanos = static_cast<int64_t>(d * 1e9);
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
  struct ZoneName {
    const char* name;
    int offset_minutes;
  };
  // The abbreviations flb_strptime knows for %Z (its table, less the military letters).
  static constexpr ZoneName kZoneNames[] = {
      {"GMT", 0},     {"UTC", 0},     {"UT", 0},     {"Z", 0},       {"EST", -300}, {"EDT", -240},
      {"CST", -360},  {"CDT", -300},  {"MST", -420}, {"MDT", -360},  {"PST", -480}, {"PDT", -420},
      {"AKST", -540}, {"AKDT", -480}, {"HST", -600}, {"HADT", -540}, {"AST", -240}, {"ADT", -180},
      {"NST", -210},  {"NDT", -150},  {"WET", 0},    {"WEST", 60},   {"CET", 60},   {"CEST", 120},
      {"EET", 120},   {"EEST", 180},  {"MSK", 180},  {"ART", -180},  {"BRT", -180}, {"BRST", -120},
      {"CLT", -240},  {"CLST", -180}, {"AEST", 600}, {"AEDT", 660},  {"ACST", 570}, {"ACDT", 630},
      {"AWST", 480},  {"NZST", 720},  {"NZDT", 780}, {"JST", 540},   {"KST", 540},  {"SGT", 480},
      {"IST", 330},   {"GST", 240},   {"ICT", 420},  {"WIB", 420},   {"WITA", 480}, {"WIT", 540},
      {"MYT", 480},   {"BDT", 360},   {"NPT", 345},  {"WAT", 60},    {"CAT", 120},  {"EAT", 180},
      {"SAST", 120},
  };
  bool digitAt(size_t k) const {
    return i_ + k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + k]));
  }
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

bool directive(char d, Cursor& c, Fields& f) {
  switch (d) {
  case 'Y': {
    const bool negative = c.take('-');
    if (!c.number(4, f.year)) return false;
    if (negative) f.year = -f.year;
    f.yy = -1;
    return true;
  }
  case 'y':
    return c.number(2, f.yy);
  case 'C':
    return c.number(2, f.century);
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
  case 'l':
    return c.number(2, f.hour) && f.hour >= 1 && f.hour <= 12;
  case 'H':
  case 'k':
    return c.number(2, f.hour) && f.hour <= 23;
  case 'M':
    return c.number(2, f.minute) && f.minute <= 59;
  case 'S':
    return c.number(2, f.second) && f.second <= 60;
  case 'L':
    return c.fluentBitFraction(f.nanos);
  case 'f':
    return c.fraction(f.nanos);
  case 'p': {
    // As strptime: applied to the hour read so far (so %I comes first).
    static const char* const kAmPm[] = {"am", "pm"};
    const int k = c.name(kAmPm, 2);
    if (k < 0 || f.hour > 12) return false;
    if (k == 0 && f.hour == 12) f.hour = 0;
    if (k == 1 && f.hour < 12) f.hour += 12;
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
  case 'u':
  case 'w':
  case 'U':
  case 'W':
  case 'V': {
    // Weekday and week numbers: read and checked, not used (strptime does the same).
    int n;
    return c.number(d == 'u' || d == 'w' ? 1 : 2, n) && n <= 53;
  }
  case 'z':
    return c.zone(f.offset_seconds);
  case 'Z':
    return c.zoneName(f.offset_seconds);
  case 's': {
    // Whole seconds, as flb_strptime's %s (a fraction is %L's: "%s.%L").
    int64_t secs;
    if (!c.number(12, secs)) return false;
    f.have_epoch = true;
    f.epoch_ns = secs * kNsPerSecond;
    return true;
  }
  case 'T':
    return matchPattern("%H:%M:%S", c, f);
  case 'F':
    return matchPattern("%Y-%m-%d", c, f);
  case 'R':
    return matchPattern("%H:%M", c, f);
  case 'r':
    return matchPattern("%I:%M:%S %p", c, f);
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

// flb_strptime's loop: a blank in the format eats any run of blanks (none too); anything else
// needs text left, and a literal must be there as written.
bool matchPattern(std::string_view format, Cursor& c, Fields& f) {
  for (size_t i = 0; i < format.size(); ++i) {
    const char ch = format[i];
    if (std::isspace(static_cast<unsigned char>(ch))) {
      c.skipBlanks();
      continue;
    }
    if (c.done()) return false;
    if (ch == '%' && i + 1 < format.size()) {
      if (!directive(format[++i], c, f)) return false;
    } else if (!c.take(ch)) {
      return false;
    }
  }
  return true;
}

// Seconds since the epoch of the fields as civil time in the host's zone (mktime with the
// zone's DST rules), for Time_System_Timezone. mktime normalises a day of year given as
// "January 200th".
int64_t localToEpoch(const Fields& f) {
  std::tm tm{};
  tm.tm_year = static_cast<int>(f.year - 1900);
  tm.tm_mon = f.yday > 0 ? 0 : f.month - 1;
  tm.tm_mday = f.yday > 0 ? f.yday : f.day;
  tm.tm_hour = f.hour;
  tm.tm_min = f.minute;
  tm.tm_sec = f.second;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm));
}

bool toNanos(Fields& f, int64_t& ns, bool local_time = false) {
  if (f.have_epoch) {
    ns = f.epoch_ns + f.nanos;
    return true;
  }
  if (f.yy >= 0) {
    f.year = f.century >= 0 ? f.century * 100 + f.yy : (f.yy < 69 ? 2000 + f.yy : 1900 + f.yy);
  } else if (f.century >= 0 && f.year == 1970) {
    f.year = f.century * 100;
  }
  if (local_time) {
    ns = localToEpoch(f) * kNsPerSecond + f.nanos;
    return true;
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

std::expected<int, std::string> parseUtcOffset(std::string_view text) {
  if (text == "Z" || text == "z") return 0;
  const auto bad = [&] {
    return std::unexpected("'" + std::string(text) + "': expected Z, +hhmm or +hh:mm");
  };
  if (text.size() != 5 && text.size() != 6) return bad();
  if (text[0] != '+' && text[0] != '-') return bad();
  if (text.size() == 6 && text[3] != ':') return bad();
  const std::string_view mm = text.substr(text.size() - 2);
  const std::string_view hh = text.substr(1, 2);
  for (char ch : std::string(hh) + std::string(mm)) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) return bad();
  }
  const int hours = (hh[0] - '0') * 10 + (hh[1] - '0');
  const int minutes = (mm[0] - '0') * 10 + (mm[1] - '0');
  if (hours > 23 || minutes > 59) return bad();
  const int offset = hours * 3600 + minutes * 60;
  return text[0] == '-' ? -offset : offset;
}

std::expected<TimeParser, std::string> TimeParser::create(std::string_view format,
                                                          TimeZoneOptions zone) {
  if (format.empty() || format == "iso8601") return TimeParser(Kind::kIso8601, "iso8601");
  if (format == "epoch") return TimeParser(Kind::kEpoch, "epoch");
  if (format == "epoch_ms") return TimeParser(Kind::kEpochMillis, "epoch_ms");
  // Check the directives once, here, so that parse() never meets an unknown one.
  static constexpr std::string_view kKnown = "YyCmdejHkIlMSLfpbhBaAuwUWVzZsTFRrDnt%";
  bool any = false;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 >= format.size()) return std::unexpected("'" + std::string(format) + "' ends with %");
    if (kKnown.find(format[i + 1]) == std::string_view::npos) {
      return std::unexpected("'" + std::string(format) + "': unsupported directive %" +
                             std::string(1, format[i + 1]));
    }
    any = true;
    ++i;
  }
  if (!any) {
    return std::unexpected("'" + std::string(format) +
                           "' has no % directive (expected iso8601, epoch, epoch_ms or a "
                           "strptime pattern)");
  }
  // Fluent Bit's own tests of the format text (flb_parser_create): which of them it makes
  // decides whether today's date fills in, and whether Time_Offset applies.
  const auto has = [&](std::string_view piece) {
    return format.find(piece) != std::string_view::npos;
  };
  const bool with_year = has("%Y") || has("%y") || has("%s");
  const bool with_zone = has("%z") || has("%Z") || has("%SZ") || has("%S.%LZ");
  return TimeParser(Kind::kPattern, std::string(format), with_year, with_zone, zone);
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
      f.month = static_cast<int>(static_cast<unsigned>(today.month()));
      f.day = static_cast<int>(static_cast<unsigned>(today.day()));
    }
    // Whatever follows the format is ignored, as flb_strptime's caller does.
    if (!matchPattern(format_, c, f)) return false;
    if (!with_zone_) f.offset_seconds = zone_.offset_seconds;
    return toNanos(f, ns, !with_zone_ && zone_.system_timezone);
  }
  }
  return false;
}

bool TimeParser::fromNumberText(std::string_view text, int64_t& ns) const {
  // A strptime pattern reads text only: Fluent Bit's json parser takes no number for a
  // Time_Format (so the field stays, and Time_Keep Off does not drop it).
  if (kind_ == Kind::kPattern) return false;
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
