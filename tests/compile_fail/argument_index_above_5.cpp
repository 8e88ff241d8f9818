// SPDX-License-Identifier: MIT
// seccomp passes six arguments: arg<6> does not exist. One error, naming the syscall and the rule set.
// expect: sysfence: arg<N> needs N in 0..5 (seccomp passes six arguments)
// expect: argument_index_above_5_for
// expect: sys::id::splice
// expect: sixth
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct sixth : rule_set_base {
  static constexpr std::string_view name = "sixth";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::splice, arg<6> == 0}};
#else
  static constexpr std::array conditional_rules{rule{sys::splice, arg<5> == 0}};
#endif
};

static_assert(compile(safety_context{}.enable(sixth{})).size() > 0);
