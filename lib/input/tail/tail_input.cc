// The `tail` input's option table (what `ferry validate` and the README show), the section →
// TailInputConfig reading, and the Input wrapper that runs the engine on its own thread.
#include "ferry/input/tail.h"

#include <stdexcept>

#include "ferry/config/config.h"
#include "ferry/config/units.h"
#include "tail_engine.h"

namespace ferry::input {
namespace {

using config::OptionType;

std::string dbPathFor(const std::string& name, const std::string& state_dir) {
  // tail.db for the input named "tail"; tail.<n>.db or tail.<name>.db for the others, so
  // that two tail inputs never share (and overwrite) one database.
  std::string file;
  if (name.empty() || name == "tail") {
    file = "tail.db";
  } else if (name.starts_with("tail.")) {
    file = name + ".db";
  } else {
    file = "tail." + name + ".db";
  }
  for (char& c : file) {
    if (c == '/') c = '_';
  }
  return (state_dir.empty() ? std::string(".") : state_dir) + "/" + file;
}

std::expected<MultilineOptions, std::string>
multilineFromMap(const std::map<std::string, std::string>& map) {
  MultilineOptions m;
  for (const auto& [key, value] : map) {
    if (key == "start") {
      m.start = value;
    } else if (key == "preset") {
      m.preset = value;
    } else if (key == "parser") { // Fluent Bit's built-in parsers, comma-separated
      m.parsers = splitNames(value);
    } else if (key == "timeout") {
      const auto ms = config::parseDuration(value);
      if (!ms) return std::unexpected("multiline.timeout: " + ms.error());
      if (*ms <= 0) return std::unexpected("multiline.timeout: must be more than 0");
      m.timeout = std::chrono::milliseconds(*ms);
    } else {
      return std::unexpected("multiline." + key +
                             ": unknown key (expected start, preset, parser or timeout)");
    }
  }
  if (!map.empty() && !m.enabled()) {
    return std::unexpected("multiline: needs start (a regex), preset (java, python, go) or "
                           "parser (docker, cri, go, python, java, ruby)");
  }
  if (!m.start.empty() + !m.preset.empty() + !m.parsers.empty() > 1) {
    return std::unexpected("multiline: give one of start, preset or parser");
  }
  return m;
}

} // namespace

const config::OptionTable& tailInputOptions() {
  static const config::OptionTable table = {
      {.name = "path",
       .type = OptionType::kStringList,
       .required = true,
       .doc = "Files to follow: a glob or a list of globs (*, ?, [abc], {a,b}). Files that "
              "appear later are found by inotify on the globs' directories and by a rescan "
              "every refresh_interval."},
      {.name = "exclude_path",
       .type = OptionType::kStringList,
       .doc = "Globs of files to leave out, matched against the whole path or the file name "
              "(e.g. \"*.gz\")."},
      {.name = "tag",
       .type = OptionType::kString,
       .default_value = "tail",
       .doc = "Tag of the records. A '*' is replaced by the file's path with '/' turned into "
              "'.' and the leading '/' dropped, as Fluent Bit does: 'app.*' for "
              "/var/log/a.log gives 'app.var.log.a.log'."},
      {.name = "path_key",
       .type = OptionType::kString,
       .doc = "When set, every record carries the file's path in this field (records become "
              "maps: {log, <path_key>} without a parser)."},
      {.name = "read_from_head",
       .type = OptionType::kBool,
       .default_value = "false",
       .doc = "false: on the first start (no position database yet) the files found are read "
              "from their end. Files that appear later are always read from their start, and "
              "so are files the database does not know once it exists (a file created or "
              "rotated in while ferry was stopped loses no line). true: read everything from "
              "the start."},
      {.name = "parser",
       .type = OptionType::kEnum,
       .default_value = "none",
       .enum_values = {"none", "json", "logfmt", "regex"},
       .doc = "none: field log; json: the object's fields (other lines keep log, counted in "
              "ferry_input_parse_errors_total); logfmt: key=value pairs; regex: the named "
              "groups of `regex`."},
      {.name = "regex",
       .type = OptionType::kString,
       .doc = "For parser: regex. RE2 syntax, searched in the line; each named group "
              "(?P<name>...) becomes a field."},
      {.name = "time_key",
       .type = OptionType::kString,
       .doc = "Field whose value is the record's time (the field is kept). Unreadable or "
              "missing times keep the read time and are counted as parse errors."},
      {.name = "time_format",
       .type = OptionType::kString,
       .default_value = "iso8601",
       .doc = "iso8601, epoch (seconds, fraction allowed), epoch_ms, or a strptime pattern "
              "read as Fluent Bit does (%Y-%m-%d %H:%M:%S.%L %z; text after the pattern is "
              "ignored; UTC unless %z). JSON numbers are epoch seconds (ms for epoch_ms; a "
              "pattern takes none, as Fluent Bit)."},
      {.name = "multiline",
       .type = OptionType::kStringMap,
       .doc = "Join lines into one record: {start: REGEX} (a record begins at a line that "
              "matches; the others are appended with '\\n') or {preset: java|python|go} "
              "(stack traces) or {parser: go,java} (Fluent Bit's built-in multiline parsers: "
              "docker, cri, go, python, java, ruby, with its semantics), with timeout "
              "(default 2s): a pending record goes out after "
              "this long without a new line. A record stops growing at max_line_bytes."},
      {.name = "max_line_bytes",
       .type = OptionType::kSize,
       .default_value = "1MiB",
       .min_value = 16,
       .max_value = 64ll << 20,
       .doc = "Longest record; longer lines are handled by long_lines and counted."},
      {.name = "long_lines",
       .type = OptionType::kEnum,
       .default_value = "split",
       .enum_values = {"split", "truncate"},
       .doc = "split: cut into several records (ferry_input_lines_split_total); truncate: "
              "keep the first max_line_bytes, drop the rest (ferry_input_lines_truncated_total)."},
      {.name = "idle_flush",
       .type = OptionType::kDuration,
       .default_value = "5s",
       .min_value = 1,
       .max_value = 24ll * 3600 * 1000,
       .doc = "A last line without its newline is held until completed, or sent as it is "
              "after this long without new bytes."},
      {.name = "refresh_interval",
       .type = OptionType::kDuration,
       .default_value = "1s",
       .min_value = 10,
       .max_value = 3600 * 1000,
       .doc = "How often the globs are scanned again and every followed name is checked for "
              "rotation and truncation (inotify catches most of it sooner)."},
      {.name = "rotate_wait",
       .type = OptionType::kDuration,
       .default_value = "5s",
       .min_value = 0,
       .max_value = 3600 * 1000,
       .doc = "A rotated or deleted file is kept open this long after its last new byte, for "
              "writers that have not reopened yet."},
      {.name = "max_open_files",
       .type = OptionType::kInt,
       .default_value = "0",
       .min_value = 0,
       .max_value = 1 << 20,
       .doc = "Files held open at once; beyond it the least recently read are closed and "
              "reopened (same device and inode, same offset) when they grow, every file with "
              "new bytes taking its turn. 0: half the open-files limit, at most 1024 (the "
              "rest stays for storage, positions and the HTTP server; set it when several "
              "tail inputs share the limit)."},
      {.name = "db",
       .type = OptionType::kString,
       .doc = "Position database. Default: tail.db in service.storage.path, else beside the "
              "config file (tail.<name>.db for inputs not named 'tail')."},
      {.name = "inotify",
       .type = OptionType::kBool,
       .default_value = "true",
       .doc = "Use inotify to learn of writes and new files; false (or inotify unavailable) "
              "polls files every 250 ms."},
      {.name = "exit_on_eof",
       .type = OptionType::kBool,
       .default_value = "false",
       .doc = "Stop once the files found at start are read to their end (benchmarks, batch "
              "jobs); ferry exits when every input has finished."},
  };
  return table;
}

std::expected<TailInputConfig, std::string> tailSettings(const config::Section& section,
                                                         const std::string& state_dir) {
  TailInputConfig c;
  c.paths = section.getList("path");
  c.exclude_paths = section.getList("exclude_path");
  c.tag = section.getString("tag");
  c.path_key = section.getString("path_key");
  c.read_from_head = section.getBool("read_from_head");
  c.parser.type = section.getString("parser");
  c.parser.regex = section.getString("regex");
  c.parser.time_key = section.getString("time_key");
  c.parser.time_format = section.getString("time_format");
  auto multiline = multilineFromMap(section.getMap("multiline"));
  if (!multiline) return std::unexpected(multiline.error());
  c.multiline = std::move(*multiline);
  c.max_line_bytes = static_cast<size_t>(section.getInt("max_line_bytes"));
  c.long_lines = section.getString("long_lines") == "truncate" ? LongLineMode::kTruncate
                                                               : LongLineMode::kSplit;
  c.idle_flush = std::chrono::milliseconds(section.getInt("idle_flush"));
  c.refresh_interval = std::chrono::milliseconds(section.getInt("refresh_interval"));
  c.rotate_wait = std::chrono::milliseconds(section.getInt("rotate_wait"));
  c.db_path = section.has("db") && !section.getString("db").empty()
                  ? section.getString("db")
                  : dbPathFor(section.name, state_dir);
  c.max_open_files = static_cast<size_t>(section.getInt("max_open_files"));
  c.inotify = section.getBool("inotify");
  c.exit_on_eof = section.getBool("exit_on_eof");
  if (c.paths.empty()) return std::unexpected("path: at least one glob is needed");
  if (c.parser.type == "regex" && c.parser.regex.empty()) {
    return std::unexpected("regex: parser regex needs a regex");
  }
  if (c.parser.type != "regex" && !c.parser.regex.empty()) {
    return std::unexpected("regex: only used with parser: regex");
  }
  // What TailEngine compiles when it is built: a regex or time format it would refuse is a
  // config error here, before anything starts.
  if (auto parser = codec::makeLineParser(c.parser); !parser) {
    return std::unexpected(parser.error());
  }
  if (c.multiline.enabled()) {
    if (auto rules = MultilineRules::create(c.multiline); !rules) {
      return std::unexpected(rules.error());
    }
  }
  return c;
}

TailInputConfig tailConfigFromSection(const config::Section& section,
                                      const std::string& state_dir) {
  auto c = tailSettings(section, state_dir);
  if (!c) throw std::invalid_argument(config::sectionDiagnostic(section, c.error()).format());
  return std::move(*c);
}

InputPtr makeTailInput(const config::Section& section, const std::string& state_dir) {
  auto config = tailConfigFromSection(section, state_dir);
  try {
    return std::make_unique<TailInput>(std::move(config));
  } catch (const std::invalid_argument& e) {
    // Where it was declared, as config errors say it.
    throw std::invalid_argument(config::sectionDiagnostic(section, e.what()).format());
  }
}

TailInput::TailInput(TailInputConfig config) : exit_on_eof_(config.exit_on_eof) {
  engine_ = std::make_unique<TailEngine>(std::move(config));
}

TailInput::~TailInput() {
  stop();
  join();
}

void TailInput::start(InputContext& context) {
  engine_->start(context);
  thread_ = std::thread([this] {
    engine_->run();
    finished_.store(true);
  });
}

void TailInput::stop() {
  engine_->stop();
}

void TailInput::join() {
  if (thread_.joinable()) thread_.join();
}

} // namespace ferry::input
