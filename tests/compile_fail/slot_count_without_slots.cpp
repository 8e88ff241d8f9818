// SPDX-License-Identifier: MIT
// slot_count without any slot{i} in the rules: the values would never reach the filter.
// expect: sysfence: this rule set declares slot_count but no rule compares with a slot{i}
// expect: slot_count_without_slots_in
// expect: forgot_the_slot
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct forgot_the_slot : rule_set_base {
  static constexpr std::string_view name = "forgot_the_slot";
  static constexpr std::size_t slot_count = 1;
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == 3}};
#else
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == slot{0}}};
#endif
  [[nodiscard]] std::array<std::uint64_t, 1> values() const { return {3}; }
};

int main() { return safety_context{}.enable(forgot_the_slot{}).try_apply_to_current_thread() ? 0 : 1; }
