// `ferry top`: a live view of a running ferry, read from its HTTP endpoint's /metrics and
// /health (README "ferry top"). On a terminal it redraws every interval until q or Ctrl-C;
// otherwise it prints one snapshot and exits.
#pragma once

#include <string>
#include <vector>

namespace ferry::daemon {

int topCommand(const std::vector<std::string>& args);

// `v` with a decimal (k, M, …) or binary (Ki, Mi, …) prefix and `unit`: "1.5 MiB", "12.0k".
std::string human(double v, const char* unit, bool binary);

} // namespace ferry::daemon
