// The sink kit, options bound to a config struct: each row of a sink's option table also says
// which field of the sink's config its value fills and how (trimmed, checked, parsed), so a
// sink states each option once (name, type, default, bounds, doc and field in one row) and
// readOptions fills the struct. The host still sees only the ABI rows (optionRows), read
// through PluginOptions as before; every error names the option.
//
//   constexpr sink::BoundOption<MyConfig> kBound[] = {
//       {sink::stringOption("key", "API key.", true), sink::field<&MyConfig::key, {.trim = true}>},
//       {sink::timeoutOption("30s", 100, 600'000, "..."), sink::field<&MyConfig::timeout_ms>},
//   };
//   constexpr auto kOptions = sink::optionRows(kBound); // kDescriptor.options = kOptions.data()
#pragma once

#include <array>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferry/codec/compress.h"
#include "ferry/plugin.h"
#include "ferry/sink/http.h"
#include "ferry/sink/options.h"

namespace ferry::sink {

// How a STRING or ENUM option's text is taken before it lands in its field, in this order.
struct TextRules {
  // A blank value reads as the table's default, as if unset: `site: ${DD_SITE}` with
  // DD_SITE="" (the config interpolates the empty variable, the option is still given).
  bool blank_is_default = false;
  bool trim = false;         // leading and trailing blanks go (a secret file's last newline)
  bool not_empty = false;    // "<name>: must not be empty"
  bool header_value = false; // it goes in a header line: no control characters
};

// The option's text after `rules`; errors name the option.
std::expected<std::string, std::string> readText(const PluginOptions& options,
                                                 const ferry_plugin_option& row, TextRules rules);
// "<name>: <n> does not fit its field": a table whose bounds exceed the field's type.
std::string doesNotFit(const ferry_plugin_option& row, int64_t n);
// What a field's C++ type can hold; a row of another type bound to it is a programming error
// (std::logic_error, as reading an undeclared option is).
enum class FieldKind { kText, kFlag, kNumber };
void requireKind(const ferry_plugin_option& row, FieldKind kind);

template <class Config>
using OptionReader = std::expected<void, std::string> (*)(const PluginOptions& options,
                                                          const ferry_plugin_option& row,
                                                          Config& config);

// A table row and how its value is read; read == nullptr: the sink reads it itself.
template <class Config> struct BoundOption {
  ferry_plugin_option option;
  OptionReader<Config> read = nullptr;
};

// The ABI rows of a bound table, for ferry_plugin_descriptor::options.
template <class Config, size_t N>
constexpr std::array<ferry_plugin_option, N> optionRows(const BoundOption<Config> (&bound)[N]) {
  std::array<ferry_plugin_option, N> rows{};
  for (size_t i = 0; i < N; ++i)
    rows[i] = bound[i].option;
  return rows;
}

// Checks the options against the table (PluginOptions::check), then reads every bound row
// into `config` in table order. The first error wins.
template <class Config, size_t N>
std::expected<void, std::string>
readOptions(const PluginOptions& options, const BoundOption<Config> (&bound)[N], Config& config) {
  if (auto ok = options.check(); !ok) return ok;
  for (const BoundOption<Config>& b : bound) {
    if (b.read == nullptr) continue;
    if (auto ok = b.read(options, b.option, config); !ok) return ok;
  }
  return {};
}

namespace bind_detail {

template <class M> struct MemberOf;
template <class C, class T> struct MemberOf<T C::*> { using Type = T; };
template <auto Member> using FieldOf = typename MemberOf<decltype(Member)>::Type;

// A reader from a function of (options, row, field); Read returns expected<void, string>.
template <auto Member, auto Read> struct Reader {
  template <class Config> constexpr operator OptionReader<Config>() const {
    return [](const PluginOptions& o, const ferry_plugin_option& row,
              Config& c) -> std::expected<void, std::string> { return Read(o, row, c.*Member); };
  }
};

template <TextRules Rules, class T>
std::expected<void, std::string> readField(const PluginOptions& o, const ferry_plugin_option& row,
                                           T& field) {
  if constexpr (std::is_same_v<T, std::string>) {
    requireKind(row, FieldKind::kText);
    auto text = readText(o, row, Rules);
    if (!text) return std::unexpected(text.error());
    field = std::move(*text);
  } else if constexpr (std::is_same_v<T, bool>) {
    requireKind(row, FieldKind::kFlag);
    field = o.boolean(row.name);
  } else {
    static_assert(std::is_integral_v<T>, "field: a std::string, bool or integer member");
    requireKind(row, FieldKind::kNumber);
    const int64_t n = o.integer(row.name);
    if (!std::in_range<T>(n)) return std::unexpected(doesNotFit(row, n));
    field = static_cast<T>(n);
  }
  return {};
}

template <auto Values, TextRules Rules, class T>
std::expected<void, std::string> readChoice(const PluginOptions& o, const ferry_plugin_option& row,
                                            T& field) {
  auto text = readText(o, row, Rules);
  if (!text) return std::unexpected(text.error());
  auto i = choiceIndex(row, *text);
  if (!i) return std::unexpected(i.error());
  if (*i >= Values.size()) return std::unexpected(doesNotFit(row, static_cast<int64_t>(*i)));
  field = Values[*i];
  return {};
}

template <auto Parse, TextRules Rules, class T>
std::expected<void, std::string> readParsed(const PluginOptions& o, const ferry_plugin_option& row,
                                            T& field) {
  auto text = readText(o, row, Rules);
  if (!text) return std::unexpected(text.error());
  auto value = Parse(*text);
  if (!value) return std::unexpected(std::string(row.name) + ": " + value.error());
  field = std::move(*value);
  return {};
}

template <UrlRules Rules, class T>
std::expected<void, std::string> readUrl(const PluginOptions& o, const ferry_plugin_option& row,
                                         T& field) {
  auto text = readText(o, row, {.trim = true});
  if (!text) return std::unexpected(text.error());
  if (text->empty()) return {};
  auto url = parseHttpUrl(row.name, *text, Rules);
  if (!url) return std::unexpected(url.error());
  if constexpr (std::is_same_v<T, HttpUrl>) {
    field = std::move(*url);
  } else {
    field = url->text();
  }
  return {};
}

} // namespace bind_detail

// The option as its field's type: std::string (after `rules`), bool, or an integer (INT,
// SIZE in bytes, DURATION in milliseconds; a value the type cannot hold is an error).
template <auto Member, TextRules Rules = TextRules{}>
inline constexpr bind_detail::Reader<Member,
                                     &bind_detail::readField<Rules, bind_detail::FieldOf<Member>>>
    field{};

// An ENUM option into an enum field: the i-th choice of the row's enum_values is Values[i]
// (a std::array in the same order). A blank value reads as the default.
template <auto Member, auto Values,
          TextRules Rules = TextRules{.blank_is_default = true, .trim = true}>
inline constexpr bind_detail::Reader<
    Member, &bind_detail::readChoice<Values, Rules, bind_detail::FieldOf<Member>>>
    choice{};

// A value Parse(text) turns into its field's type (Parse returns expected<T, string>); its
// error gets "<name>: " in front.
template <auto Member, auto Parse, TextRules Rules = TextRules{}>
inline constexpr bind_detail::Reader<
    Member, &bind_detail::readParsed<Parse, Rules, bind_detail::FieldOf<Member>>>
    parsed{};

// A URL (parseHttpUrl with `rules`, the text trimmed) into a std::string field (its text())
// or an HttpUrl field. A blank value leaves the field as it is (the sink's fallback).
template <auto Member, UrlRules Rules = UrlRules{}>
inline constexpr bind_detail::Reader<Member,
                                     &bind_detail::readUrl<Rules, bind_detail::FieldOf<Member>>>
    url{};

// compression_level (kCompressionLevelOption) into an int field, checked against the codec
// field Codec that an earlier row filled (codec::checkCompressionLevel).
template <auto Member, auto Codec> struct CompressionLevel {
  template <class Config> constexpr operator OptionReader<Config>() const {
    return [](const PluginOptions& o, const ferry_plugin_option& row,
              Config& c) -> std::expected<void, std::string> {
      auto level = codec::checkCompressionLevel(c.*Codec, o.integer(row.name));
      if (!level) return std::unexpected(level.error());
      c.*Member = *level;
      return {};
    };
  }
};
template <auto Member, auto Codec>
inline constexpr CompressionLevel<Member, Codec> compressionLevel{};

} // namespace ferry::sink
