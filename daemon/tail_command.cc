// `ferry tail [--json] [--parser P] [--multiline PRESET] [--from-head] PATH...`: the tail
// input with a tiny InputContext that prints each batch as it arrives, in the `stdout` sink's
// pretty form (coloured on a terminal) or as JSON lines. No pipeline, no position database;
// a closed stdout (`| head`) or SIGINT/SIGTERM ends it with exit code 0.
#include "tail_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "fd_limit.h"
#include "ferry/codec/json.h"
#include "ferry/codec/pretty.h"
#include "ferry/input/tail.h"
#include "ferry/obs/log.h"
#include "ferry/obs/metrics.h"

namespace ferry::daemon {
namespace {

constexpr const char* kUsage =
    R"(Usage: ferry tail [--json] [--parser none|json|logfmt] [--multiline java|python|go]
                  [--from-head] PATH...

Follows the files (globs allowed; files that do not exist yet are waited for) through
rotation and prints each record: time, level, message and fields (coloured on a terminal),
or one JSON object per line with --json. Files are read from their end unless --from-head.
Ctrl-C stops it.
)";

// Prints what the tail input pushes; the batch is then resolved as delivered.
class PrintContext final : public input::InputContext {
public:
  PrintContext(bool json, bool color) : json_(json) { pretty_.color = color; }

  bool push(core::BatchRef batch) override {
    out_.clear();
    for (size_t i = 0; i < batch->size(); ++i) {
      const core::RecordView r = batch->record(i);
      if (json_) {
        if (codec::appendRecordJson(out_, batch->format(), r, json_options_)) out_.push_back('\n');
      } else {
        codec::appendPretty(out_, batch->format(), r, pretty_);
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

  bool json_;
  codec::PrettyOptions pretty_;
  codec::RecordJsonOptions json_options_;
  core::ByteBuffer out_;
  std::string name_ = "tail";
  obs::Metrics metrics_;
  std::atomic<bool> broken_{false};
};

} // namespace

int tailCommand(const std::vector<std::string>& args) {
  input::TailInputConfig config;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.starts_with(flag + "=")) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "--json") {
      json = true;
    } else if (a == "--from-head") {
      config.read_from_head = true;
    } else if (a == "--parser" || a.starts_with("--parser=")) {
      const auto v = value("--parser");
      if (!v) {
        std::fprintf(stderr, "ferry tail: --parser needs a value\n\n%s", kUsage);
        return 1;
      }
      config.parser.type = *v;
    } else if (a == "--multiline" || a.starts_with("--multiline=")) {
      const auto v = value("--multiline");
      if (!v) {
        std::fprintf(stderr, "ferry tail: --multiline needs a value\n\n%s", kUsage);
        return 1;
      }
      config.multiline.preset = *v;
    } else if (a.starts_with("-") && a != "-") {
      std::fprintf(stderr, "ferry tail: unknown option '%s'\n\n%s", a.c_str(), kUsage);
      return 1;
    } else {
      config.paths.push_back(a);
    }
  }
  if (config.paths.empty()) {
    std::fprintf(stderr, "ferry tail: which files? Give at least one PATH.\n\n%s", kUsage);
    return 1;
  }
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

  PrintContext context(json, !json && ::isatty(STDOUT_FILENO) == 1);
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
