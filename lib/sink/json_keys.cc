// The sink kit's KeySet and StringArena (ferry/sink/json_keys.h).
#include "ferry/sink/json_keys.h"

#include <algorithm>
#include <functional>

namespace ferry::sink {

void KeySet::clear() {
  keys_.clear();
  slots_.clear();
}

size_t KeySet::slot(std::string_view key) const {
  const size_t mask = slots_.size() - 1;
  size_t i = std::hash<std::string_view>{}(key)&mask;
  // An empty slot holds a null view; a key (even "") never has a null data pointer.
  while (slots_[i].data() != nullptr && slots_[i] != key)
    i = (i + 1) & mask;
  return i;
}

void KeySet::rehash(size_t capacity) {
  slots_.assign(capacity, std::string_view());
  for (const std::string_view k : keys_)
    slots_[slot(k)] = k;
}

bool KeySet::contains(std::string_view key) const {
  if (slots_.empty()) return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
  return slots_[slot(key)].data() != nullptr;
}

bool KeySet::insert(std::string_view key) {
  if (key.data() == nullptr) key = std::string_view("", 0);
  if (contains(key)) return false;
  keys_.push_back(key);
  if (slots_.empty()) {
    if (keys_.size() > kLinearLimit) rehash(64);
    return true;
  }
  if (keys_.size() * 2 > slots_.size()) {
    rehash(slots_.size() * 2); // keeps the load at most one half
  } else {
    slots_[slot(key)] = key;
  }
  return true;
}

std::string_view StringArena::add(std::string_view s) {
  if (used_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
  std::string& out = *strings_[used_++];
  out.assign(s.data(), s.size());
  return out;
}

} // namespace ferry::sink
