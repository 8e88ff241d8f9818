// SPDX-License-Identifier: MIT
// policy_generator.hpp - random policies and calls (from a PRNG or a fuzzer's bytes) and what a
// policy means, written apart from the compiler: shared by tests/differential.cpp and fuzz/.
//
// Nothing here calls the compiler's analysis to decide what a policy means: `meaning` reads the
// rules directly, `witness` searches for a call two rules both match, and `check_rejection` /
// `check_acceptance` compare `detail::analyse`'s verdict with what the rules say.
#pragma once

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/simulate.hpp"
#include "sysfence/syscall.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/audit.h>
#include <linux/seccomp.h>

namespace sysfence_fuzz {

using sysfence::action;
using sysfence::cmp;
using sysfence::condition;
using sysfence::rule;
using sysfence::width;
using sysfence::detail::entry;
namespace bpf = sysfence::bpf;
namespace detail = sysfence::detail;

// ---------------------------------------------------------------------------------------------
// Sources of choices.

// `prng_source` draws every choice from a seeded std::mt19937_64 (the differential test).
struct prng_source {
  std::mt19937_64 rng;
  explicit prng_source(std::uint64_t seed) : rng(seed) {}
  std::uint64_t any() { return rng(); }
  std::uint64_t below(std::uint64_t n) { return n <= 1 ? 0 : rng() % n; }
};

// `env_number` is the environment variable `name` as a number (decimal, 0x hex), or `fallback`:
// the tests' seeds and sizes.
inline std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// `policy_seed` is policy i's seed (splitmix64), so that one policy can be rerun alone.
inline std::uint64_t policy_seed(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// `byte_source` reads choices from a fuzzer's input: the fewest bytes that cover the range,
// little-endian, zeros once the input is used up (so a short input is a small policy).
struct byte_source {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;

  std::uint64_t take(unsigned bytes) {
    std::uint64_t v = 0;
    for (unsigned b = 0; b < bytes; ++b) {
      if (pos < size) v |= std::uint64_t{data[pos++]} << (8 * b);
    }
    return v;
  }
  std::uint64_t any() { return take(8); }
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    return take(static_cast<unsigned>((std::bit_width(n - 1) + 7) / 8)) % n;
  }
  [[nodiscard]] bool exhausted() const { return pos >= size; }
};

template <class Source>
bool percent(Source& s, std::uint64_t p) {
  return s.below(100) < p;
}
template <class Source, class T, std::size_t N>
const T& pick(Source& s, const std::array<T, N>& from) {
  return from[s.below(N)];
}
template <class Source, class T>
const T& pick(Source& s, const std::vector<T>& from) {
  return from[s.below(from.size())];
}

// ---------------------------------------------------------------------------------------------
// The values policies and calls are made of.

// Argument values where comparisons of halves go wrong: both sides of 2^31, 2^32 and 2^63.
inline constexpr std::array<std::uint64_t, 22> edge_values{
    0,
    1,
    2,
    0x7f,
    0xff,
    0x7fffffffULL,
    0x80000000ULL,
    0x80000001ULL,
    0xfffffffeULL,
    0xffffffffULL,
    0x100000000ULL,
    0x100000001ULL,
    0x1ffffffffULL,
    0x7fffffffffffffffULL,
    0x8000000000000000ULL,  // INT64_MIN
    0x8000000000000001ULL,
    0xfffffffefffffffeULL,
    0xfffffffeffffffffULL,
    0xffffffff00000000ULL,
    0xffffffff00000001ULL,
    0xfffffffffffffffeULL,
    0xffffffffffffffffULL,  // UINT64_MAX
};

inline constexpr std::array<std::uint64_t, 18> edge_masks{
    0,
    1,
    3,
    0xff,
    0xfff,
    0x7fffffffULL,
    0x80000000ULL,
    0xffff0000ULL,
    0xffffffffULL,
    0x100000000ULL,
    0x1ffffffffULL,
    0xffffffff00000000ULL,
    0xffffffff0000ffffULL,
    0x8000000000000000ULL,
    0x8000000080000000ULL,
    0xfffffffffffffff0ULL,
    0xfffffffffffffffeULL,
    0xffffffffffffffffULL,
};

// `number_of` is a syscall's x86_64 number (libseccomp's peer policies are x86_64 ones).
inline std::uint32_t number_of(sysfence::sys::id s) {
  return static_cast<std::uint32_t>(sysfence::arch::x86_64::numbers[static_cast<std::size_t>(s)]);
}

// `syscall_table` is a target's syscalls as the generator needs them: which ones it has, the
// highest-numbered, and which syscall a number names.
struct syscall_table {
  std::vector<sysfence::sys::id> ids;      // every syscall the target has a number for
  sysfence::sys::id highest{};             // the end of the search
  std::vector<std::int32_t> by_number;     // number -> id (index in sys::id), -1 for none
  std::vector<sysfence::sys::id> missing;  // syscalls x86_64 has and this target lacks
};

inline syscall_table make_table(const sysfence::arch::target& t) {
  syscall_table out;
  const auto& numbers = *t.numbers;
  out.by_number.assign(t.table_size, -1);
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] < 0) {
      if (sysfence::arch::x86_64::numbers[i] >= 0) out.missing.push_back(static_cast<sysfence::sys::id>(i));
      continue;
    }
    out.ids.push_back(static_cast<sysfence::sys::id>(i));
    out.by_number[static_cast<std::size_t>(numbers[i])] = static_cast<std::int32_t>(i);
    if (numbers[i] >= numbers[static_cast<std::size_t>(out.highest)])
      out.highest = static_cast<sysfence::sys::id>(i);
  }
  return out;
}

// `target_kind` is an ABI a generated policy's program serves. Another ABI joins as a kind here,
// its target in target_of and table_of, and rows of abi_combinations: the meaning and the calls
// take every target as data (audit value, nr_base, table, narrowing).
enum class target_kind : std::uint8_t { x86_64, i386, aarch64, riscv64, x32 };
inline constexpr std::size_t target_kinds = 5;

inline const sysfence::arch::target& target_of(target_kind k) {
  switch (k) {
    case target_kind::i386: return sysfence::arch::x86::value;
    case target_kind::aarch64: return sysfence::arch::aarch64::value;
    case target_kind::riscv64: return sysfence::arch::riscv64::value;
    case target_kind::x32: return sysfence::arch::x32::value;
    default: return sysfence::arch::x86_64::value;
  }
}

// `kind_name` is how reports name an ABI ("i386", where arch::x86 says "x86").
inline std::string_view kind_name(target_kind k) {
  constexpr std::array<std::string_view, target_kinds> names{"x86_64", "i386", "aarch64", "riscv64", "x32"};
  return names[static_cast<std::size_t>(k)];
}

// `table_of` is a target's table.
inline const syscall_table& table_of(target_kind k) {
  static const syscall_table tables[] = {make_table(sysfence::arch::x86_64::value), make_table(sysfence::arch::x86::value),
                                         make_table(sysfence::arch::aarch64::value),
                                         make_table(sysfence::arch::riscv64::value),
                                         make_table(sysfence::arch::x32::value)};
  return tables[static_cast<std::size_t>(k)];
}

// `number_on` is syscall s's number on t as seccomp_data.nr shows it (nr_base added), -1 where
// t lacks it.
inline std::int64_t number_on(const sysfence::arch::target& t, sysfence::sys::id s) {
  const std::int32_t n = (*t.numbers)[static_cast<std::size_t>(s)];
  return n < 0 ? -1 : std::int64_t{t.nr_base} + n;
}

// `abi_combination` is the ABIs one multi-ABI program serves, in dispatch order, and how often
// it is drawn (weights out of 100).
struct abi_combination {
  std::uint64_t weight = 0;
  std::size_t count = 0;
  std::array<target_kind, 3> kinds{};
};

