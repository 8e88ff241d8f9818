// SPDX-License-Identifier: MIT
// Rules whose conditions overlap (fd <= 2 and fd == 1) must not answer with different actions.
// expect: sysfence: two rules can match the same call of this syscall with different actions
// expect: conflicting_actions_for
// expect: sys::id::write
// expect: action::kind::log
// expect: action::kind::allow
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct watched_writes : rule_set_base {
  static constexpr std::string_view name = "watched_writes";
  static constexpr std::array conditional_rules{
      rule{sys::write, arg<0> <= 2}.then(action::log),
#ifdef SYSFENCE_COMPILE_FAIL
      rule{sys::write, arg<0> == 1},  // overlaps: fd 1 is also <= 2
#else
      rule{sys::write, arg<0> == 3},  // exclusive: fine
#endif
      rule{sys::write, arg<0> >= 10, arg<0> < 20}.then(action::error(5)),
      rule{sys::write, (arg<0> & 0xf0) == 0x40},  // at least 0x40: above every other range
  };
};

[[maybe_unused]] constexpr auto my_policy = policy<watched_writes>{};
