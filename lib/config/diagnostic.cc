// Config error reporting: one Diagnostic per problem ("file:line: key: message"), all of them
// carried by one ConfigError so that a user fixes everything in one pass.
#include <fmt/format.h>

#include "ferry/config/config.h"

namespace ferry::config {
namespace {

std::string joinAll(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.format();
  }
  return out.empty() ? std::string("invalid configuration") : out;
}

} // namespace

Diagnostic sectionDiagnostic(const Section& section, std::string_view message) {
  Diagnostic d{.file = section.file,
               .line = section.line,
               .key = section.path,
               .message = std::string(message)};
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return d;
  const std::string_view key = message.substr(0, colon);
  // "multiline.timeout: ..." names the option multiline; its line is where it was given.
  const std::string option(key.substr(0, key.find('.')));
  const bool declared = section.table != nullptr && findOption(*section.table, option) != nullptr;
  const auto given = section.key_lines.find(option);
  if (!declared && given == section.key_lines.end()) return d;
  if (given != section.key_lines.end()) d.line = given->second;
  d.key = section.path.empty() ? std::string(key) : fmt::format("{}.{}", section.path, key);
  d.message = std::string(message.substr(colon + 2));
  return d;
}

std::string Diagnostic::format() const {
  std::string out = file.empty() ? std::string("<config>") : file;
  if (line > 0) out += fmt::format(":{}", line);
  out += ": ";
  if (!key.empty()) out += fmt::format("{}: ", key);
  out += message;
  return out;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(joinAll(diagnostics)), diagnostics_(std::move(diagnostics)) {}

} // namespace ferry::config