// `abi_combinations`: the x86 ABIs of a 64-bit process: x86_64 with i386, in either order (most),
// with x32 (one JGE bit 30 between two searches), all three as Docker's profiles serve them; and
// combinations no kernel runs together but a program may serve: x86_64 with aarch64, aarch64
// with riscv64, and three at once.
inline constexpr std::array<abi_combination, 9> abi_combinations{{
    {25, 2, {target_kind::x86_64, target_kind::i386}},
    {20, 2, {target_kind::i386, target_kind::x86_64}},
    {8, 2, {target_kind::x86_64, target_kind::x32}},
    {5, 2, {target_kind::x32, target_kind::x86_64}},
    {7, 3, {target_kind::x86_64, target_kind::i386, target_kind::x32}},
    {10, 2, {target_kind::x86_64, target_kind::aarch64}},
    {10, 2, {target_kind::aarch64, target_kind::riscv64}},
    {8, 3, {target_kind::aarch64, target_kind::x86_64, target_kind::riscv64}},
    {7, 3, {target_kind::x86_64, target_kind::i386, target_kind::aarch64}},
}};

// A few syscalls picked often, so that policies share them and numbers sit next to each other:
// read (0, the lowest), write (1), close (3), mmap (9), ioctl (16), socket (41), openat (257).
inline constexpr std::array<sysfence::sys::id, 7> hot_syscalls{
    sysfence::sys::id::read,  sysfence::sys::id::write,  sysfence::sys::id::close,  sysfence::sys::id::mmap,
    sysfence::sys::id::ioctl, sysfence::sys::id::socket, sysfence::sys::id::openat,
};

// ---------------------------------------------------------------------------------------------
// Policies.

// `generator_options` shapes the policies: sizes, and how often a rule breaks a pattern.
struct generator_options {
  std::size_t max_syscalls = 6;  // distinct syscalls in a policy
  std::size_t max_rules = 12;
  std::size_t max_conditions = 4;           // per conditional rule, at most sysfence::max_conditions
  std::uint64_t mixed_kind_percent = 4;     // a rule simple where its syscall's are conditional, or back
  std::uint64_t other_action_percent = 10;  // a rule's action is not its syscall's usual one
  std::uint64_t copy_percent = 6;           // a rule repeats an earlier one (same match)
  std::uint64_t invalid_percent = 1;        // a condition check() refuses
  std::uint64_t libseccomp_percent = 50;    // the policy keeps to what libseccomp 2.5 can say
                                            // (half of those: equalities only, see differential.cpp)
  std::uint64_t i386_percent = 10;          // the target is i386 (else x86_64; libseccomp: x86_64)
  std::uint64_t aarch64_percent = 0;        // ... aarch64 (simulated only: no kernel here runs it)
  std::uint64_t riscv64_percent = 0;        // ... riscv64 (likewise)
  std::uint64_t x32_percent = 0;            // ... x32 (the kernel here has no x32 ABI: simulated)
  std::uint64_t multi_abi_percent = 0;      // the program serves several ABIs (abi_combinations)
  std::uint64_t portable_percent = 0;       // a syscall's rules are portable (left out where missing)
  std::uint64_t slot_percent = 5;           // a condition's value is a run-time slot, patched in
  std::uint64_t unfit_slot_percent = 15;    // ... whose value does not fit (apply() refuses it)
  std::size_t one_word_rules = 0;           // up to this many more rules comparing one argument
};

// `large_policies` are long programs (hundreds to thousands of instructions): jumps beyond 255
// instructions, so RET copies and JA trampolines; few conflicts, so most are accepted.
inline constexpr generator_options large_policies{
    .max_syscalls = 48,
    .max_rules = 160,
    .max_conditions = 8,
    .mixed_kind_percent = 0,
    .other_action_percent = 1,
    .copy_percent = 2,
    .invalid_percent = 0,
    .libseccomp_percent = 30,
    .i386_percent = 10,
    .slot_percent = 2,
    .unfit_slot_percent = 0,
};

// `huge_policies` are programs around the kernel's limit of 4096 instructions: too_long or not.
inline constexpr generator_options huge_policies{
    .max_syscalls = 120,
    .max_rules = 600,
    .max_conditions = 8,
    .mixed_kind_percent = 0,
    .other_action_percent = 0,
    .copy_percent = 1,
    .invalid_percent = 0,
    .libseccomp_percent = 0,
    .i386_percent = 10,
    .slot_percent = 0,
    .unfit_slot_percent = 0,
};

// `one_word_policies` add to small policies many rules that compare one argument of one syscall
// with constants (issue 12: the search among values, tests shared by all rules): runs of adjacent
// values, values equal in one half, masks, more conditions on other arguments, several actions.
inline constexpr generator_options one_word_policies{.max_syscalls = 3, .max_rules = 6, .one_word_rules = 48};

// `generated_policy` is a policy as the compiler core takes it: each rule is its own "rule
// set" (origin = its index), so a diagnosis names the culprit rules exactly.
struct generated_policy {
  std::vector<entry> rules;
  action default_action = action::error(1);
  std::vector<std::uint64_t> values;        // the pool condition values came from
  std::vector<sysfence::sys::id> syscalls;  // distinct, in the order rules favour them
  bool libseccomp_friendly = false;         // generated within libseccomp's limits
  bool equalities_only = false;             // every condition an equality, masked or not
  target_kind kind = target_kind::x86_64;   // the first ABI the program serves
  std::vector<target_kind> also;            // the other ABIs it serves, dispatched after `kind`
  bool i386 = false;                        // kind == target_kind::i386 (the kernel leg's gate)
  std::size_t slot_count = 0;               // run-time slots, over all rules (each its own rule set)

  [[nodiscard]] const sysfence::arch::target& target() const { return target_of(kind); }
  // `served` is every ABI the program serves, in dispatch order; `targets` the same as the
  // compiler takes them.
  [[nodiscard]] std::vector<target_kind> served() const {
    std::vector<target_kind> out{kind};
    out.insert(out.end(), also.begin(), also.end());
    return out;
  }
  [[nodiscard]] std::vector<sysfence::arch::target> targets() const {
    std::vector<sysfence::arch::target> out;
    for (const target_kind k : served()) out.push_back(target_of(k));
    return out;
  }
  [[nodiscard]] bool serves(target_kind k) const {
    return kind == k || std::find(also.begin(), also.end(), k) != also.end();
  }
  // `abis` names the ABIs served, in order: "x86_64+i386".
  [[nodiscard]] std::string abis() const {
    std::string out(kind_name(kind));
    for (const target_kind k : also) out += "+" + std::string(kind_name(k));
    return out;
  }
  // `number` is a syscall's number on the first target, -1 where it lacks the syscall.
  [[nodiscard]] std::int32_t number(sysfence::sys::id s) const {
    return (*target().numbers)[static_cast<std::size_t>(s)];
  }
  // `slot_values` are the run-time values apply() would be given. A slot condition keeps its
  // value in `value`, so the rules' meaning reads it as a constant; the compiler never sees it
  // (`compile` hides it) and only the patches put it into the program.
  [[nodiscard]] std::vector<std::uint64_t> slot_values() const {
    std::vector<std::uint64_t> out(slot_count);
    for (const entry& e : rules)
      for (std::size_t i = 0; i < e.r.count; ++i)
        if (e.r.conditions[i].has_slot())
          out[e.slot_base + static_cast<std::size_t>(e.r.conditions[i].slot)] = e.r.conditions[i].value;
    return out;
  }
};

// `fits` is whether a slot condition's value can be patched in: no bits above 32 in a 32-bit
// comparison, none outside the mask (for constants, check() refuses the same).
constexpr bool fits(const condition& c) noexcept {
  if (c.size == width::dword && (c.value >> 32) != 0) return false;
  return c.op != cmp::masked_eq || (c.value & ~c.mask) == 0;
}

// `slot_values_fit` is whether apply() would take the policy's run-time values: each must fit
// its condition as every served ABI with the rule's syscall compares it, and where the syscall
// reads the argument as 32 bits (i386) not exceed them. A rule no served ABI has (portable) is
// left out everywhere, its values unchecked.
inline bool slot_values_fit(const generated_policy& p) {
  const std::vector<sysfence::arch::target> targets = p.targets();
  for (const entry& e : p.rules)
    for (std::size_t i = 0; i < e.r.count; ++i) {
      const condition& c = e.r.conditions[i];
      if (!c.has_slot()) continue;
      for (const sysfence::arch::target& t : targets) {
        const std::int64_t nr = number_on(t, e.r.syscall);
        if (nr < 0) continue;
        const std::uint8_t narrow = t.narrow_arguments(static_cast<std::size_t>(e.r.syscall),
                                                       static_cast<std::uint32_t>(nr) - t.nr_base);
        if (!fits(c) || (((narrow >> c.arg) & 1U) != 0 && (c.value >> 32) != 0)) return false;
      }
    }
  return true;
}

