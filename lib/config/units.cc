// Sizes, durations, booleans and integers as users write them in the config. Limits: every
// result fits in int64_t; fractions are kept to 9 digits and rounded down.
#include "ferry/config/units.h"
#include "ferry/core/strings.h"

#include <array>
#include <cctype>
#include <limits>

#include <fmt/format.h>

namespace ferry::config {
namespace {

struct Unit {
  std::string_view suffix; // lower case
  int64_t factor;
};

constexpr int64_t kKi = 1024;
constexpr int64_t kK = 1000;

// Longest suffixes first is not needed (matches are exact), but the order is also the
// preference order of formatSize(): larger units first, binary before decimal.
constexpr std::array<Unit, 13> kSizeUnits{{
    {"tib", kKi* kKi* kKi* kKi},
    {"tb", kK* kK* kK* kK},
    {"t", kK* kK* kK* kK},
    {"gib", kKi* kKi* kKi},
    {"gb", kK* kK* kK},
    {"g", kK* kK* kK},
    {"mib", kKi* kKi},
    {"mb", kK* kK},
    {"m", kK* kK},
    {"kib", kKi},
    {"kb", kK},
    {"k", kK},
    {"b", 1},
}};

constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 24 * 3600 * 1000},
    {"h", 3600 * 1000},
    {"m", 60 * 1000},
    {"s", 1000},
    {"ms", 1},
}};

// Display spellings for formatSize(), in preference order.
constexpr std::array<std::pair<std::string_view, int64_t>, 8> kSizeDisplay{{
    {"TiB", kKi* kKi* kKi* kKi},
    {"TB", kK* kK* kK* kK},
    {"GiB", kKi* kKi* kKi},
    {"GB", kK* kK* kK},
    {"MiB", kKi* kKi},
    {"MB", kK* kK},
    {"KiB", kKi},
    {"KB", kK},
}};

using core::toLower;
using core::trim;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

// A non-negative decimal number "123" or "1.25" at the front of `s`, consumed.
struct Number {
  int64_t whole = 0;
  int64_t fraction = 0; // the first fraction_digits digits after the point
  int fraction_digits = 0;
};

// nullptr when a number was taken, else why not.
const char* takeNumber(std::string_view& s, Number& n) {
  size_t i = 0;
  bool any = false;
  while (i < s.size() && isDigit(s[i])) {
    if (__builtin_mul_overflow(n.whole, 10, &n.whole) ||
        __builtin_add_overflow(n.whole, s[i] - '0', &n.whole)) {
      return "too large";
    }
    any = true;
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool frac_any = false;
    while (i < s.size() && isDigit(s[i])) {
      if (n.fraction_digits < 9) {
        n.fraction = n.fraction * 10 + (s[i] - '0');
        ++n.fraction_digits;
      }
      frac_any = true;
      ++i;
    }
    if (!frac_any) return "expected a number"; // "1." is not a number
    any = true;
  }
  if (!any) return "expected a number";
  s.remove_prefix(i);
  return nullptr;
}

// Trims `text` and drops a leading '+': nullptr, or why it is no non-negative number.
const char* trimNonNegative(std::string_view& text) {
  text = trim(text);
  if (text.empty()) return "empty";
  if (text.front() == '-') return "negative";
  if (text.front() == '+') text.remove_prefix(1);
  return nullptr;
}

// n * factor, rounded down; false on overflow.
bool scale(const Number& n, int64_t factor, int64_t& out) {
  int64_t whole = 0;
  if (__builtin_mul_overflow(n.whole, factor, &whole)) return false;
  __int128 frac = static_cast<__int128>(n.fraction) * factor;
  for (int i = 0; i < n.fraction_digits; ++i)
    frac /= 10;
  return !__builtin_add_overflow(whole, static_cast<int64_t>(frac), &out);
}

template <size_t N>
const Unit* findUnit(const std::array<Unit, N>& units, std::string_view suffix) {
  const std::string l = toLower(suffix);
  for (const Unit& u : units) {
    if (u.suffix == l) return &u;
  }
  return nullptr;
}

} // namespace

