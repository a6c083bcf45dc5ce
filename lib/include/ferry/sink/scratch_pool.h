// The sink kit, parallel encoding: scratch objects (an encoder and its buffers) for a sink
// whose encode() the host calls from several threads at once (limits.parallel_encode). Each
// call borrows one for its duration; they are made on demand, so there are at most as many
// as calls ever ran at once, and reused across calls, so a steady stream allocates nothing.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace ferry::sink {

template <typename T> class ScratchPool {
public:
  using Make = std::function<std::unique_ptr<T>()>;
  explicit ScratchPool(Make make) : make_(std::move(make)) {}

  // One object, the caller's until the lease ends.
  class Lease {
  public:
    T& operator*() const { return *item_; }
    T* operator->() const { return item_.get(); }
    ~Lease() { pool_.giveBack(std::move(item_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

  private:
    friend class ScratchPool;
    Lease(ScratchPool& pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
    ScratchPool& pool_;
    std::unique_ptr<T> item_;
  };

  Lease borrow() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<T> item = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(item));
      }
    }
    return Lease(*this, make_()); // made outside the lock
  }

  // How many objects were made and are not lent out (for tests).
  size_t idle() const {
    std::lock_guard lock(mu_);
    return free_.size();
  }

private:
  void giveBack(std::unique_ptr<T> item) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(item));
  }

  Make make_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<T>> free_;
};

} // namespace ferry::sink
