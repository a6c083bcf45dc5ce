#include "options_command.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "ferry/app/registry.h"
#include "ferry/output/plugin_host.h"

namespace ferry::daemon {
namespace {

std::string typeName(const config::OptionSpec& o) {
  using config::OptionType;
  switch (o.type) {
  case OptionType::kString:
    return "string";
  case OptionType::kBool:
    return "bool";
  case OptionType::kInt:
    return "int";
  case OptionType::kSize:
    return "size";
  case OptionType::kDuration:
    return "duration";
  case OptionType::kStringList:
    return "list";
  case OptionType::kStringMap:
    return "map";
  case OptionType::kEnum: {
    std::string s;
    for (const auto& v : o.enum_values)
      s += (s.empty() ? "" : " | ") + v;
    return s;
  }
  }
  return "?";
}

std::string defaultText(const config::OptionSpec& o) {
  if (o.required) return "required";
  if (!o.default_value || o.default_value->empty()) return "—";
  return "`" + *o.default_value + "`";
}

// Table cells may not hold a raw '|' or a newline.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

struct Entry {
  std::string kind; // input, filter, output
  std::string name;
  std::string description;
  const config::OptionTable* options;
};

void printMarkdown(const Entry& e) {
  std::printf("#### %s `%s`\n\n%s\n\n", e.kind.c_str(), e.name.c_str(), e.description.c_str());
  if (e.options->empty()) {
    std::printf("No options.\n\n");
    return;
  }
  std::printf("| option | type | default | meaning |\n|---|---|---|---|\n");
  for (const auto& o : *e.options) {
    std::printf("| `%s` | %s | %s | %s%s |\n", o.name.c_str(), cell(typeName(o)).c_str(),
                cell(defaultText(o)).c_str(), cell(o.doc).c_str(),
                config::isSecretOption(o) ? " (secret: never logged or printed)" : "");
  }
  std::printf("\n");
}

void printText(const Entry& e) {
  std::printf("%s %s — %s\n", e.kind.c_str(), e.name.c_str(), e.description.c_str());
  for (const auto& o : *e.options) {
    std::printf("  %-22s %-12s %-12s %s\n", o.name.c_str(), typeName(o).c_str(),
                defaultText(o).c_str(), o.doc.c_str());
  }
  std::printf("\n");
}

} // namespace

int optionsCommand(const std::vector<std::string>& args) {
  bool markdown = false;
  std::optional<std::string> plugin_dir;
  std::vector<std::string> wanted;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--markdown") {
      markdown = true;
    } else if (args[i] == "--plugin-dir" && i + 1 < args.size()) {
      plugin_dir = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::puts("ferry options [--markdown] [--plugin-dir DIR] [TYPE...]\n"
                "  prints the options of every input, filter and output type (or only TYPE...)");
      return 0;
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::fprintf(stderr, "ferry options: unknown flag '%s'\n", args[i].c_str());
      return 1;
    } else {
      wanted.push_back(args[i]);
    }
  }
  std::vector<Entry> entries;
  for (const auto& t : app::inputTypes())
    entries.push_back({"input", t.name, t.description, t.options});
  for (const auto& t : app::filterTypes())
    entries.push_back({"filter", t.name, t.description, t.options});
  const char* env_dir = std::getenv("FERRY_PLUGIN_DIR");
  output::PluginHost host(plugin_dir ? *plugin_dir
                          : env_dir  ? std::string(env_dir)
                                     : output::PluginHost::defaultDirectory());
  for (const auto& type : host.availableTypes()) {
    auto api = host.load(type);
    if (!api) {
      std::fprintf(stderr, "ferry options: %s\n", api.error().c_str());
      return 2;
    }
    const auto* d = (*api)->descriptor;
    entries.push_back({"output", type, d->description ? d->description : "", &(*api)->options});
  }
  int printed = 0;
  for (const auto& e : entries) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), e.name) == wanted.end())
      continue;
    markdown ? printMarkdown(e) : printText(e);
    ++printed;
  }
  if (!wanted.empty() && printed == 0) {
    std::fprintf(stderr, "ferry options: no input, filter or output type named %s\n",
                 wanted.front().c_str());
    return 1;
  }
  return 0;
}

} // namespace ferry::daemon
