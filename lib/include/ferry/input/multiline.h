// The multiline engine: joins the lines of one stream into records. It serves the tail input
// (`multiline:` option, one joiner per file) and the multiline filter (one joiner per tag and
// container stream). Three kinds of rules:
//   start   a user's regex: a record begins at a line that matches;
//   preset  ferry's own java/python/go stack-trace rules (tail's `preset:`);
//   parsers Fluent Bit's multiline parsers, with its semantics: the built-ins docker, cri,
//           go, python, java, ruby, and custom parsers ([MULTILINE_PARSER] type regex:
//           rules "from states" "regex" "next state", the first from start_state; type
//           endswith or equal: a record ends at a line that ends with / is a string).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/buffer.h"

namespace ferry::codec {
class Regex;
}

namespace ferry::input {

// One rule of a Fluent Bit regex parser: `rule "from" "regex" "to"`. `from` may list several
// states ("start_state, java_start_exception"); the regex is native (Fluent Bit's are
// converted with codec::fromFluentBit before they get here).
struct MultilineRule {
  std::vector<std::string> from;
  std::string regex;
  std::string to;
};

// A custom parser ([MULTILINE_PARSER]): type regex (rules with states), or, as Fluent Bit's
// endswith and equal types, a record that grows until a line ends with `match` (endswith) or
// is `match` (equal); `negate` turns the test around.
struct MultilineParserDef {
  enum class Type : uint8_t { kRegex, kEndsWith, kEqual };
  std::string name;
  std::vector<MultilineRule> rules;
  Type type = Type::kRegex;
  std::string match;
  bool negate = false;
};

// A custom parser from its text (the multiline filter's `custom` map): rules, one per line, or
// one line `endswith "MATCH"` or `equal "MATCH"`, optionally followed by `negate`.
std::expected<MultilineParserDef, std::string> parseMultilineParser(std::string name,
                                                                    std::string_view text);

// The non-empty trimmed names of a comma-separated list ("go, python"): parser lists, a rule's
// states.
std::vector<std::string> splitNames(std::string_view list);

// Parses `"from" "regex" "to"` (Fluent Bit's rule line; the regex may hold quotes).
std::expected<MultilineRule, std::string> parseMultilineRule(std::string_view text);

// `multiline: { start: REGEX, timeout: 2s }`, `{ preset: java|python|go }`, or Fluent Bit's
// parsers by name (`parsers`, tried in order; a name not built in is one of `custom`).
struct MultilineOptions {
  std::string start;  // a record begins at a line that matches (RE2, searched)
  std::string preset; // java|python|go
  std::vector<std::string> parsers;
  std::vector<MultilineParserDef> custom;
  std::chrono::milliseconds timeout{2000};
  bool enabled() const { return !start.empty() || !preset.empty() || !parsers.empty(); }
};

// What a line is to the record being built.
enum class LineRole : uint8_t {
  kStart,        // begins a new record
  kContinuation, // joins the pending record (or begins one when none is pending)
  kLast,         // joins the pending record, which is then complete
  kSingle,       // a record of its own (the pending record goes out first)
};

struct LineClass {
  LineRole role = LineRole::kStart;
  std::string_view text; // what the record takes of the line (cri: the content after its prefix)
  bool concat = false;   // appended as it is (docker, cri partials), not as a new line
};

// Per-stream state that the rules carry from line to line.
struct MultilineState {
  uint8_t phase = 0;        // presets
  int32_t rule = -1;        // parsers: the rule the last line matched
  int32_t partial_set = -1; // parsers: the docker/cri parser whose partial is pending
};

// The rules: immutable, shared by every stream of an input or filter.
class MultilineRules {
public:
  static std::expected<std::unique_ptr<MultilineRules>, std::string>
  create(const MultilineOptions& options);
  ~MultilineRules();
  LineClass classify(std::string_view line, MultilineState& state) const;
  std::chrono::milliseconds timeout() const { return timeout_; }
  // ferry's own rules drop the blank lines a record took in at its end; Fluent Bit's keep them.
  bool trimsBlankTail() const { return sets_.empty(); }

  // The names Fluent Bit builds in.
  static bool builtin(std::string_view name);

