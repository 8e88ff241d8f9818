// SPDX-License-Identifier: MIT
// compile.cpp - the compiled programs, checked in the simulator against what the rules mean.
#include "sysfence/compile.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include <linux/audit.h>

#include <doctest/doctest.h>

#include "policies.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;
using namespace test_policies;

namespace {

constexpr action eperm = action::error(EPERM);
using u64 = std::uint64_t;

// Edge values for argument sweeps: both halves, signed and unsigned boundaries.
constexpr std::array<u64, 22> edges{
    0, 1, 2, 3, 4, 5, 7, 8, 0600, 0700, 0x7fffffff, 0x80000000, 0xffffffff, u64{1} << 32,
    0x100000005, 0x0000000200000001, 0x0000000300000001, 0xffffffff00000000,
    0xffffffff00000001, u64{1} << 63, std::numeric_limits<u64>::max(), 0x5401};

template <class Policy, class Arch = arch::native>
constexpr action run(sys::id s, std::array<u64, 6> args = {}) {
  return evaluate(compile<Policy, Arch>(), call<Arch>(s, args)).result;
}

// Each rule of every_comparison, as a plain C++ expression over the arguments.
struct expectation {
  sys::id syscall;
  bool (*allowed)(const std::array<u64, 6>&);
  unsigned arg;
};
constexpr u64 lo(u64 v) { return v & 0xffffffffU; }
constexpr std::array<expectation, 15> comparison_meaning{{
    {sys::id::dup, [](const auto& a) { return a[0] == 0x100000005; }, 0},
    {sys::id::dup2, [](const auto& a) { return a[1] != 7; }, 1},
    {sys::id::lseek, [](const auto& a) { return a[1] < (u64{1} << 32); }, 1},
    {sys::id::fcntl, [](const auto& a) { return a[1] <= 4; }, 1},
    {sys::id::kill, [](const auto& a) { return a[1] > 0x7fffffff; }, 1},
    {sys::id::tgkill, [](const auto& a) { return a[2] >= 0xffffffff00000000; }, 2},
    {sys::id::socket, [](const auto& a) { return (a[1] & 0xffffffff000000ff) == 0x0000000200000001; }, 1},
    {sys::id::mprotect, [](const auto& a) { return lo(a[2]) == 3; }, 2},
    {sys::id::madvise, [](const auto& a) { return lo(a[2]) != 4; }, 2},
    {sys::id::getpriority, [](const auto& a) { return lo(a[0]) < 2; }, 0},
    {sys::id::setpriority, [](const auto& a) { return lo(a[0]) <= 2; }, 0},
    {sys::id::umask, [](const auto& a) { return lo(a[0]) > 0x7fffffff; }, 0},
    {sys::id::flock, [](const auto& a) { return lo(a[1]) >= 8; }, 1},
    {sys::id::fchmod, [](const auto& a) { return (lo(a[1]) & 0700) == 0600; }, 1},
    {sys::id::ioctl, [](const auto& a) { return (a[0] == 1 && a[1] == 0x5401 && a[2] != 0) || a[0] == 2; }, 0},
}};

// Sweeps one rule's argument (and, for ioctl, the first three) over the edge values.
constexpr bool comparison_matches_meaning(std::size_t which) {
  using P = std::remove_cvref_t<decltype(comparisons)>;
  const expectation& e = comparison_meaning[which];
  for (u64 v : edges) {
    for (u64 w : edges) {
      std::array<u64, 6> args{};
      args[e.arg] = v;
      if (e.syscall == sys::id::ioctl) {
        args[1] = w;
        args[2] = v;
        args[0] = w == 0x5401 ? 1 : (v == 2 ? 2 : v);
      } else if (w != 0) {
        continue;  // one sweep for single-argument rules
      }
      const action want = e.allowed(args) ? action::allow : eperm;
      if (run<P>(e.syscall, args) != want) return false;
    }
  }
  return true;
}
template <std::size_t... I>
constexpr bool every_comparison_matches(std::index_sequence<I...>) {
  return (comparison_matches_meaning(I) && ...);
}
static_assert(every_comparison_matches(std::make_index_sequence<comparison_meaning.size()>{}));

// The prologue: LD arch; JEQ audit (else RET KILL_PROCESS); LD nr; then the search, which sends
// numbers above the highest rule's (x32's bit 30 among them) to the default action: checked for
// every number by every_number_as_the_rules_say below.
template <class Policy>
constexpr bool starts_with_arch_and_abi_checks() {
  const auto& p = compile<Policy, arch::x86_64>();
  if (p.size() < 5 || !bpf::same(p[0], bpf::load(bpf::off_arch))) return false;
  if (p[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || p[1].k != AUDIT_ARCH_X86_64) return false;
  const std::size_t nr_at = 2 + p[1].jt, kill_at = 2 + p[1].jf;
  if (!bpf::same(p[kill_at], bpf::ret(SECCOMP_RET_KILL_PROCESS)) || !bpf::same(p[nr_at], bpf::load(bpf::off_nr)))
    return false;
  return p[nr_at + 1].code == (BPF_JMP | BPF_JGE | BPF_K) || BPF_CLASS(p[nr_at + 1].code) == BPF_RET;
}
static_assert(starts_with_arch_and_abi_checks<std::remove_cvref_t<decltype(stdio)>>());
static_assert(starts_with_arch_and_abi_checks<std::remove_cvref_t<decltype(empty)>>());

// What each syscall number gets, as the rules say, for policies without conditions on it.
template <class Policy>
constexpr bool every_number_as_the_rules_say(std::span<const sys::id> allowed,
                                             std::span<const sys::id> conditional) {
  const auto& p = compile<Policy, arch::x86_64>();
  const auto& numbers = arch::x86_64::numbers;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] < 0) continue;
    const auto id = static_cast<sys::id>(i);
    bool is_conditional = false;
    for (auto c : conditional) is_conditional = is_conditional || c == id;
    if (is_conditional) continue;
    bool is_allowed = false;
    for (auto a : allowed) is_allowed = is_allowed || a == id;
    const auto nr = static_cast<std::uint32_t>(numbers[i]);
    const seccomp_data d{static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}};
    if (!(evaluate(p, d) == (is_allowed ? action::allow : eperm))) return false;
    // The kernel's action cache proves exactly the unconditional allows always-allowed.
    if (const_allow(p, AUDIT_ARCH_X86_64, nr).allowed != is_allowed) return false;
    // x32 numbers and foreign architectures never pass.
    if (!(evaluate(p, {static_cast<int>(nr | 0x40000000U), AUDIT_ARCH_X86_64, 0, {}}) == eperm)) return false;
    if (!(evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_I386, 0, {}}) == action::kill_process)) return false;
  }
  // Numbers past the table (syscalls newer than it) get ENOSYS, glibc's cue to fall back; x32's
  // and -1 are denied.
  const auto past_table = static_cast<std::uint32_t>(arch::x86_64::value.table_size);
  for (std::uint32_t nr : {past_table, past_table + 1, 512U, 1000U, 0x3fffffffU})
    if (!(evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}}) == action::error(ENOSYS))) return false;
  for (std::uint32_t nr : {0x40000000U | past_table, 0xffffffffU, 0x80000000U})
    if (!(evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}}) == eperm)) return false;
  return true;
}

