// SPDX-License-Identifier: MIT
// syscall.hpp - the syscall constants sysfence::sys::<name>, each its own one-syscall rule set.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sysfence/detail/syscall_table.hpp"
#include "sysfence/rule_set.hpp"

namespace sysfence::sys {

// `name` is the kernel's name of a syscall.
constexpr std::string_view name(id s) noexcept {
  return detail::syscall_names[static_cast<std::size_t>(s)];
}

// `syscall<I>` is the constant `sys::<name>`: it converts to its `id`, knows its name and its
// number on each architecture, and is a rule set that allows just that syscall.
template <id I>
struct syscall : rule_set_base {
  static constexpr id value = I;
  static constexpr std::string_view name = sys::name(I);
  static constexpr std::array<id, 1> simple_rules{I};

  // `number` is the syscall's number on `Arch` (see arch.hpp) as seccomp_data.nr shows it (x32's
  // with __X32_SYSCALL_BIT), or -1 where it does not exist.
  template <class Arch>
  static constexpr std::int32_t number() noexcept {
    const std::int32_t nr = Arch::numbers[static_cast<std::size_t>(I)];
    return nr < 0 ? -1 : static_cast<std::int32_t>(Arch::value.nr_base) + nr;
  }
  constexpr operator id() const noexcept { return I; }  // NOLINT: implicit by design
};

#define SYSFENCE_DEFINE_SYSCALL(identifier, kernel_name) \
  inline constexpr syscall<id::identifier> identifier{};
SYSFENCE_SYSCALL_CONSTANTS(SYSFENCE_DEFINE_SYSCALL)
#undef SYSFENCE_DEFINE_SYSCALL

}  // namespace sysfence::sys
