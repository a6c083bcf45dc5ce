// dlopen-based plugin loading with ABI and symbol checks (never copies a struct blindly).
#include "ferry/output/plugin_host.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace ferry::output {
namespace {

template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out, std::vector<std::string>& missing) {
  dlerror();
  void* sym = dlsym(handle, name);
  if (sym == nullptr) {
    missing.push_back(name);
    return false;
  }
  out = reinterpret_cast<Fn>(sym);
  return true;
}

} // namespace

PluginHost::~PluginHost() {
  loaded_.clear();
  for (void* h : handles_)
    dlclose(h);
}

std::string PluginHost::defaultDirectory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/lib/ferry/plugins";
  return (exe.parent_path().parent_path() / "lib" / "ferry" / "plugins").string();
}

std::vector<std::string> PluginHost::availableTypes() const {
  std::vector<std::string> types;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() == ".so") types.push_back(entry.path().stem().string());
  }
  std::sort(types.begin(), types.end());
  return types;
}

std::expected<const PluginApi*, std::string> PluginHost::load(const std::string& type) {
  if (auto it = loaded_.find(type); it != loaded_.end()) return it->second.get();
  if (type.empty() || type.find('/') != std::string::npos || type.find("..") != std::string::npos) {
    return std::unexpected(fmt::format("invalid output type '{}'", type));
  }
  const std::string path = (std::filesystem::path(dir_) / (type + ".so")).string();
  if (access(path.c_str(), R_OK) != 0) {
    auto types = availableTypes();
    std::string known;
    for (const auto& t : types)
      known += (known.empty() ? "" : ", ") + t;
    return std::unexpected(fmt::format("unknown output type '{}': no plugin {} (available: {})",
                                       type, path, known.empty() ? "none" : known));
  }
  auto api = loadPath(path);
  if (!api) return api;
  if (type != (*api)->descriptor->type_name) {
    return std::unexpected(fmt::format("plugin {} declares type '{}', expected '{}'", path,
                                       (*api)->descriptor->type_name, type));
  }
  return api;
}

std::expected<const PluginApi*, std::string> PluginHost::loadPath(const std::string& path) {
  if (auto it = loaded_.find(path); it != loaded_.end()) return it->second.get();
  // RTLD_LOCAL: each plugin's private copy of libferry stays private to it.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return std::unexpected(fmt::format("cannot load plugin {}: {}", path, dlerror()));
  }
  auto api = std::make_unique<PluginApi>();
  api->path = path;
  std::vector<std::string> missing;
  if (!resolve(handle, "ferry_on_describe", api->describe, missing)) {
    dlclose(handle);
    return std::unexpected(
        fmt::format("{} is not a ferry plugin: it does not export ferry_on_describe", path));
  }
  api->descriptor = api->describe();
  if (api->descriptor == nullptr) {
    dlclose(handle);
    return std::unexpected(fmt::format("plugin {}: ferry_on_describe returned nothing", path));
  }
  const auto major = api->descriptor->abi_major;
  const auto minor = api->descriptor->abi_minor;
  if (major != FERRY_PLUGIN_ABI_MAJOR || minor > FERRY_PLUGIN_ABI_MINOR) {
    dlclose(handle);
    return std::unexpected(fmt::format(
        "plugin {} was built for plugin ABI {}.{}, but this ferry speaks ABI {}.{}: rebuild the "
        "plugin against this version's lib/include/ferry/plugin.h",
        path, major, minor, FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR));
  }
  resolve(handle, "ferry_on_init", api->init, missing);
  resolve(handle, "ferry_on_destroy", api->destroy, missing);
  resolve(handle, "ferry_on_encode", api->encode, missing);
  resolve(handle, "ferry_on_http_request", api->http_request, missing);
  resolve(handle, "ferry_on_http_response", api->http_response, missing);
  resolve(handle, "ferry_on_deliver", api->deliver, missing);
  resolve(handle, "ferry_on_request_free", api->request_free, missing);
  std::vector<std::string> optional_missing; // an older plugin may lack these
  resolve(handle, "ferry_on_request_bytes", api->request_bytes, optional_missing);
  resolve(handle, "ferry_on_check", api->check, optional_missing);
  resolve(handle, "ferry_on_request_records", api->request_records, optional_missing);
  if (!missing.empty()) {
    dlclose(handle);
    std::string names;
    for (const auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    return std::unexpected(fmt::format("plugin {} is missing required symbol(s): {}", path, names));
  }
  if (api->descriptor->type_name == nullptr || api->descriptor->type_name[0] == '\0') {
    dlclose(handle);
    return std::unexpected(fmt::format("plugin {} declares no type name", path));
  }
  api->options = config::tableFromPlugin(*api->descriptor);
  handles_.push_back(handle);
  const PluginApi* result = api.get();
  loaded_.emplace(path, std::move(api));
  return result;
}

std::vector<config::Diagnostic> PluginHost::checkOutputs(const config::Config& config) {
  std::vector<config::Diagnostic> out;
  for (const auto& o : config.outputs) {
    auto api = load(o.section.type);
    if (!api) {
      out.push_back(config::sectionDiagnostic(o.section, api.error()));
      continue;
    }
    if ((*api)->check == nullptr) continue;
    const std::string json = o.section.toJson();
    char error[512] = {0};
    if ((*api)->check(json.data(), json.size(), error, sizeof error) != 0) {
      out.push_back(config::sectionDiagnostic(
          o.section, error[0] ? error : "the plugin refused its options (no reason given)"));
    }
  }
  return out;
}

} // namespace ferry::output
