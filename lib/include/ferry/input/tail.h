// The `tail` input: follows files matched by globs through rotation (rename, copytruncate,
// deletion, re-creation), one record per line or per multiline record, optionally parsed,
// and saves per-file positions once the records before them are delivered (tail.db).
// Limits: lines over max_line_bytes are split or truncated; push() blocks under
// backpressure, and then the input simply stops reading (nothing is dropped).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ferry/codec/parsers.h"
#include "ferry/config/options.h"
#include "ferry/input/input.h"
#include "ferry/input/tail_lines.h"

namespace ferry::input {

struct TailInputConfig {
  std::vector<std::string> paths;         // globs
  std::vector<std::string> exclude_paths; // globs matched against the whole path
  std::string tag = "tail";               // a '*' is replaced by the path, '/' → '.'
  std::string path_key;                   // "" = no path field
  bool read_from_head = false;
  std::chrono::milliseconds refresh_interval{1000};
  std::chrono::milliseconds rotate_wait{5000};
  std::chrono::milliseconds idle_flush{5000};
  size_t max_line_bytes = 1024 * 1024;
  LongLineMode long_lines = LongLineMode::kSplit;
  codec::ParserOptions parser;
  MultilineOptions multiline;
  size_t max_open_files = 0; // descriptors held at once; 0 = defaultMaxOpenFiles()
  std::string db_path;       // "" = positions in memory only
  bool inotify = true;
  bool exit_on_eof = false;
};

const config::OptionTable& tailInputOptions();
// Reads a validated section; state_dir is where tail.db goes when `db` is not set. Opens
// nothing (the registry's settings check runs it too) but compiles what TailEngine will (the
// parser, the multiline rules); an error names the key for what the option types cannot
// check: "multiline.start: missing )", "regex: ...", "time_format: ...".
std::expected<TailInputConfig, std::string> tailSettings(const config::Section& section,
                                                         const std::string& state_dir);
// The same, throwing std::invalid_argument naming the file and line too.
TailInputConfig tailConfigFromSection(const config::Section& section, const std::string& state_dir);
InputPtr makeTailInput(const config::Section& section, const std::string& state_dir);

class TailEngine;

class TailInput final : public Input {
public:
  // Throws std::invalid_argument on a bad parser or multiline setting.
  explicit TailInput(TailInputConfig config);
  ~TailInput() override;

  // Opens the files found now, loads and saves the position database, starts the thread.
  // Throws std::runtime_error when the position database cannot be read or written.
  void start(InputContext& context) override;
  void stop() override;
  void join() override;
  bool finite() const override { return exit_on_eof_; }
  bool finished() const override { return finished_.load(); }

private:
  std::unique_ptr<TailEngine> engine_;
  std::thread thread_;
  bool exit_on_eof_;
  std::atomic<bool> finished_{false};
};

} // namespace ferry::input
