// SPDX-License-Identifier: MIT
// The kernel caps errno at 4095 (MAX_ERRNO): a default errno above it is a compile error.
// expect: sysfence: the policy's default action (or what it answers newer syscalls) is
// expect: default_errno_must_be_1_to_4095
// expect: 5000
#include "sysfence/sysfence.hpp"

using namespace sysfence;

#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto p = safety_context{}.with_errno<5000>();
#else
constexpr auto p = safety_context{}.with_errno<4095>();
#endif

int main() { return static_cast<int>(compile(p).size()); }
