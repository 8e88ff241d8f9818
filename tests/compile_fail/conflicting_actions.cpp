// SPDX-License-Identifier: MIT
// The same syscall answered with two different actions.
// expect: sysfence: two rules can match the same call of this syscall with different actions
// expect: conflicting_actions_for
// expect: sys::id::clone3
// expect: threads_allowed
// expect: clone3_enosys
// expect: action::kind::allow
// expect: action::kind::error
#include <cerrno>

#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct threads_allowed : rule_set_base {
  static constexpr std::string_view name = "threads_allowed";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr auto simple_rules = syscalls(sys::clone, sys::clone3);
#else
  static constexpr auto simple_rules = syscalls(sys::clone);
#endif
};
struct clone3_enosys : rule_set_base {
  static constexpr std::string_view name = "clone3_enosys";
  static constexpr std::array conditional_rules{rule{sys::clone3}.then(action::error(ENOSYS))};
};

constexpr auto my_policy = threads_allowed{} | clone3_enosys{};
static_assert(compile(my_policy).size() > 0);
