// SPDX-License-Identifier: MIT
// `|` with a type that is not a rule set names the type and the member it lacks (g++ used to say
// only "no match for operator|").
// expect: sysfence: `|` composes rule sets and policies, and this type
// expect: not_a_rule_set_it_lacks
// expect: almost_rules
// expect: member::simple_rules_or_conditional_rules
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct almost_rules : rule_set_base {
  static constexpr std::string_view name = "almost_rules";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr auto simple_rule = syscalls(sys::getppid);  // misspelled
#else
  static constexpr auto simple_rules = syscalls(sys::getppid);
#endif
};

int main() { return static_cast<int>(compile(almost_rules{} | sys::exit_group).size()); }
