// Loads sink plugins with dlopen from the plugin directory and checks them: ABI major
// version equal, minor not newer than ours, every required ferry_on_* symbol present (the
// optional ones are looked up too).
// Refusals are clear errors naming the file and what is wrong.
#pragma once

#include <expected>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ferry/config/config.h"
#include "ferry/config/options.h"
#include "ferry/plugin.h"

namespace ferry::output {

// The resolved exports of one loaded plugin library. Lives as long as the host.
struct PluginApi {
  std::string path;
  const ferry_plugin_descriptor* descriptor = nullptr;
  config::OptionTable options;
  decltype(&ferry_on_describe) describe = nullptr;
  decltype(&ferry_on_init) init = nullptr;
  decltype(&ferry_on_destroy) destroy = nullptr;
  decltype(&ferry_on_encode) encode = nullptr;
  decltype(&ferry_on_http_request) http_request = nullptr;
  decltype(&ferry_on_http_response) http_response = nullptr;
  decltype(&ferry_on_deliver) deliver = nullptr;
  decltype(&ferry_on_request_free) request_free = nullptr;
  // Optional (ABI 1.2): null when the plugin does not export it.
  decltype(&ferry_on_request_bytes) request_bytes = nullptr;
  // Optional (ABI 1.3): null when the plugin does not export it (its options are then
  // checked against its table only).
  decltype(&ferry_on_check) check = nullptr;
  // Optional (ABI 1.4): null when the plugin does not export it (the runner then knows only
  // how many records a PARTIAL verdict resolved, not which).
  decltype(&ferry_on_request_records) request_records = nullptr;
};

class PluginHost {
public:
  explicit PluginHost(std::string plugin_dir) : dir_(std::move(plugin_dir)) {}
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  const std::string& directory() const { return dir_; }

  // Loads <dir>/<type>.so once; later calls return the same API.
  std::expected<const PluginApi*, std::string> load(const std::string& type);
  // Loads a library by path (tests).
  std::expected<const PluginApi*, std::string> loadPath(const std::string& path);
  // The sink types available in the directory (file names without .so), sorted.
  std::vector<std::string> availableTypes() const;

  // Runs each output's own option check (ferry_on_check) on its resolved options: what
  // ferry_on_init would refuse, found without starting anything. One diagnostic per output
  // refused, naming the file, line and key (config::sectionDiagnostic).
  std::vector<config::Diagnostic> checkOutputs(const config::Config& config);

  // The default directory: ../lib/ferry/plugins beside the running executable.
  static std::string defaultDirectory();

private:
  std::string dir_;
  std::map<std::string, std::unique_ptr<PluginApi>> loaded_;
  std::vector<void*> handles_;
};

} // namespace ferry::output
