// Multiline rules: a user's start regex, or a preset that knows one runtime's stack traces.
//   java   "\tat ...", "\t... 12 more", "Caused by: ...", "Suppressed: ...", and an exception
//          line ("java.lang.IllegalStateException: boom") continue the record above them.
//   python "Traceback (most recent call last):", its indented lines, the exception line that
//          ends it, and the blank/"During handling..." lines of chained exceptions.
//   go     a "panic: " or "fatal error: " line starts a record that takes the goroutine dump
//          (blank lines, "goroutine N [...]:", frames, tab-indented file lines, "exit status").
#include <re2/re2.h>

#include "ferry/codec/regex.h"
#include "ferry/input/tail_lines.h"

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

} // namespace

MultilineRules::~MultilineRules() = default;

std::expected<std::unique_ptr<MultilineRules>, std::string>
MultilineRules::create(const MultilineOptions& options) {
  std::unique_ptr<MultilineRules> rules(new MultilineRules());
  rules->timeout_ = options.timeout;
  if (!options.start.empty() && !options.preset.empty()) {
    return std::unexpected("multiline: give either start or preset, not both");
  }
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
  } else {
    return std::unexpected("multiline.preset: unknown preset '" + options.preset +
                           "' (expected java, python or go)");
  }
  return rules;
}

LineRole MultilineRules::classify(std::string_view line, MultilineState& state) const {
  switch (preset_) {
  case Preset::kJava:
    return java(line, state);
  case Preset::kPython:
    return python(line, state);
  case Preset::kGo:
    return go(line, state);
  case Preset::kNone:
    break;
  }
  return start_->search(line) ? LineRole::kStart : LineRole::kContinuation;
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
