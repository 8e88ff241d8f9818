// SPDX-License-Identifier: MIT
// write has three parameters (fd, buf, count): arg<3> is none of them, and the error lists them.
// expect: sysfence: arg<N> compares parameter N as wide as the kernel reads it
// expect: argument_is_not_a_parameter_of
// expect: sys::id::write
// expect: short_writes
// expect: param::fd
// expect: param::count
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct short_writes : rule_set_base {
  static constexpr std::string_view name = "short_writes";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1, arg<3> == 0}};
#else
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1, arg<2> < 4096}};
#endif
};

[[maybe_unused]] constexpr auto my_policy = policy<short_writes>{};
