// Fluent Bit classic config import (`ferry convert FILE`, `ferry run --fluent-bit-config
// FILE`): [SERVICE], [INPUT], [FILTER] and [OUTPUT] sections, @INCLUDE (relative to the
// including file, globs allowed) and @SET, as the ECS agent writes them for FireLens
// (/fluent-bit/etc/fluent-bit.conf), turned into the equivalent ferry YAML. Anything that
// has no ferry equivalent is an error naming the file, line, section and key; keys that only
// tune Fluent Bit internals (Mem_Buf_Limit, storage.type, ...) are accepted and listed as
// comments at the top of the YAML, never dropped silently.
#pragma once

#include <string>

#include "ferry/config/config.h"

namespace ferry::config {

// Reads `path` (and what it includes). Throws ConfigError with every problem found.
std::string convertFluentBitFile(const std::string& path);

// The same from text: `name` is used in messages and `dir` resolves relative @INCLUDEs.
std::string convertFluentBitText(const std::string& name, const std::string& dir,
                                 const std::string& text);

} // namespace ferry::config
