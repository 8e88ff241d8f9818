// SPDX-License-Identifier: MIT
// threads.hpp - creating threads and sleeping: extrasafe's danger_zone::Threads.
#pragma once

#include <cstdint>
#include <string_view>

#include "sysfence/builtins/detail.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

// `threads_rules` allows thread creation and sleeping, like extrasafe's Threads. As there, clone and
// clone3 are allowed whatever their flags (clone3's flags sit behind a pointer), so this also
// permits creating processes.
template <bool Create = false, bool Sleep = false>
struct threads_rules : rule_set_base {
  static constexpr std::string_view name = "threads";

  static constexpr threads_rules<> nothing() noexcept { return {}; }
  [[nodiscard]] constexpr threads_rules<true, Sleep> allow_create() const noexcept { return {}; }
  // `allow_sleep` allows nanosleep and clock_nanosleep (timing attacks): needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_sleep() const noexcept {
    return dangerous<threads_rules<Create, true>, method::allow_sleep>{};
  }

  static constexpr auto simple_rules = [] {
    detail::bounded_list<sys::id, 4> out;
    if (Create) out.add(syscalls(sys::clone, sys::clone3));
    if (Sleep) out.add(syscalls(sys::clock_nanosleep, sys::nanosleep));
    return out;
  }();
};

// `threads` is the rule set that allows nothing yet: `threads::nothing().allow_create()`.
using threads = threads_rules<>;

// `fork_and_exec` allows creating processes, running programs and waiting for them, like
// extrasafe's ForkAndExec.
struct fork_and_exec : rule_set_base {
  static constexpr std::string_view name = "fork_and_exec";
  static constexpr auto simple_rules = syscalls(sys::fork, sys::vfork, sys::execve, sys::execveat, sys::wait4,
                                                sys::waitid, sys::clone, sys::clone3);
};

}  // namespace sysfence::builtins
