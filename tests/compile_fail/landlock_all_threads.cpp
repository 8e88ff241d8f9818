// SPDX-License-Identifier: MIT
// Landlock restricts only the calling thread: path rules cannot apply_to_all_threads.
// expect: sysfence: Landlock restricts only the calling thread
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

int main() {
  const auto io = builtins::system_io::nothing().allow_read_path("/etc");
#ifdef SYSFENCE_COMPILE_FAIL
  return safety_context{}.enable(io).try_apply_to_all_threads() ? 0 : 1;
#else
  return safety_context{}.enable(io).try_apply_to_current_thread() ? 0 : 1;
#endif
}
