// SPDX-License-Identifier: MIT
// Landlock restricts only the calling thread: TCP port rules cannot apply_to_all_threads either.
// expect: sysfence: Landlock restricts only the calling thread
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

int main() {
  const auto net = builtins::networking::nothing().allow_bind_tcp(8080);
#ifdef SYSFENCE_COMPILE_FAIL
  return safety_context{}.enable(net).try_apply_to_all_threads() ? 0 : 1;
#else
  return safety_context{}.enable(net).try_apply_to_current_thread() ? 0 : 1;
#endif
}
