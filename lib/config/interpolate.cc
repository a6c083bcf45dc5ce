// Shell-like ${...} expansion of config scalars; a small recursive-descent reader so that a
// default can hold references of its own. Never quotes a variable's value in an error.
#include "ferry/config/interpolate.h"

#include <fmt/format.h>

namespace ferry::config {
namespace {

bool isNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool isNameChar(char c) {
  return isNameStart(c) || (c >= '0' && c <= '9');
}

class Expander {
public:
  Expander(std::string_view text, const EnvLookup& env) : text_(text), env_(env) {}

  std::expected<std::string, std::string> run() {
    std::string out = expand(/*inside_braces=*/false, /*evaluate=*/true);
    if (!error_.empty()) return std::unexpected(error_);
    return out;
  }

private:
  // Reads up to the end of the text, or up to (not past) the '}' closing the enclosing
  // reference when inside_braces. When !evaluate (an unused default), only the syntax is
  // checked: no lookups, no "unset" errors.
  std::string expand(bool inside_braces, bool evaluate) {
    std::string out;
    while (pos_ < text_.size() && error_.empty()) {
      const char c = text_[pos_];
      if (inside_braces && c == '}') return out;
      if (c != '$' || pos_ + 1 >= text_.size()) {
        out += c;
        ++pos_;
        continue;
      }
      const char next = text_[pos_ + 1];
      if (next == '$') {
        out += '$';
        pos_ += 2;
      } else if (next == '{') {
        pos_ += 2;
        out += reference(evaluate);
      } else {
        out += '$'; // a lone '$' is literal
        ++pos_;
      }
    }
    return out;
  }

  // After "${": NAME, then '}', ":-default}" or ":?message}".
  std::string reference(bool evaluate) {
    const size_t start = pos_;
    if (pos_ < text_.size() && isNameStart(text_[pos_])) {
      while (pos_ < text_.size() && isNameChar(text_[pos_]))
        ++pos_;
    }
    const std::string name(text_.substr(start, pos_ - start));
    if (name.empty()) {
      fail(pos_ < text_.size() && text_[pos_] != '}'
               ? fmt::format("invalid variable name starting with '{}' after '${{' (expected "
                             "letters, digits and '_')",
                             text_[pos_])
               : std::string("empty variable name in '${}'"));
      return {};
    }
    if (pos_ >= text_.size()) {
      fail(fmt::format("unclosed '${{{}' (missing '}}')", name));
      return {};
    }
    std::optional<std::string> value;
    if (evaluate) value = env_(name);
    const bool unset_or_empty = !value || value->empty();

    if (text_[pos_] == '}') {
      ++pos_;
      if (evaluate && !value) {
        fail(fmt::format("environment variable {} is not set (write ${{{}:-default}} for a "
                         "default)",
                         name, name));
        return {};
      }
      return value.value_or("");
    }
    const std::string_view rest = text_.substr(pos_);
    if (rest.starts_with(":-") || rest.starts_with(":?")) {
      const bool is_default = rest[1] == '-';
      pos_ += 2;
      // The default is expanded only when it will be used; a message is taken literally
      // but may contain references too.
      const bool use = evaluate && unset_or_empty;
      std::string inner = expand(/*inside_braces=*/true, use);
      if (!error_.empty()) return {};
      if (pos_ >= text_.size()) {
        fail(fmt::format("unclosed '${{{}{}' (missing '}}')", name, is_default ? ":-" : ":?"));
        return {};
      }
      ++pos_; // the closing '}'
      if (is_default) return use ? inner : value.value_or("");
      if (use) {
        fail(inner.empty()
                 ? fmt::format("environment variable {} is unset or empty", name)
                 : fmt::format("environment variable {} is unset or empty: {}", name, inner));
        return {};
      }
      return value.value_or("");
    }
    fail(fmt::format("unexpected '{}' after '${{{}' (expected '}}', ':-default}}' or "
                     "':?message}}')",
                     text_[pos_], name));
    return {};
  }

  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  std::string_view text_;
  const EnvLookup& env_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace

std::expected<std::string, std::string> interpolate(std::string_view text, const EnvLookup& env) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  return Expander(text, env).run();
}

bool hasReference(std::string_view text) {
  return text.find("${") != std::string_view::npos;
}

std::string escapeInterpolation(std::string_view text) {
  // "$$" and "${" are the only sequences interpolate() changes; when neither occurs the
  // text reads back as itself. Otherwise every '$' is doubled ("$$x" → "$x" as well).
  if (text.find("$$") == std::string_view::npos && text.find("${") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size() + 4);
  for (char c : text) {
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

} // namespace ferry::config
