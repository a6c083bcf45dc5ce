// The ferry subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace ferry::daemon {

int runCommand(const std::vector<std::string>& args);
int validateCommand(const std::vector<std::string>& args);
// `ferry replay [-c FILE] [--output NAME]`: resends storage's dead-letter queues.
int replayCommand(const std::vector<std::string>& args);
// `ferry convert FILE`: Fluent Bit classic config → ferry YAML on stdout.
int convertCommand(const std::vector<std::string>& args);

} // namespace ferry::daemon
