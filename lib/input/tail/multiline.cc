// Multiline rules (ferry/input/multiline.h): a user's start regex; a preset of ferry's that
// knows one runtime's stack traces; or Fluent Bit's multiline parsers.
//   java   "\tat ...", "\t... 12 more", "Caused by: ...", "Suppressed: ...", and an exception
//          line ("java.lang.IllegalStateException: boom") continue the record above them.
//   python "Traceback (most recent call last):", its indented lines, the exception line that
//          ends it, and the blank/"During handling..." lines of chained exceptions.
//   go     a "panic: " or "fatal error: " line starts a record that takes the goroutine dump
//          (blank lines, "goroutine N [...]:", frames, tab-indented file lines, "exit status").
//
// Fluent Bit's parsers behave as flb_ml_rule.c does: a line first tries the rules that may
// follow the rule the last line matched (start rules excepted); failing that, the start rules
// (a match begins a new record); failing both, it is a record of its own. A record is complete
// as soon as the rule it last matched leads back to start_state. docker joins `log` values
// until one ends with "\n"; cri reads "TIME STREAM P|F CONTENT" lines and joins the contents
// of P lines up to the next F line.
#include <re2/re2.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ferry/codec/regex.h"
#include "ferry/core/strings.h"
#include "ferry/input/multiline.h"

namespace ferry::input {
namespace {

std::string_view trimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  return s.substr(i);
}

bool indented(std::string_view s) {
  return !s.empty() && (s[0] == ' ' || s[0] == '\t');
}

// java.lang.IllegalStateException: boom / com.acme.Failure$Inner / java.lang.OutOfMemoryError
const re2::RE2& javaExceptionLine() {
  static const re2::RE2 re(R"(^(?:[\w$]+\.)+[\w$]*(?:Exception|Error|Throwable)\b(?::.*)?$)");
  return re;
}

// Go frames: main.main(), main.(*Server).handle(0xc000010000, ...), runtime/debug.Stack()
bool goFrame(std::string_view s) {
  if (s.empty() || s.back() != ')') return false;
  const size_t paren = s.find('(');
  if (paren == 0 || paren == std::string_view::npos) return false;
  for (size_t i = 0; i < paren; ++i) {
    if (s[i] == ' ' || s[i] == '\t') return false;
  }
  return true;
}

// Fluent Bit's built-in regex parsers (flb_ml_parser_{java,python,go,ruby}.c), in native
// syntax. Their `$` also accepts the "\n" a Docker `log` value ends with.
struct BuiltinRule {
  const char* from;
  const char* regex;
  const char* to;
};

constexpr BuiltinRule kJavaRules[] = {
    {"start_state, java_start_exception",
     R"((.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n])", "java_after_exception"},
    {"java_after_exception", R"(^[\t ]*nested exception is:[\t ]*)", "java_start_exception"},
    {"java_after_exception", R"(^[\r\n]*$)", "java_after_exception"},
    {"java_after_exception, java", R"(^[\t ]+(?:eval )?at )", "java"},
    {"java_after_exception, java", R"(^[\t ]+--- End of inner exception stack trace ---\r?\n?$)",
     "java"},
    {"java_after_exception, java",
     R"(^--- End of stack trace from previous location where exception was thrown ---\r?\n?$)",
     "java"},
    {"java_after_exception, java", R"(^[\t ]*(?:Caused by|Suppressed):)", "java_after_exception"},
    {"java_after_exception, java", R"(^[\t ]*... \d+ (?:more|common frames omitted))", "java"},
};

constexpr BuiltinRule kPythonRules[] = {
    {"start_state", R"(^Traceback \(most recent call last\):\r?\n?$)", "python"},
    {"python", R"(^[\t ]+File )", "python_code"},
    {"python_code", R"([^\t ])", "python"},
    {"python", R"(^(?:[^\s.():]+\.)*[^\s.():]+:)", "start_state"},
};

constexpr BuiltinRule kGoRules[] = {
    {"start_state", R"(\bpanic: )", "go_after_panic"},
    {"start_state", R"(http: panic serving)", "go_goroutine"},
    {"go_after_panic, go_after_signal, go_frame_1", R"(^\r?\n?$)", "go_goroutine"},
    {"go_after_panic", R"(^\[signal )", "go_after_signal"},
    {"go_goroutine", R"(^goroutine \d+ \[[^\]]+\]:\r?\n?$)", "go_frame_1"},
    {"go_frame_1", R"(^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by )", "go_frame_2"},
    {"go_frame_2", R"(^\s)", "go_frame_1"},
};

constexpr BuiltinRule kRubyRules[] = {
    {"start_state, ruby_start_exception", R"(^.+:\d+:in\s+.*)", "ruby_after_exception"},
    {"ruby_after_exception, ruby", R"(^\s+from\s+.*:\d+:in\s+.*)", "ruby"},
};

// flb_ml_parser_cri.c's line format: TIME STREAM P|F CONTENT.
constexpr const char* kCriLine = R"(^(.+?) (stdout|stderr) (F|P) (.*)$)";

template <size_t N> std::vector<MultilineRule> builtinRules(const BuiltinRule (&rules)[N]) {
  std::vector<MultilineRule> out;
  for (const BuiltinRule& r : rules) {
    out.push_back({splitNames(r.from), r.regex, r.to});
  }
  return out;
}

} // namespace

