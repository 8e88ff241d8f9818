// SPDX-License-Identifier: MIT
// analysis.hpp - what a seccomp program costs, found with sysfence's simulator: instructions run
// per syscall number, the kernel's action-cache preparation, and a balanced-search reference.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "policies.hpp"
#include "sysfence/sysfence.hpp"

namespace sysfence_bench {

using program_view = std::span<const sysfence::bpf::insn>;
using arguments = std::array<std::uint64_t, 6>;

// `kind` is what a policy does with a syscall number: allows it whatever the arguments, looks at
// the arguments, or denies it.
enum class kind : std::uint8_t { allowed, conditional, denied };

// `table_end` is one past the highest x86_64 syscall number sysfence knows: the size of the
// kernel's action-cache bitmap (SECCOMP_ARCH_NATIVE_NR) for the headers sysfence was built from.
std::uint32_t table_end() noexcept;
// `sweep_end` is where the sweeps stop: 20 numbers past the table, which newer kernels fill.
inline std::uint32_t sweep_end() noexcept { return table_end() + 20; }

// `policy_shape` is what the analysis needs of a policy, by x86_64 number in [0, sweep_end()).
struct policy_shape {
  std::vector<kind> kinds;
  std::vector<arguments> args;  // for conditional numbers, a typical call the policy allows
  sysfence::action default_action;
};

// `path_stats` is how many instructions a program runs, over a sweep of syscall numbers.
struct path_stats {
  struct summary {
    std::uint32_t max = 0;
    double sum = 0;
    std::size_t count = 0;
    [[nodiscard]] double mean() const noexcept { return count == 0 ? 0 : sum / static_cast<double>(count); }
  };
  std::array<summary, 3> x86_64;  // by kind
  summary i386;                   // every number with the i386 audit value
  std::uint32_t max_all = 0;
  std::vector<std::uint32_t> per_number;  // x86_64 numbers, then the same numbers on i386
  std::size_t errors = 0;                 // evaluations that hit an invalid instruction
};
path_stats paths(program_view program, const policy_shape& shape);

// `executed` is how many instructions `program` runs for one x86_64 call.
std::uint32_t executed(program_view program, sysfence::sys::id syscall, const arguments& args) noexcept;
// `allows` is true when `program` allows that call.
bool allows(program_view program, sysfence::sys::id syscall, const arguments& args) noexcept;

// `cache_stats` is the kernel's action-cache preparation for x86_64 (seccomp_cache_prepare):
// instructions emulated over [0, table_end()), and which numbers it proves always allowed.
struct cache_stats {
  std::uint64_t emulated = 0;
  std::size_t unconditional = 0;   // numbers the policy allows whatever the arguments
  std::size_t cached = 0;          // ... of which the emulation proves allowed
  std::size_t wrongly_cached = 0;  // numbers proven allowed that the policy does not always allow
};
cache_stats cache_prep(program_view program, const policy_shape& shape);

// `balanced_search` is the reference dispatch over the same intervals as sysfence's: the arch
// and x32 checks, then a binary search that halves the runs of equal outcome at every JGE (a JA
// trampoline where the left half is out of a jump's reach). Conditional leaves are stubs that
// load an argument and deny: enough for the action-cache emulation, which stops at that load.
std::vector<sysfence::bpf::insn> balanced_search(const policy_shape& shape);

// `fitted_search` is the search over the same runs, without the x32 check where the default
// denies (as sysfence's), whose path for every allowed or denied number runs at most bound[nr]
// instructions and that, among those, makes the cache preparation emulate the fewest: found
// exhaustively (dynamic programming over runs and depths). Empty when no search fits. It answers
// whether a tree shaped for load time could also match a peer on every number.
std::vector<sysfence::bpf::insn> fitted_search(const policy_shape& shape, std::span<const std::uint32_t> bound);

// `agreement` counts evaluations on which two programs return different actions: every number
// of the sweep on both architectures, with a grid of argument values on conditional numbers.
struct agreement {
  std::size_t evaluations = 0;
  std::size_t differences = 0;
};
agreement compare(program_view a, program_view b, const policy_shape& shape);

// `shape_of<Policy>` classifies each x86_64 number by the policy's rules and picks, for each
// conditional one, the first entry of `typical_calls` the policy allows.
template <class Policy>
policy_shape shape_of(program_view program) {
  const auto& numbers = sysfence::arch::x86_64::numbers;
  policy_shape s;
  s.kinds.assign(sweep_end(), kind::denied);
  s.args.assign(sweep_end(), arguments{});
  s.default_action = Policy::default_action;
  for (const auto& e : Policy::rules) {
    const std::int32_t nr = numbers[static_cast<std::size_t>(e.r.syscall)];
    if (nr < 0 || static_cast<std::uint32_t>(nr) >= sweep_end()) continue;
    const bool plain_allow = e.r.is_simple() && e.r.result == sysfence::action::allow;
    s.kinds[static_cast<std::size_t>(nr)] = plain_allow ? kind::allowed : kind::conditional;
  }
  for (const typical_call& c : typical_calls) {
    const std::int32_t nr = numbers[static_cast<std::size_t>(c.syscall)];
    if (nr < 0 || s.kinds[static_cast<std::size_t>(nr)] != kind::conditional) continue;
    if (s.args[static_cast<std::size_t>(nr)] == arguments{} && allows(program, c.syscall, c.args))
      s.args[static_cast<std::size_t>(nr)] = c.args;
  }
  return s;
}

}  // namespace sysfence_bench