template <class Source>
std::uint64_t pool_value(Source& s, const std::vector<std::uint64_t>& pool) {
  switch (s.below(10)) {
    case 0:
    case 1:
    case 2:
      return pick(s, edge_values);
    case 3:
      return s.below(20);
    case 4:
    case 5:
      return s.any();
    case 6:
      return s.any() & 0xffffffffULL;
    default:  // an earlier value with another upper half: equal low halves, different values
      if (pool.empty()) return pick(s, edge_values);
      return (pick(s, pool) & 0xffffffffULL) | (percent(s, 50) ? pick(s, edge_values) << 32 : s.any() << 32);
  }
}

// `random_action` is any action the kernel has, with data where the action has some.
template <class Source>
action random_action(Source& s, bool friendly) {
  // 0 and values above 4095 are refused by the analysis: drawn rarely, so most policies compile.
  constexpr std::array<std::uint16_t, 8> errnos{1, 2, 13, 22, 38, 95, 4094, 4095};
  switch (s.below(16)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return action::allow;
    case 5:
    case 6:
    case 7: {
      if (friendly || percent(s, 97)) return action::error(pick(s, errnos));
      return action::error(static_cast<std::uint16_t>(percent(s, 30) ? 0 : s.any()));  // 0, or up to 65535
    }
    case 8:
      return action::trap(friendly || percent(s, 70) ? 0 : static_cast<std::uint16_t>(s.any()));
    case 9:
    case 10:
      return action::kill_process;
    case 11:
      return action::kill_thread;
    case 12:
      return action::log;
    case 13:
      return action::trace(static_cast<std::uint16_t>(percent(s, 50) ? s.below(4) : s.any()));
    default:
      return action::user_notif;
  }
}

// `random_condition` compares `arg`; `friendly` keeps to what libseccomp 2.5 translates (32-bit
// comparisons only as equalities, masked or not). A few conditions are malformed on purpose.
template <class Source>
condition random_condition(Source& s, const generated_policy& p, std::uint8_t arg,
                           const generator_options& o) {
  condition c;
  c.arg = arg;
  c.op = p.equalities_only ? (percent(s, 50) ? cmp::eq : cmp::masked_eq) : static_cast<cmp>(s.below(7));
  c.size = percent(s, 30) ? width::dword : width::qword;
  if (p.libseccomp_friendly && c.size == width::dword && c.op != cmp::eq && c.op != cmp::masked_eq)
    c.size = width::qword;
  const std::uint64_t from = s.below(10);
  c.value = from < 7 ? pick(s, p.values) : from < 8 ? pick(s, edge_values) : from < 9 ? s.below(8) : s.any();
  if (percent(s, 15)) c.value += percent(s, 50) ? 1 : ~std::uint64_t{0};  // a neighbour
  if (c.op == cmp::masked_eq) {
    const std::uint64_t m = s.below(4);
    c.mask = m < 2 ? pick(s, edge_masks) : m < 3 ? s.any() : pick(s, p.values);
    if (c.size == width::dword) c.mask &= 0xffffffffULL;
    c.value &= c.mask;
  }
  if (c.size == width::dword) c.value &= 0xffffffffULL;
  if (percent(s, o.invalid_percent)) {  // check() must refuse these
    switch (s.below(4)) {
      case 0:
        c.arg = static_cast<std::uint8_t>(6 + s.below(250));
        break;
      case 1:
        c.op = cmp::masked_eq;
        c.mask = c.mask == ~std::uint64_t{0} ? 0xff : c.mask;
        c.value = c.value | ~c.mask;
        break;
      case 2:
        c.size = width::dword;
        c.value |= std::uint64_t{1} << (32 + s.below(32));
        break;
      default:
        c.size = width::dword;
        c.op = cmp::masked_eq;
        c.mask = 0xffffffffULL | (std::uint64_t{1} << (32 + s.below(32)));
        c.value &= 0xffffffffULL;
        break;
    }
  }
  return c;
}

// `add_one_word_rules` gives the policy's first syscall rules that all compare one argument word
// with constants, the same way (32 or 64 bits, one mask): the values come in runs of neighbours,
// share or differ in their upper halves, and some rules compare other arguments too. Each value
// keeps one action, so most such policies are accepted; its values join the pool calls draw from.
template <class Source>
void add_one_word_rules(Source& s, generated_policy& p, const generator_options& o, action usual,
                        bool portable) {
  const auto arg = static_cast<std::uint8_t>(s.below(6));
  const bool dword = percent(s, 40);
  const bool masked = percent(s, 30);
  std::uint64_t mask = masked ? (percent(s, 50) ? pick(s, edge_masks) : s.any()) : ~std::uint64_t{0};
  if (dword) mask &= 0xffffffffULL;
  if (masked && mask == 0) mask = 0xff;
  const std::uint64_t top = dword ? 0xffffffffULL : ~std::uint64_t{0};
  std::uint64_t value = percent(s, 50) ? s.below(16) : pool_value(s, p.values) & top;
  const std::size_t n = 2 + s.below(o.one_word_rules - 1);
  std::vector<std::pair<std::uint64_t, action>> chosen;  // a value keeps its first action
  for (std::size_t i = 0; i < n; ++i) {
    switch (s.below(6)) {  // the next value: a neighbour, a jump, the other half, or any
      case 0: case 1: case 2: value += 1; break;
      case 3: value += 2 + s.below(40); break;
      case 4: value ^= (s.below(4) + 1) << 32; break;
      default: value = pool_value(s, p.values); break;
    }
    const std::uint64_t v = value & mask & top;
    action a = percent(s, 20) ? random_action(s, p.libseccomp_friendly) : usual;
    for (const auto& [w, b] : chosen)
      if (w == v) a = b;
    chosen.emplace_back(v, a);
    entry e;
    e.origin = static_cast<std::uint16_t>(p.rules.size());
    e.r.syscall = p.syscalls.front();
    e.portable = portable;
    e.r.result = a;
    condition c;
    c.arg = arg;
    c.op = masked ? cmp::masked_eq : cmp::eq;
    c.size = dword ? width::dword : width::qword;
    c.value = v;
    c.mask = masked ? mask : ~std::uint64_t{0};
    e.r.conditions[0] = c;
    e.r.count = 1;
    if (percent(s, 25)) {  // and another argument, as the policy's other rules compare them
      auto other = static_cast<std::uint8_t>(s.below(6));
      if (other == arg) other = static_cast<std::uint8_t>((arg + 1) % 6);
      e.r.conditions[1] = random_condition(s, p, other, o);
      e.r.count = 2;
    }
    e.slot_base = static_cast<std::uint16_t>(p.slot_count);
    p.rules.push_back(e);
    if (percent(s, 30)) p.values.push_back(v);
  }
}

// `missing_among` are the syscalls one of `kinds` lacks and another one (or x86_64) has: rules of
// them are portable, left out there, or a missing_syscall.
inline std::vector<sysfence::sys::id> missing_among(std::span<const target_kind> kinds) {
  std::vector<sysfence::sys::id> out;
  for (std::size_t i = 0; i < detail::syscall_count; ++i) {
    bool lacking = false, having = sysfence::arch::x86_64::numbers[i] >= 0;
    for (const target_kind k : kinds) ((*target_of(k).numbers)[i] < 0 ? lacking : having) = true;
    if (lacking && having) out.push_back(static_cast<sysfence::sys::id>(i));
  }
  return out;
}

// `missing_somewhere` is missing_among the policy's ABIs, worked out once for each of
// abi_combinations (the fuzzer makes many small policies).
inline std::vector<sysfence::sys::id> missing_somewhere(const generated_policy& p) {
  if (p.also.empty()) return table_of(p.kind).missing;
  static const auto per_combination = [] {
    std::array<std::vector<sysfence::sys::id>, abi_combinations.size()> out;
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = missing_among(std::span(abi_combinations[i].kinds.data(), abi_combinations[i].count));
    return out;
  }();
  const std::vector<target_kind> served = p.served();
  for (std::size_t i = 0; i < abi_combinations.size(); ++i) {
    const auto kinds = std::span(abi_combinations[i].kinds.data(), abi_combinations[i].count);
    if (std::equal(served.begin(), served.end(), kinds.begin(), kinds.end())) return per_combination[i];
  }
  return missing_among(served);
}

