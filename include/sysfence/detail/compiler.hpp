// SPDX-License-Identifier: MIT
// compiler.hpp - the constexpr core: rules as plain data in, a checked seccomp BPF program out.
// Its stages each have a header: analysis.hpp (sorting, malformed conditions, conflicts),
// layout.hpp (runs of syscall numbers, weights of the search), decide.hpp (each conditional
// syscall's decision code over its arguments) and emit.hpp (the search and the program), with
// emitter.hpp writing the instructions; `compile` below runs them in turn.
//
// The same functions run in constant expressions (typed policies) and at run time. They take
// spans and caller-provided scratch, allocate nothing, throw nothing, and report problems as a
// `diagnosis` value that the front ends turn into a static_assert or a run-time error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/detail/analysis.hpp"
#include "sysfence/detail/emit.hpp"
#include "sysfence/detail/layout.hpp"

namespace sysfence::detail {

// `missing_number` is what a syscall the target lacks sorts as (-1).
inline constexpr std::uint32_t missing_number = 0xffffffffU;

// `max_targets` is how many ABIs one program can serve (the kernel knows fewer sharing one machine).
inline constexpr std::size_t max_targets = 8;

// `targets_ok` is false for no ABI, more than max_targets, one ABI twice (two targets with the
// same audit value and numbers: x86_64 and x32 share the first, not the second), or two sharing
// an audit value that no bit of nr tells apart.
constexpr bool targets_ok(std::span<const arch::target> targets) noexcept {
  if (targets.empty() || targets.size() > max_targets) return false;
  for (std::size_t i = 0; i < targets.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (targets[i].audit == targets[j].audit &&
          (targets[i].nr_base == targets[j].nr_base || targets[i].abi_bit == 0 || targets[i].abi_bit != targets[j].abi_bit))
        return false;
  return true;
}

// `compile_scratch` is caller-provided working memory for n rules: keys (2n), intervals
// (intervals_needed(n)), block rules (n) and segments (segments_needed(n)).
struct compile_scratch {
  std::span<sort_key> order;
  std::span<interval> intervals;
  std::span<block_rule> block;
  std::span<segment> segments;
};

struct compile_output {
  diagnosis result;
  std::size_t size = 0;
  std::size_t patches = 0;
};

// `emit_abi` writes target t's part of the program: LD nr, then its search (with, on x86_64 or
// x32, what the other ABI sharing its audit value gets); returns where it starts.
constexpr target emit_abi(emitter& w, const compile_input& in, const arch::target& t, abi_split abi,
                          const compile_scratch& scratch) noexcept {
  // Sort by syscall number on the target; equal matches stay adjacent (see analyse). A portable
  // rule's missing syscall (-1) sorts last and is left out.
  const auto& numbers = *t.numbers;
  auto number_of = [&](const entry& e) {
    const std::int32_t nr = numbers[static_cast<std::size_t>(e.r.syscall)];
    return nr < 0 ? missing_number : t.nr_base + static_cast<std::uint32_t>(nr);
  };
  auto ids = sort_rules(in.rules, scratch.order, number_of);
  while (!ids.empty() && ids.back().major == missing_number) ids = ids.first(ids.size() - 1);
  const std::size_t count = layout(in, t, abi, ids, scratch.intervals);
  return emit_tree(w, in, t, ids, scratch.intervals.first(count), 0, count, scratch.block, scratch.segments);
}

// `compile` checks the rules and writes the program into `out` (at most out.size() instructions):
//   LD arch; JEQ audit of each served ABI in turn to its part; RET KILL_PROCESS
//   each part: LD nr; [JGE bit 30, x32's search or what x32 gets, x86_64's search]; its search
// On a problem nothing usable is written and the diagnosis says what and where.
constexpr compile_output compile(const compile_input& in, const compile_scratch& scratch,
                                 std::span<bpf::insn> out, std::span<patch> patches) noexcept {
  if (diagnosis d = check_answers(in.default_action, in.newer_syscalls); !d.ok()) return {d, 0, 0};
  if (!targets_ok(in.targets)) return {{problem::bad_targets}, 0, 0};
  if (!in.analysed)
    if (diagnosis d = analyse(in.rules, scratch.order, in.ordered); !d.ok()) return {d, 0, 0};
  for (std::size_t k = 0; k < in.targets.size(); ++k)
    for (const entry& e : in.rules)
      if ((*in.targets[k].numbers)[static_cast<std::size_t>(e.r.syscall)] < 0 && !e.portable) {
        diagnosis d{problem::missing_syscall, e.r.syscall, e.origin, e.origin, condition_problem::none, 0};
        d.target = static_cast<std::uint8_t>(k);
        return {d, 0, 0};
      }

  emitter w{out.data(), patches.data(), out.size()};
  using namespace bpf;
  // The ABIs' parts, last first (the program is written backwards). Two ABIs sharing an audit
  // value (x86_64 and x32) share one part, entered where the first of them is dispatched.
  std::array<target, max_targets> entry_of{};
  for (std::size_t k = in.targets.size(); k-- > 0;) {
    const arch::target& t = in.targets[k];
    const abi_split abi = split_for(in, t);
    std::size_t partner = k;
    for (std::size_t j = 0; j < in.targets.size(); ++j)
      if (j != k && in.targets[j].audit == t.audit) partner = j;
    if (partner < k) continue;  // written with the first of the two
    target root = emit_abi(w, in, t, abi, scratch);
    if (abi != abi_split::none && abi != abi_split::in_tree) {
      // JGE bit 30: the x32 side (its search, or what it gets), else the x86_64 side.
      const arch::target& other = in.targets[partner];
      const target refused{true, bad_abi_action(in.default_action), 0};
      const target other_root = abi == abi_split::partner ? emit_abi(w, in, other, abi, scratch) : refused;
      const bool x32 = t.nr_base != 0;
      root = w.jump(BPF_JGE, t.abi_bit, x32 ? root : other_root, x32 ? other_root : root, no_word);
    } else if (root.is_ret || root.index != w.pos) {  // LD nr must fall into the search
      w.place(root.is_ret ? ret(root.act.value) : ja(static_cast<std::uint32_t>(root.index - w.pos)));
    }
    entry_of[k] = {false, {}, w.place(load(off_nr))};  // LD nr
  }
  // LD arch; JEQ each audit value to its part; a foreign architecture kills the process.
  target next{true, action::kill_process, 0};
  for (std::size_t k = in.targets.size(); k-- > 0;) {
    bool later = false;  // the second of two ABIs sharing an audit value is dispatched with the first
    for (std::size_t j = 0; j < k; ++j) later = later || in.targets[j].audit == in.targets[k].audit;
    if (!later) next = w.jump(BPF_JEQ, in.targets[k].audit, entry_of[k], next, off_arch);
  }
  w.place(load(off_arch));

  const std::size_t size = out.size() - w.pos;
  bpf::insn* program = out.data();
  if (w.overflow || size > bpf::max_insns)
    return {{problem::too_long, {}, 0, 0, condition_problem::none, w.overflow ? out.size() + 1 : size}, size, 0};
  // Move the program to the front of the buffer, and its patches with it.
  for (std::size_t i = 0; i < size; ++i) program[i] = program[w.pos + i];
  for (std::size_t i = 0; i < w.npatches; ++i)
    if (!w.patches[i].check_only) w.patches[i].insn = static_cast<std::uint16_t>(w.patches[i].insn - w.pos);
  return {{}, size, w.npatches};
}

}  // namespace sysfence::detail
