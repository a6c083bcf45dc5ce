// Shared unit-test helpers.
#include "test_support.h"

#include <msgpack.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace ferry::test {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("ferry-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::filesystem::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

core::BatchRef makeLineBatch(std::string tag, size_t n, std::string_view prefix) {
  auto b = core::Batch::create(std::move(tag), core::RecordFormat::kLine);
  for (size_t i = 0; i < n; ++i) {
    b->append(static_cast<int64_t>(i + 1) * 1'000'000'000, std::string(prefix) + std::to_string(i));
  }
  return b;
}

std::string packMap(const std::vector<std::pair<std::string, std::string>>& fields) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(static_cast<uint32_t>(fields.size()));
  for (const auto& [k, v] : fields) {
    pk.pack(k);
    pk.pack(v);
  }
  return {buf.data(), buf.size()};
}

} // namespace ferry::test
