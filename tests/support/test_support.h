// Helpers shared by unit tests: temp directories, batch builders, msgpack builders.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/core/batch.h"

namespace ferry::test {

// A fresh directory under $TMPDIR, removed with its contents when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

std::string readFile(const std::filesystem::path& p);
void writeFile(const std::filesystem::path& p, std::string_view content);

// A batch of line records "prefix0", "prefix1", ... with timestamps 1..n seconds.
core::BatchRef makeLineBatch(std::string tag, size_t n, std::string_view prefix = "line");

// Packs a flat string→string map as msgpack bytes (more builders: msgpack_builders.h).
std::string packMap(const std::vector<std::pair<std::string, std::string>>& fields);

// One msgpack object (`bytes` must hold exactly that) as JSON-like text, strings quoted raw
// (only '"', '\\' and newline escaped) so that tests can spell the bytes they expect.
std::string printMsgpack(std::string_view bytes);

} // namespace ferry::test
