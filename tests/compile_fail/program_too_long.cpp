// SPDX-License-Identifier: MIT
// A policy whose program is longer than the kernel's 4096 instructions.
// expect: sysfence: the policy compiles to more than 4096 BPF instructions
// expect: program_longer_than_the_kernel_allows
#include <array>
#include <cstddef>
#include <cstdint>

#include "sysfence/sysfence.hpp"

using namespace sysfence;

// Each rule compares two arguments with values no other rule shares (a search among the first,
// then both halves of the second): about 6.1 instructions a rule, RET shared.
#ifdef SYSFENCE_COMPILE_FAIL
constexpr std::size_t fds = 680;  // above 4096
#else
constexpr std::size_t fds = 670;  // just below
#endif

struct many_fds : rule_set_base {
  static constexpr std::string_view name = "many_fds";
  static constexpr auto conditional_rules = [] {
    std::array<rule, fds> rules{};
    for (std::uint64_t fd = 0; fd < fds; ++fd) rules[fd] = rule{sys::write, arg64<0> == 2 * fd, arg64<2> == (fd << 32 | fd)};
    return rules;
  }();
};

static_assert(compile(policy<many_fds>{}).size() <= 4096);  // bare: exactly these rules
