// SPDX-License-Identifier: MIT
// Path methods allow open unconditionally; allow_open_readonly restricts it: a conflict.
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::open
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

#ifdef SYSFENCE_COMPILE_FAIL
[[maybe_unused]] constexpr auto io = builtins::system_io::nothing().allow_read_path("/etc").allow_open_readonly();
#else
[[maybe_unused]] constexpr auto io = builtins::system_io::nothing().allow_read_path("/etc").allow_read();
#endif
[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(io);
