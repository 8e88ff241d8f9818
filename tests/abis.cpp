// SPDX-License-Identifier: MIT
// abis.cpp - programs serving several ABIs (issue 13): each ABI's calls answered as its own
// program answers them, other architectures killed, and the dispatch itself.
#include "sysfence/compile.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <linux/audit.h>

#include <doctest/doctest.h>

#include "policies.hpp"
#include "sysfence/builtins.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;
using namespace test_policies;

namespace {

// Argument vectors that reach both sides of the tests: edge values in each register, and the
// values the test policies compare with.
constexpr std::array<std::array<std::uint64_t, 6>, 9> argument_vectors{{
    {0, 0, 0, 0, 0, 0},
    {1, 1, 1, 1, 1, 1},
    {100, 1, 2, 3, 4, 5},
    {0x100000064ULL, 0x100000001ULL, 0, 0, 0, 0},
    {0xffffffffULL, 0xffffffffULL, 0xffffffffULL, 0, 0, 0},
    {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL},
    {2, 0x80000ULL, 3, 0, 0, 0},
    {101, 0x1000ULL, 7, 0x22, ~0ULL, 0},
    {0x8000000000000000ULL, 0x80000000ULL, 0x7fffffffULL, 1, 0, 0},
}};

// `same_as_alone` checks, for every number of `Abi`'s table and past it, with every argument
// vector, that `program` answers as the program compiled for `Abi` alone.
template <class Policy, class Abi>
void same_as_alone(std::span<const bpf::insn> program, const std::string& what) {
  const auto& alone = compile<Policy, Abi>();
  std::size_t differences = 0;
  for (std::uint32_t n = 0; n < Abi::value.table_size + 8; ++n)
    for (const auto& args : argument_vectors) {
      seccomp_data d{static_cast<int>(Abi::value.nr_base + n), Abi::audit, 0, {}};
      for (std::size_t i = 0; i < 6; ++i) d.args[i] = args[i];
      const evaluation both = evaluate(program, d), one = evaluate(alone, d);
      if (both.result == one.result) continue;
      if (++differences <= 3)
        FAIL_CHECK(what << ": " << Abi::name << " nr " << d.nr << " arg0 " << args[0] << ": "
                        << action_name(both.result) << ", alone " << action_name(one.result));
    }
  CHECK_MESSAGE(differences == 0, what << ": " << differences << " calls answered otherwise");
}

template <class Policy>
void x86_64_and_i386(const std::string& what) {
  const auto& both = compile<Policy, arch::x86_64, arch::x86>();
  const auto& reversed = compile<Policy, arch::x86, arch::x86_64>();
  CHECK(check(both) == bpf_error::none);
  same_as_alone<Policy, arch::x86_64>(both, what);
  same_as_alone<Policy, arch::x86>(both, what);
  same_as_alone<Policy, arch::x86_64>(reversed, what + " (i386 first)");
  same_as_alone<Policy, arch::x86>(reversed, what + " (i386 first)");
  // Any other architecture is killed, whatever the number.
  for (const std::uint32_t audit : std::array<std::uint32_t, 4>{AUDIT_ARCH_AARCH64, AUDIT_ARCH_RISCV64, AUDIT_ARCH_ARM, 0})
    for (const int nr : {0, 1, 20, 39, -1})
      CHECK(evaluate(both, {nr, audit, 0, {}}).result == action::kill_process);
}

}  // namespace

TEST_CASE("x86_64 and i386 in one program: each answered as by its own program") {
  x86_64_and_i386<decltype(basics)>("basic_capabilities");
  x86_64_and_i386<decltype(stdio)>("stdio_like");
  x86_64_and_i386<decltype(comparisons)>("every_comparison");
  x86_64_and_i386<decltype(trampolines)>("long_block");
  constexpr auto files = safety_context{}
                             .enable(builtins::system_io::nothing().allow_stdout().allow_open_readonly())
                             .enable(builtins::threads::nothing().allow_create());
  x86_64_and_i386<decltype(files)>("system_io and threads");
  constexpr auto network = safety_context{}.enable(builtins::networking::nothing().allow_start_tcp_clients());
  x86_64_and_i386<decltype(network)>("networking (socketcall on i386)");
  constexpr auto allowing = safety_context{}.with_default<action::log>();
  x86_64_and_i386<decltype(allowing)>("a logging default");
}