// `generate_policy` makes a policy: a few syscalls, each mostly simple or mostly conditional
// and mostly answered with one action, several rules per syscall, values from a small pool so
// that conditions meet on the same numbers and on numbers equal in one half only. Its program
// serves one ABI, or several (o.multi_abi_percent) as drawn from abi_combinations.
template <class Source>
generated_policy generate_policy(Source& s, const generator_options& o) {
  generated_policy p;
  if (o.multi_abi_percent > 0 && percent(s, o.multi_abi_percent)) {
    std::uint64_t w = s.below(100);
    const abi_combination* c = &abi_combinations.back();
    for (const abi_combination& each : abi_combinations) {
      if (w < each.weight) {
        c = &each;
        break;
      }
      w -= each.weight;
    }
    p.kind = c->kinds[0];
    p.also.assign(c->kinds.begin() + 1, c->kinds.begin() + static_cast<std::ptrdiff_t>(c->count));
  } else {
    const std::uint64_t where = s.below(100);
    p.kind = where < o.i386_percent                                           ? target_kind::i386
             : where < o.i386_percent + o.aarch64_percent                     ? target_kind::aarch64
             : where < o.i386_percent + o.aarch64_percent + o.riscv64_percent ? target_kind::riscv64
             : where < o.i386_percent + o.aarch64_percent + o.riscv64_percent + o.x32_percent ? target_kind::x32
                                                                                               : target_kind::x86_64;
  }
  p.i386 = p.kind == target_kind::i386;
  p.libseccomp_friendly = !p.serves(target_kind::i386) && percent(s, o.libseccomp_percent);
  p.equalities_only = p.libseccomp_friendly && percent(s, 50);
  p.default_action = random_action(s, p.libseccomp_friendly);
  if (p.default_action == action::allow && percent(s, 50))
    p.default_action = action::error(1);  // an allowing default is legal but rarer in practice

  const std::size_t nvalues = 2 + s.below(7);
  for (std::size_t i = 0; i < nvalues; ++i) p.values.push_back(pool_value(s, p.values));

  const std::size_t nsyscalls = 1 + s.below(o.max_syscalls);
  const std::vector<sysfence::sys::id> missing = missing_somewhere(p);
  const bool multi = !p.also.empty();
  std::vector<bool> conditional, portable;
  std::vector<action> usual;
  for (std::size_t i = 0; i < nsyscalls; ++i) {
    // Numbers from one of the ABIs served (the first, when it is one).
    const target_kind from_kind = multi ? pick(s, p.served()) : p.kind;
    const syscall_table& table = table_of(from_kind);
    const auto& numbers = *target_of(from_kind).numbers;
    sysfence::sys::id id{};
    const std::uint64_t from = s.below(20);
    if (from < 6) {
      id = pick(s, hot_syscalls);
    } else if (from < 7) {
      id = table.highest;
    } else if (from < 11 && !p.syscalls.empty()) {
      // A number next to one already there: runs of numbers, a lone number between two runs.
      const std::int32_t near =
          numbers[static_cast<std::size_t>(pick(s, p.syscalls))] + static_cast<std::int32_t>(s.below(5)) - 2;
      if (near < 0 || static_cast<std::size_t>(near) >= table.by_number.size() ||
          table.by_number[static_cast<std::size_t>(near)] < 0)
        continue;
      id = static_cast<sysfence::sys::id>(table.by_number[static_cast<std::size_t>(near)]);
    } else if ((from < 12 || (multi && from < 14)) && !missing.empty() && percent(s, multi ? 80 : 50)) {
      id = pick(s, missing);  // one a target lacks: portable, or missing_syscall (more often with several)
    } else {
      id = pick(s, table.ids);
    }
    if (std::find(p.syscalls.begin(), p.syscalls.end(), id) != p.syscalls.end()) continue;
    p.syscalls.push_back(id);
    conditional.push_back(percent(s, 70));
    usual.push_back(random_action(s, p.libseccomp_friendly));
    portable.push_back(o.portable_percent > 0 && percent(s, o.portable_percent));
  }

  if (p.syscalls.empty()) p.syscalls.push_back(table_of(p.kind).highest);  // every pick was skipped
  if (conditional.empty()) {
    conditional.push_back(true);
    usual.push_back(action::allow);
    portable.push_back(false);
  }
  // Each rule is a rule set of its own: its slots are numbered from 0, after the rules before.
  auto take_slots = [&](entry& e) {
    e.slot_base = static_cast<std::uint16_t>(p.slot_count);
    std::size_t used = 0;
    for (std::size_t c = 0; c < e.r.count; ++c)
      if (e.r.conditions[c].has_slot())
        used = std::max(used, static_cast<std::size_t>(e.r.conditions[c].slot) + 1);
    p.slot_count += used;
  };
  const std::size_t nrules = 1 + s.below(o.max_rules);
  for (std::size_t i = 0; i < nrules; ++i) {
    entry e;
    e.origin = static_cast<std::uint16_t>(i);
    if (!p.rules.empty() && percent(s, o.copy_percent)) {  // the same match again
      const entry& copied = pick(s, p.rules);
      e.r = copied.r;
      e.portable = copied.portable;
      if (percent(s, 30)) e.r.result = random_action(s, p.libseccomp_friendly);
      take_slots(e);  // its own slots, with the same values
      p.rules.push_back(e);
      continue;
    }
    // Favour the first syscalls, so that several rules share one.
    const std::size_t k = percent(s, 40) ? 0 : s.below(p.syscalls.size());
    e.r.syscall = p.syscalls[k];
    e.r.result = percent(s, o.other_action_percent) ? random_action(s, p.libseccomp_friendly) : usual[k];
    // Now and then one rule of a portable syscall is not portable, or the other way round.
    e.portable = o.portable_percent > 0 && portable[k] != percent(s, 5);
    const bool cond = conditional[k] != percent(s, o.mixed_kind_percent);
    if (cond) {
      const std::size_t limit = std::min<std::size_t>(o.max_conditions, sysfence::max_conditions);
      const std::size_t n = 1 + s.below(p.libseccomp_friendly ? std::min<std::size_t>(limit, 6) : limit);
      std::array<bool, 6> used{};
      for (std::size_t c = 0; c < n; ++c) {
        auto arg = static_cast<std::uint8_t>(s.below(6));
        if (p.libseccomp_friendly) {  // libseccomp takes one comparison per argument and rule
          while (used[arg]) arg = static_cast<std::uint8_t>((arg + 1) % 6);
          used[arg] = true;
        }
        e.r.conditions[c] = random_condition(s, p, arg, o);
        if (percent(s, o.slot_percent)) {  // the value becomes a run-time slot's
          condition& slotted = e.r.conditions[c];
          slotted.slot = static_cast<std::int16_t>(c);
          if (percent(s, o.unfit_slot_percent)) {  // a value patch_values() must refuse
            if (slotted.op == cmp::masked_eq && slotted.mask != ~std::uint64_t{0})
              slotted.value |= ~slotted.mask & -(~slotted.mask);  // the lowest bit outside the mask
            else
              slotted.size = width::dword, slotted.value |= std::uint64_t{1} << (32 + s.below(32));
          }
        }
      }
      e.r.count = static_cast<std::uint8_t>(n);
    }
    take_slots(e);
    p.rules.push_back(e);
  }
  if (o.one_word_rules > 0) add_one_word_rules(s, p, o, usual.front(), portable.front());
  return p;
}

// ---------------------------------------------------------------------------------------------
// What a policy means, from the rules alone.

// `holds` is a condition on an argument value: unsigned, the low halves for 32-bit ones.
constexpr bool holds(const condition& c, std::uint64_t arg) noexcept {
  const std::uint64_t x = c.size == width::dword ? arg & 0xffffffffULL : arg;
  switch (c.op) {
    case cmp::eq:
      return x == c.value;
    case cmp::ne:
      return x != c.value;
    case cmp::lt:
      return x < c.value;
    case cmp::le:
      return x <= c.value;
    case cmp::gt:
      return x > c.value;
    case cmp::ge:
      return x >= c.value;
    case cmp::masked_eq:
      return (x & c.mask) == c.value;
  }
  return false;
}

