// SPDX-License-Identifier: MIT
// verifier.cpp - the kernel accepts every program the tests compile.
#include "sysfence/apply.hpp"

#include <cstdio>
#include <span>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "policies.hpp"

using namespace sysfence;
using namespace kernel_test;

namespace {

// Installs `program` in a child and reports what seccomp() said; the child may then be killed by
// the very filter it installed (an empty policy denies exit_group), which does not matter here.
apply_status kernel_verdict(std::span<const bpf::insn> program) {
  shared<apply_status> status;
  status->failed = apply_step::install_filter;
  status->error = -1;
  (void)in_child([&] {
    *status = detail::install(program, 0);
    return 0;
  });
  return *status;
}

void check_accepted(const char* name, std::span<const bpf::insn> program) {
  INFO(name << ": " << program.size() << " instructions");
  const apply_status s = kernel_verdict(program);
  CHECK_MESSAGE(static_cast<bool>(s), s.what() << " errno " << s.error);
}

// The policy's program for x86_64 and, where its syscalls exist there, for i386.
template <class Policy, bool AlsoI386 = true>
void check_accepted(const char* name) {
  check_accepted(name, compile<Policy, arch::x86_64>());
  if constexpr (AlsoI386) check_accepted(name, compile<Policy, arch::x86>());
}

}  // namespace

TEST_CASE("the kernel's verifier accepts every test policy, for x86_64 and i386") {
  using namespace test_policies;
  check_accepted<decltype(empty)>("empty");
  check_accepted<decltype(basics)>("basics");
  check_accepted<decltype(stdio_context)>("stdio_context");
  check_accepted<decltype(stdio)>("stdio");
  check_accepted<decltype(comparisons)>("comparisons");
  check_accepted<decltype(trampolines)>("trampolines");
  check_accepted<decltype(large), false>("large");  // x86_64 syscalls only
  check_accepted<decltype(single)>("single");
}
