// The `stdin` input: each line of standard input becomes a record with field "log".
// At end of input it pushes what it holds and finishes; the daemon exits once every input
// has finished and everything is flushed (`printf 'a\nb\n' | ferry run`).
#pragma once

#include "ferry/config/options.h"
#include "ferry/input/input.h"

namespace ferry::input {

const config::OptionTable& stdinInputOptions();
InputPtr makeStdinInput(const config::Section& section);
// For tests: read from `fd` instead of 0.
InputPtr makeFdLineInput(int fd, std::string tag, size_t max_line_bytes);

} // namespace ferry::input
