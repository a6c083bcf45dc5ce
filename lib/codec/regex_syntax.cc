// Reading regex syntax before any engine sees it: which constructs need PCRE2 (planRegex) and
// how a Fluent Bit (Onigmo, Ruby syntax) pattern reads as a native one (fromFluentBit). One
// scanner serves both; it only looks at the constructs that matter and copies the rest, so
// the engines still report every other error.
#include <string>

#include "ferry/codec/regex.h"

namespace ferry::codec {
namespace {

enum class Dialect : uint8_t { kNative, kOnigmo };

struct Scanned {
  std::string out;
  std::string reason;   // the first construct RE2 cannot run
  bool anchors = false; // ^ or $ outside a class
};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

class Scanner {
public:
  Scanner(std::string_view p, Dialect d) : p_(p), d_(d) {}

  std::expected<Scanned, std::string> run() {
    while (i_ < p_.size()) {
      const char c = p_[i_];
      if (c == '\\') {
        if (auto r = escape(); !r) return std::unexpected(r.error());
        continue;
      }
      if (in_class_) {
        classChar();
        continue;
      }
      const bool quantifier = c == '*' || c == '+' || c == '?';
      if (c == '+' && after_quantifier_) need("a possessive quantifier");
      after_quantifier_ = quantifier && !after_quantifier_;
      if (c == '}') after_quantifier_ = true;
      if (c == '[') {
        openClass();
      } else if (c == '(' && peek(1) == '?') {
        after_quantifier_ = false;
        if (auto r = group(); !r) return std::unexpected(r.error());
      } else {
        if (c == '^' || c == '$') s_.anchors = true;
        s_.out += c;
        ++i_;
      }
    }
    return std::move(s_);
  }

private:
  char peek(size_t ahead) const { return i_ + ahead < p_.size() ? p_[i_ + ahead] : '\0'; }
  void need(const char* why) {
    if (s_.reason.empty()) s_.reason = why;
  }
  void copy(size_t n) {
    s_.out.append(p_.substr(i_, n));
    i_ += n;
  }

  std::expected<void, std::string> escape() {
    after_quantifier_ = false;
    const char e = peek(1);
    if (e == 'Q') { // literal text up to \E
      const size_t end = p_.find("\\E", i_ + 2);
      copy(end == std::string_view::npos ? p_.size() - i_ : end + 2 - i_);
      return {};
    }
    if (!in_class_) {
      if (e >= '1' && e <= '9') need("a back-reference");
      if (e == 'k') need("a back-reference");
      if (e == 'g') need(d_ == Dialect::kOnigmo ? "a subexpression call" : "a back-reference");
      if (e == 'G') need("the \\G anchor");
      if (e == 'Z') need("the \\Z anchor");
      if (e == 'K') need("\\K");
      if (e == 'R' || e == 'X') need("\\R or \\X");
    }
    if (d_ == Dialect::kOnigmo && (e == 'h' || e == 'H')) { // Ruby: \h is a hex digit
      if (e == 'h') {
        s_.out += in_class_ ? "0-9a-fA-F" : "[0-9a-fA-F]";
      } else if (in_class_) {
        return std::unexpected("\\H (not a hex digit) inside a character class has no "
                               "equivalent: write the class out");
      } else {
        s_.out += "[^0-9a-fA-F]";
      }
      i_ += 2;
      return {};
    }
    copy(i_ + 1 < p_.size() ? 2 : 1);
    return {};
  }

  void openClass() {
    in_class_ = true;
    copy(1);
    if (peek(0) == '^') copy(1);
    if (peek(0) == ']') copy(1); // a ']' first in the class is literal
  }

  void classChar() {
    if (p_[i_] == '[' && peek(1) == ':') { // [:alpha:]
      const size_t end = p_.find(":]", i_ + 2);
      if (end != std::string_view::npos) {
        copy(end + 2 - i_);
        return;
      }
    }
    if (p_[i_] == ']') in_class_ = false;
    copy(1);
  }

