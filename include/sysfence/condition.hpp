// SPDX-License-Identifier: MIT
// condition.hpp - comparisons of one syscall argument: arg<0> == 1, (arg<2> & mask) == value.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace sysfence {

// `cmp` is how a condition compares the argument with its value (unsigned, as the kernel passes them).
enum class cmp : std::uint8_t { eq, ne, lt, le, gt, ge, masked_eq };

// `width` says whether the full 64-bit argument is compared (both halves), only its low 32 bits,
// or as many as the syscall's parameter has (`natural`: `rule` resolves it to qword or dword).
enum class width : std::uint8_t { qword, dword, natural };

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
// An index above 5 is kept (as at most 255) for analyse() to report with the rule set's name.
template <unsigned N>
inline constexpr auto arg_index = static_cast<std::uint8_t>(N < 255 ? N : 255);
// `low_if_sign_extended` is a 32-bit comparison's value or mask: an `int` value sign-extended to
// 64 bits (AT_FDCWD, ~O_ACCMODE) stands for its low 32 bits, the value the kernel reads.
constexpr std::uint64_t low_if_sign_extended(std::uint64_t v) noexcept {
  return (v >> 31) == 0x1ffffffffULL ? v & 0xffffffffU : v;
}
// `with_width` is the condition compared on `w` bits (qword or dword).
constexpr condition with_width(condition c, width w) noexcept {
  c.size = w;
  if (w == width::dword) {
    if (!c.has_slot()) c.value = low_if_sign_extended(c.value);
    if (c.op == cmp::masked_eq) c.mask = low_if_sign_extended(c.mask);
  }
  return c;
}
template <unsigned N, width W>
constexpr condition make(cmp op, std::uint64_t value, std::uint64_t mask = ~std::uint64_t{0}) noexcept {
  return with_width({arg_index<N>, op, W, value, mask, -1}, W);
}
template <unsigned N, width W>
constexpr condition make(cmp op, slot s) noexcept {
  return {arg_index<N>, op, W, 0, ~std::uint64_t{0}, s.index};
}
// Values are integers or unscoped enumerations (SOCK_STREAM is one in glibc), or a run-time slot.
template <class T>
concept arg_integer = std::integral<T> || (std::is_enum_v<T> && std::is_convertible_v<T, std::uint64_t>);
template <class T>
concept arg_value = arg_integer<T> || std::same_as<T, slot>;
}  // namespace detail

// `arg_t<N, W>` is syscall argument N; compare it to make a condition. `arg<N>` compares as many
// bits as the syscall's parameter N has (32 for an `int`), `arg32<N>` the low 32, `arg64<N>` all 64.
// N above 5 is reported by the policy the rule is in (argument_index_above_5_for).
template <unsigned N, width W = width::natural>
struct arg_t {
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

// `arg<N>` is syscall parameter N (0..5) as the kernel reads it: 32 bits for an `int`, `unsigned
// int` or file descriptor, 64 for a pointer, `long` or `size_t` (x86_64's prototypes; a syscall
// without one, all 64). A negative `int` value (AT_FDCWD) compares as the 32 bits the kernel reads.
template <unsigned N>
inline constexpr arg_t<N, width::natural> arg{};
// `arg32<N>` is the low 32 bits of syscall argument N (0..5), whatever the parameter's type.
template <unsigned N>
inline constexpr arg_t<N, width::dword> arg32{};
// `arg64<N>` is all 64 bits of syscall argument N (0..5), whatever the parameter's type.
template <unsigned N>
inline constexpr arg_t<N, width::qword> arg64{};

// `condition_problem` says why a condition is malformed.
enum class condition_problem : std::uint8_t {
  none,
  bad_index,           // argument index above 5
  value_outside_mask,  // masked comparison whose value has bits the mask clears: never matches
  value_above_32_bits, // 32-bit comparison with a value above 0xffffffff: never matches
  mask_above_32_bits,  // 32-bit masked comparison with a mask above 0xffffffff
  not_a_parameter,     // arg<N> (the parameter's width) on a syscall with fewer than N + 1 parameters
};

// `check` returns what is wrong with a condition; a run-time slot's value is checked at apply().
constexpr condition_problem check(const condition& c) noexcept {
  if (c.arg > 5) return condition_problem::bad_index;
  if (c.size == width::natural) return condition_problem::not_a_parameter;
  if (c.op == cmp::masked_eq && !c.has_slot() && (c.value & ~c.mask) != 0)
    return condition_problem::value_outside_mask;
  if (c.size == width::dword && !c.has_slot() && (c.value >> 32) != 0)
    return condition_problem::value_above_32_bits;
  if (c.size == width::dword && c.op == cmp::masked_eq && (c.mask >> 32) != 0)
    return condition_problem::mask_above_32_bits;
  return condition_problem::none;
}

}  // namespace sysfence
