// Reading Fluent Bit classic config files (see fluent_bit_reader.h).
#include "fluent_bit_reader.h"
#include "ferry/config/units.h"
#include "ferry/core/strings.h"

#include <glob.h>

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferry::config::fluent_bit {
namespace {
constexpr int kMaxIncludeDepth = 16;

// "<number><unit>" (surrounding white space ignored): the number (digits and '.') and the
// rest lower-cased; nullopt when it does not start with a number.
std::optional<std::pair<double, std::string>> numberAndUnit(std::string_view v) {
  v = trim(v);
  size_t digits = 0;
  while (digits < v.size() &&
         (std::isdigit(static_cast<unsigned char>(v[digits])) || v[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  double number = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + digits, number);
  if (ec != std::errc() || end != v.data() + digits) return std::nullopt;
  return std::pair{number, toLower(v.substr(digits))};
}
} // namespace

std::string FbSection::plugin() const {
  for (const auto& e : entries) {
    if (e.lower == "name") return toLower(e.value);
  }
  return {};
}

std::string FbSection::title() const {
  const std::string p = plugin();
  return p.empty() ? "[" + kind + "]" : "[" + kind + " " + p + "]";
}

// ---- Reading -------------------------------------------------------------------------

bool Reader::withinBudget(size_t& spent, size_t more, const std::string& file, int line,
                          const char* key, const char* what) {
  if (!refused_ && more <= kMaxConfigBytes - spent) {
    spent += more;
    return true;
  }
  if (!refused_) {
    errors.push_back({file, line, key,
                      fmt::format("{} over the limit of {}", what, formatSize(kMaxConfigBytes))});
  }
  refused_ = true;
  return false;
}

void Reader::readFile(const std::string& path, int depth, const std::string& from_file,
                      int from_line) {
  if (refused_) return;
  const std::string& where = from_file.empty() ? path : from_file;
  if (++files_read_ > kMaxIncludedFiles) {
    errors.push_back(
        {where, from_line, "@INCLUDE",
         fmt::format("more than {} files read (an include loop?)", kMaxIncludedFiles)});
    refused_ = true;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({where, from_line, "@INCLUDE", fmt::format("cannot read {}", path)});
    return;
  }
  // Read in chunks, stopping one chunk past the budget (/dev/zero ends there).
  std::string text;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes - bytes_read_) break;
  }
  if (!withinBudget(bytes_read_, text.size(), where, from_line, "",
                    "the configuration with its includes is")) {
    return;
  }
  readText(path, std::filesystem::path(path).parent_path().string(), text, depth);
}

void Reader::readText(const std::string& name, const std::string& dir, const std::string& text,
                      int depth) {
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  FbSection* current = nullptr;
  while (!refused_ && std::getline(in, raw)) {
    ++line;
    std::string_view l = trim(raw);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      if (l.back() != ']') {
        errors.push_back({name, line, "", "a section header must end with ']'"});
        current = nullptr;
        continue;
      }
      std::string kind(trim(l.substr(1, l.size() - 2)));
      for (char& c : kind)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      sections.push_back({kind, name, line, {}});
      current = &sections.back();
      continue;
    }
    if (l.front() == '@') {
      const size_t sp = l.find_first_of(" \t");
      const std::string directive = toLower(l.substr(0, sp));
      const std::string_view arg = sp == std::string_view::npos ? "" : trim(l.substr(sp));
      if (directive == "@include") {
        include(std::string(arg), dir, depth, name, line);
        current = nullptr; // an include ends the section being read
      } else if (directive == "@set") {
        const size_t eq = arg.find('=');
        if (eq == std::string_view::npos || trim(arg.substr(0, eq)).empty()) {
          errors.push_back({name, line, "@SET", "expected @SET NAME=VALUE"});
        } else {
          vars[std::string(trim(arg.substr(0, eq)))] =
              substitute(trim(arg.substr(eq + 1)), name, line);
        }
      } else {
        errors.push_back({name, line, std::string(directive), "unknown directive"});
      }
      continue;
    }
    if (current == nullptr) {
      errors.push_back({name, line, "", "a key outside of any [SECTION]"});
      continue;
    }
    const size_t sp = l.find_first_of(" \t");
    Entry e;
    e.key = std::string(l.substr(0, sp));
    e.lower = toLower(e.key);
    e.value = sp == std::string_view::npos ? "" : substitute(trim(l.substr(sp)), name, line);
    e.file = name;
    e.line = line;
    current->entries.push_back(std::move(e));
  }
}

