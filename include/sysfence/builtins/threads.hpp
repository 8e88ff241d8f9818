// SPDX-License-Identifier: MIT
// threads.hpp - creating threads and sleeping: extrasafe's danger_zone::Threads, without the
// namespaces extrasafe's unconditional clone lets through.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string_view>

#include <linux/sched.h>

#include "sysfence/builtins/detail.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

namespace clone_flags {
// Every flag that makes clone create a namespace. CLONE_NEWTIME (0x80) is left out: in clone's
// flags that bit is part of the exit signal (CSIGNAL); only clone3 and unshare can ask for it.
inline constexpr std::uint64_t new_namespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                                CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
// What makes a clone a thread of this process: the flags glibc's pthread_create passes (musl's and
// Go's too), less the TID and TLS bookkeeping flags they differ in.
inline constexpr std::uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
// Flags no thread library passes that would let the new task escape its parent: be traced,
// stop the parent (vfork) or be reparented.
inline constexpr std::uint64_t never_for_threads = CLONE_PTRACE | CLONE_VFORK | CLONE_PARENT | CLONE_UNTRACED;
}  // namespace clone_flags

namespace detail {
// `clone3_enosys` answers clone3 with ENOSYS: its flags sit behind a pointer no filter can read,
// and glibc (2.34 and later) falls back to clone on ENOSYS, whose flags the rules check.
inline constexpr rule clone3_enosys = rule{sys::clone3}.then(action::error(ENOSYS));
// `clone_thread` allows clone for a thread: the thread flags all set, no namespace, no tracing.
inline constexpr rule clone_thread =
    rule{sys::clone, (arg<0> & (clone_flags::thread | clone_flags::new_namespaces | clone_flags::never_for_threads)) ==
                         clone_flags::thread};
// `clone_process` allows clone for anything without a namespace flag (fork, vfork, threads).
inline constexpr rule clone_process = rule{sys::clone, (arg<0> & clone_flags::new_namespaces) == 0};
}  // namespace detail

// `threads_rules` allows thread creation and sleeping, like extrasafe's Threads. Unlike extrasafe
// (whose CLONE_THREAD check is commented out, so any process and namespace can be created),
// clone is allowed only with the thread flags and without namespace flags, and clone3 gets ENOSYS.
template <bool Create = false, bool Sleep = false>
struct threads_rules : rule_set_base {
  static constexpr std::string_view name = "threads";
  static constexpr bool portable = true;  // a syscall the target lacks is left out

  static constexpr threads_rules<> nothing() noexcept { return {}; }
  [[nodiscard]] constexpr threads_rules<true, Sleep> allow_create() const noexcept { return {}; }
  // `allow_sleep` allows nanosleep and clock_nanosleep (timing attacks): needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_sleep() const noexcept {
    return dangerous<threads_rules<Create, true>, method::allow_sleep>{};
  }

  static constexpr auto simple_rules = [] {
    detail::bounded_list<sys::id, 3> out;  // clock_nanosleep_time64: i386's, for times past 2038
    if (Sleep) out.add(syscalls(sys::clock_nanosleep, sys::nanosleep, sys::clock_nanosleep_time64));
    return out;
  }();
  static constexpr auto conditional_rules = [] {
    detail::bounded_list<rule, 2> out;
    if (Create) {
      out.add(detail::clone_thread);
      out.add(detail::clone3_enosys);
    }
    return out;
  }();
};

// `threads` is the rule set that allows nothing yet: `threads::nothing().allow_create()`.
using threads = threads_rules<>;

// `threads_with<Methods...>` is how compile errors name a threads rule set: by its methods.
template <class... Methods>
struct threads_with {};

}  // namespace sysfence::builtins

namespace sysfence::detail {
template <bool Create, bool Sleep>
struct shown_as<builtins::threads_rules<Create, Sleep>> {
  using type = list_as<builtins::threads_with, kept_if<Create, builtins::method::allow_create>,
                       kept_if<Sleep, builtins::method::allow_sleep>>;
};
}  // namespace sysfence::detail

namespace sysfence::builtins {

// `fork_and_exec` allows creating processes, running programs and waiting for them, like
// extrasafe's ForkAndExec, but clone only without namespace flags, and clone3 gets ENOSYS.
struct fork_and_exec : rule_set_base {
  static constexpr std::string_view name = "fork_and_exec";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr auto simple_rules =
      syscalls(sys::fork, sys::vfork, sys::execve, sys::execveat, sys::wait4, sys::waitid);
  static constexpr std::array conditional_rules{detail::clone_process, detail::clone3_enosys};
};

}  // namespace sysfence::builtins
