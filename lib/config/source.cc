// Where the configuration comes from (SPEC.md "Command line"): -c FILE, $FERRY_CONFIG (a
// path), $FERRY_CONFIG_YAML (the YAML itself, for Fargate), else the embedded default.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "ferry/config/config.h"
#include "ferry/config/units.h"

namespace ferry::config {
namespace {

[[noreturn]] void failSource(const std::string& path, std::string message) {
  throw ConfigError(
      {Diagnostic{.file = path, .line = 0, .key = "", .message = std::move(message)}});
}

std::string readConfigFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    failSource(path, fmt::format("cannot read the config file: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    failSource(path, "cannot read the config file: it is a directory");
  }
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      failSource(path, fmt::format("cannot read the config file: {}", std::strerror(err)));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      failSource(path, fmt::format("cannot read the config file: larger than {}",
                                   formatSize(kMaxConfigBytes)));
    }
  }
  ::close(fd);
  return text;
}

ConfigSource fromFile(const std::string& path) {
  ConfigSource source;
  source.name = path;
  source.text = readConfigFile(path);
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  source.dir =
      ec ? std::filesystem::path(path).parent_path().string() : absolute.parent_path().string();
  return source;
}

} // namespace

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

// An environment variable set to "" counts as unset here: task definitions often declare a
// variable for every environment and leave it empty where it is not used.
ConfigSource chooseSource(const std::optional<std::string>& cli_path, const EnvLookup& env) {
  if (cli_path) return fromFile(*cli_path);
  if (auto path = env("FERRY_CONFIG"); path && !path->empty()) return fromFile(*path);
  if (auto yaml = env("FERRY_CONFIG_YAML"); yaml && !yaml->empty()) {
    return ConfigSource{.name = "FERRY_CONFIG_YAML", .dir = "", .text = *yaml};
  }
  return ConfigSource{.name = "<embedded default>",
                      .dir = "",
                      .text = embeddedDefault(env, ::isatty(STDIN_FILENO) != 0)};
}

std::string embeddedDefault(const EnvLookup& env, bool stdin_is_terminal) {
  return embeddedDefault(env, stdin_is_terminal, ::access("/var/run", W_OK) == 0);
}

std::string embeddedDefault(const EnvLookup& env, bool stdin_is_terminal, bool var_run_writable) {
  std::string socket;
  if (var_run_writable) {
    socket = "    # /var/run is writable: the path the ECS agent (FireLens) connects to.\n"
             "    listen: unix:///var/run/fluent.sock\n";
  } else if (auto runtime = env("XDG_RUNTIME_DIR"); runtime && !runtime->empty()) {
    socket = "    # /var/run is not writable: the user's runtime directory instead.\n"
             "    listen: unix://${XDG_RUNTIME_DIR}/ferry.sock\n";
  } else {
    socket = fmt::format("    # /var/run is not writable and XDG_RUNTIME_DIR is unset: a per-user "
                         "socket in /tmp.\n"
                         "    listen: unix:///tmp/ferry-{}.sock\n",
                         ::getuid());
  }
  std::string yaml = "# ferry's embedded default configuration (no -c, FERRY_CONFIG or "
                     "FERRY_CONFIG_YAML given).\n"
                     "inputs:\n"
                     "  - type: forward\n" +
                     socket +
                     "  - type: forward\n"
                     "    listen: tcp://127.0.0.1:24224\n";
  if (!stdin_is_terminal) {
    yaml += "  # stdin is not a terminal: read its lines too.\n"
            "  - type: stdin\n"
            "    tag: stdin\n";
  }
  yaml += "outputs:\n"
          "  - type: stdout\n"
          "    match: \"*\"\n";
  return yaml;
}

} // namespace ferry::config
