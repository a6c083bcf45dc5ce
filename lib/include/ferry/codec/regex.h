// The one regex facility of ferry: every user regex (parsers, the grep filter, multiline
// starts) is compiled here. A pattern runs on RE2 (linear time, so no line can stall the
// pipeline) unless it needs what RE2 cannot run (look-around, back-references, atomic groups,
// possessive quantifiers, \G, conditionals, ...): that pattern runs on PCRE2 with JIT and a
// match limit, and a match that hits the limit counts as no match (logged once per pattern).
//
// Native patterns are Perl syntax as RE2 reads it; `(?<name>...)` is taken as `(?P<name>...)`.
// Fluent Bit's regexes (Onigmo, Ruby syntax, optional /.../imx delimiters) are first rewritten
// by fromFluentBit() into a native pattern of the same meaning.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::codec {

enum class RegexEngine : uint8_t { kRe2, kPcre2 };

struct RegexOptions {
  // Log, once at compile, the patterns that run on PCRE2 and why (off for dry checks such as
  // `ferry validate`, which compile again when the pipeline is built).
  bool log_engine = true;
};

// While one is alive, compile() on this thread logs no engine choice whatever its options: for
// a dry check that runs the very code a component's start-up runs (the built-in inputs' and
// filters' settings checks at config load), so each pattern is reported once, when built.
class QuietRegexEngineLog {
public:
  QuietRegexEngineLog();
  ~QuietRegexEngineLog();
  QuietRegexEngineLog(const QuietRegexEngineLog&) = delete;
  QuietRegexEngineLog& operator=(const QuietRegexEngineLog&) = delete;
};

class Regex {
public:
  // PCRE2's budget per match: backtracking steps, and nesting depth for the interpreter.
  static constexpr uint32_t kMatchLimit = 1'000'000;
  static constexpr uint32_t kDepthLimit = 100'000;

  // An error says what is wrong with the pattern (RE2's or PCRE2's message, with the offset).
  static std::expected<Regex, std::string> compile(std::string_view pattern,
                                                   const RegexOptions& options = {});

  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  // True when the pattern matches somewhere in text (unanchored, as Fluent Bit searches).
  bool search(std::string_view text) const;
  // As search(); groups (at least groupCount() + 1 entries) receive the whole match at [0]
  // and group i at [i]; a group that took no part is a view with data() == nullptr.
  bool search(std::string_view text, std::span<std::string_view> groups) const;

  struct NamedGroup {
    int index;
    std::string name;
  };
  int groupCount() const;
  // Ordered by index.
  const std::vector<NamedGroup>& namedGroups() const;
  RegexEngine engine() const;
  // Why the pattern runs on PCRE2 ("look-ahead"), empty on RE2.
  const std::string& fallbackReason() const;
  // Matches abandoned because they hit the PCRE2 limits (counted as no match).
  uint64_t limitHits() const;

  struct Impl;

private:
  explicit Regex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What compile() does to a native pattern before choosing the engine (exposed for tests):
// the rewritten pattern and, when RE2 cannot run it, the construct that needs PCRE2.
struct RegexPlan {
  std::string pattern;
  std::string pcre2_reason;
};
std::expected<RegexPlan, std::string> planRegex(std::string_view pattern);

// Fluent Bit's regex (Onigmo, Ruby syntax) → a native pattern of the same meaning: the
// /.../ delimiters and their i, m, x letters read as flb_regex.c reads them (m = dot matches
// newline), `(?<name>` and `(?'name'` → `(?P<name>`, inline (?m) → (?s), \h/\H → hex digit
// classes, and (?m) in front when ^ or $ appear (Ruby's ^ and $ always match at line breaks).
std::expected<std::string, std::string> fromFluentBit(std::string_view pattern);

} // namespace ferry::codec
