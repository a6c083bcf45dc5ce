// Reading small files whole: /proc and /sys entries, which report a size of 0 and must be
// read until EOF.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace ferry::core {

// The whole file, or nullopt when it cannot be opened.
std::optional<std::string> readSmallFile(const std::filesystem::path& path);

} // namespace ferry::core
