// SPDX-License-Identifier: MIT
// A program serves each ABI once: x86_64 twice is a mistake (x86_64 and x32 share an audit value
// and are two ABIs).
// expect: sysfence: a program serves each ABI once
// expect: each_abi_once
// expect: x86_64
#include "sysfence/sysfence.hpp"

using namespace sysfence;

#ifdef SYSFENCE_COMPILE_FAIL
[[maybe_unused]] constexpr const auto& twice = compile<policy<>, arch::x86_64, arch::x86, arch::x86_64>();
#else
[[maybe_unused]] constexpr const auto& twice = compile<policy<>, arch::x86_64, arch::x86>();
#endif
