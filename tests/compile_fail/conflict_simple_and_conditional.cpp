// SPDX-License-Identifier: MIT
// A syscall allowed unconditionally by one rule set and under conditions by another.
// expect: sysfence: this syscall is allowed unconditionally by one rule and only under conditions by another
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::write
// expect: any_write
// expect: stdout_write
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct any_write : rule_set_base {
  static constexpr std::string_view name = "any_write";
  static constexpr auto simple_rules = syscalls(sys::write, sys::exit_group);
};
struct stdout_write : rule_set_base {
  static constexpr std::string_view name = "stdout_write";
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1}};
};
struct stdout_read : rule_set_base {
  static constexpr std::string_view name = "stdout_read";
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == 0}};
};

#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto my_policy = any_write{} | stdout_write{};
#else
constexpr auto my_policy = any_write{} | stdout_read{};
#endif
static_assert(compile(my_policy).size() > 0);
