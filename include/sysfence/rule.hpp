// SPDX-License-Identifier: MIT
// rule.hpp - a rule: one syscall, the conditions (all must hold) and the action when they do.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "sysfence/action.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/syscall_signatures.hpp"
#include "sysfence/detail/syscall_table.hpp"

namespace sysfence {

namespace detail {
// `resolve_width` gives a condition of syscall `s` at the natural width its parameter's width:
// dword for a parameter of at most 32 bits (16-bit umode_t included: BPF loads 32-bit words),
// qword above. Natural on an argument the syscall does not have stays, for analyse() to report.
constexpr condition resolve_width(sys::id s, condition c) noexcept {
  if (c.size != width::natural) return c;
  const signature& sig = syscall_signatures[static_cast<std::size_t>(s)];
  if (c.arg >= sig.count) return c;
  return with_width(c, sig.bits[c.arg] > 32 ? width::qword : width::dword);
}
}  // namespace detail

// `max_conditions` bounds the conditions of one rule (each condition is at most 6 instructions).
inline constexpr std::size_t max_conditions = 8;

// `rule` allows `syscall` when all its conditions hold; rules for one syscall are alternatives.
// With no condition it is a simple rule: the syscall is allowed whatever its arguments. It gives
// each arg<N> condition the width of the syscall's parameter N (detail::syscall_signatures).
struct rule {
  sys::id syscall{};
  std::array<condition, max_conditions> conditions{};
  std::uint8_t count = 0;
  action result = action::allow;

  constexpr rule() = default;
  template <std::same_as<condition>... Conditions>
  constexpr rule(sys::id s, Conditions... c) noexcept  // NOLINT: a rule reads as its syscall
      : syscall(s),
        conditions{detail::resolve_width(s, c)...},
        count(static_cast<std::uint8_t>(sizeof...(c))) {
    static_assert(sizeof...(c) <= max_conditions,
                  "sysfence: a rule holds at most 8 conditions; split it into several rules");
  }

  // `then` returns this rule with another action when it matches (the default is allow).
  [[nodiscard]] constexpr rule then(action a) const noexcept {
    rule r = *this;
    r.result = a;
    return r;
  }
  [[nodiscard]] constexpr bool is_simple() const noexcept { return count == 0; }
  // `same_match` is true when both rules match exactly the same calls.
  [[nodiscard]] constexpr bool same_match(const rule& o) const noexcept {
    if (syscall != o.syscall || count != o.count) return false;
    for (std::size_t i = 0; i < count; ++i)
      if (!(conditions[i] == o.conditions[i])) return false;
    return true;
  }
};

}  // namespace sysfence
