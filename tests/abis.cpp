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
