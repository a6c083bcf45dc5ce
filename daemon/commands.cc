// `ferry run` and `ferry validate`: choose the config source, load and check it, then run
// the pipeline until SIGTERM/SIGINT (or until every finite input has finished), flushing
// within the grace period.
#include "commands.h"
#include "status.h"

#include <signal.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fd_limit.h"
#include "ferry/app/pipeline.h"
#include "ferry/app/registry.h"
#include "ferry/codec/json.h"
#include "ferry/config/config.h"
#include "ferry/config/fluent_bit.h"
#include "ferry/config/memory.h"
#include "ferry/config/validator.h"
#include "ferry/obs/http_server.h"
#include "ferry/obs/log.h"
#include "ferry/obs/metrics.h"
#include "ferry/output/plugin_host.h"
#include "top_command.h"

namespace ferry::daemon {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitRuntime = 2;

struct CommonArgs {
  std::optional<std::string> config_path;
  std::optional<std::string> fluent_bit_config; // --fluent-bit-config FILE
  bool dry_run = false;
  bool help = false;
  std::string error;
};

CommonArgs parseArgs(const std::vector<std::string>& args, bool allow_dry_run) {
  CommonArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) {
        out.error = a + " needs a file name";
        return out;
      }
      out.config_path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      out.config_path = a.substr(9);
    } else if (a == "--fluent-bit-config") {
      if (i + 1 >= args.size()) {
        out.error = a + " needs a file name";
        return out;
      }
      out.fluent_bit_config = args[++i];
    } else if (a.rfind("--fluent-bit-config=", 0) == 0) {
      out.fluent_bit_config = a.substr(20);
    } else if (a == "--dry-run" && allow_dry_run) {
      out.dry_run = true;
    } else if (a == "-h" || a == "--help") {
      out.help = true;
    } else {
      out.error = "unknown argument '" + a + "'";
      return out;
    }
  }
  if (out.config_path && out.fluent_bit_config) {
    out.error = "-c and --fluent-bit-config exclude each other";
  }
  return out;
}

void printDiagnostics(const config::ConfigError& e) {
  for (const auto& d : e.diagnostics())
    std::fprintf(stderr, "ferry: %s\n", d.format().c_str());
  std::fprintf(stderr, "ferry: configuration has %zu error(s)\n", e.diagnostics().size());
}

// --fluent-bit-config: the Fluent Bit file converted to ferry YAML (config/fluent_bit.h).
config::ConfigSource fluentBitSource(const std::string& path) {
  config::ConfigSource source;
  source.name = path + " (converted from Fluent Bit)";
  source.dir = std::filesystem::path(path).parent_path().string();
  source.text = config::convertFluentBitFile(path);
  return source;
}

// The plugin directory must be known before the config is validated (output option tables
// come from the plugins), so service.plugin_dir is read ahead of the full load.
std::string pluginDirFor(const config::ConfigSource& source) {
  if (const char* env = std::getenv("FERRY_PLUGIN_DIR"); env && *env) return env;
  try {
    // Bounded like the full load: an alias bomb must not grow here either.
    const YAML::Node root = config::loadBoundedYaml(source.name, source.text);
    if (root.IsMap() && root["service"] && root["service"].IsMap() &&
        root["service"]["plugin_dir"] && root["service"]["plugin_dir"].IsScalar()) {
      const std::string dir = root["service"]["plugin_dir"].as<std::string>();
      if (!dir.empty() && dir.find('$') == std::string::npos) return dir;
    }
  } catch (const std::exception&) {
    return output::PluginHost::defaultDirectory(); // the full load reports the error, with its line
  }
  return output::PluginHost::defaultDirectory();
}

struct Loaded {
  config::Config config;
  std::unique_ptr<output::PluginHost> plugins;
  config::MemoryPlan memory; // how the `auto` budgets were sized
};

