// SPDX-License-Identifier: MIT
// seccomp passes six arguments: arg<6> does not exist.
// expect: sysfence: arg<N> needs N in 0..5 (seccomp passes six arguments)
// expect: arg_t<6
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