// `narrow`: the arguments the syscall reads as 32 bits (bit N for argument N: all on i386, some
// of x32's compat syscalls'), whose conditions see the low 32 bits of the register,
// zero-extended, whatever seccomp shows above them.
constexpr bool matches(const rule& r, const seccomp_data& d, std::uint8_t narrow = 0) noexcept {
  for (std::size_t i = 0; i < r.count; ++i) {
    const std::uint64_t arg = d.args[r.conditions[i].arg];
    if (!holds(r.conditions[i], ((narrow >> r.conditions[i].arg) & 1U) != 0 ? arg & 0xffffffffULL : arg)) return false;
  }
  return true;
}

constexpr bool denies(action a) noexcept {
  const auto k = a.what();
  return k == action::kind::error || k == action::kind::kill_process || k == action::kind::kill_thread ||
         k == action::kind::trap;
}

// `usable_errno` is false for error(0) and errnos above 4095, which the analysis refuses.
inline bool usable_errno(action a) {
  return a.what() != action::kind::error || (a.data() >= 1 && a.data() <= 4095);
}

// `meant` is what a policy answers for a call, and whether two matching rules disagreed (then
// the analysis should have refused the policy, and `action` is the first one's).
struct meant {
  action result;
  bool matched = false;  // a rule matched (else: foreign arch, x32, or the default)
  bool disagreement = false;
  std::size_t first = 0, second = 0;  // the first matching rule; the one disagreeing with it
};

// `abi_choice` is which of a policy's ABIs judges a call: `served` when one has the call's
// audit value, and among those `target`, the one with the greatest nr_base <= nr (x86_64 from 0,
// x32 from bit 30), if any.
struct abi_choice {
  bool served = false;
  const sysfence::arch::target* target = nullptr;
};

inline abi_choice judge(const generated_policy& p, std::uint32_t audit, std::uint32_t nr) {
  abi_choice c;
  auto consider = [&](target_kind k) {
    const sysfence::arch::target& t = target_of(k);
    if (t.audit != audit) return;
    c.served = true;
    if (t.nr_base <= nr && (c.target == nullptr || t.nr_base > c.target->nr_base)) c.target = &t;
  };
  consider(p.kind);
  for (const target_kind k : p.also) consider(k);
  return c;
}

// `foreign_abi` is whether `nr` belongs to an ABI that shares t's audit value but is not served:
// numbers below t's base (x32 alone), or from the bit that tells the two apart on (x86_64 alone:
// 0x40000000 and above, as the program's JGE sees them, 0x80000000 too; -1 among them).
inline bool foreign_abi(const sysfence::arch::target& t, std::uint32_t nr) {
  return nr < t.nr_base || (t.abi_bit != 0 && t.nr_base < t.abi_bit && nr >= t.abi_bit);
}

// `newer_number` is whether t's search gives `nr` (t's own) the newer-syscall answer: past its
// table, or in x32's gap between its common and its compat syscalls.
inline bool newer_number(const sysfence::arch::target& t, std::uint32_t nr) {
  const std::uint32_t local = nr - t.nr_base;
  return local >= t.table_size || (t.compat_first != 0 && local >= t.common_end() && local < t.compat_first);
}

// `meaning` is the policy's answer for `d`: an architecture none of its ABIs has kills the
// process; a number of an ABI that shares the architecture but is not served (x32's on x86_64:
// 0x40000000 and above, -1 among them) gets the default if it denies, else kills the process;
// a number past the ABI's table gets ENOSYS when the default refuses, else the default;
// otherwise the action of a rule whose syscall has that number on the ABI and whose conditions
// all hold as the ABI's syscall reads its arguments (no condition: always), else the default.
// A rule of a syscall the ABI lacks (portable) is left out there. Rules that overlap must
// answer alike (the analysis refuses the rest), so the first matching rule's action is the action.
inline meant meaning(const generated_policy& p, const seccomp_data& d) {
  const auto nr = static_cast<std::uint32_t>(d.nr);
  const abi_choice c = judge(p, d.arch, nr);
  if (!c.served) return {action::kill_process};
  if (c.target == nullptr || foreign_abi(*c.target, nr))
    return {denies(p.default_action) ? p.default_action : action::kill_process};
  const sysfence::arch::target& t = *c.target;
  // Syscalls newer than the tables get ENOSYS when the default refuses, else the default.
  if (newer_number(t, nr))
    return {p.default_action.lets_syscall_run() ? p.default_action : action::error(ENOSYS)};
  meant m{p.default_action};
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const rule& r = p.rules[i].r;
    if (number_on(t, r.syscall) != std::int64_t{nr}) continue;
    if (!matches(r, d, t.narrow_arguments(static_cast<std::size_t>(r.syscall), nr - t.nr_base))) continue;
    if (!m.matched) {
      m.result = r.result;
      m.first = i;
      m.matched = true;
    } else if (r.result != m.result && !m.disagreement) {
      m.disagreement = true;
      m.second = i;
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Calls that rules match.

// `thin` keeps at most `cap` of the sorted values, evenly spread (the first and last kept).
template <class T>
void thin(std::vector<T>& v, std::size_t cap) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() <= cap) return;
  std::vector<T> kept;
  for (std::size_t i = 0; i < cap; ++i) kept.push_back(v[i * (v.size() - 1) / (cap - 1)]);
  v = kept;
}

// `arg_candidates` are values likely to satisfy, or just miss, the conditions: each value and
// its neighbours, the value with the bits outside its mask set, and the edge values; `low` and
// `high` are halves to pair when 32-bit conditions are among them.
inline void arg_candidates(std::span<const condition* const> cs, std::vector<std::uint64_t>& full,
                           std::vector<std::uint32_t>& low, std::vector<std::uint32_t>& high) {
  full.assign(edge_values.begin(), edge_values.end());
  high = {0, 1, 0x7fffffffU, 0x80000000U, 0xffffffffU};
  // The bits every masked (or plain) equality sets: what two compatible masked equalities share.
  std::uint64_t all_set = 0;
  for (const condition* c : cs)
    if (c->op == cmp::eq || c->op == cmp::masked_eq) all_set |= c->value;
  full.push_back(all_set);
  for (const condition* c : cs) {
    const std::uint64_t v = c->value;
    const std::uint64_t outside = c->op == cmp::masked_eq ? ~c->mask : 0;
    const std::array<std::uint64_t, 6> near{v,
                                            v + 1,
                                            v - 1,
                                            v | outside,
                                            v | (outside & 0x5555555555555555ULL),
                                            v | (outside & 0xaaaaaaaaaaaaaaaaULL)};
    std::array<std::uint64_t, 16> more{};  // the value with single low bits outside the mask set
    std::size_t nmore = 0;
    for (unsigned b = 0; b < 64 && nmore < more.size(); ++b)
      if ((outside >> b) & 1) more[nmore++] = v | (std::uint64_t{1} << b);
    for (const std::uint64_t k : {0xffULL, 0xffffULL, 0xffffffffULL}) full.push_back(v | (outside & k));
    for (std::size_t i = 0; i < nmore; ++i) full.push_back(more[i]);
    for (const std::uint64_t x : near) {
      if (c->size == width::dword) {
        low.push_back(static_cast<std::uint32_t>(x));
      } else {
        full.push_back(x);
        high.push_back(static_cast<std::uint32_t>(x >> 32));
      }
    }
  }
  for (const std::uint64_t x : full) low.push_back(static_cast<std::uint32_t>(x));
  thin(low, 64);
  thin(high, 16);
}

