// `ferry tail`: follow files and print their records in the terminal, without a config file
// or a position database (SPEC.md "Command line"). Exits 0 on SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

namespace ferry::daemon {

int tailCommand(const std::vector<std::string>& args);

} // namespace ferry::daemon
