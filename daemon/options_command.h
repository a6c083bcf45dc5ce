// `ferry options [--markdown] [TYPE...]`: the option reference of every input, filter and
// output type, read from the same tables that validate configs (inputs and filters from
// the registry, outputs from the plugins' descriptors). The README's reference section is
// this command's Markdown output, so documentation and validation cannot drift apart.
#pragma once

#include <string>
#include <vector>

namespace ferry::daemon {

int optionsCommand(const std::vector<std::string>& args);

} // namespace ferry::daemon
