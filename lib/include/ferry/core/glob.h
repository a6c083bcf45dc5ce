// Tag glob matching as Fluent Bit and Fluentd users write it: `*` matches any run of
// characters (dots included), `?` one character, everything else itself.
#pragma once

#include <string_view>

namespace ferry::core {

bool globMatch(std::string_view pattern, std::string_view tag);

} // namespace ferry::core
