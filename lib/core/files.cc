#include "ferry/core/files.h"

#include <cstdio>

namespace ferry::core {

std::optional<std::string> readSmallFile(const std::filesystem::path& path) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return std::nullopt;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  std::fclose(f);
  return text;
}

} // namespace ferry::core