// Loads and validates, the components' own settings checks included (the built-in inputs'
// and filters' settings readers, the outputs' ferry_on_check: the code their start-up runs),
// so that `validate` accepts exactly what starts and a bad option is a config error (exit 1)
// for `run` too; prints every diagnostic and returns nullopt on failure.
std::optional<Loaded> loadConfig(const std::optional<std::string>& path,
                                 const std::optional<std::string>& fluent_bit_path = std::nullopt) {
  const auto env = config::processEnv();
  try {
    const config::ConfigSource source =
        fluent_bit_path ? fluentBitSource(*fluent_bit_path) : config::chooseSource(path, env);
    auto plugins = std::make_unique<output::PluginHost>(pluginDirFor(source));
    std::vector<std::string> plugin_errors;
    const config::TableLookup tables = [&](const std::string& kind,
                                           const std::string& type) -> const config::OptionTable* {
      if (kind != "output") return app::builtinOptions(kind, type);
      auto api = plugins->load(type);
      if (!api) {
        plugin_errors.push_back(api.error());
        return nullptr;
      }
      return &(*api)->options;
    };
    Loaded loaded{config::load(source, tables, env), std::move(plugins)};
    // Every component's own checks, built-in and plugin, all reported in one pass.
    auto refused = app::checkBuiltins(loaded.config);
    for (auto& d : loaded.plugins->checkOutputs(loaded.config))
      refused.push_back(std::move(d));
    if (!refused.empty()) throw config::ConfigError(std::move(refused));
    loaded.memory = config::planMemory(loaded.config, config::cgroupMemoryLimit());
    return loaded;
  } catch (const config::ConfigError& e) {
    printDiagnostics(e);
  }
  return std::nullopt;
}

// systemd's Type=notify protocol (sd_notify(3)): READY=1 once the inputs listen, STOPPING=1
// when the flush starts. One datagram to the unix socket NOTIFY_SOCKET names ('@' for the
// abstract namespace), as sd_notify(3) sends it; a no-op outside systemd. Written here rather
// than linking libsystemd, which maps five more libraries for this one call (issue 18).
void notifyServiceManager(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
               addr_len);
  close(fd);
}

void applyLogging(const config::ServiceConfig& service) {
  obs::LogLevel level;
  if (obs::parseLogLevel(service.log_level, level)) obs::setLogLevel(level);
  obs::setLogFormat(service.log_format == "json" ? obs::LogFormat::kJson : obs::LogFormat::kText);
}

} // namespace

int validateCommand(const std::vector<std::string>& args) {
  const CommonArgs a = parseArgs(args, false);
  if (a.help) {
    std::puts("Usage: ferry validate [-c FILE | --fluent-bit-config FILE]\n\nParses, interpolates "
              "and checks the config, then "
              "prints it resolved with secrets masked.\nExit 0 when valid, 1 otherwise.");
    return kExitOk;
  }
  if (!a.error.empty()) {
    std::fprintf(stderr, "ferry validate: %s\n", a.error.c_str());
    return kExitConfig;
  }
  auto loaded = loadConfig(a.config_path, a.fluent_bit_config);
  if (!loaded) return kExitConfig;
  std::fputs(config::renderResolved(loaded->config).c_str(), stdout);
  std::fprintf(stderr, "ferry: %s\n", loaded->memory.describe().c_str());
  std::fprintf(stderr, "ferry: configuration %s is valid\n", loaded->config.source.c_str());
  return kExitOk;
}

