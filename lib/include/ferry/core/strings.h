// Small string helpers shared by config parsing, AWS files and the sinks' response parsing.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace ferry::core {

// `s` without leading and trailing ASCII whitespace.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality (header names, error codes).
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// `s` with ASCII 'A'..'Z' lower-cased; every other byte (UTF-8 included) as it is, whatever
// the locale (header names, config keys and values, URL schemes and hosts).
inline std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Whether `text` holds `lower_word` (given in lower case), ASCII letters compared in any case.
inline bool icontains(std::string_view text, std::string_view lower_word) {
  return std::search(text.begin(), text.end(), lower_word.begin(), lower_word.end(),
                     [](char a, char b) {
                       return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
                     }) != text.end();
}

} // namespace ferry::core
