// `ferry tail [--json] [--parser P] [--level L] [--where K=V]... [--multiline PRESET]
// [--from-head] PATH...`: the tail input with a tiny InputContext that prints each batch as
// it arrives, in the `stdout` sink's pretty form (coloured on a terminal) or as JSON lines.
// Without --parser each line is looked at on its own: a JSON object, else logfmt (every
// token key=value), else text; the record's own time and level are shown. No pipeline, no
// position database; a closed stdout (`| head`) or SIGINT/SIGTERM ends it with exit code 0.
#include "tail_command.h"

#include <glob.h>
#include <signal.h>
#include <unistd.h>

#include <msgpack.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <stdexcept>

#include "fd_limit.h"
#include "ferry/codec/json.h"
#include "ferry/codec/parsers.h"
#include "ferry/codec/pretty.h"
#include "ferry/input/tail.h"
#include "ferry/obs/log.h"
#include "ferry/obs/metrics.h"

namespace ferry::daemon {
namespace {

constexpr const char* kUsage =
    R"(Usage: ferry tail [--json] [--parser auto|none|json|logfmt] [--level LEVEL]
                  [--where KEY=VALUE]... [--multiline java|python|go] [--from-head] PATH...

Follows the files (globs allowed; files that do not exist yet are waited for) through
rotation and prints each record: its time, level, message and fields (coloured on a
terminal). Each line is recognised on its own: a JSON object, else logfmt (every word a
key=value pair), else text. The time and level shown are the record's own (keys time,
timestamp, ts, @timestamp; level, severity, lvl), else the time the line was read.
Several files: each line starts with its file's name. Files are read from their end unless
--from-head. Ctrl-C stops it.

