// SPDX-License-Identifier: MIT
// enable() takes rule sets only.
// expect: sysfence: enable() takes a rule set
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct not_a_rule_set {};
struct a_rule_set {
  static constexpr std::string_view name = "a_rule_set";
  static constexpr auto simple_rules = syscalls(sys::getpid);
};

#ifdef SYSFENCE_COMPILE_FAIL
[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(not_a_rule_set{});
#else
[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(a_rule_set{});
#endif
