// SPDX-License-Identifier: MIT
// A program serving x86_64 and aarch64: open exists on x86_64 only, and the error names aarch64.
// expect: sysfence: a rule names a syscall that the target architecture does not have
// expect: syscall_does_not_exist_on_architecture
// expect: sys::id::open
// expect: aarch64
// expect: opener
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct opener : rule_set_base {
  static constexpr std::string_view name = "opener";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr auto simple_rules = syscalls(sys::open, sys::read);
#else
  static constexpr auto simple_rules = syscalls(sys::openat, sys::read);
#endif
};

[[maybe_unused]] constexpr const auto& for_both = compile<policy<opener>, arch::x86_64, arch::aarch64>();
static_assert(compile<policy<opener>, arch::x86_64>().size() > 0);  // x86_64 alone has both