// The program's shape: LD arch, a JEQ per ABI to its part, KILL; each part loads nr first.
TEST_CASE("the dispatch: one JEQ per ABI, in the order given, then KILL_PROCESS") {
  const auto& p = compile<decltype(stdio), arch::x86_64, arch::x86>();
  REQUIRE(p.size() > 5);
  CHECK(bpf::same(p[0], bpf::load(bpf::off_arch)));
  CHECK(p[1].code == (BPF_JMP | BPF_JEQ | BPF_K));
  CHECK(p[1].k == AUDIT_ARCH_X86_64);
  CHECK(p[2].code == (BPF_JMP | BPF_JEQ | BPF_K));
  CHECK(p[2].k == AUDIT_ARCH_I386);
  CHECK(bpf::same(p[3], bpf::ret(action::kill_process.value)));
  CHECK(bpf::same(p[4], bpf::load(bpf::off_nr)));  // x86_64's part follows the dispatch
  // Serving one more ABI costs its search and three instructions, not a second prologue.
  CHECK(p.size() <= compile<decltype(stdio), arch::x86_64>().size() + compile<decltype(stdio), arch::x86>().size() + 1);
}

// Syscalls are named for the ABI each part serves.
TEST_CASE("dump names each part's syscalls for its ABI") {
  const auto& p = compile<decltype(single), arch::x86_64, arch::x86>();
  const std::string text = dump<arch::x86_64, arch::x86>(p);
  INFO(text);
  // i386 getppid is 64, x86_64's 110: both named getppid, never 64 as x86_64's semget.
  CHECK(text.find("jeq 110 true:0075 false:0076  # getppid") != std::string::npos);
  CHECK(text.find("jge 64 true:0043 false:0039   # >= getppid") != std::string::npos);
  CHECK(text.find("semget") == std::string::npos);
}

namespace x32_tests {
// ioctl's third argument: x86_64's sys_ioctl reads an unsigned long, x32's compat_sys_ioctl a
// compat_ulong_t (32 bits). A rule refusing arg<2> == 5 must refuse x32's 0x100000005 too.
struct ioctl_rules : rule_set_base {
  static constexpr std::string_view name = "ioctl_rules";
  static constexpr auto simple_rules = syscalls(sys::read, sys::exit_group);
  static constexpr std::array conditional_rules{rule{sys::ioctl, arg<1> == 0x5401},
                                                rule{sys::ioctl, arg<1> == 0x5402, arg<2> == 5}.then(action::error(EACCES))};
};
}  // namespace x32_tests

