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

// The rule sets of the decision-code tests below: outside the anonymous namespace, where
// clang would call their `name` unused.
namespace decision_code {
struct four_commands : rule_set_base {
  static constexpr std::string_view name = "four_commands";
  static constexpr std::array conditional_rules{rule{sys::fcntl, arg64<1> == 1}, rule{sys::fcntl, arg64<1> == 2},
                                                rule{sys::fcntl, arg64<1> == 3}, rule{sys::fcntl, arg64<1> == 4}};
};

struct personalities : rule_set_base {
  static constexpr std::string_view name = "personalities";
  static constexpr std::array conditional_rules{
      rule{sys::personality, arg64<0> == 0}, rule{sys::personality, arg64<0> == 8},
      rule{sys::personality, arg64<0> == 0x20000}, rule{sys::personality, arg64<0> == 0x20008},
      rule{sys::personality, arg64<0> == 0xffffffff}};
};

struct hundred_fds : rule_set_base {
  static constexpr std::string_view name = "hundred_fds";
  static constexpr auto conditional_rules = [] {
    std::array<rule, 100> rules{};
    for (std::size_t fd = 0; fd < rules.size(); ++fd) rules[fd] = rule{sys::write, arg64<0> == 10 + fd};
    return rules;
  }();
};

// i386 syscalls read 32-bit arguments: a 64-bit condition compares what they read.
struct wide_writes : rule_set_base {
  static constexpr std::string_view name = "wide_writes";
  static constexpr std::array conditional_rules{
      rule{sys::write, arg64<0> == 5},                 // fd 5, whatever the upper half holds
      rule{sys::write, arg64<0> == 0x100000006ULL},    // no i386 call has this fd
      rule{sys::read, arg64<0> < 0x100000000ULL},      // every i386 call
      rule{sys::close, arg64<0> > 0xffffffffULL}};     // no i386 call
};
}  // namespace decision_code

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

// Sweeps one rule's argument (and, for ioctl, the first three) over the edge values, on x86_64
// (dup2 is not on every architecture).
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
      if (run<P, arch::x86_64>(e.syscall, args) != want) return false;
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

