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