// `witness` looks for arguments that satisfy every condition of `rules` at once (a call all of
// them match); each argument is independent, so it searches one at a time, among candidates.
// Found: a proof that the rules overlap. Not found: no proof either way. `choose` picks among
// the satisfying values of an argument (for variety in test data), or the first when null.
template <class Source>
bool witness(std::span<const rule* const> rules, std::array<std::uint64_t, 6>& args, Source* choose) {
  std::vector<const condition*> cs;
  std::vector<std::uint64_t> full, ok;
  std::vector<std::uint32_t> low, high;
  for (std::uint8_t a = 0; a < 6; ++a) {
    cs.clear();
    bool dword = false;
    for (const rule* r : rules)
      for (std::size_t i = 0; i < r->count; ++i)
        if (r->conditions[i].arg == a) {
          cs.push_back(&r->conditions[i]);
          dword = dword || r->conditions[i].size == width::dword;
        }
    if (cs.empty()) {
      args[a] = choose != nullptr ? (percent(*choose, 50) ? pick(*choose, edge_values) : choose->any()) : 0;
      continue;
    }
    full.clear();
    low.clear();
    high.clear();
    ok.clear();
    arg_candidates(cs, full, low, high);
    auto all_hold = [&](std::uint64_t x) {
      for (const condition* c : cs)
        if (!holds(*c, x)) return false;
      return true;
    };
    for (const std::uint64_t x : full)
      if (all_hold(x) && ok.size() < 16) ok.push_back(x);
    if (ok.empty() && dword) {  // 32-bit conditions: pair high halves with low halves
      for (std::size_t h = 0; h < high.size() && ok.size() < 16; ++h)
        for (std::size_t l = 0; l < low.size() && ok.size() < 16; ++l) {
          const std::uint64_t x = (std::uint64_t{high[h]} << 32) | low[l];
          if (all_hold(x)) ok.push_back(x);
        }
    }
    if (ok.empty()) return false;
    args[a] = choose != nullptr ? pick(*choose, ok) : ok.front();
  }
  return true;
}

inline bool witness(std::span<const rule* const> rules, std::array<std::uint64_t, 6>& args) {
  return witness<prng_source>(rules, args, nullptr);
}

// `satisfying_calls` are, per rule, a few argument vectors that rule matches (none when the
// search finds none, e.g. arg<0> < 0): test data that reaches every rule's action.
template <class Source>
std::vector<std::vector<std::array<std::uint64_t, 6>>> satisfying_calls(Source& s, const generated_policy& p,
                                                                        std::size_t per_rule) {
  std::vector<std::vector<std::array<std::uint64_t, 6>>> out(p.rules.size());
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const rule* r = &p.rules[i].r;
    for (std::size_t k = 0; k < per_rule; ++k) {
      std::array<std::uint64_t, 6> args{};
      if (!witness(std::span<const rule* const>(&r, 1), args, &s)) break;
      out[i].push_back(args);
    }
  }
  return out;
}

template <class Source>
std::uint64_t random_arg(Source& s, const generated_policy& p) {
  const std::uint64_t from = s.below(20);
  if (from < 7) {  // a policy value, or one that just misses it
    const std::uint64_t v = pick(s, p.values);
    switch (s.below(5)) {
      case 0:
        return v + 1;
      case 1:
        return v - 1;
      case 2:
        return v ^ (std::uint64_t{1} << (32 + s.below(32)));  // same low half
      default:
        return v;
    }
  }
  if (from < 13) return pick(s, edge_values);
  if (from < 17) return s.any();
  return s.below(16);
}

// `foreign_audit` is an architecture the policy does not serve: another one sysfence knows
// (32-bit Arm among them), mostly, or nonsense.
template <class Source>
std::uint32_t foreign_audit(Source& s, const generated_policy& p) {
  constexpr std::array<std::uint32_t, 5> known{AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64,
                                               AUDIT_ARCH_RISCV64, AUDIT_ARCH_ARM};
  std::array<std::uint32_t, known.size()> others{};
  std::size_t n = 0;
  for (const std::uint32_t a : known)
    if (!judge(p, a, 0).served) others[n++] = a;
  return n > 0 && percent(s, 75) ? others[s.below(n)] : static_cast<std::uint32_t>(s.any());
}

// `random_call` is a seccomp_data for the policy: an ABI it serves (each alike), then mostly
// its syscalls on that ABI (often with arguments a rule matches), else a neighbouring number,
// one past the table, an x32 number, 0x80000000 and above, -1, or a foreign architecture.
template <class Source>
seccomp_data random_call(Source& s, const generated_policy& p,
                         const std::vector<std::vector<std::array<std::uint64_t, 6>>>& satisfying) {
  seccomp_data d{};
  const std::size_t abi = s.below(1 + p.also.size());
  const sysfence::arch::target& t = target_of(abi == 0 ? p.kind : p.also[abi - 1]);
  d.arch = t.audit;
  if (percent(s, 4)) d.arch = foreign_audit(s, p);  // another architecture, or nonsense
  d.instruction_pointer = s.any();
  for (auto& a : d.args) a = random_arg(s, p);

  // The number of one of the rules' syscalls (one the ABI has), else of a hot one.
  std::int64_t own = p.rules.empty() ? -1 : number_on(t, pick(s, p.rules).r.syscall);
  if (own < 0) own = number_on(t, pick(s, hot_syscalls));
  if (own < 0) own = t.nr_base;
  const std::uint64_t where = s.below(100);
  auto nr = static_cast<std::uint32_t>(own);
  if (where < 72) {
    // One of the policy's rules' syscalls, mostly with arguments that rule matches.
    if (!p.rules.empty() && percent(s, 60)) {
      const std::size_t i = s.below(p.rules.size());
      if (const std::int64_t n = number_on(t, p.rules[i].r.syscall); n >= 0) {
        nr = static_cast<std::uint32_t>(n);
        if (!satisfying[i].empty()) {
          const auto& args = pick(s, satisfying[i]);
          for (std::size_t a = 0; a < 6; ++a)
            if (!percent(s, 8)) d.args[a] = args[a];  // now and then one argument moves away
        }
      }
    }
  } else if (where < 82) {
    constexpr std::array<std::int32_t, 4> steps{-2, -1, 1, 2};
    nr = static_cast<std::uint32_t>(own + pick(s, steps));
  } else if (where < 87) {
    nr = t.nr_base + static_cast<std::uint32_t>(s.below(512));
  } else if (where < 91) {
    const std::uint32_t end = t.nr_base + t.table_size;  // the first number past the table
    const std::array<std::uint32_t, 5> far{end, end + 1, t.nr_base + 1000, 0x3ffffffeU, 0x3fffffffU};
    nr = percent(s, 50) ? pick(s, far) : static_cast<std::uint32_t>(s.any() & 0x3fffffffU);
  } else if (where < 95) {
    nr = 0x40000000U | static_cast<std::uint32_t>(percent(s, 70) ? own : s.any());  // x32 and above
  } else if (where < 98) {
    // Bit 31: past bit 30 for the program's JGE, though bit 30 is clear in some.
    constexpr std::array<std::uint32_t, 6> high{0x7fffffffU, 0x80000000U, 0x80000001U,
                                                0xbfffffffU, 0xc0000000U, 0xfffffffeU};
    nr = percent(s, 50) ? pick(s, high)
                        : 0x80000000U | static_cast<std::uint32_t>(percent(s, 50) ? own : s.any());
  } else {
    nr = 0xffffffffU;  // -1: a tracer skipping the call
  }
  d.nr = static_cast<int>(nr);
  return d;
}

// ---------------------------------------------------------------------------------------------
// The analysis against the rules.

// `policy_names` are the "rule set" names describe_policy prints: "rule 0", "rule 1", ...
struct policy_names {
  std::vector<std::string> owned;
  std::vector<std::string_view> views;
  explicit policy_names(const generated_policy& p) {
    for (std::size_t i = 0; i < p.rules.size(); ++i) owned.push_back("rule " + std::to_string(i));
    for (const std::string& s : owned) views.emplace_back(s);
  }
};

inline std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// `text_of` is what `write` puts into a detail::text, as a std::string: written once to count,
// once to fill.
template <class Write>
std::string text_of(Write write) {
  detail::text count;
  write(count);
  std::string out(count.size, '\0');
  detail::text fill{out.data(), out.size()};
  write(fill);
  return out;
}

// `describe` is the policy as text: the ABIs served, the default action, then each rule with
// its conditions, and the syscalls an ABI lacks (a portable rule left out there, or an error).
inline std::string describe(const generated_policy& p) {
  const policy_names names(p);
  const std::vector<sysfence::arch::target> targets = p.targets();
  const std::string out = text_of(
      [&](detail::text& t) { detail::describe_policy(t, p.rules, names.views, p.default_action, targets); });
  std::string values;
  for (const std::uint64_t v : p.slot_values()) values += (values.empty() ? "" : ", ") + hex(v);
  return "target: " + p.abis() + "\n" +
         (p.slot_count > 0 ? "run-time values (slot 0, 1, ...): " + values + "\n" : std::string()) + out;
}

