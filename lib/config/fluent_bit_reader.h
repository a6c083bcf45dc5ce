// Reading Fluent Bit classic config files for the importer (fluent_bit.cc): sections with
// their keys (case-insensitive, repeatable), @INCLUDE (relative to the including file, globs,
// at most 16 deep) and @SET; and Fluent Bit's spellings of booleans, sizes and durations.
// Bounded like YAML configs: at most kMaxIncludedFiles files read (an include loop fans out
// before it gets deep), and at most kMaxConfigBytes of text read and of @SET expansions
// (`@SET A=${A}${A}` doubles at every line).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/core/strings.h"

namespace ferry::config::fluent_bit {

using core::toLower;
using core::trim;

struct Entry {
  std::string key;   // as written
  std::string lower; // for lookups
  std::string value; // @SET variables substituted; other ${VAR} left for ferry
  std::string file;
  int line = 0;
};

struct FbSection {
  std::string kind; // upper case: SERVICE, INPUT, FILTER, OUTPUT, PARSER, ...
  std::string file;
  int line = 0;
  std::vector<Entry> entries;

  std::string plugin() const; // the Name key, lower case
  std::string title() const;  // "[OUTPUT datadog]"
};

inline constexpr size_t kMaxIncludedFiles = 256;

class Reader {
public:
  std::deque<FbSection> sections; // a deque: includes append while a section is referenced
  std::vector<Diagnostic> errors;
  std::map<std::string, std::string> vars; // @SET

  // from_file/from_line: where the file was named (for "cannot read" messages).
  void readFile(const std::string& path, int depth, const std::string& from_file, int from_line);
  void readText(const std::string& name, const std::string& dir, const std::string& text,
                int depth);

private:
  void include(const std::string& pattern, const std::string& dir, int depth,
               const std::string& from, int line);
  std::string substitute(std::string_view value, const std::string& file, int line);
  // Refuses text past the budget; the first refusal is the one reported.
  bool withinBudget(size_t& spent, size_t more, const std::string& file, int line, const char* key,
                    const char* what);

  size_t files_read_ = 0;
  size_t bytes_read_ = 0;
  size_t bytes_expanded_ = 0;
  bool refused_ = false; // a bound was hit: stop reading, one message is enough
};

// on/off, true/false, yes/no, 1/0.
std::optional<bool> fbBool(std::string_view v);
// A number with K, M or G (optionally B), decimal as Fluent Bit reads it (1K = 1000).
std::optional<uint64_t> fbSize(std::string_view v);
// Seconds, or a number with s, m, h or d → ferry's "Ns" / "Nms".
std::optional<std::string> fbDuration(std::string_view v);

} // namespace ferry::config::fluent_bit
