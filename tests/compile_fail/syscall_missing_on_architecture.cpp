// SPDX-License-Identifier: MIT
// socketcall exists on i386 only: a policy for x86_64 cannot allow it.
// expect: sysfence: a rule names a syscall that the target architecture does not have
// expect: syscall_does_not_exist_on_architecture
// expect: sys::id::socketcall
// expect: x86_64
// expect: i386_sockets
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct i386_sockets : rule_set_base {
  static constexpr std::string_view name = "i386_sockets";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr auto simple_rules = syscalls(sys::socketcall, sys::read);
#else
  static constexpr auto simple_rules = syscalls(sys::socket, sys::read);
#endif
};

// Compiled for both (no assertion on the result: the compile error is the only one).
[[maybe_unused]] constexpr const auto& for_x86_64 = compile<policy<i386_sockets>, arch::x86_64>();
static_assert(compile<policy<i386_sockets>, arch::x86>().size() > 0);  // i386 has both