// `disassembly` is dump() of a program compiled for the policy's ABIs, each part's syscalls
// named for its ABI.
inline std::string disassembly(const generated_policy& p, std::span<const bpf::insn> program) {
  const std::vector<sysfence::arch::target> targets = p.targets();
  return text_of([&](detail::text& t) { detail::disassemble(t, program, targets); });
}

inline std::string describe(action a) {
  std::string out(sysfence::action_name(a));
  const auto k = a.what();
  if (k == action::kind::error || k == action::kind::trap || k == action::kind::trace)
    out += "(" + std::to_string(a.data()) + ")";
  return out;
}

inline std::string describe(const seccomp_data& d) {
  const std::string_view arch = sysfence::detail::arch_name_for(d.arch);
  std::string out = "arch " + hex(d.arch) + (arch.empty() ? "" : " (" + std::string(arch) + ")") + ", nr " +
                    std::to_string(d.nr) + " (" + hex(static_cast<std::uint32_t>(d.nr)) + "), args (";
  for (std::size_t i = 0; i < 6; ++i) out += (i ? ", " : "") + hex(d.args[i]);
  return out + "), ip " + hex(d.instruction_pointer);
}

inline std::string describe(const detail::diagnosis& d) {
  constexpr std::array<std::string_view, 8> what{
      "none", "simple_and_conditional", "different_actions", "bad_condition", "missing_syscall", "too_long",
      "bad_errno", "bad_targets"};
  std::string out(what[static_cast<std::size_t>(d.what)]);
  out += " on " + std::string(sysfence::sys::name(d.syscall)) + ", rules " + std::to_string(d.first) +
         " and " + std::to_string(d.second);
  if (d.what == detail::problem::missing_syscall) out += ", target " + std::to_string(d.target);
  if (d.what == detail::problem::different_actions)
    out += " (" + describe(d.first_action) + " vs " + describe(d.second_action) + ")";
  if (d.what == detail::problem::bad_condition)
    out += " (condition problem " + std::to_string(static_cast<int>(d.condition)) + ")";
  return out;
}

// `compiled` is the run-time compiler core's output for a policy.
struct compiled {
  detail::compile_output out;
  std::vector<bpf::insn> program;     // the program when out.result is ok, its slots patched
  std::vector<detail::patch> patches;  // where the run-time values went
  bool values_fit = true;              // patch_values() took the policy's run-time values
};

// `compile` runs the core as typed policies do, but at run time: scratch of 2n keys, 2n + 3
// intervals, n block rules and their segments, an output buffer of `capacity` instructions
// (exactly that many: ASan sees overruns).
// The compiler gets slot conditions with their values inverted, so only the patches can put the
// right ones in; then the policy's run-time values are patched in as apply() does.
inline compiled compile(const generated_policy& p, std::size_t capacity = bpf::max_insns + 1) {
  const std::size_t n = p.rules.size();
  std::vector<entry> rules = p.rules;
  for (entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (e.r.conditions[i].has_slot()) e.r.conditions[i].value = ~e.r.conditions[i].value;
  std::vector<detail::sort_key> keys(2 * n);
  std::vector<detail::interval> intervals(detail::intervals_needed(n));
  std::vector<detail::block_rule> block(n);
  std::vector<detail::segment> segments(detail::segments_needed(n));
  std::vector<bpf::insn> out(capacity);
  const std::vector<sysfence::arch::target> targets = p.targets();
  std::vector<detail::patch> patches(detail::slot_patch_count(rules, targets.size()));
  compiled c;
  c.out = detail::compile({rules, targets, p.default_action, false}, {keys, intervals, block, segments}, out,
                          patches);
  if (!c.out.result.ok()) return c;
  c.program.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(c.out.size));
  c.patches.assign(patches.begin(), patches.begin() + static_cast<std::ptrdiff_t>(c.out.patches));
  const std::vector<std::uint64_t> values = p.slot_values();
  c.values_fit = detail::patch_values(c.program, c.patches, values);
  return c;
}

// `check_program` says what is wrong with an accepted policy's program beyond what it answers:
// the kernel would refuse it; it does not start with the architecture check (LD arch, then a
// JEQ of each served audit value in turn, each to a part that starts with LD nr, and RET
// KILL_PROCESS after the last); it returns an
// action neither the policy nor its arch, x32 and newer-syscall runs name; it is longer than
// capacity_bound() (typed policies size their buffer by it); compiling it into a buffer of
// exactly its size gives another program, or into one instruction less does not say too_long; or
// patch_values takes run-time values that do not fit their conditions, or refuses ones that do.
inline std::string check_program(const generated_policy& p, const compiled& c) {
  const auto& prog = c.program;
  if (const auto e = sysfence::check(prog); e != sysfence::bpf_error::none)
    return "the kernel would refuse the program: " + std::string(sysfence::describe(e));
  const std::vector<sysfence::arch::target> targets = p.targets();
  if (prog.size() < 3 || !bpf::same(prog[0], bpf::load(bpf::off_arch)))
    return "the program does not start with LD arch";
  // Where a jump lands, past JA trampolines (check() proved every jump in range).
  auto landing = [&](std::size_t at) {
    while (prog[at].code == (BPF_JMP | BPF_JA)) at += 1 + prog[at].k;
    return at;
  };
  std::size_t pc = 1;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    bool later = false;  // an ABI sharing an earlier one's audit value is dispatched with it
    for (std::size_t j = 0; j < k; ++j) later = later || targets[j].audit == targets[k].audit;
    if (later) continue;
    const std::string abi(kind_name(p.served()[k]));
    pc = landing(pc);
    if (prog[pc].code != (BPF_JMP | BPF_JEQ | BPF_K) || prog[pc].k != targets[k].audit)
      return "instruction " + std::to_string(pc) + " is not JEQ " + hex(targets[k].audit) + " (" + abi + ")";
    if (const std::size_t part = landing(pc + 1 + prog[pc].jt);
        !bpf::same(prog[part], bpf::load(bpf::off_nr)))
      return "the " + abi + " part (instruction " + std::to_string(part) + ") does not start with LD nr";
    pc += 1 + prog[pc].jf;
  }
  if (!bpf::same(prog[landing(pc)], bpf::ret(action::kill_process.value)))
    return "an architecture no ABI served has reaches instruction " + std::to_string(landing(pc)) +
           ", not RET KILL_PROCESS";
  for (const bpf::insn& i : prog) {
    if (i.code != (BPF_RET | BPF_K)) continue;
    const action a{i.k};
    bool named = a == p.default_action || a == action::kill_process ||
                 a == detail::newer_syscalls_for(p.default_action);
    for (const entry& e : p.rules) named = named || a == e.r.result;
    if (!named) return "the program returns " + hex(i.k) + ", an action the policy does not name";
  }
  if (const std::size_t bound = detail::capacity_bound(p.rules, targets.size()); prog.size() > bound)
    return "the program has " + std::to_string(prog.size()) +
           " instructions, capacity_bound() says at most " + std::to_string(bound);
  const compiled exact = compile(p, prog.size());
  if (!exact.out.result.ok() || exact.program.size() != prog.size() ||
      !std::equal(prog.begin(), prog.end(), exact.program.begin(), bpf::same))
    return "compiled into a buffer of exactly its size, the program differs";
  const compiled short_by_one = compile(p, prog.size() - 1);
  if (short_by_one.out.result.what != detail::problem::too_long)
    return "compiled into a buffer one instruction short, the result is not too_long";
  if (c.values_fit != slot_values_fit(p))
    return c.values_fit ? "patch_values took a run-time value that does not fit"
                        : "patch_values refused run-time values that fit";
  return {};
}

