// SPDX-License-Identifier: MIT
// compile.hpp - a policy type compiled to its constant BPF program: sysfence::compile<Policy>().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/policy.hpp"

namespace sysfence {
namespace detail {

// `build_result` holds a compiled program in a buffer sized by an upper bound of its length.
template <std::size_t Capacity, std::size_t Patches>
struct build_result {
  std::array<bpf::insn, Capacity> insns{};
  std::array<patch, Patches> patches{};
  compile_output out{};
};

template <class Policy, class... Archs>
constexpr auto build() noexcept {
  constexpr auto& rules = Policy::rules;
  constexpr std::size_t n = rules.size(), abis = sizeof...(Archs);
  constexpr std::size_t capacity = capacity_bound(rules, abis);
  constexpr std::size_t patch_capacity = slot_patch_count(rules, abis);
  constexpr std::array<arch::target, abis> targets{Archs::value...};
  build_result<capacity, patch_capacity> r{};
  std::array<detail::sort_key, 2 * n> order{};
  std::array<interval, intervals_needed(n)> intervals{};
  std::array<block_rule, n> block{};
  std::array<segment, segments_needed(n)> segments{};
  r.out = compile({rules, targets, Policy::default_action, true, Policy::newer_syscalls},
                  {order, intervals, block, segments}, r.insns, r.patches);
  return r;
}

// The distinct action kinds of a program's RET K instructions.
struct action_set {
  std::array<action::kind, 8> kinds{};
  std::size_t count = 0;
};
constexpr action_set actions_returned(std::span<const bpf::insn> program) noexcept {
  action_set out;
  for (const auto& i : program) {
    if (i.code != (BPF_RET | BPF_K)) continue;
    const auto k = action{i.k}.what();
    bool seen = false;
    for (std::size_t j = 0; j < out.count; ++j) seen = seen || out.kinds[j] == k;
    if (!seen && out.count < out.kinds.size()) out.kinds[out.count++] = k;
  }
  return out;
}

template <std::size_t N, class T, std::size_t M>
constexpr std::array<T, N> take(const std::array<T, M>& from) noexcept {
  std::array<T, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = from[i];
  return out;
}

}  // namespace detail

// `program` is a policy's compiled BPF program for `Arch`, a constant in .rodata, plus where
// its run-time values go. With `More` ABIs it serves them too, each judged by its own table
// (`program<P, arch::x86_64, arch::x86, arch::x32>`: int 0x80 and x32 calls are filtered by the
// rules, not killed); the ABIs are checked in that order, any other kills the process.
template <class Policy, class Arch = arch::native, class... More>
struct program {
 private:
  static constexpr auto abis_checked_ = detail::each_abi_once<detail::targets_ok(
      std::array<arch::target, 1 + sizeof...(More)>{Arch::value, More::value...}), Arch, More...>();
  static constexpr auto built_ = detail::build<Policy, Arch, More...>();
  // The problem, if any, as the only error (not a static_assert: see detail/diagnostics.hpp).
  static constexpr auto reported_ =
      Policy::template report<built_.out.result, detail::nth<built_.out.result.target, Arch, More...>>();
  static constexpr std::size_t size_ = built_.out.result.ok() ? built_.out.size : 0;

 public:
  // `insns` is the program, ready for seccomp(SECCOMP_SET_MODE_FILTER).
  static constexpr std::array<bpf::insn, size_> insns = detail::take<size_>(built_.insns);
  // `patches` says which instruction receives which run-time value (empty without slots).
  static constexpr auto patches = detail::take<built_.out.patches>(built_.patches);
  // `actions` are the distinct actions the program can return (apply checks the kernel has them).
  static constexpr auto actions = detail::actions_returned(insns);
};

// `compile<Policy>()` is the policy's BPF program: a reference to a constant array.
// `compile<Policy, arch::aarch64>()` is it for another architecture; `compile<Policy, arch::x86_64,
// arch::x86>()` one program serving both ABIs (see `program`).
template <class Policy, class Arch = arch::native, class... More>
constexpr const auto& compile() noexcept {
  return program<std::remove_cvref_t<Policy>, Arch, More...>::insns;
}

// `compile(policy)` is the same, spelled on a policy value.
template <class Arch = arch::native, class... More, class Policy>
constexpr const auto& compile(const Policy&) noexcept {
  return program<std::remove_cvref_t<Policy>, Arch, More...>::insns;
}

}  // namespace sysfence
