// SPDX-License-Identifier: MIT
// slot{1} with slot_count = 1 would read past the values apply() gathers.
// expect: sysfence: a rule of this rule set compares with slot{i}
// expect: slot_index_not_below_slot_count_in
// expect: two_files
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct two_files : rule_set_base {
  static constexpr std::string_view name = "two_files";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::size_t slot_count = 1;
  [[nodiscard]] std::array<std::uint64_t, 1> values() const { return {3}; }
#else
  static constexpr std::size_t slot_count = 2;
  [[nodiscard]] std::array<std::uint64_t, 2> values() const { return {3, 4}; }
#endif
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == slot{0}},
                                                rule{sys::read, arg<0> == slot{1}}};
};

int main() { return safety_context{}.enable(two_files{}).try_apply_to_current_thread() ? 0 : 1; }
