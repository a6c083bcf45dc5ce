// msgpack builders for unit tests, written with msgpack-cxx (independent of ferry's own
// msgpack code): a callback on a packer, one value, or raw bytes.
#pragma once

#include <msgpack.hpp>

#include <initializer_list>
#include <string>

namespace ferry::test {

using Packer = msgpack::packer<msgpack::sbuffer>;

// What `f(packer)` packs.
template <typename F> std::string pack(F&& f) {
  msgpack::sbuffer sb;
  Packer pk(sb);
  f(pk);
  return std::string(sb.data(), sb.size());
}

// One value as msgpack-cxx packs it (std::map → map, std::vector → array, ...).
template <typename T> std::string packValue(const T& v) {
  msgpack::sbuffer sb;
  msgpack::pack(sb, v);
  return std::string(sb.data(), sb.size());
}

// Raw bytes, for hand-written (often malformed) msgpack: bytes({0x92, 0x01, 0xc1}).
inline std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b)
    s += static_cast<char>(c);
  return s;
}

} // namespace ferry::test
