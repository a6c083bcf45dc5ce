// Shared unit-test helpers.
#include "test_support.h"

#include <gtest/gtest.h>
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

namespace {

void print(std::ostringstream& ss, const msgpack::object& o) {
  switch (o.type) {
  case msgpack::type::MAP:
    ss << '{';
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      if (i) ss << ',';
      print(ss, o.via.map.ptr[i].key);
      ss << ':';
      print(ss, o.via.map.ptr[i].val);
    }
    ss << '}';
    break;
  case msgpack::type::ARRAY:
    ss << '[';
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      if (i) ss << ',';
      print(ss, o.via.array.ptr[i]);
    }
    ss << ']';
    break;
  case msgpack::type::STR:
    ss << '"';
    for (char c : std::string_view(o.via.str.ptr, o.via.str.size)) {
      if (c == '"' || c == '\\')
        ss << '\\' << c;
      else if (c == '\n')
        ss << "\\n";
      else
        ss << c;
    }
    ss << '"';
    break;
  default:
    ss << o; // numbers, booleans, nil
  }
}

} // namespace

std::string printMsgpack(std::string_view bytes) {
  size_t offset = 0;
  auto oh = msgpack::unpack(bytes.data(), bytes.size(), offset);
  EXPECT_EQ(offset, bytes.size()) << "trailing bytes after the msgpack object";
  std::ostringstream ss;
  print(ss, oh.get());
  return ss.str();
}

} // namespace ferry::test
