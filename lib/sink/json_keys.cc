// The sink kit's KeySet and StringArena (ferry/sink/json_keys.h).
#include "ferry/sink/json_keys.h"

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

void KeySet::grow(std::string_view added) {
  if (slots_.empty()) {
    rehash(64);
  } else if (keys_.size() * 2 > slots_.size()) {
    rehash(slots_.size() * 2); // keeps the load at most one half
  } else {
    slots_[slot(added)] = added;
  }
}

std::string_view StringArena::add(std::string_view s) {
  if (used_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
  std::string& out = *strings_[used_++];
  out.assign(s.data(), s.size());
  return out;
}

} // namespace ferry::sink