  // At "(?".
  std::expected<void, std::string> group() {
    const char g = peek(2);
    switch (g) {
    case '#': { // a comment: dropped (RE2 has none)
      const size_t end = p_.find(')', i_);
      i_ = end == std::string_view::npos ? p_.size() : end + 1;
      return {};
    }
    case '=':
    case '!':
      need("look-ahead");
      copy(3);
      return {};
    case '<':
      if (peek(3) == '=' || peek(3) == '!') {
        need("look-behind");
        copy(4);
        return {};
      }
      return namedGroup(3, '>');
    case '\'':
      return namedGroup(3, '\'');
    case 'P':
      if (peek(3) == '=') need("a back-reference");
      if (peek(3) == '>') need("recursion");
      copy(3);
      return {};
    case '>':
      need("an atomic group");
      copy(3);
      return {};
    case '(':
      need("a conditional group");
      copy(3);
      return {};
    case '|':
      need("a branch reset group");
      copy(3);
      return {};
    case '~':
      if (d_ == Dialect::kOnigmo)
        return std::unexpected("the absent operator (?~...) has no equivalent in ferry");
      break;
    case 'R':
    case '&':
    case '+':
      need("recursion");
      copy(3);
      return {};
    default:
      if (isDigit(g) || (g == '-' && isDigit(peek(3)))) {
        need("recursion");
        copy(3);
        return {};
      }
      break;
    }
    flags();
    return {};
  }

  // (?<name> or (?'name' → (?P<name>
  std::expected<void, std::string> namedGroup(size_t name_at, char close) {
    const size_t end = p_.find(close, i_ + name_at);
    if (end == std::string_view::npos) {
      copy(name_at);
      return {};
    }
    s_.out += "(?P<";
    s_.out.append(p_.substr(i_ + name_at, end - i_ - name_at));
    s_.out += '>';
    i_ = end + 1;
    return {};
  }

  // (?imx-imx) or (?imx-imx: — Onigmo's m is dot-matches-newline, Perl's s.
  void flags() {
    size_t j = i_ + 2;
    bool on = true;
    std::string letters;
    for (; j < p_.size() && p_[j] != ':' && p_[j] != ')'; ++j) {
      char f = p_[j];
      if (f == '-') on = false;
      if (d_ == Dialect::kOnigmo && f == 'm') f = 's';
      if (f == 'x' && on) need("extended mode (x)");
      letters += f;
    }
    s_.out += "(?";
    s_.out += letters;
    i_ = j;
  }

  std::string_view p_;
  Dialect d_;
  size_t i_ = 0;
  bool in_class_ = false;
  bool after_quantifier_ = false;
  Scanned s_;
};

} // namespace

std::expected<RegexPlan, std::string> planRegex(std::string_view pattern) {
  auto s = Scanner(pattern, Dialect::kNative).run();
  if (!s) return std::unexpected(s.error());
  return RegexPlan{std::move(s->out), std::move(s->reason)};
}

std::expected<std::string, std::string> fromFluentBit(std::string_view pattern) {
  // flb_regex.c: "/body/letters" when every letter after the last '/' is i, m, x or o (o is
  // ignored) and at least one of i, m, x is there; else "/body/" loses its two slashes; else
  // the pattern is taken as written.
  std::string_view body = pattern;
  std::string options;
  if (!pattern.empty() && pattern.front() == '/') {
    const size_t last = pattern.rfind('/');
    bool letters_ok = last != 0;
    for (size_t k = last + 1; letters_ok && k < pattern.size(); ++k) {
      const char f = pattern[k];
      if (f == 'i' || f == 'x') {
        if (options.find(f) == std::string::npos) options += f;
      } else if (f == 'm') {
        if (options.find('s') == std::string::npos) options += 's';
      } else if (f != 'o') {
        letters_ok = false;
      }
    }
    if (!letters_ok) options.clear();
    if (!options.empty()) {
      body = pattern.substr(1, last - 1);
    } else if (pattern.back() == '/') {
      body = pattern.size() >= 2 ? pattern.substr(1, pattern.size() - 2) : std::string_view();
    }
  }
  auto s = Scanner(body, Dialect::kOnigmo).run();
  if (!s) return std::unexpected(s.error());
  if (s->anchors) options.insert(0, "m");
  if (options.empty()) return std::move(s->out);
  return "(?" + options + ")" + s->out;
}

} // namespace ferry::codec
