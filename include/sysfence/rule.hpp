// SPDX-License-Identifier: MIT
// rule.hpp - a rule: one syscall, the conditions (all must hold) and the action when they do.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "sysfence/action.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/syscall_table.hpp"

namespace sysfence {

// `max_conditions` bounds the conditions of one rule (each condition is at most 6 instructions).
inline constexpr std::size_t max_conditions = 8;

// `rule` allows `syscall` when all its conditions hold; rules for one syscall are alternatives.
// With no condition it is a simple rule: the syscall is allowed whatever its arguments.
struct rule {
  sys::id syscall{};
  std::array<condition, max_conditions> conditions{};
  std::uint8_t count = 0;
  action result = action::allow;

  constexpr rule() = default;
  template <std::same_as<condition>... Conditions>
  constexpr rule(sys::id s, Conditions... c) noexcept  // NOLINT: a rule reads as its syscall
      : syscall(s), conditions{c...}, count(static_cast<std::uint8_t>(sizeof...(c))) {
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
