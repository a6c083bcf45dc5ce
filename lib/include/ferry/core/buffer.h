// A growable byte buffer that does not zero what it allocates: records are read or
// decoded straight into it, so value-initialising every byte first would be wasted work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace ferry::core {

class ByteBuffer {
public:
  ByteBuffer() = default;
  explicit ByteBuffer(size_t capacity) { reserve(capacity); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~ByteBuffer() { std::free(data_); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  std::string_view view(size_t offset, size_t len) const { return {data_ + offset, len}; }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    size_t cap = capacity_ ? capacity_ : 256;
    while (cap < n)
      cap *= 2;
    void* p = std::realloc(data_, cap);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    capacity_ = cap;
  }
  // Makes room for n more bytes and returns where they go; commit(n) makes them part of
  // the buffer. Used to read(2) or decompress directly into the buffer.
  char* prepare(size_t n) {
    reserve(size_ + n);
    return data_ + size_;
  }
  void commit(size_t n) { size_ += n; }
  void append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(prepare(n), p, n);
    size_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    reserve(size_ + 1);
    data_[size_++] = c;
  }
  void resize(size_t n) {
    reserve(n);
    size_ = n;
  }
  void clear() { size_ = 0; }
  // Gives back the capacity past size() (realloc shrinks in place: nothing is copied).
  void shrinkToFit() {
    if (capacity_ == size_ || size_ == 0) return;
    if (void* p = std::realloc(data_, size_)) {
      data_ = static_cast<char*>(p);
      capacity_ = size_;
    }
  }
  // Drops the first n bytes, keeping the rest.
  void consume(size_t n) {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }

private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

} // namespace ferry::core
