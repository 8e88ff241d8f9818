// SPDX-License-Identifier: MIT
// A policy whose program is longer than the kernel's 4096 instructions.
// expect: sysfence: the policy compiles to more than 4096 BPF instructions
// expect: program_longer_than_the_kernel_allows<
#include <array>
#include <cstddef>

#include "sysfence/sysfence.hpp"

using namespace sysfence;

#ifdef SYSFENCE_COMPILE_FAIL
constexpr std::size_t fds = 1030;  // 4 instructions a rule (RET shared): above 4096
#else
constexpr std::size_t fds = 1010;  // just below
#endif

struct many_fds : rule_set_base {
  static constexpr std::string_view name = "many_fds";
  static constexpr auto conditional_rules = [] {
    std::array<rule, fds> rules{};
    for (std::size_t fd = 0; fd < fds; ++fd) rules[fd] = rule{sys::write, arg64<0> == fd};
    return rules;
  }();
};

static_assert(compile(policy<many_fds>{}).size() <= 4096);  // bare: exactly these rules
