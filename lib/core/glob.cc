// Iterative wildcard match with single-star backtracking: linear in practice, no recursion.
#include "ferry/core/glob.h"

namespace ferry::core {

bool globMatch(std::string_view pattern, std::string_view tag) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < tag.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == tag[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

} // namespace ferry::core
