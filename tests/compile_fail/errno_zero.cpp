// SPDX-License-Identifier: MIT
// action::error(0) makes a refused call "succeed" with 0: a compile error naming the syscall.
// expect: sysfence: action::error(0) makes a refused call return 0 as if it had succeeded
// expect: errno_must_be_1_to_4095_for
// expect: sys::id::openat
// expect: fake_success
#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct fake_success : rule_set_base {
  static constexpr std::string_view name = "fake_success";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::openat}.then(action::error(0))};
#else
  static constexpr std::array conditional_rules{rule{sys::openat}.then(action::error(EACCES))};
#endif
};

int main() { return static_cast<int>(compile(safety_context{}.enable(fake_success{})).size()); }
