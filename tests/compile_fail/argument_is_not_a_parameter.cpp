// SPDX-License-Identifier: MIT
// arg<N> compares parameter N as wide as the kernel reads it: getppid has no parameter 0.
// The error names the syscall, the index, the rule set and the syscall's parameters.
// expect: sysfence: arg<N> compares parameter N as wide as the kernel reads it
// expect: argument_is_not_a_parameter_of
// expect: sys::id::getppid
// expect: parent_check
// expect: sys::params<>
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct parent_check : rule_set_base {
  static constexpr std::string_view name = "parent_check";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::getppid, arg<0> == 0}};
#else
  static constexpr std::array conditional_rules{rule{sys::getppid, arg64<0> == 0}};
#endif
};

[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(parent_check{});
