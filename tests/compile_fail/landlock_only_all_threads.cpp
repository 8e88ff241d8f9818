// SPDX-License-Identifier: MIT
// Landlock restricts only the calling thread: a landlock_only() policy cannot apply_to_all_threads.
// expect: sysfence: Landlock restricts only the calling thread, so a landlock_only() policy
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

int main() {
  const auto only =
      safety_context{}.enable(builtins::networking::nothing().allow_connect_tcp(443)).landlock_only();
#ifdef SYSFENCE_COMPILE_FAIL
  return only.try_apply_to_all_threads() ? 0 : 1;
#else
  return only.try_apply_to_current_thread() ? 0 : 1;
#endif
}
