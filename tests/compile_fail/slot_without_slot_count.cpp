// SPDX-License-Identifier: MIT
// A rule set that compares with slot{0} must declare slot_count (else the placeholder 0 would be
// installed as the value).
// expect: sysfence: a rule of this rule set compares with slot{i}
// expect: slot_index_not_below_slot_count_in
// expect: one_file
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct one_file : rule_set_base {
  static constexpr std::string_view name = "one_file";
#ifndef SYSFENCE_COMPILE_FAIL
  static constexpr std::size_t slot_count = 1;
#endif
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == slot{0}}};
  int fd = 3;
  [[nodiscard]] std::array<std::uint64_t, 1> values() const { return {static_cast<std::uint64_t>(fd)}; }
};

int main() { return safety_context{}.enable(one_file{}).try_apply_to_current_thread() ? 0 : 1; }
