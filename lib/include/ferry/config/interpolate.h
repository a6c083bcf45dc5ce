// Environment interpolation of config scalars (SPEC.md "Interpolation"), shell-like:
// ${VAR}, ${VAR:-default}, ${VAR:?message}, $$ for a literal '$'.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "ferry/config/config.h"

namespace ferry::config {

// Expands every reference in `text`:
//   ${VAR}           VAR's value; unset → error naming VAR (set but empty is fine)
//   ${VAR:-default}  default when VAR is unset or empty; the default may itself hold
//                    references (${A:-${B}}), expanded only when used
//   ${VAR:?message}  error "VAR is unset or empty: message" when VAR is unset or empty
//   $$               a literal '$'
// A '$' followed by anything else (e.g. "$UUID" in an S3 key format) stays literal. VAR is
// [A-Za-z_][A-Za-z0-9_]*. Errors (unset variables, bad syntax, an unclosed "${") never quote
// a variable's value, so secrets cannot leak through them.
std::expected<std::string, std::string> interpolate(std::string_view text, const EnvLookup& env);

// True when `text` holds a "${" reference (i.e. interpolate() may change more than "$$").
bool hasReference(std::string_view text);

// The inverse of interpolate() for a literal: text that interpolates back to itself
// ("$" → "$$" where needed). Used when printing a resolved config that may be loaded again.
std::string escapeInterpolation(std::string_view text);

} // namespace ferry::config
