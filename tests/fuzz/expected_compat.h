// Fuzz builds only: a minimal std::expected for clang < 16, which cannot compile libstdc++ 12's
// <expected> (it needs conditionally trivial destructors, P0848). Force-included (-include)
// before anything else; it claims <expected>'s include guard so the real header is skipped.
// Covers what libferry uses: construction from values and std::unexpected, has_value,
// operator bool, *, ->, value(), error(). Never used by the normal (GCC) build.
#pragma once

#if defined(__clang__) && __clang_major__ < 16 && !defined(_GLIBCXX_EXPECTED)
#define _GLIBCXX_EXPECTED 1

#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace std {

template <class E> class unexpected {
public:
  template <class G = E>
  requires(!is_same_v<remove_cvref_t<G>, unexpected> &&
           is_constructible_v<E, G>) constexpr explicit unexpected(G&& e)
      : error_(std::forward<G>(e)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

private:
  E error_;
};
template <class E> unexpected(E) -> unexpected<E>;

struct unexpect_t {
  explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

template <class T> inline constexpr bool is_unexpected_v = false;
template <class E> inline constexpr bool is_unexpected_v<unexpected<E>> = true;

template <class T, class E> class expected {
public:
  using value_type = T;
  using error_type = E;

  expected() requires is_default_constructible_v<T> : has_(true) { new (&value_) T(); }
  template <class U = T>
  requires(!is_same_v<remove_cvref_t<U>, expected> && !is_unexpected_v<remove_cvref_t<U>> &&
           is_constructible_v<T, U>) expected(U&& v)
      : has_(true) {
    new (&value_) T(std::forward<U>(v));
  }
  template <class G> expected(const unexpected<G>& u) : has_(false) { new (&error_) E(u.error()); }
  template <class G> expected(unexpected<G>&& u) : has_(false) {
    new (&error_) E(std::move(u).error());
  }
  expected(const expected& o) : has_(o.has_) {
    if (has_)
      new (&value_) T(o.value_);
    else
      new (&error_) E(o.error_);
  }
  expected(expected&& o) noexcept : has_(o.has_) {
    if (has_)
      new (&value_) T(std::move(o.value_));
    else
      new (&error_) E(std::move(o.error_));
  }
  expected& operator=(const expected& o) {
    if (this != &o) {
      destroy();
      new (this) expected(o);
    }
    return *this;
  }
  expected& operator=(expected&& o) noexcept {
    if (this != &o) {
      destroy();
      new (this) expected(std::move(o));
    }
    return *this;
  }
  ~expected() { destroy(); }

  bool has_value() const noexcept { return has_; }
  explicit operator bool() const noexcept { return has_; }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& value() & {
    if (!has_) std::abort();
    return value_;
  }
  const T& value() const& {
    if (!has_) std::abort();
    return value_;
  }
  E& error() & { return error_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

private:
  void destroy() {
    if (has_)
      value_.~T();
    else
      error_.~E();
  }
  union {
    T value_;
    E error_;
  };
  bool has_;
};

template <class E> class expected<void, E> {
public:
  using value_type = void;
  using error_type = E;

  expected() : has_(true) {}
  template <class G> expected(const unexpected<G>& u) : has_(false) { new (&error_) E(u.error()); }
  template <class G> expected(unexpected<G>&& u) : has_(false) {
    new (&error_) E(std::move(u).error());
  }
  expected(const expected& o) : has_(o.has_) {
    if (!has_) new (&error_) E(o.error_);
  }
  expected(expected&& o) noexcept : has_(o.has_) {
    if (!has_) new (&error_) E(std::move(o.error_));
  }
  expected& operator=(const expected& o) {
    if (this != &o) {
      destroy();
      new (this) expected(o);
    }
    return *this;
  }
  expected& operator=(expected&& o) noexcept {
    if (this != &o) {
      destroy();
      new (this) expected(std::move(o));
    }
    return *this;
  }
  ~expected() { destroy(); }

  bool has_value() const noexcept { return has_; }
  explicit operator bool() const noexcept { return has_; }
  void operator*() const noexcept {}
  void value() const {
    if (!has_) std::abort();
  }
  E& error() & { return error_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

private:
  void destroy() {
    if (!has_) error_.~E();
  }
  union {
    E error_;
  };
  bool has_;
};

} // namespace std

#endif
