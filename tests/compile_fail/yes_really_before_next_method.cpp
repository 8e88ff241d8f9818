// SPDX-License-Identifier: MIT
// A dangerous method followed by another method: the hint is .yes_really(), not "no member".
// expect: sysfence: this method allows something dangerous; add .yes_really() after it
// expect: yes_really_missing_after
// expect: method::allow_open
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto io = builtins::system_io::nothing().allow_open().allow_read();
#else
constexpr auto io = builtins::system_io::nothing().allow_open().yes_really().allow_read();
#endif
[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(io);
