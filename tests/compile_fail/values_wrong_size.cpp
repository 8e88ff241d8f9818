// SPDX-License-Identifier: MIT
// values() returning more (or fewer) values than slot_count would write past apply()'s array.
// expect: sysfence: this rule set's values() must return a std::array of exactly slot_count
// expect: values_must_return_slot_count_values_in
// expect: too_many
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct too_many : rule_set_base {
  static constexpr std::string_view name = "too_many";
  static constexpr std::size_t slot_count = 1;
  static constexpr std::array conditional_rules{rule{sys::read, arg<0> == slot{0}}};
#ifdef SYSFENCE_COMPILE_FAIL
  [[nodiscard]] std::array<std::uint64_t, 3> values() const { return {3, 4, 5}; }
#else
  [[nodiscard]] std::array<std::uint64_t, 1> values() const { return {3}; }
#endif
};

int main() { return safety_context{}.enable(too_many{}).try_apply_to_current_thread() ? 0 : 1; }