TEST_CASE("x32: its own numbers (bit 30), alone or with x86_64 and i386, each answered as by its own program") {
  x86_64_and_i386<decltype(basics)>("basic_capabilities");  // (unchanged by x32)
  using P = decltype(policy<x32_tests::ioctl_rules>{});
  const auto& x32 = compile<P, arch::x32>();
  const auto& both = compile<P, arch::x86_64, arch::x32>();
  const auto& all = compile<P, arch::x86_64, arch::x86, arch::x32>();
  for (const auto& p : {std::span<const bpf::insn>(x32), std::span<const bpf::insn>(both), std::span<const bpf::insn>(all)})
    CHECK(check(p) == bpf_error::none);
  same_as_alone<P, arch::x86_64>(both, "x86_64 + x32");
  same_as_alone<P, arch::x32>(both, "x86_64 + x32");
  same_as_alone<P, arch::x86_64>(all, "x86_64 + i386 + x32");
  same_as_alone<P, arch::x86>(all, "x86_64 + i386 + x32");
  same_as_alone<P, arch::x32>(all, "x86_64 + i386 + x32");
  same_as_alone<decltype(stdio), arch::x32>(compile<decltype(stdio), arch::x32, arch::x86_64>(), "stdio, x32 first");

  const auto eperm = action::error(EPERM);
  auto run = [](std::span<const bpf::insn> p, std::uint32_t nr, std::uint64_t a1 = 0, std::uint64_t a2 = 0) {
    return evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {0, a1, a2, 0, 0, 0}}).result;
  };
  constexpr std::uint32_t bit = 0x40000000U;
  // x32 alone: its numbers judged by the rules, x86_64's (below bit 30) refused as a foreign ABI.
  CHECK(run(x32, bit + 0) == action::allow);     // read
  CHECK(run(x32, bit + 1) == eperm);             // write: no rule
  CHECK(run(x32, bit + 514, 0x5402, 5) == action::error(EACCES));   // x32's own ioctl
  CHECK(run(x32, bit + 16, 0x5401) == eperm);    // x86_64's ioctl number, as x32: not a syscall there
  CHECK(run(x32, 0) == eperm);                   // x86_64 read: the default (it denies)
  // The compat ioctl reads 32 bits of arg 2: the upper half does not hide the 5.
  CHECK(run(x32, bit + 514, 0x5402, 0x100000005ULL) == action::error(EACCES));
  CHECK(run(both, 16, 0x5402, 0x100000005ULL) == eperm);  // x86_64's reads all 64 bits: no rule matches
  CHECK(run(both, 16, 0x5402, 5) == action::error(EACCES));
  CHECK(run(both, bit + 514, 0x5401) == action::allow);  // x32's ioctl, TCGETS
  // Numbers past x32's common syscalls and before its own (463 to 511) are newer syscalls.
  CHECK(run(x32, bit + arch::x32::value.common_end()) == action::error(ENOSYS));
  CHECK(run(x32, bit + 511) == action::error(ENOSYS));
  CHECK(run(x32, bit + 548) == action::error(ENOSYS));
  CHECK(arch::x32::value.common_end() == arch::x86_64::value.table_size);  // both end at mseal today
  // A default that lets calls run: the other ABI sharing the audit value is killed, not let through.
  constexpr auto logging = safety_context{}.with_default<action::log>();
  const auto& x32_logging = compile<decltype(logging), arch::x32>();
  CHECK(run(x32_logging, 39) == action::kill_process);        // x86_64 getpid
  CHECK(run(x32_logging, bit + 39) == action::allow);         // x32 getpid: basic_capabilities
  CHECK(run(x32_logging, bit + 2) == action::log);            // x32 open: the default
  CHECK(run(compile<decltype(logging), arch::x86_64>(), bit + 39) == action::kill_process);
  const auto& both_logging = compile<decltype(logging), arch::x86_64, arch::x32>();
  CHECK(run(both_logging, 39) == action::allow);
  CHECK(run(both_logging, bit + 39) == action::allow);
  CHECK(run(both_logging, 0xffffffffU) == action::log);  // -1: x32's range, no syscall: the default
}

// Which ABI lists a program can serve: distinct ABIs, and two sharing an audit value only when a
// bit of nr tells them apart (x86_64 and x32).
constexpr bool abi_lists_checked() {
  using detail::targets_ok;
  arch::target untold = arch::x32::value;  // x32's numbers, but no bit said to tell them apart
  untold.abi_bit = 0;
  const std::array<arch::target, 3> x86{arch::x86_64::value, arch::x86::value, arch::x32::value};
  const std::array<arch::target, 2> twice{arch::x86_64::value, arch::x86_64::value};
  const std::array<arch::target, 2> shared_untold{arch::x86_64::value, untold};
  return targets_ok(x86) && !targets_ok(twice) && !targets_ok(shared_untold) &&
         !targets_ok(std::span<const arch::target>{});
}
static_assert(abi_lists_checked());

TEST_CASE("the run-time core refuses an ABI list it cannot dispatch, writing nothing") {
  const std::array<arch::target, 2> twice{arch::x86_64::value, arch::x86_64::value};
  std::array<bpf::insn, 64> out{};
  const detail::compile_output r =
      detail::compile({{}, twice, action::error(EPERM)}, {}, out, std::span<detail::patch>{});
  CHECK(r.result.what == detail::problem::bad_targets);
  CHECK(r.size == 0);
}