void Reader::include(const std::string& pattern, const std::string& dir, int depth,
                     const std::string& from, int line) {
  if (pattern.empty()) {
    errors.push_back({from, line, "@INCLUDE", "needs a file name"});
    return;
  }
  if (depth >= kMaxIncludeDepth) {
    errors.push_back({from, line, "@INCLUDE", "includes nested too deeply (a loop?)"});
    refused_ = true; // a loop fans out: one message, not one per branch
    return;
  }
  const std::string full = pattern.front() == '/' || dir.empty()
                               ? pattern
                               : (std::filesystem::path(dir) / pattern).string();
  if (full.find_first_of("*?[") == std::string::npos) {
    readFile(full, depth + 1, from, line);
    return;
  }
  glob_t g{};
  if (::glob(full.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i)
      readFile(g.gl_pathv[i], depth + 1, from, line);
  }
  globfree(&g);
}

// ${NAME} defined by @SET is replaced now; any other ${NAME} is left for ferry to take from
// the environment when the config is loaded (an unset one is then an error naming it).
// Expansions count against kMaxConfigBytes, all of them together.
std::string Reader::substitute(std::string_view value, const std::string& file, int line) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '{') {
      const size_t close = value.find('}', i + 2);
      if (close != std::string_view::npos) {
        const std::string name(value.substr(i + 2, close - i - 2));
        if (auto it = vars.find(name); it != vars.end()) {
          if (!withinBudget(bytes_expanded_, it->second.size(), file, line, "@SET",
                            "variables expand to text")) {
            return std::string(value);
          }
          out += it->second;
          i = close + 1;
          continue;
        }
        out.append(value.substr(i, close + 1 - i));
        i = close + 1;
        continue;
      }
    }
    out.push_back(value[i++]);
  }
  return out;
}

// ---- Values ----------------------------------------------------------------------------

std::optional<bool> fbBool(std::string_view v) {
  const std::string l = toLower(trim(v));
  if (l == "on" || l == "true" || l == "yes" || l == "1") return true;
  if (l == "off" || l == "false" || l == "no" || l == "0") return false;
  return std::nullopt;
}

// Fluent Bit sizes: a number with K, M or G (optionally followed by B), decimal (1K = 1000).
std::optional<uint64_t> fbSize(std::string_view v) {
  const auto parsed = numberAndUnit(v);
  if (!parsed) return std::nullopt;
  const auto& [number, unit] = *parsed;
  double scale = 1;
  if (unit == "k" || unit == "kb")
    scale = 1e3;
  else if (unit == "m" || unit == "mb")
    scale = 1e6;
  else if (unit == "g" || unit == "gb")
    scale = 1e9;
  else if (!unit.empty())
    return std::nullopt;
  return static_cast<uint64_t>(std::llround(number * scale));
}

// Fluent Bit durations: a number of seconds, or with s, m, h or d.
std::optional<std::string> fbDuration(std::string_view v) {
  const auto parsed = numberAndUnit(v);
  if (!parsed) return std::nullopt;
  const auto& [number, unit] = *parsed;
  double seconds = number;
  if (unit == "m")
    seconds *= 60;
  else if (unit == "h")
    seconds *= 3600;
  else if (unit == "d")
    seconds *= 86400;
  else if (!unit.empty() && unit != "s")
    return std::nullopt;
  const auto ms = static_cast<uint64_t>(std::llround(seconds * 1000));
  return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000) : fmt::format("{}ms", ms);
}

} // namespace ferry::config::fluent_bit
