// SPDX-License-Identifier: MIT
// One rule set allows a syscall both unconditionally and under conditions.
// expect: sysfence: this syscall is allowed unconditionally by one rule and only under conditions by another
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::openat
// expect: careless
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct careless : rule_set_base {
  static constexpr std::string_view name = "careless";
  static constexpr auto simple_rules = syscalls(sys::openat, sys::close);
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::openat, (arg<2> & 3) == 0}};
#else
  static constexpr std::array conditional_rules{rule{sys::fcntl, arg32<1> == 1}};
#endif
};

int main() { return static_cast<int>(compile(safety_context{}.enable(careless{})).size()); }
