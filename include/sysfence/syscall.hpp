// SPDX-License-Identifier: MIT
// syscall.hpp - the syscall constants sysfence::sys::<name>, each its own one-syscall rule set.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sysfence/detail/syscall_table.hpp"
#include "sysfence/rule_set.hpp"

namespace sysfence::sys {

// `name` is the kernel's name of a syscall.
constexpr std::string_view name(id s) noexcept {
  return detail::syscall_names[static_cast<std::size_t>(s)];
}

// `find` is the syscall with the kernel name `kernel_name` ("break", not "break_"), if any of the
// ABIs sysfence knows has it.
constexpr std::optional<id> find(std::string_view kernel_name) noexcept {
  // The names are sorted (tools/gen_syscalls.cmake; tests/syscall.cpp checks it).
  const auto& names = detail::syscall_names;
  const auto it = std::lower_bound(names.begin(), names.end(), kernel_name);
  if (it == names.end() || *it != kernel_name) return std::nullopt;
  return static_cast<id>(it - names.begin());
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