struct MultilineRules::Compiled {
  codec::Regex regex;
  bool start = false;
  bool ends = false;         // it leads back to a start rule: the record is complete
  std::vector<int32_t> next; // the rules that may follow it (start rules excepted)
};

MultilineRules::MultilineRules() = default;
MultilineRules::~MultilineRules() = default;

bool MultilineRules::builtin(std::string_view name) {
  return name == "docker" || name == "cri" || name == "go" || name == "python" || name == "java" ||
         name == "ruby";
}

std::vector<std::string> splitNames(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const size_t end = std::min(list.find(','), list.size());
    if (const std::string_view name = core::trim(list.substr(0, end)); !name.empty())
      out.emplace_back(name);
    list.remove_prefix(std::min(end + 1, list.size()));
  }
  return out;
}

std::expected<MultilineRule, std::string> parseMultilineRule(std::string_view text) {
  // "from" "regex" "to": the first and last quoted fields are state names (no quotes in
  // them); whatever lies between the 2nd and the 2nd-to-last quote is the regex.
  text = core::trim(text);
  const size_t a = text.find('"');
  const size_t b = a == std::string_view::npos ? a : text.find('"', a + 1);
  const size_t z = text.rfind('"');
  const size_t y = z == std::string_view::npos || z == 0 ? z : text.rfind('"', z - 1);
  if (a != 0 || b == std::string_view::npos || z != text.size() - 1 ||
      y == std::string_view::npos || y <= b) {
    return std::unexpected("expected \"STATE\" \"REGEX\" \"NEXT_STATE\"");
  }
  const std::string_view middle = core::trim(text.substr(b + 1, y - b - 1));
  if (middle.size() < 2 || middle.front() != '"' || middle.back() != '"') {
    return std::unexpected("expected \"STATE\" \"REGEX\" \"NEXT_STATE\"");
  }
  MultilineRule rule;
  rule.from = splitNames(text.substr(a + 1, b - a - 1));
  rule.regex = std::string(middle.substr(1, middle.size() - 2));
  rule.to = std::string(core::trim(text.substr(y + 1, z - y - 1)));
  if (rule.from.empty() || rule.to.empty() || rule.regex.empty()) {
    return std::unexpected("a rule needs a state, a regex and a next state");
  }
  return rule;
}

std::expected<MultilineParserDef, std::string> parseMultilineParser(std::string name,
                                                                    std::string_view text) {
  MultilineParserDef def{.name = std::move(name), .rules = {}};
  std::string_view rest = core::trim(text);
  for (const auto& [word, type] : {std::pair{"endswith ", MultilineParserDef::Type::kEndsWith},
                                   std::pair{"equal ", MultilineParserDef::Type::kEqual}}) {
    if (!rest.starts_with(word)) continue;
    // endswith "MATCH" [negate]: the string is what lies between the first and last quote.
    rest = core::trim(rest.substr(std::strlen(word)));
    if (rest.ends_with(" negate")) {
      def.negate = true;
      rest = core::trim(rest.substr(0, rest.size() - 7));
    }
    if (rest.size() < 3 || rest.front() != '"' || rest.back() != '"') {
      return std::unexpected(std::string("expected ") + word + "\"STRING\" [negate]");
    }
    def.type = type;
    def.match = std::string(rest.substr(1, rest.size() - 2));
    return def;
  }
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = core::trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    auto rule = parseMultilineRule(line);
    if (!rule) return std::unexpected(fmt::format("'{}': {}", line, rule.error()));
    def.rules.push_back(std::move(*rule));
  }
  if (def.rules.empty()) return std::unexpected("no rules");
  return def;
}

bool MultilineRules::Set::completes(std::string_view line) const {
  const bool matched = kind == SetKind::kEndsWith ? line.ends_with(match) : line == match;
  return matched != negate;
}