int runCommand(const std::vector<std::string>& args) {
  const CommonArgs a = parseArgs(args, true);
  if (a.help) {
    std::puts(
        "Usage: ferry run [-c FILE | --fluent-bit-config FILE] [--dry-run]\n\nRuns the daemon "
        "(--fluent-bit-config: from a Fluent Bit classic config, as FireLens writes it). "
        "SIGTERM/SIGINT stop it "
        "after flushing within service.grace_period;\n--dry-run loads the config and "
        "initialises every output, then exits.");
    return kExitOk;
  }
  if (!a.error.empty()) {
    std::fprintf(stderr, "ferry run: %s\n", a.error.c_str());
    return kExitConfig;
  }
  // Signals are taken synchronously by the main thread: block them before any thread
  // starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Held by pointer: a pipeline keeps a reference to its config, and SIGHUP swaps both.
  std::unique_ptr<Loaded> loaded;
  if (auto first = loadConfig(a.config_path, a.fluent_bit_config)) {
    loaded = std::make_unique<Loaded>(std::move(*first));
  } else {
    return kExitConfig;
  }
  applyLogging(loaded->config.service);
  raiseFdLimit();
  obs::Metrics& metrics = obs::Metrics::global();
  auto pipeline = std::make_unique<app::Pipeline>(loaded->config, *loaded->plugins, metrics);
  std::mutex pipeline_mu; // the status server reads the pipeline a reload replaces
  try {
    if (a.dry_run) {
      // Outputs are initialised by start(); inputs are not needed for a dry run, so build a
      // pipeline without them.
      config::Config outputs_only = loaded->config;
      outputs_only.inputs.clear();
      app::Pipeline dry(outputs_only, *loaded->plugins, metrics);
      dry.start();
      dry.stop(std::chrono::milliseconds(0));
      std::fprintf(stderr, "ferry: dry run OK (%zu inputs, %zu outputs)\n",
                   loaded->config.inputs.size(), loaded->config.outputs.size());
      return kExitOk;
    }
    pipeline->start();
  } catch (const std::exception& e) {
    FERRY_LOG_ERROR("ferry", "cannot start: {}", e.what());
    pipeline->stop(std::chrono::milliseconds(0));
    return kExitRuntime;
  }
  metrics.gauge("ferry_build_info", {{"version", FERRY_VERSION}}, "Version of the running ferry")
      .set(1);
  std::unique_ptr<StatusEndpoints> routes; // outlives the server that calls it
  std::unique_ptr<obs::StatusServer> status;
  if (loaded->config.service.http_listen) {
    routes = std::make_unique<StatusEndpoints>(loaded->config.service,
                                               [&pipeline, &pipeline_mu, &metrics] {
                                                 std::lock_guard lock(pipeline_mu);
                                                 return failureTotals(*pipeline, metrics);
                                               });
    status = std::make_unique<obs::StatusServer>(
        *loaded->config.service.http_listen,
        [&pipeline, &loaded, &pipeline_mu, &routes](const std::string& path) {
          std::lock_guard lock(pipeline_mu);
          return routes->reply(*pipeline, loaded->config, path);
        });
    try {
      status->start();
    } catch (const std::exception& e) {
      FERRY_LOG_ERROR("ferry", "cannot start: {}", e.what());
      pipeline->stop(std::chrono::milliseconds(0));
      return kExitRuntime;
    }
  }
  FERRY_LOG_INFO("ferry", "started ({}): {} inputs, {} outputs", loaded->config.source,
                 loaded->config.inputs.size(), loaded->config.outputs.size());
  FERRY_LOG_INFO("ferry", "{}", loaded->memory.describe());
  notifyServiceManager(fmt::format("READY=1\nSTATUS=running: {} inputs, {} outputs",
                                   loaded->config.inputs.size(), loaded->config.outputs.size()));

  const timespec tick{0, 50'000'000};
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      FERRY_LOG_INFO("ferry", "{} received: stopping, grace period {} ms",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT", loaded->config.service.grace_period_ms);
      break;
    }
    if (sig == SIGHUP) {
      // Reload: a config that does not load is logged and the running one stays. A good one
      // replaces it the way a restart would: the old pipeline stops (flushing within the
      // grace period; with storage on, the rest stays on disk and the new one ships it
      // first; tail positions are saved), then the new one starts. If it cannot start (a
      // port taken), the previous config is started again.
      auto fresh = loadConfig(a.config_path, a.fluent_bit_config);
      if (!fresh) {
        FERRY_LOG_ERROR(
            "ferry",
            "SIGHUP: the new configuration is invalid (see above); keeping the running one");
        continue;
      }
      auto next_loaded = std::make_unique<Loaded>(std::move(*fresh));
      FERRY_LOG_INFO("ferry", "SIGHUP: reloading the configuration from {}",
                     next_loaded->config.source);
      const auto report =
          pipeline->stop(std::chrono::milliseconds(loaded->config.service.grace_period_ms));
      if (report.records_lost > 0) {
        FERRY_LOG_ERROR(
            "ferry",
            "reload: {} records could not be delivered within the grace period and are lost",
            report.records_lost);
      }
      auto next =
          std::make_unique<app::Pipeline>(next_loaded->config, *next_loaded->plugins, metrics);
      bool started = true;
      try {
        next->start();
      } catch (const std::exception& e) {
        FERRY_LOG_ERROR(
            "ferry",
            "reload: cannot start the new configuration: {}; going back to the previous one",
            e.what());
        next->stop(std::chrono::milliseconds(0));
        started = false;
      }
      {
        std::lock_guard lock(pipeline_mu);
        if (started) {
          pipeline = std::move(next); // the old pipeline goes before the plugins it used
          loaded = std::move(next_loaded);
        } else {
          next.reset();
          pipeline = std::make_unique<app::Pipeline>(loaded->config, *loaded->plugins, metrics);
        }
      }
      if (!started) {
        try {
          pipeline->start();
        } catch (const std::exception& e) {
          FERRY_LOG_ERROR("ferry", "reload: cannot restart the previous configuration either: {}",
                          e.what());
          pipeline->stop(std::chrono::milliseconds(0));
          return kExitRuntime;
        }
      }
      applyLogging(loaded->config.service);
      FERRY_LOG_INFO("ferry", "{}: {} inputs, {} outputs",
                     started ? "reloaded" : "running the previous configuration",
                     loaded->config.inputs.size(), loaded->config.outputs.size());
      continue;
    }
    if (pipeline->inputsFinished()) {
      FERRY_LOG_DEBUG("ferry", "every input has finished: flushing and stopping");
      break;
    }
    obs::sweepLogRepeats();
  }
  notifyServiceManager("STOPPING=1\nSTATUS=flushing outputs");
  const auto report =
      pipeline->stop(std::chrono::milliseconds(loaded->config.service.grace_period_ms));
  if (report.records_lost > 0) {
    FERRY_LOG_ERROR(
        "ferry", "stopped: {} records could not be delivered within the grace period and are lost",
        report.records_lost);
  } else if (report.records_persisted > 0) {
    FERRY_LOG_INFO("ferry", "stopped: {} records persisted in storage for later delivery",
                   report.records_persisted);
  } else {
    FERRY_LOG_INFO("ferry", "stopped: everything delivered");
  }
  obs::flushLogRepeats();
  return kExitOk;
}

