// SPDX-License-Identifier: MIT
// basic_capabilities is part of every safety_context: a condition on mmap would have no effect.
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::mmap
// expect: basic_capabilities
// expect: no_exec_mappings
#include <sys/mman.h>

#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct no_exec_mappings : rule_set_base {
  static constexpr std::string_view name = "no_exec_mappings";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::mmap, (arg<2> & PROT_EXEC) == 0}};
#else
  static constexpr std::array conditional_rules{rule{sys::pkey_mprotect, (arg<2> & PROT_EXEC) == 0}};
#endif
};

[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(no_exec_mappings{});