  struct Compiled;

private:
  enum class Preset : uint8_t { kNone, kJava, kPython, kGo };
  enum class SetKind : uint8_t { kRegex, kDocker, kCri, kEndsWith, kEqual };
  struct Set {
    SetKind kind = SetKind::kRegex;
    std::vector<int32_t> starts; // rules from start_state
    std::string match;           // endswith, equal
    bool negate = false;
    bool completes(std::string_view line) const;
  };
  MultilineRules();
  std::expected<void, std::string> addParser(const std::string& name,
                                             const std::vector<MultilineRule>& rules);
  LineRole java(std::string_view line, MultilineState& state) const;
  LineRole python(std::string_view line, MultilineState& state) const;
  LineRole go(std::string_view line, MultilineState& state) const;
  LineClass fluentBit(std::string_view line, MultilineState& state) const;

  Preset preset_ = Preset::kNone;
  std::unique_ptr<codec::Regex> start_;
  std::vector<Set> sets_;
  std::vector<Compiled> rules_;
  std::unique_ptr<codec::Regex> cri_;
  std::chrono::milliseconds timeout_{2000};
};

// Joins the lines of one stream into records. The record being built is a copy; it remembers
// the offset of its first line (tail: as far as the file's position may be saved while the
// record is pending) and an opaque context the caller gives with its first line (the filter:
// the first record's other fields), readable through context() while emit runs.
class MultilineJoiner {
public:
  MultilineJoiner(const MultilineRules& rules, size_t max_bytes) : rules_(rules), max_(max_bytes) {}

  // emit(record, timestamp_ns) receives a finished record (the view lives until it returns).
  template <typename Emit>
  void add(std::string_view line, int64_t ts, uint64_t line_offset,
           std::chrono::steady_clock::time_point now, Emit&& emit, std::string_view context = {}) {
    const LineClass c = rules_.classify(line, state_);
    const bool joins = (c.role == LineRole::kContinuation || c.role == LineRole::kLast) &&
                       has_pending_ && pending_.size() + 1 + c.text.size() <= max_;
    if (joins) {
      append(c);
    } else {
      flush(emit);
      has_pending_ = true;
      pending_ts_ = ts;
      pending_offset_ = line_offset;
      context_.assign(context);
      pending_.append(c.text);
      first_length_ = c.text.size();
    }
    last_line_ = now;
    if (c.role == LineRole::kLast || c.role == LineRole::kSingle) flush(emit);
  }

  template <typename Emit> void flush(Emit&& emit) {
    if (!has_pending_) return;
    std::string_view record = pending_.view();
    if (rules_.trimsBlankTail()) {
      // Blank lines that a stack trace rule took in at its end are not part of the record.
      while (record.size() > first_length_ && record.back() == '\n')
        record.remove_suffix(1);
    }
    emit(record, pending_ts_);
    pending_.clear();
    has_pending_ = false;
  }

  // Forgets the pending record (the file was truncated under it).
  void reset() {
    pending_.clear();
    has_pending_ = false;
    state_ = {};
  }
  bool pending() const { return has_pending_; }
  uint64_t pendingOffset() const { return pending_offset_; }
  const std::string& context() const { return context_; }
  bool expired(std::chrono::steady_clock::time_point now) const {
    return has_pending_ && now - last_line_ >= rules_.timeout();
  }
  std::chrono::steady_clock::time_point deadline() const { return last_line_ + rules_.timeout(); }

private:
  // Lines join as Fluent Bit joins them: a '\n' between two lines unless the record already
  // ends with one (Docker's lines carry theirs); an empty line adds its own '\n'.
  // (ferry's own rules always put a '\n' between lines.)
  void append(const LineClass& c) {
    if (rules_.trimsBlankTail()) {
      pending_.push_back('\n');
    } else if (!c.concat) {
      const std::string_view p = pending_.view();
      if (!p.empty() && p.back() != '\n') pending_.push_back('\n');
      if (c.text.empty()) pending_.push_back('\n');
    }
    pending_.append(c.text);
  }

  const MultilineRules& rules_;
  size_t max_;
  MultilineState state_;
  core::ByteBuffer pending_;
  std::string context_;
  bool has_pending_ = false;
  size_t first_length_ = 0;
  int64_t pending_ts_ = 0;
  uint64_t pending_offset_ = 0;
  std::chrono::steady_clock::time_point last_line_{};
};

} // namespace ferry::input
