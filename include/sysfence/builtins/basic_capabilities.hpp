// SPDX-License-Identifier: MIT
// basic_capabilities.hpp - what every program needs to run at all; always part of a safety_context.
#pragma once

#include <string_view>

#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

// `basic_capabilities` allows memory management, signals, futexes, thread bookkeeping, identity
// queries and exiting: extrasafe's BasicCapabilities, syscall for syscall, plus readlinkat, which
// is how readlink() reads a link on aarch64 and riscv64 (they have no readlink syscall), and the
// i386 forms glibc calls there (mmap2 for mmap, sigreturn for a handler without SA_SIGINFO,
// futex_time64 for futex), which no other target has.
struct basic_capabilities : rule_set_base {
  static constexpr std::string_view name = "basic_capabilities";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr auto simple_rules = syscalls(
      sys::brk, sys::mmap, sys::munmap, sys::madvise, sys::mlock, sys::mlock2, sys::mlockall,
      sys::mprotect, sys::munlock, sys::munlockall, sys::sigaltstack, sys::rt_sigaction,
      sys::rt_sigprocmask, sys::rt_sigreturn, sys::futex, sys::get_robust_list, sys::set_robust_list,
      sys::readlink, sys::readlinkat, sys::getpid, sys::gettid, sys::uname, sys::getrandom, sys::sched_getaffinity,
      sys::sched_setaffinity, sys::sched_yield, sys::rseq, sys::exit, sys::exit_group,
      sys::mmap2, sys::sigreturn, sys::futex_time64);
};

}  // namespace sysfence::builtins