std::expected<std::unique_ptr<MultilineRules>, std::string>
MultilineRules::create(const MultilineOptions& options) {
  std::unique_ptr<MultilineRules> rules(new MultilineRules());
  rules->timeout_ = options.timeout;
  const int given = !options.start.empty() + !options.preset.empty() + !options.parsers.empty();
  if (given > 1) return std::unexpected("multiline: give one of start, preset or parser");
  if (!options.start.empty()) {
    auto re = codec::Regex::compile(options.start);
    if (!re) return std::unexpected("multiline.start: " + re.error());
    rules->start_ = std::make_unique<codec::Regex>(std::move(*re));
  } else if (options.preset == "java") {
    rules->preset_ = Preset::kJava;
  } else if (options.preset == "python") {
    rules->preset_ = Preset::kPython;
  } else if (options.preset == "go") {
    rules->preset_ = Preset::kGo;
  } else if (!options.preset.empty()) {
    return std::unexpected("multiline.preset: unknown preset '" + options.preset +
                           "' (expected java, python or go)");
  }
  for (const std::string& name : options.parsers) {
    std::expected<void, std::string> added;
    if (name == "docker" || name == "cri") {
      Set set;
      set.kind = name == "docker" ? SetKind::kDocker : SetKind::kCri;
      if (set.kind == SetKind::kCri && !rules->cri_) {
        auto re = codec::Regex::compile(kCriLine, {.log_engine = false});
        if (!re) return std::unexpected("multiline: cri: " + re.error());
        rules->cri_ = std::make_unique<codec::Regex>(std::move(*re));
      }
      rules->sets_.push_back(std::move(set));
    } else if (name == "java") {
      added = rules->addParser(name, builtinRules(kJavaRules));
    } else if (name == "python") {
      added = rules->addParser(name, builtinRules(kPythonRules));
    } else if (name == "go") {
      added = rules->addParser(name, builtinRules(kGoRules));
    } else if (name == "ruby") {
      added = rules->addParser(name, builtinRules(kRubyRules));
    } else {
      auto def = std::find_if(options.custom.begin(), options.custom.end(),
                              [&](const auto& d) { return d.name == name; });
      if (def == options.custom.end()) {
        return std::unexpected("multiline.parser: unknown parser '" + name +
                               "' (built in: docker, cri, go, python, java, ruby)");
      }
      if (def->type == MultilineParserDef::Type::kRegex) {
        added = rules->addParser(name, def->rules);
      } else {
        if (def->match.empty()) return std::unexpected("multiline parser '" + name + "': no match");
        rules->sets_.push_back(Set{.kind = def->type == MultilineParserDef::Type::kEndsWith
                                               ? SetKind::kEndsWith
                                               : SetKind::kEqual,
                                   .starts = {},
                                   .match = def->match,
                                   .negate = def->negate});
      }
    }
    if (!added) return std::unexpected(added.error());
  }
  return rules;
}

std::expected<void, std::string>
MultilineRules::addParser(const std::string& name, const std::vector<MultilineRule>& rules) {
  const auto first = static_cast<int32_t>(rules_.size());
  Set set;
  for (const MultilineRule& r : rules) {
    auto re = codec::Regex::compile(r.regex);
    if (!re)
      return std::unexpected("multiline parser '" + name + "': rule /" + r.regex +
                             "/: " + re.error());
    const bool start = std::find(r.from.begin(), r.from.end(), "start_state") != r.from.end();
    if (start) set.starts.push_back(static_cast<int32_t>(rules_.size()));
    rules_.push_back(Compiled{std::move(*re), start, false, {}});
  }
  if (set.starts.empty()) {
    return std::unexpected("multiline parser '" + name + "': no rule starts from start_state");
  }
  // Each rule's successors: the rules whose states include the state it leads to.
  for (size_t i = 0; i < rules.size(); ++i) {
    Compiled& c = rules_[first + i];
    bool known = false;
    for (size_t j = 0; j < rules.size(); ++j) {
      const auto& from = rules[j].from;
      if (std::find(from.begin(), from.end(), rules[i].to) == from.end()) continue;
      known = true;
      if (rules_[first + j].start)
        c.ends = true;
      else
        c.next.push_back(static_cast<int32_t>(first + j));
    }
    if (!known && rules[i].to != "start_state") {
      return std::unexpected("multiline parser '" + name + "': no rule starts from state '" +
                             rules[i].to + "'");
    }
    if (rules[i].to == "start_state") c.ends = true;
  }
  sets_.push_back(std::move(set));
  return {};
}

LineClass MultilineRules::classify(std::string_view line, MultilineState& state) const {
  if (!sets_.empty()) return fluentBit(line, state);
  LineRole role = LineRole::kStart;
  switch (preset_) {
  case Preset::kJava:
    role = java(line, state);
    break;
  case Preset::kPython:
    role = python(line, state);
    break;
  case Preset::kGo:
    role = go(line, state);
    break;
  case Preset::kNone:
    role = start_->search(line) ? LineRole::kStart : LineRole::kContinuation;
    break;
  }
  return {role, line, false};
}

