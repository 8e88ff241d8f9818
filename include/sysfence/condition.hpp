// SPDX-License-Identifier: MIT
// condition.hpp - comparisons of one syscall argument: arg<0> == 1, (arg<2> & mask) == value.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace sysfence {

// `cmp` is how a condition compares the argument with its value (unsigned, as the kernel passes them).
enum class cmp : std::uint8_t { eq, ne, lt, le, gt, ge, masked_eq };

// `width` says whether the full 64-bit argument is compared (both halves) or only its low 32 bits.
enum class width : std::uint8_t { qword, dword };

// `slot` names a value known only at run time (a file descriptor); apply() patches it in.
struct slot {
  std::uint8_t index;
};

// `condition` is one comparison on one syscall argument; a rule allows when all of its hold.
struct condition {
  std::uint8_t arg = 0;     // 0..5
  cmp op = cmp::eq;
  width size = width::qword;
  std::uint64_t value = 0;  // compared with the argument (after masking for masked_eq)
  std::uint64_t mask = ~std::uint64_t{0};
  std::int16_t slot = -1;   // >= 0: value is run-time slot `slot` of the rule set, not `value`

  [[nodiscard]] constexpr bool has_slot() const noexcept { return slot >= 0; }
  friend constexpr bool operator==(const condition&, const condition&) noexcept = default;
};

namespace detail {
template <unsigned N, width W>
struct masked_arg {
  std::uint64_t mask;
};
template <unsigned N, width W>
constexpr condition make(cmp op, std::uint64_t value, std::uint64_t mask = ~std::uint64_t{0}) noexcept {
  return {static_cast<std::uint8_t>(N), op, W, value, mask, -1};
}
template <unsigned N, width W>
constexpr condition make(cmp op, slot s) noexcept {
  return {static_cast<std::uint8_t>(N), op, W, 0, ~std::uint64_t{0}, s.index};
}
// Values are integers or unscoped enumerations (SOCK_STREAM is one in glibc), or a run-time slot.
template <class T>
concept arg_integer = std::integral<T> || (std::is_enum_v<T> && std::is_convertible_v<T, std::uint64_t>);
template <class T>
concept arg_value = arg_integer<T> || std::same_as<T, slot>;
}  // namespace detail

// `arg_t<N, W>` is syscall argument N; compare it to make a condition. `arg<N>` compares all
// 64 bits; `arg32<N>` only the low 32 (for `int` arguments, as seccompiler's DWORD).
template <unsigned N, width W = width::qword>
struct arg_t {
  static_assert(N <= 5, "sysfence: arg<N> needs N in 0..5 (seccomp passes six arguments)");

  template <detail::arg_value V>
  friend constexpr condition operator==(arg_t, V v) noexcept { return make(cmp::eq, v); }
  template <detail::arg_value V>
  friend constexpr condition operator!=(arg_t, V v) noexcept { return make(cmp::ne, v); }
  template <detail::arg_value V>
  friend constexpr condition operator<(arg_t, V v) noexcept { return make(cmp::lt, v); }
  template <detail::arg_value V>
  friend constexpr condition operator<=(arg_t, V v) noexcept { return make(cmp::le, v); }
  template <detail::arg_value V>
  friend constexpr condition operator>(arg_t, V v) noexcept { return make(cmp::gt, v); }
  template <detail::arg_value V>
  friend constexpr condition operator>=(arg_t, V v) noexcept { return make(cmp::ge, v); }
  // `arg<N> & mask` starts a masked comparison: `(arg<N> & mask) == value`.
  friend constexpr detail::masked_arg<N, W> operator&(arg_t, std::uint64_t mask) noexcept {
    return {mask};
  }

 private:
  template <detail::arg_integer V>
  static constexpr condition make(cmp op, V v) noexcept {
    return detail::make<N, W>(op, static_cast<std::uint64_t>(v));
  }
  static constexpr condition make(cmp op, slot s) noexcept { return detail::make<N, W>(op, s); }
};

namespace detail {
template <unsigned N, width W, arg_integer V>
constexpr condition operator==(masked_arg<N, W> m, V v) noexcept {
  return make<N, W>(cmp::masked_eq, static_cast<std::uint64_t>(v), m.mask);
}
}  // namespace detail

// `arg<N>` is the 64-bit syscall argument N (0..5).
template <unsigned N>
inline constexpr arg_t<N, width::qword> arg{};
// `arg32<N>` is the low 32 bits of syscall argument N (0..5).
template <unsigned N>
inline constexpr arg_t<N, width::dword> arg32{};

// `condition_problem` says why a condition is malformed.
enum class condition_problem : std::uint8_t {
  none,
  bad_index,           // argument index above 5
  value_outside_mask,  // masked comparison whose value has bits the mask clears: never matches
  value_above_32_bits, // 32-bit comparison with a value above 0xffffffff: never matches
  mask_above_32_bits,  // 32-bit masked comparison with a mask above 0xffffffff
};

// `check` returns what is wrong with a condition; a run-time slot's value is checked at apply().
constexpr condition_problem check(const condition& c) noexcept {
  if (c.arg > 5) return condition_problem::bad_index;
  if (c.op == cmp::masked_eq && !c.has_slot() && (c.value & ~c.mask) != 0)
    return condition_problem::value_outside_mask;
  if (c.size == width::dword && !c.has_slot() && (c.value >> 32) != 0)
    return condition_problem::value_above_32_bits;
  if (c.size == width::dword && c.op == cmp::masked_eq && (c.mask >> 32) != 0)
    return condition_problem::mask_above_32_bits;
  return condition_problem::none;
}

}  // namespace sysfence