constexpr auto stdio_simple = syscalls(sys::read, sys::close, sys::getppid, sys::getpid,
                                       sys::exit_group, sys::exit);
constexpr auto stdio_conditional = syscalls(sys::write);
static_assert(every_number_as_the_rules_say<std::remove_cvref_t<decltype(stdio)>>(stdio_simple, stdio_conditional));
static_assert(every_number_as_the_rules_say<std::remove_cvref_t<decltype(empty)>>({}, {}));

// The conditional rules of stdio: write to 100, 101, 102 only, on both halves.
constexpr bool stdio_writes() {
  using P = std::remove_cvref_t<decltype(stdio)>;
  for (u64 fd : {u64{99}, u64{100}, u64{101}, u64{102}, u64{103}, (u64{1} << 32) | 100,
                 (u64{1} << 32) | 101, u64{1} << 32, ~u64{0}}) {
    const bool want = fd == 100 || fd == 101 || fd == 102;
    if (run<P>(sys::id::write, {fd}) != (want ? action::allow : eperm)) return false;
  }
  return true;
}
static_assert(stdio_writes());

// Long blocks need JA trampolines; the program still means what the rules say.
constexpr bool trampolines_work() {
  using P = std::remove_cvref_t<decltype(trampolines)>;
  const auto& p = compile<P>();
  bool has_ja = false;
  for (const auto& i : p) has_ja = has_ja || i.code == (BPF_JMP | BPF_JA);
  if (!has_ja) return false;
  for (u64 fd = 990; fd < 1210; ++fd) {
    const bool listed = fd >= 1000 && fd < 1200 && fd % 2 == 0;
    if (run<P>(sys::id::read, {fd, (fd - 1000) / 2}) != (listed ? action::allow : eperm)) return false;
    if (run<P>(sys::id::read, {fd, (fd - 1000) / 2 + 1}) != eperm) return false;
  }
  for (auto s : long_block::simple_rules)
    if (run<P>(s) != action::allow) return false;
  return run<P>(sys::id::openat) == eperm;
}
static_assert(trampolines_work());

