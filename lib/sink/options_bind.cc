// Options bound to a config struct: the text rules.
#include "ferry/sink/options_bind.h"

#include <stdexcept>

#include <fmt/format.h>

#include "ferry/core/strings.h"

namespace ferry::sink {

std::expected<std::string, std::string> readText(const PluginOptions& options,
                                                 const ferry_plugin_option& row, TextRules rules) {
  std::string text = options.string(row.name);
  if (rules.blank_is_default && core::trim(text).empty())
    text = row.default_value != nullptr ? row.default_value : "";
  if (rules.trim) text = std::string(core::trim(text));
  if (rules.not_empty && text.empty())
    return std::unexpected(fmt::format("{}: must not be empty", row.name));
  if (rules.header_value) {
    if (auto ok = checkHeaderValue(row.name, text); !ok) return std::unexpected(ok.error());
  }
  return text;
}

std::string doesNotFit(const ferry_plugin_option& row, int64_t n) {
  return fmt::format("{}: {} does not fit its field", row.name, n);
}

void requireKind(const ferry_plugin_option& row, FieldKind kind) {
  const bool fits =
      kind == FieldKind::kText   ? row.type == FERRY_OPTION_STRING || row.type == FERRY_OPTION_ENUM
      : kind == FieldKind::kFlag ? row.type == FERRY_OPTION_BOOL
                                 : row.type == FERRY_OPTION_INT || row.type == FERRY_OPTION_SIZE ||
                                       row.type == FERRY_OPTION_DURATION;
  if (!fits) throw std::logic_error(fmt::format("{}: bound to a field of another type", row.name));
}

} // namespace ferry::sink