int convertCommand(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::puts("Usage: ferry convert FILE\n\nPrints the ferry YAML equivalent to a Fluent Bit "
              "classic config (as FireLens writes it).\nExit 1, naming file, line and key, when "
              "something has no ferry equivalent.");
    return kExitOk;
  }
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fprintf(stderr, "ferry convert: expected one Fluent Bit config file\n");
    return kExitConfig;
  }
  try {
    std::fputs(config::convertFluentBitFile(args[0]).c_str(), stdout);
  } catch (const config::ConfigError& e) {
    printDiagnostics(e);
    return kExitConfig;
  }
  return kExitOk;
}

// `ferry replay [-c FILE] [--output NAME]`: resends what outputs gave up on after
// retry.max_attempts (kept in storage's dead-letter queues), within grace_period each.
int replayCommand(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  std::string only;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--output" && i + 1 < args.size()) {
      only = args[++i];
    } else if (args[i] == "--output") {
      std::fprintf(stderr, "ferry replay: --output needs an output name\n");
      return kExitConfig;
    } else {
      rest.push_back(args[i]);
    }
  }
  const CommonArgs a = parseArgs(rest, false);
  if (a.help) {
    std::puts(
        "Usage: ferry replay [-c FILE] [--output NAME]\n\nResends the records outputs gave up on "
        "after retry.max_attempts\n(kept in service.storage.path/dead-letter/<output>/). A queue "
        "is removed once\nall of it was delivered. Exit 0 when everything went, 2 otherwise.");
    return kExitOk;
  }
  if (!a.error.empty()) {
    std::fprintf(stderr, "ferry replay: %s\n", a.error.c_str());
    return kExitConfig;
  }
  signal(SIGPIPE, SIG_IGN);
  auto loaded = loadConfig(a.config_path, a.fluent_bit_config);
  if (!loaded) return kExitConfig;
  applyLogging(loaded->config.service);
  try {
    // On a terminal, one line per output redrawn in place: what was resent, of how much.
    app::ReplayProgressFn progress;
    if (isatty(STDERR_FILENO)) {
      progress = [](const app::ReplayProgress& p) {
        std::fprintf(
            stderr, "\r\x1b[Kreplay %.*s: %llu records resent (%s of %s queued), %llu delivered",
            static_cast<int>(p.output.size()), p.output.data(),
            static_cast<unsigned long long>(p.records), human(double(p.bytes), "B", true).c_str(),
            human(double(p.queue_bytes), "B", true).c_str(),
            static_cast<unsigned long long>(p.delivered));
        std::fflush(stderr);
      };
    }
    const auto results = app::replayDeadLetters(
        loaded->config, *loaded->plugins, obs::Metrics::global(), only,
        std::chrono::milliseconds(loaded->config.service.grace_period_ms), progress);
    if (progress && !results.empty()) std::fputc('\n', stderr);
    bool complete = true;
    for (const auto& r : results) {
      FERRY_LOG_INFO("ferry", "replay {}: {} of {} records delivered{}", r.output, r.delivered,
                     r.records, r.complete ? "" : "; the queue is kept");
      complete = complete && r.complete;
    }
    if (results.empty()) FERRY_LOG_INFO("ferry", "replay: no dead-letter queue");
    return complete ? kExitOk : kExitRuntime;
  } catch (const std::exception& e) {
    FERRY_LOG_ERROR("ferry", "replay: {}", e.what());
    return kExitRuntime;
  }
}

} // namespace ferry::daemon
