// The ingestion ring: a bounded, lock-free multi-producer/single-consumer queue of pointers
// (Vyukov's bounded queue: one sequence number per slot). Full ring = backpressure: a
// producer waits for a free slot, it never drops. Locks are taken only on the sleep path
// (a producer facing a full ring, or the consumer facing an empty one), never per item.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

namespace ferry::core {

inline constexpr size_t kCacheLine = 64;

template <typename T>
requires std::is_trivially_copyable_v<T>
class MpscRing {
public:
  explicit MpscRing(size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), slots_(new Slot[capacity]) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("ring capacity must be a power of two >= 2");
    }
    for (size_t i = 0; i < capacity; ++i)
      slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpscRing(const MpscRing&) = delete;
  MpscRing& operator=(const MpscRing&) = delete;

  size_t capacity() const { return capacity_; }
  // Approximate number of occupied slots (for the ferry_ring_slots_used gauge).
  size_t sizeApprox() const {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_relaxed);
    return tail > head ? static_cast<size_t>(tail - head) : 0;
  }

  // Non-blocking push. False when the ring is full.
  bool tryPush(T value) {
    if (!tryPushRaw(value)) return false;
    wakeConsumer();
    return true;
  }

  // Blocking push: waits while the ring is full. Returns false only if `cancel` becomes
  // true while waiting (the value is then not enqueued).
  bool push(T value, const std::atomic<bool>* cancel = nullptr) {
    for (int spin = 0; spin < 64; ++spin) {
      if (tryPush(value)) return true;
      std::this_thread::yield();
    }
    bool ok = false;
    {
      std::unique_lock lock(producer_mu_);
      producers_waiting_.fetch_add(1, std::memory_order_relaxed);
      for (;;) {
        // seq_cst fence (Dekker with tryPop's fence): either we see the slot the consumer
        // freed, or the consumer sees producers_waiting_ and notifies under producer_mu_,
        // which we hold until wait_for releases it atomically: no lost wake-up.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        ok = tryPushRaw(value);
        if (ok || (cancel && cancel->load(std::memory_order_relaxed))) break;
        // Timed wait: bounds the cost of any wake-up we failed to reason about.
        not_full_.wait_for(lock, std::chrono::milliseconds(50));
      }
      producers_waiting_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (ok) wakeConsumer(); // outside producer_mu_: never hold both mutexes
    return ok;
  }

  // Single consumer only. Non-blocking pop.
  bool tryPop(T& out) {
    if (!tryPopRaw(out)) return false;
    wakeProducers();
    return true;
  }

  // Single consumer only. Waits up to `timeout` for an item.
  template <typename Rep, typename Period>
  bool popWait(T& out, std::chrono::duration<Rep, Period> timeout) {
    if (tryPop(out)) return true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool got = false;
    {
      std::unique_lock lock(consumer_mu_);
      consumer_sleeping_.store(true, std::memory_order_relaxed);
      for (;;) {
        // seq_cst fence (Dekker with wakeConsumer's fence): either we see the producer's
        // item or it sees consumer_sleeping_ and notifies under consumer_mu_, held by us.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        got = tryPopRaw(out);
        if (got || stop_wait_.exchange(false, std::memory_order_relaxed)) break;
        if (not_empty_.wait_until(lock, deadline) == std::cv_status::timeout) {
          got = tryPopRaw(out);
          break;
        }
      }
      consumer_sleeping_.store(false, std::memory_order_relaxed);
    }
    if (got) wakeProducers(); // outside consumer_mu_: never hold both mutexes
    return got;
  }

  // Wakes a consumer blocked in popWait (e.g. to stop it); that popWait returns false.
  void notifyConsumer() {
    std::lock_guard lock(consumer_mu_);
    stop_wait_.store(true, std::memory_order_relaxed);
    not_empty_.notify_one();
  }

private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint64_t> seq;
    T value;
  };

  bool tryPushRaw(T value) {
    uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      // acquire: pairs with the consumer's release store of seq, so the slot's previous
      // value has been read before we overwrite it.
      const uint64_t seq = slot.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<int64_t>(seq) - static_cast<int64_t>(pos);
      if (diff == 0) {
        // relaxed CAS: claiming the position orders nothing by itself; the release store of
        // seq below publishes the value.
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          slot.value = value;
          // release: the consumer that acquires seq == pos + 1 sees value.
          slot.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false; // the slot still holds an item from one lap ago: full
      } else {
        pos = tail_.load(std::memory_order_relaxed); // another producer took pos
      }
    }
  }

  bool tryPopRaw(T& out) {
    const uint64_t pos = head_.load(std::memory_order_relaxed); // only we write head_
    Slot& slot = slots_[pos & mask_];
    // acquire: pairs with the producer's release store, making value visible.
    const uint64_t seq = slot.seq.load(std::memory_order_acquire);
    if (seq != pos + 1) return false; // empty (the producer has not published pos yet)
    out = slot.value;
    // release: the producer that acquires this seq may overwrite value (we have read it).
    slot.seq.store(pos + capacity_, std::memory_order_release);
    head_.store(pos + 1, std::memory_order_relaxed);
    return true;
  }

  void wakeConsumer() {
    // seq_cst fence, pairs with popWait's: see there.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_sleeping_.load(std::memory_order_relaxed)) {
      std::lock_guard lock(consumer_mu_);
      not_empty_.notify_one();
    }
  }

  void wakeProducers() {
    // seq_cst fence, pairs with push's: see there.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (producers_waiting_.load(std::memory_order_relaxed) > 0) {
      std::lock_guard lock(producer_mu_);
      not_full_.notify_all();
    }
  }

  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  // Producers' and consumer's indexes on separate cache lines: no false sharing between the
  // CAS-heavy tail and the consumer-only head.
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  alignas(kCacheLine) std::atomic<bool> consumer_sleeping_{false};
  std::atomic<bool> stop_wait_{false};
  std::atomic<uint32_t> producers_waiting_{0};
  std::mutex consumer_mu_; // guards the consumer's sleep (not_empty_)
  std::mutex producer_mu_; // guards producers' sleep (not_full_)
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
};

} // namespace ferry::core