  --json            print each record as one JSON object per line instead (its time in
                    "date"; with several files, "file" first); lines are recognised as above
  --parser P        auto (the default, as above); none: every line is text; json or
                    logfmt: that format only (other lines stay text)
  --level LEVEL     only records at LEVEL or above: trace, debug, info, warn, error, fatal
                    (warning, err, critical, panic and pino's numbers are understood too);
                    records without a level are left out
  --where KEY=VALUE only records whose field KEY is VALUE (KEY!=VALUE: is not); a.b looks
                    inside the map a; text lines have one field, log. Repeatable: all must hold
)";

// One --where: the field named by `key` (a.b: b inside the map a, unless a key "a.b"
// exists) is, or with negate is not, `value`.
struct Condition {
  std::string key;
  std::vector<std::string> path; // key split at its dots
  std::string value;
  bool negate = false;
};

std::optional<Condition> parseCondition(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return std::nullopt;
  Condition c;
  c.negate = text[eq - 1] == '!';
  c.key = std::string(text.substr(0, c.negate ? eq - 1 : eq));
  if (c.key.empty()) return std::nullopt;
  c.value = std::string(text.substr(eq + 1));
  for (size_t start = 0;;) {
    const size_t dot = c.key.find('.', start);
    c.path.push_back(c.key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return c;
}

std::string_view textOf(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
  if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
  return {};
}

const msgpack::object* member(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    if (textOf(map.via.map.ptr[i].key) == key) return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

// A field's value as --where compares it: a string as it is, anything else as JSON (200,
// true, null, {"a":1}). nullopt when the record has no such field.
std::optional<std::string> fieldText(const msgpack::object& record, const Condition& c) {
  const msgpack::object* v = member(record, c.key);
  if (!v && c.path.size() > 1) {
    v = &record;
    for (const auto& part : c.path) {
      v = member(*v, part);
      if (!v) break;
    }
  }
  if (!v) return std::nullopt;
  if (v->type == msgpack::type::STR || v->type == msgpack::type::BIN)
    return std::string(textOf(*v));
  msgpack::sbuffer packed;
  msgpack::pack(packed, *v);
  core::ByteBuffer json;
  if (codec::appendMsgpackAsJson(json, std::string_view(packed.data(), packed.size())) == 0)
    return std::nullopt;
  return std::string(json.view());
}

struct ViewOptions {
  bool json = false;
  bool color = false;
  bool detect = true; // --parser auto
  bool labels = false;
  codec::Level min_level = codec::Level::kUnknown;
  std::vector<Condition> where;
  std::vector<std::string> patterns; // the PATH arguments, to name the files by
};

// Prints what the tail input pushes; the batch is then resolved as delivered.
class PrintContext final : public input::InputContext {
public:
  explicit PrintContext(ViewOptions options) : options_(std::move(options)) {
    pretty_.color = options_.color;
    pretty_.record_time = true;
    json_parser_ = std::move(*codec::makeLineParser({.type = "json"}));
    logfmt_parser_ = std::move(*codec::makeLineParser({.type = "logfmt"}));
    // The files there now are named at once, so that the labels line up from the start.
    if (options_.labels) {
      for (const auto& path : matches())
        labelFor(flatten(path));
    }
  }

  bool push(core::BatchRef batch) override {
    out_.clear();
    const std::string_view label = options_.labels ? labelFor(batch->tag()) : std::string_view();
    for (size_t i = 0; i < batch->size(); ++i) {
      core::RecordView r = batch->record(i);
      core::RecordFormat format = batch->format();
      if (options_.detect && format == core::RecordFormat::kLine && recognise(r.data)) {
        r.data = scratch_.view();
        format = core::RecordFormat::kMsgpackMap;
      }
      if (!wanted(format, r)) continue;
      if (options_.json) {
        appendJson(format, r, label);
      } else {
        if (!label.empty()) appendLabel(label);
        codec::appendPretty(out_, format, r, pretty_);
      }
    }
    writeOut();
    batch->expectOutputs(0); // nothing else will deliver it: it is delivered
    return true;
  }
  bool paused() const override { return false; }
  const std::string& name() const override { return name_; }
  uint32_t id() const override { return 0; }
  obs::Metrics& metrics() override { return metrics_; }

  bool broken() const { return broken_.load(); }

private:
  // A JSON object, else logfmt whose every word is key=value (a bare word is what text
  // has: "GET /health took 3ms" is no logfmt), into scratch_. False: it stays text.
  bool recognise(std::string_view line) {
    int64_t ts = 0;
    scratch_.clear();
    if (json_parser_->parse(line, ts, scratch_) == codec::ParseStatus::kParsed) return true;
    scratch_.clear();
    if (logfmt_parser_->parse(line, ts, scratch_) != codec::ParseStatus::kParsed) return false;
    try {
      const auto handle = msgpack::unpack(scratch_.data(), scratch_.size());
      const auto& map = handle.get().via.map;
      for (uint32_t i = 0; i < map.size; ++i) {
        if (map.ptr[i].val.type == msgpack::type::BOOLEAN) return false; // a bare word
      }
    } catch (const std::exception&) {
      return false;
    }
    return true;
  }

  bool wanted(core::RecordFormat format, const core::RecordView& r) const {
    if (options_.min_level != codec::Level::kUnknown) {
      const codec::Level level = codec::recordLevel(format, r);
      if (level == codec::Level::kUnknown || level < options_.min_level) return false;
    }
    if (options_.where.empty()) return true;
    msgpack::object_handle handle;
    if (format != core::RecordFormat::kLine) {
      try {
        handle = msgpack::unpack(r.data.data(), r.data.size());
      } catch (const std::exception&) {
        return false;
      }
    }
    for (const Condition& c : options_.where) {
      // A text line's one field is log.
      const auto v = format == core::RecordFormat::kLine
                         ? (c.key == "log" ? std::optional<std::string>(r.data) : std::nullopt)
                         : fieldText(handle.get(), c);
      if ((v && *v == c.value) == c.negate) return false;
    }
    return true;
  }

  // A short name for the file a batch came from (each batch holds one file's lines; its tag
  // is the path with '/' as '.'): its base name, or the whole path when two files share it.
  std::string_view labelFor(const std::string& tag) {
    auto it = labels_.find(tag);
    if (it != labels_.end()) return it->second;
    std::string path = tag;
    for (const auto& match : matches()) {
      if (flatten(match) == tag) path = match;
    }
    const size_t slash = path.rfind('/');
    std::string label = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!used_labels_.insert(label).second) label = path;
    width_ = std::max(width_, label.size());
    return labels_.emplace(tag, std::move(label)).first->second;
  }

  // The files the PATH arguments match now.
  std::vector<std::string> matches() const {
    std::vector<std::string> out;
    for (const auto& pattern : options_.patterns) {
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        out.insert(out.end(), g.gl_pathv, g.gl_pathv + g.gl_pathc);
      ::globfree(&g);
    }
    return out;
  }

  // The tag the tail input gives a path's batches with tag "*".
  static std::string flatten(std::string path) {
    path.erase(0, path.find_first_not_of('/'));
    std::replace(path.begin(), path.end(), '/', '.');
    return path;
  }

  void appendLabel(std::string_view label) {
    if (options_.color) out_.append("\x1b[36m");
    out_.append(label);
    for (size_t n = label.size(); n < width_; ++n)
      out_.push_back(' ');
    if (options_.color) out_.append("\x1b[0m");
    out_.append(" | ");
  }

  // One JSON object, its time the record's own; with several files a "file" field (the
  // label) comes first, so that the lines stay JSON.
  void appendJson(core::RecordFormat format, core::RecordView r, std::string_view label) {
    if (const auto t = codec::recordTime(format, r)) r.timestamp_ns = *t;
    json_scratch_.clear();
    if (!codec::appendRecordJson(json_scratch_, format, r, json_options_)) return;
    const std::string_view object = json_scratch_.view();
    if (label.empty()) {
      out_.append(object);
    } else {
      out_.append("{\"file\":");
      codec::appendJsonString(out_, label);
      if (object.size() > 2) out_.push_back(',');
      out_.append(object.substr(1));
    }
    out_.push_back('\n');
  }

  void writeOut() {
    size_t done = 0;
    while (done < out_.size() && !broken_.load()) {
      const ssize_t n = ::write(STDOUT_FILENO, out_.data() + done, out_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken_.store(true); // the reader went away (`| head`): time to stop
        return;
      }
      done += static_cast<size_t>(n);
    }
  }

  ViewOptions options_;
  codec::PrettyOptions pretty_;
  codec::RecordJsonOptions json_options_;
  codec::LineParserPtr json_parser_;
  codec::LineParserPtr logfmt_parser_;
  core::ByteBuffer scratch_;
  core::ByteBuffer json_scratch_;
  core::ByteBuffer out_;
  std::map<std::string, std::string, std::less<>> labels_;
  std::set<std::string> used_labels_;
  size_t width_ = 0;
  std::string name_ = "tail";
  obs::Metrics metrics_;
  std::atomic<bool> broken_{false};
};

int usageError(const std::string& message) {
  std::fprintf(stderr, "ferry tail: %s\n\n%s", message.c_str(), kUsage);
  return 1;
}

} // namespace

int tailCommand(const std::vector<std::string>& args) {
  input::TailInputConfig config;
  config.tag = "*"; // the path: labelFor() names the files by it
  ViewOptions view;
  std::string parser = "auto";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // --flag VALUE or --flag=VALUE; nullopt (a usage error) when the value is missing.
    std::optional<std::string> value;
    auto takes = [&](const std::string& flag) {
      if (a.starts_with(flag + "=")) {
        value = a.substr(flag.size() + 1);
      } else if (a != flag) {
        return false;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      }
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--json") {
      view.json = true;
    } else if (a == "--from-head") {
      config.read_from_head = true;
    } else if (takes("--parser") || takes("--multiline") || takes("--level") || takes("--where")) {
      const std::string flag = a.substr(0, a.find('='));
      if (!value) return usageError(flag + " needs a value");
      if (flag == "--parser") {
        if (*value != "auto" && *value != "none" && *value != "json" && *value != "logfmt") {
          return usageError("--parser: unknown parser '" + *value +
                            "' (expected auto, none, json or logfmt)");
        }
        parser = *value;
      } else if (flag == "--multiline") {
        config.multiline.preset = *value;
      } else if (flag == "--level") {
        view.min_level = codec::parseLevel(*value);
        if (view.min_level == codec::Level::kUnknown) {
          return usageError("--level: unknown level '" + *value +
                            "' (expected trace, debug, info, warn, error or fatal)");
        }
      } else {
        auto c = parseCondition(*value);
        if (!c)
          return usageError("--where: expected KEY=VALUE or KEY!=VALUE, got '" + *value + "'");
        view.where.push_back(std::move(*c));
      }
    } else if (a.starts_with("-") && a != "-") {
      return usageError("unknown option '" + a + "'");
    } else {
      config.paths.push_back(a);
    }
  }
  if (config.paths.empty()) return usageError("which files? Give at least one PATH.");
  view.detect = parser == "auto";
  config.parser.type = view.detect ? "none" : parser; // auto: lines, recognised one by one
  view.patterns = config.paths;
  view.labels = config.paths.size() > 1 ||
                std::any_of(config.paths.begin(), config.paths.end(), [](const std::string& p) {
                  return p.find_first_of("*?[") != std::string::npos;
                });
  config.db_path.clear(); // nothing to resume: a terminal session starts where the files end

  // Signals are taken by this thread: block them before the input's thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  obs::setLogLevel(
      obs::LogLevel::kWarn); // the records are the output; ferry's notes only when they matter
  raiseFdLimit();

  view.color = !view.json && ::isatty(STDOUT_FILENO) == 1;
  PrintContext context(std::move(view));
  std::unique_ptr<input::TailInput> tail;
  try {
    tail = std::make_unique<input::TailInput>(std::move(config));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "ferry tail: %s\n", e.what());
    return 1;
  }
  try {
    tail->start(context);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry tail: %s\n", e.what());
    return 2;
  }
  const timespec tick{0, 100'000'000};
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT || context.broken()) break;
  }
  tail->stop();
  tail->join();
  return 0;
}

} // namespace ferry::daemon