// Long blocks need JA trampolines; the program still means what the rules say (on x86_64:
// long_block allows open and stat).
constexpr bool trampolines_work() {
  using P = std::remove_cvref_t<decltype(trampolines)>;
  const auto& p = compile<P, arch::x86_64>();
  bool has_ja = false;
  for (const auto& i : p) has_ja = has_ja || i.code == (BPF_JMP | BPF_JA);
  if (!has_ja) return false;
  for (u64 fd = 990; fd < 1210; ++fd) {
    const bool listed = fd >= 1000 && fd < 1200 && fd % 2 == 0;
    if (run<P, arch::x86_64>(sys::id::read, {fd, (fd - 1000) / 2}) != (listed ? action::allow : eperm))
      return false;
    if (run<P, arch::x86_64>(sys::id::read, {fd, (fd - 1000) / 2 + 1}) != eperm) return false;
  }
  for (auto s : long_block::simple_rules)
    if (run<P, arch::x86_64>(s) != action::allow) return false;
  return run<P, arch::x86_64>(sys::id::openat) == eperm;
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

// Decision code per syscall (issue 12). Four 64-bit fcntl rules share one check of arg1's upper
// half and one load of its lower half; every allowed command runs as many instructions, a refused
// one no more.
using four_commands_policy = policy<decision_code::four_commands>;
constexpr std::size_t loads_of(std::span<const bpf::insn> p, std::uint32_t word) {
  std::size_t n = 0;
  for (const auto& i : p) n += bpf::same(i, bpf::load(word)) ? 1 : 0;
  return n;
}
constexpr bool commands_share_their_tests() {
  const auto& p = compile<four_commands_policy, arch::x86_64>();
  if (loads_of(p, bpf::off_arg_hi(1)) != 1 || loads_of(p, bpf::off_arg_lo(1)) != 1) return false;
  const std::uint32_t first = evaluate(p, call<arch::x86_64>(sys::id::fcntl, {3, 1})).executed;
  for (const u64 cmd : {u64{0}, u64{1}, u64{2}, u64{3}, u64{4}, u64{5}, u64{6}, u64{1030}, u64{0xffffffff}}) {
    const bool listed = cmd >= 1 && cmd <= 4;
    const auto e = evaluate(p, call<arch::x86_64>(sys::id::fcntl, {3, cmd}));
    if (e.result != (listed ? action::allow : eperm) || (listed ? e.executed != first : e.executed > first))
      return false;
    // The same value with a set upper half is refused at the first test, before LD lo; JGT; JGE.
    const auto h = evaluate(p, call<arch::x86_64>(sys::id::fcntl, {3, cmd | u64{1} << 32}));
    if (h.result != eperm || h.executed + 3 != first) return false;
  }
  return true;
}
static_assert(commands_share_their_tests());

// Docker's five personality values are told apart by a search: at most 4 jumps for any value,
// where trying them one after the other took up to 6 (the query, 0xffffffff, last).
using personalities_policy = policy<decision_code::personalities>;
constexpr bool personalities_are_searched() {
  const auto& p = compile<personalities_policy, arch::x86_64>();
  std::uint32_t least = 0xffffffff, most = 0;
  for (const u64 v : {u64{0}, u64{8}, u64{0x20000}, u64{0x20008}, u64{0xffffffff}, u64{1}, u64{9}, u64{0x400000},
                      u64{0x20009}, u64{0xfffffffe}}) {
    const auto e = evaluate(p, call<arch::x86_64>(sys::id::personality, {v}));
    const bool listed = v == 0 || v == 8 || v == 0x20000 || v == 0x20008 || v == 0xffffffff;
    if (e.result != (listed ? action::allow : eperm)) return false;
    least = e.executed < least ? e.executed : least;
    most = e.executed > most ? e.executed : most;
  }
  return most <= least + 2;
}
static_assert(personalities_are_searched());

// Adjacent values with one action are one range: 100 rules, a handful of instructions.
using hundred_fds_policy = policy<decision_code::hundred_fds>;
constexpr bool adjacent_values_are_one_range() {
  const auto& p = compile<hundred_fds_policy, arch::x86_64>();
  if (p.size() > 20) return false;
  for (u64 fd = 0; fd < 130; ++fd)
    for (const u64 upper : {u64{0}, u64{1} << 32})
      if (run<hundred_fds_policy, arch::x86_64>(sys::id::write, {fd | upper}) !=
          (upper == 0 && fd >= 10 && fd < 110 ? action::allow : eperm))
        return false;
  return true;
}
static_assert(adjacent_values_are_one_range());

// On i386 the upper halves seccomp shows (a 64-bit process can set them before `int $0x80`)
// are not what the syscall reads: conditions compare the low 32 bits.
using wide_writes_policy = policy<decision_code::wide_writes>;
constexpr bool i386_compares_what_its_syscalls_read() {
  const auto& p = compile<wide_writes_policy, arch::x86>();
  const auto& q = compile<wide_writes_policy, arch::x86_64>();
  auto on = [](const auto& program, auto arch, sys::id s, u64 a0) {
    using A = decltype(arch);
    return evaluate(program, call<A>(s, {a0})).result;
  };
  for (const u64 upper : {u64{0}, u64{1} << 32, u64{0xffffffff} << 32}) {
    if (on(p, arch::x86{}, sys::id::write, upper | 5) != action::allow) return false;
    if (on(p, arch::x86{}, sys::id::write, upper | 6) != eperm) return false;
    if (on(p, arch::x86{}, sys::id::read, upper | 7) != action::allow) return false;
    if (on(p, arch::x86{}, sys::id::close, upper | 7) != eperm) return false;
  }
  // x86_64 compares all 64 bits, as the rules say.
  return on(q, arch::x86_64{}, sys::id::write, (u64{1} << 32) | 5) == eperm &&
         on(q, arch::x86_64{}, sys::id::write, 0x100000006ULL) == action::allow &&
         on(q, arch::x86_64{}, sys::id::close, u64{1} << 32) == action::allow;
}
static_assert(i386_compares_what_its_syscalls_read());

}  // namespace

TEST_CASE("every comparison operator and width means what it says, on edge values") {
  // Shown when a check fails.
  INFO(explain(comparisons) << dump<arch::x86_64>(compile<arch::x86_64>(comparisons)));
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
  INFO(dump<arch::x86_64>(compile<arch::x86_64>(stdio)));
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
  INFO(dump<arch::x86_64>(compile<arch::x86_64>(trampolines)));
  CHECK(trampolines_work());
}
TEST_CASE("i386 programs") {
  INFO(dump<arch::x86>(compile<decltype(stdio), arch::x86>()));
  CHECK(i386_program());
}

TEST_CASE("rules of one syscall share their tests and search among their values") {
  INFO(dump<arch::x86_64>(compile<four_commands_policy, arch::x86_64>()));
  CHECK(commands_share_their_tests());
  INFO(dump<arch::x86_64>(compile<personalities_policy, arch::x86_64>()));
  CHECK(personalities_are_searched());
  INFO(dump<arch::x86_64>(compile<hundred_fds_policy, arch::x86_64>()));
  CHECK(adjacent_values_are_one_range());
}

TEST_CASE("i386 programs compare the 32 bits its syscalls read") {
  INFO(dump<arch::x86>(compile<wide_writes_policy, arch::x86>()));
  CHECK(i386_compares_what_its_syscalls_read());
}

TEST_CASE("the binary search is logarithmic") {
  const std::uint32_t most = most_executed_for_plain_numbers<large_policy>();
  MESSAGE("large policy: " << compile<large_policy, arch::x86_64>().size() << " instructions, at most "
                           << most << " executed for a plain syscall");
  CHECK(most <= 6 + 10 + 1 + 20);
}