LineClass MultilineRules::fluentBit(std::string_view line, MultilineState& state) const {
  // A docker/cri partial, or an endswith/equal record, in progress takes the next line of
  // its stream.
  if (state.partial_set >= 0) {
    const int32_t s = std::exchange(state.partial_set, -1);
    if (sets_[s].kind == SetKind::kEndsWith || sets_[s].kind == SetKind::kEqual) {
      if (sets_[s].completes(line)) return {LineRole::kLast, line, false};
      state.partial_set = s;
      return {LineRole::kContinuation, line, false};
    }
    if (sets_[s].kind == SetKind::kDocker) {
      if (line.ends_with('\n')) return {LineRole::kLast, line, true};
      state.partial_set = s;
      return {LineRole::kContinuation, line, true};
    }
    std::string_view groups[5];
    if (cri_->search(line, groups)) {
      if (groups[3] == "F") return {LineRole::kLast, groups[4], true};
      state.partial_set = s;
      return {LineRole::kContinuation, groups[4], true};
    }
  }
  if (state.rule >= 0) {
    for (int32_t j : rules_[state.rule].next) {
      if (rules_[j].regex.search(line)) {
        state.rule = j;
        return {rules_[j].ends ? LineRole::kLast : LineRole::kContinuation, line, false};
      }
    }
  }
  state.rule = -1;
  for (size_t s = 0; s < sets_.size(); ++s) {
    const Set& set = sets_[s];
    switch (set.kind) {
    case SetKind::kRegex:
      for (int32_t j : set.starts) {
        if (rules_[j].regex.search(line)) {
          state.rule = j;
          return {rules_[j].ends ? LineRole::kSingle : LineRole::kStart, line, false};
        }
      }
      break;
    case SetKind::kDocker:
      if (line.ends_with('\n')) return {LineRole::kSingle, line, true};
      state.partial_set = static_cast<int32_t>(s);
      return {LineRole::kStart, line, true};
    case SetKind::kEndsWith:
    case SetKind::kEqual:
      // Every line joins: the record ends at the first that completes it.
      if (set.completes(line)) return {LineRole::kSingle, line, false};
      state.partial_set = static_cast<int32_t>(s);
      return {LineRole::kStart, line, false};
    case SetKind::kCri: {
      std::string_view groups[5];
      if (!cri_->search(line, groups)) break;
      if (groups[3] == "F") return {LineRole::kSingle, groups[4], true};
      state.partial_set = static_cast<int32_t>(s);
      return {LineRole::kStart, groups[4], true};
    }
    }
  }
  return {LineRole::kSingle, line, false};
}

LineRole MultilineRules::java(std::string_view line, MultilineState&) const {
  const std::string_view t = trimLeft(line);
  if (indented(line) && (t.starts_with("at ") || t.starts_with("... "))) {
    return LineRole::kContinuation;
  }
  if (t.starts_with("Caused by: ") || t.starts_with("Suppressed: ")) return LineRole::kContinuation;
  if (!indented(line) && !line.empty() &&
      re2::RE2::FullMatch(re2::StringPiece(line.data(), line.size()), javaExceptionLine())) {
    return LineRole::kContinuation;
  }
  return LineRole::kStart;
}

LineRole MultilineRules::python(std::string_view line, MultilineState& state) const {
  enum : uint8_t { kNormal = 0, kTraceback = 1, kAfterException = 2 };
  if (line.starts_with("Traceback (most recent call last):")) {
    state.phase = kTraceback;
    return LineRole::kContinuation;
  }
  switch (state.phase) {
  case kTraceback:
    // Frames and source lines are indented; the first line that is not names the exception.
    if (!indented(line)) state.phase = kAfterException;
    return LineRole::kContinuation;
  case kAfterException:
    if (line.empty() ||
        line.starts_with("During handling of the above exception, another exception occurred") ||
        line.starts_with("The above exception was the direct cause of the following exception")) {
      return LineRole::kContinuation;
    }
    state.phase = kNormal;
    return LineRole::kStart;
  default:
    return LineRole::kStart;
  }
}

LineRole MultilineRules::go(std::string_view line, MultilineState& state) const {
  enum : uint8_t { kNormal = 0, kPanic = 1 };
  if (line.starts_with("panic: ") || line.starts_with("fatal error: ")) {
    state.phase = kPanic;
    return LineRole::kStart;
  }
  if (state.phase == kPanic) {
    if (line.empty() || indented(line) || line.starts_with("goroutine ") ||
        line.starts_with("created by ") || line.starts_with("[signal ") ||
        line.starts_with("exit status ") || line.starts_with("...additional frames elided...") ||
        goFrame(line)) {
      return LineRole::kContinuation;
    }
    state.phase = kNormal;
  }
  return LineRole::kStart;
}

} // namespace ferry::input