// `rejection` is what `check_rejection` found: an error when the diagnosis misstates the
// policy, and whether a call both culprits match was found (different_actions).
struct rejection {
  std::string error;
  bool witnessed = false;
  // Why no call was found, when none was: the README says 32- against 64-bit comparisons count
  // as overlapping; a rule may never match; ranges may pin an argument to one value another
  // condition refuses (`arg<0> <= 0` against `arg<0> != 0`), which the analysis does not see.
  bool mixed_widths = false;
  bool never_matches = false;
  bool pinned = false;
  bool slots = false;  // a culprit compares a run-time value: nothing is provable there
  std::array<std::uint64_t, 6> args{};
};

// `check_rejection` says whether a refused policy has the problem the diagnosis names: the
// first malformed condition; a simple and a conditional rule of the syscall; two rules of the
// syscall with the two actions named (and a call both match, when the search finds one); the
// first rule whose syscall the target lacks; a program past 4096 instructions in any buffer.
inline rejection check_rejection(const generated_policy& p, const detail::diagnosis& d) {
  rejection out;
  auto fail = [&](std::string why) {
    out.error = describe(d) + ": " + why;
    return out;
  };
  if (d.what == detail::problem::too_long) {  // in a buffer with room to spare: past the limit too
    const compiled roomy = compile(p, 4 * bpf::max_insns);
    if (roomy.out.result.what != detail::problem::too_long || roomy.out.result.size <= bpf::max_insns)
      return fail("with room to spare the program has " + std::to_string(roomy.out.size) + " instructions");
    return out;
  }
  if (d.what == detail::problem::bad_errno && d.first == detail::no_origin)  // checked before the rules
    return !usable_errno(p.default_action) && d.first_action == p.default_action
               ? out
               : fail("the default's errno is usable, or another is named");
  if (d.first >= p.rules.size() || d.second >= p.rules.size()) return fail("a culprit index is out of range");
  const rule& a = p.rules[d.first].r;
  const rule& b = p.rules[d.second].r;
  if (a.syscall != d.syscall || b.syscall != d.syscall) return fail("a culprit rule is for another syscall");
  switch (d.what) {
    case detail::problem::bad_condition: {
      // analyse() checks the rules in order, each rule's conditions in order.
      for (std::size_t i = 0; i < p.rules.size(); ++i)
        for (std::size_t c = 0; c < p.rules[i].r.count; ++c)
          if (const auto problem = sysfence::check(p.rules[i].r.conditions[c]);
              problem != sysfence::condition_problem::none) {
            if (i != d.first) return fail("the first malformed condition is in rule " + std::to_string(i));
            if (problem != d.condition) return fail("the condition's problem is another one");
            return out;
          }
      return fail("no condition is malformed");
    }
    case detail::problem::simple_and_conditional:
      if (!a.is_simple() || b.is_simple()) return fail("the first culprit is not simple or the second is");
      return out;
    case detail::problem::different_actions: {
      if (a.result == b.result) return fail("both culprits answer the same");
      if (a.result != d.first_action || b.result != d.second_action)
        return fail("the actions named are not the rules'");
      if (a.is_simple() != b.is_simple()) return fail("a simple and a conditional rule: the other problem");
      if (a.same_match(b)) {
        out.witnessed = true;
        return out;
      }
      const std::array<const rule*, 2> both{&a, &b};
      out.witnessed = witness(both, out.args);
      std::array<std::uint64_t, 6> alone{};
      out.never_matches = !witness(std::span<const rule* const>(&both[0], 1), alone) ||
                          !witness(std::span<const rule* const>(&both[1], 1), alone);
      for (const rule* r : both)
        for (std::size_t i = 0; i < r->count; ++i) out.slots = out.slots || r->conditions[i].has_slot();
      for (std::uint8_t arg = 0; arg < 6; ++arg) {
        for (const width w : {width::qword, width::dword}) {  // ranges as analyse() narrows them
          const std::uint64_t top = w == width::dword ? 0xffffffffULL : ~std::uint64_t{0};
          std::uint64_t lo = 0, hi = top;
          for (const rule* r : both)
            for (std::size_t i = 0; i < r->count; ++i) {
              const condition& c = r->conditions[i];
              if (c.arg != arg || c.size != w) continue;
              if (c.op == cmp::eq || c.op == cmp::ge || c.op == cmp::gt || c.op == cmp::masked_eq)
                lo = std::max(lo, c.op == cmp::gt ? c.value + 1 : c.value);
              if (c.op == cmp::eq || c.op == cmp::le || c.op == cmp::lt)
                hi = std::min(hi, c.op == cmp::lt ? c.value - 1 : c.value);
              if (c.op == cmp::masked_eq) hi = std::min(hi, c.value | (~c.mask & top));
            }
          if (lo != hi) continue;
          for (const rule* r : both)
            for (std::size_t i = 0; i < r->count; ++i) {
              const condition& c = r->conditions[i];
              if (c.arg == arg && c.size == w && !holds(c, lo)) out.pinned = true;
            }
        }
        bool dword = false, qword = false;
        for (const rule* r : both)
          for (std::size_t i = 0; i < r->count; ++i)
            if (r->conditions[i].arg == arg) (r->conditions[i].size == width::dword ? dword : qword) = true;
        out.mixed_widths = out.mixed_widths || (dword && qword);
      }
      return out;
    }
    case detail::problem::bad_errno:  // after the conditions, the rules' errnos in order
      for (const entry& e : p.rules)
        for (std::size_t c = 0; c < e.r.count; ++c)
          if (sysfence::check(e.r.conditions[c]) != sysfence::condition_problem::none)
            return fail("a malformed condition comes first");
      for (std::size_t i = 0; i < p.rules.size(); ++i)
        if (!usable_errno(p.rules[i].r.result))
          return i == d.first && d.first_action == p.rules[i].r.result ? out : fail("the first bad errno is another");
      return fail("no rule's errno is 0 or above 4095");
    case detail::problem::missing_syscall: {  // compile() checks each target in turn, its rules in order
      const std::vector<sysfence::arch::target> targets = p.targets();
      for (std::size_t k = 0; k < targets.size(); ++k)
        for (std::size_t i = 0; i < p.rules.size(); ++i)
          if (number_on(targets[k], p.rules[i].r.syscall) < 0 && !p.rules[i].portable)
            return i == d.first && k == d.target
                       ? out
                       : fail("the first rule missing on a target is rule " + std::to_string(i) + " on " +
                              std::string(kind_name(p.served()[k])));
      return fail("every target has every syscall of the policy's rules that are not portable");
    }
    default:
      return fail("not a problem random policies can have");
  }
}

// `check_acceptance` says why an accepted policy should have been refused, if it should: a
// syscall a target lacks in a rule that is not portable, a malformed condition, a syscall with
// simple and conditional rules, or two rules of a syscall with different actions that a call
// matches both of (`witness`).
inline std::string check_acceptance(const generated_policy& p) {
  for (const target_kind k : p.served())
    for (std::size_t i = 0; i < p.rules.size(); ++i)
      if (number_on(target_of(k), p.rules[i].r.syscall) < 0 && !p.rules[i].portable)
        return "rule " + std::to_string(i) + "'s syscall is missing on " + std::string(kind_name(k)) +
               " and the rule is not portable";
  for (std::size_t i = 0; i < p.rules.size(); ++i)
    for (std::size_t c = 0; c < p.rules[i].r.count; ++c)
      if (sysfence::check(p.rules[i].r.conditions[c]) != sysfence::condition_problem::none)
        return "rule " + std::to_string(i) + " has a malformed condition";
  for (std::size_t i = 0; i < p.rules.size(); ++i)
    for (std::size_t j = i + 1; j < p.rules.size(); ++j) {
      const rule& a = p.rules[i].r;
      const rule& b = p.rules[j].r;
      if (a.syscall != b.syscall) continue;
      const std::string pair = "rules " + std::to_string(i) + " and " + std::to_string(j);
      if (a.is_simple() != b.is_simple()) return pair + ": one simple, one conditional, same syscall";
      if (a.result == b.result) continue;
      std::array<std::uint64_t, 6> args{};
      const std::array<const rule*, 2> both{&a, &b};
      if (a.is_simple() || witness(both, args)) {
        std::string out = pair + " answer differently and both match args (";
        for (std::size_t k = 0; k < 6; ++k) out += (k ? ", " : "") + hex(args[k]);
        return out + ")";
      }
    }
  return {};
}

}  // namespace sysfence_fuzz
