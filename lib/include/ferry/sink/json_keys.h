// The sink kit, JSON object part 1: the bookkeeping a sink needs while it writes one record
// as a JSON object. KeySet remembers the keys already written, so that no object carries a
// key twice; StringArena owns the few strings an object needs that are not views into the
// record (a number key's text, a message rendered as JSON). Both are reused from one record
// to the next (clear() keeps their memory), so a steady stream allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sink {

// A set of string views. Most records have a handful of fields, where a linear scan wins; past
// kLinearLimit keys it switches to open addressing. (Hand-rolled rather than
// std::unordered_set: libstdc++'s out-of-line template code would be exported from a plugin,
// which must export only the ABI symbols.)
class KeySet {
public:
  void clear();
  // Adds key; false when it was already there. The view must outlive the next clear().
  // (Inline: a sink calls it for every field of every record.)
  bool insert(std::string_view key) {
    if (key.data() == nullptr) key = std::string_view("");
    if (contains(key)) return false;
    keys_.push_back(key);
    if (keys_.size() > kLinearLimit) grow(key);
    return true;
  }
  bool contains(std::string_view key) const {
    if (slots_.empty()) return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
    return slots_[slot(key)].data() != nullptr;
  }
  size_t size() const { return keys_.size(); }

private:
  static constexpr size_t kLinearLimit = 24;
  void grow(std::string_view added);       // the hashed part of insert()
  size_t slot(std::string_view key) const; // where key is, or the empty slot it would take
  void rehash(size_t capacity);
  std::vector<std::string_view> keys_;  // in insertion order
  std::vector<std::string_view> slots_; // hash table (power-of-two size) once keys_ is large
};

// Copies of strings at stable addresses: the views add() returns stay valid until clear().
class StringArena {
public:
  std::string_view add(std::string_view s);
  void clear() { used_ = 0; }

private:
  std::vector<std::unique_ptr<std::string>> strings_; // reused after clear()
  size_t used_ = 0;
};

} // namespace ferry::sink
