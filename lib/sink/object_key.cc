// Name templates: strftime in UTC, then the $ tokens. UUIDs come from OpenSSL's CSPRNG.
#include "ferry/sink/object_key.h"

#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>
#include <random>
#include <vector>

#include <fmt/format.h>

namespace ferry::sink {
namespace {

std::string utcStrftime(std::string_view format, std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  // strftime returns 0 both for "too small" and for an empty result; the trailing sentinel
  // tells them apart.
  const std::string f = std::string(format) + '\x01';
  std::vector<char> buf(f.size() * 4 + 64);
  for (;;) {
    const size_t n = std::strftime(buf.data(), buf.size(), f.c_str(), &tm);
    if (n > 0) return std::string(buf.data(), n - 1);
    if (buf.size() > (1u << 20)) return std::string(format);
    buf.resize(buf.size() * 2);
  }
}

// Fluent Bit reads at most $TAG[0]..$TAG[9].
constexpr size_t kMaxTagParts = 10;

// The n-th non-empty run of the tag between delimiters (strtok's tokens), if there is one.
std::optional<std::string_view> tagPart(std::string_view tag, std::string_view delimiters,
                                        size_t n) {
  if (n >= kMaxTagParts) return std::nullopt;
  size_t pos = 0;
  for (size_t i = 0;; ++i) {
    pos = tag.find_first_not_of(delimiters, pos);
    if (pos == std::string_view::npos) return std::nullopt;
    const size_t end = tag.find_first_of(delimiters, pos);
    if (i == n) return tag.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (end == std::string_view::npos) return std::nullopt;
    pos = end;
  }
}

} // namespace

std::string expandNameTemplate(std::string_view format, const NameContext& context) {
  const std::string timed = utcStrftime(format, context.time);
  std::string out;
  out.reserve(timed.size() + context.tag.size() + 40);
  std::string uuid(context.uuid);
  std::string_view rest = timed;
  while (!rest.empty()) {
    const size_t dollar = rest.find('$');
    out.append(rest.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    rest.remove_prefix(dollar);
    if (rest.starts_with("$TAG[")) {
      const size_t close = rest.find(']');
      size_t n = 0;
      const auto [end, ec] = std::from_chars(
          rest.data() + 5, rest.data() + (close == std::string_view::npos ? 5 : close), n);
      const auto part = tagPart(context.tag, context.tag_delimiters, n);
      if (close != std::string_view::npos && ec == std::errc() && end == rest.data() + close &&
          part) {
        out.append(*part);
        rest.remove_prefix(close + 1);
        continue;
      }
      if (close != std::string_view::npos && ec == std::errc() && end == rest.data() + close) {
        out.append(rest.substr(0, close + 1)); // no such part: kept as written, as Fluent Bit
        rest.remove_prefix(close + 1);
        continue;
      }
    }
    if (rest.starts_with("$TAG")) {
      out.append(context.tag);
      rest.remove_prefix(4);
    } else if (rest.starts_with("$UUID")) {
      if (uuid.empty()) uuid = uuidV4();
      out.append(uuid);
      rest.remove_prefix(5);
    } else if (rest.starts_with("$INDEX")) {
      out.append(fmt::format("{}", context.index));
      rest.remove_prefix(6);
    } else {
      out.push_back('$'); // not a token: a literal dollar
      rest.remove_prefix(1);
    }
  }
  return out;
}

std::string uuidV4() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // Never expected; a weaker source still gives unique keys.
    std::random_device rd;
    for (auto& c : b)
      c = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // RFC variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0x0f]);
  }
  return s;
}

} // namespace ferry::sink