// The binary search: a plain allow costs the prologue, log2(intervals) comparisons and a RET.
template <class Policy>
constexpr std::uint32_t most_executed_for_plain_numbers() {
  const auto& p = compile<Policy, arch::x86_64>();
  std::uint32_t most = 0;
  for (std::uint32_t nr = 0; nr < 512; ++nr) {
    const auto e = evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}});
    if (e.executed > most) most = e.executed;
  }
  return most;
}
using large_policy = std::remove_cvref_t<decltype(large)>;
// container allows ~330 syscalls in a few dozen intervals: depth well under 10.
static_assert(most_executed_for_plain_numbers<large_policy>() <= 6 + 10 + 1 + 20);

// i386 programs check AUDIT_ARCH_I386 and use i386 numbers; there is no x32 there.
constexpr bool i386_program() {
  using P = std::remove_cvref_t<decltype(stdio)>;
  const auto& p = compile<P, arch::x86>();
  const auto nr = static_cast<std::uint32_t>(sys::getppid.number<arch::x86>());
  return bpf::same(p[1], bpf::jeq(AUDIT_ARCH_I386, 1, 0)) &&
         evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_I386, 0, {}}) == action::allow &&
         evaluate(p, {static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}}) == action::kill_process &&
         run<P, arch::x86>(sys::id::openat) == eperm;
}
static_assert(i386_program());

}  // namespace

TEST_CASE("every comparison operator and width means what it says, on edge values") {
  INFO(explain(comparisons) << dump(compile(comparisons)));  // shown when a check fails
  for (std::size_t i = 0; i < comparison_meaning.size(); ++i) {
    INFO("rule on " << sys::name(comparison_meaning[i].syscall));
    CHECK(comparison_matches_meaning(i));
  }
}

TEST_CASE("programs start with the architecture and x32 checks") {
  CHECK(starts_with_arch_and_abi_checks<std::remove_cvref_t<decltype(stdio)>>());
  CHECK(starts_with_arch_and_abi_checks<large_policy>());
}

TEST_CASE("every syscall number gets what the rules say; plain allows are cache-provable") {
  INFO(dump(compile(stdio)));
  CHECK(every_number_as_the_rules_say<std::remove_cvref_t<decltype(stdio)>>(stdio_simple, stdio_conditional));
  CHECK(every_number_as_the_rules_say<std::remove_cvref_t<decltype(empty)>>({}, {}));
  CHECK(every_number_as_the_rules_say<large_policy>(container::simple_rules, syscalls(
      sys::clone, sys::socket, sys::ioctl, sys::prctl, sys::personality)));
}

TEST_CASE("conditional writes, both halves") {
  INFO(dump(compile(stdio)));
  CHECK(stdio_writes());
}
TEST_CASE("blocks longer than a jump reaches get trampolines") {
  INFO(dump(compile(trampolines)));
  CHECK(trampolines_work());
}
TEST_CASE("i386 programs") {
  INFO(dump<arch::x86>(compile<decltype(stdio), arch::x86>()));
  CHECK(i386_program());
}

TEST_CASE("the binary search is logarithmic") {
  const std::uint32_t most = most_executed_for_plain_numbers<large_policy>();
  MESSAGE("large policy: " << compile<large_policy>().size() << " instructions, at most " << most
                           << " executed for a plain syscall");
  CHECK(most <= 6 + 10 + 1 + 20);
}