std::expected<int64_t, std::string> parseSize(std::string_view text) {
  const std::string_view original = text;
  auto fail = [&](std::string_view why) {
    return std::unexpected(fmt::format("'{}' is not a size: {} (e.g. 512KiB, 64MiB, 1GiB, 5MB or "
                                       "bytes)",
                                       original, why));
  };
  if (const char* why = trimNonNegative(text)) return fail(why);
  Number n;
  if (const char* why = takeNumber(text, n)) return fail(why);
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  int64_t factor = 1;
  if (!text.empty()) {
    const Unit* unit = findUnit(kSizeUnits, text);
    if (unit == nullptr) {
      return fail(fmt::format("unknown unit '{}' (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)", text));
    }
    factor = unit->factor;
  } else if (n.fraction_digits > 0) {
    return fail("a fraction of a byte");
  }
  int64_t bytes = 0;
  if (!scale(n, factor, bytes)) return fail("too large");
  return bytes;
}

std::expected<int64_t, std::string> parseDuration(std::string_view text) {
  const std::string_view original = text;
  auto fail = [&](std::string_view why) {
    return std::unexpected(fmt::format(
        "'{}' is not a duration: {} (e.g. 500ms, 5s, 2m, 1h, 1h30m; a bare number is seconds)",
        original, why));
  };
  if (const char* why = trimNonNegative(text)) return fail(why);
  int64_t total = 0;
  bool first = true;
  while (!text.empty() || first) {
    if (!first && text.front() == ' ') text.remove_prefix(1); // "1h 30m"
    Number n;
    if (const char* why = takeNumber(text, n)) return fail(why);
    if (first && text.empty()) {
      // A bare number: seconds.
      if (!scale(n, 1000, total)) return fail("too large");
      return total;
    }
    first = false;
    if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    size_t len = 0;
    while (len < text.size() && isAlpha(text[len]))
      ++len;
    if (len == 0) return fail("a unit must follow every number but a lone one");
    const Unit* unit = findUnit(kDurationUnits, text.substr(0, len));
    if (unit == nullptr) {
      return fail(fmt::format("unknown unit '{}' (ms, s, m, h, d)", text.substr(0, len)));
    }
    text.remove_prefix(len);
    int64_t part = 0;
    if (!scale(n, unit->factor, part) || __builtin_add_overflow(total, part, &total)) {
      return fail("too large");
    }
  }
  return total;
}

std::expected<bool, std::string> parseBool(std::string_view text) {
  const std::string l = toLower(trim(text));
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  return std::unexpected(fmt::format("'{}' is not a boolean (true/false, yes/no, on/off)", text));
}

std::expected<int64_t, std::string> parseInt(std::string_view text) {
  const std::string_view original = text;
  text = trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::unexpected(fmt::format("'{}' is not an integer", original));
  int64_t value = 0;
  for (char c : text) {
    if (!isDigit(c)) return std::unexpected(fmt::format("'{}' is not an integer", original));
    // Accumulate negatively so that INT64_MIN is reachable.
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_sub_overflow(value, c - '0', &value)) {
      return std::unexpected(fmt::format("'{}' is out of the 64-bit integer range", original));
    }
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) {
      return std::unexpected(fmt::format("'{}' is out of the 64-bit integer range", original));
    }
    value = -value;
  }
  return value;
}

std::string formatSize(int64_t bytes) {
  if (bytes != 0) {
    for (const auto& [name, factor] : kSizeDisplay) {
      if (bytes % factor == 0) return fmt::format("{}{}", bytes / factor, name);
    }
  }
  return fmt::format("{}B", bytes);
}

std::string formatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  for (const Unit& u : kDurationUnits) {
    if (ms % u.factor == 0) return fmt::format("{}{}", ms / u.factor, u.suffix);
  }
  return fmt::format("{}ms", ms);
}

} // namespace ferry::config
