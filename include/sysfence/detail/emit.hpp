// SPDX-License-Identifier: MIT
// emit.hpp - the compiler core's third stage: the search over the runs of syscall numbers, with
// each conditional syscall's decision code (decide.hpp) at its leaf, written by the emitter
// (emitter.hpp); the bound of a program's size; run-time values patched in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sysfence/action.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/analysis.hpp"
#include "sysfence/detail/decide.hpp"
#include "sysfence/detail/emitter.hpp"
#include "sysfence/detail/layout.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail {

// `emit_tree` writes target `t`'s search over the runs iv[lo, hi): JGE at each split, a run's
// action or its conditional syscall's decision code (decide.hpp) at each leaf.
constexpr target emit_tree(emitter& w, const compile_input& in, const arch::target& t,
                           std::span<const sort_key> order, std::span<const interval> iv, std::size_t lo,
                           std::size_t hi, std::span<block_rule> block, std::span<segment> segments) noexcept {
  if (hi - lo == 1) {
    if (iv[lo].conditional) {
      const auto id = static_cast<std::size_t>(in.rules[order[iv[lo].first].index].r.syscall);
      return emit_block(w, in.rules, order, iv[lo].first, iv[lo].last, in.default_action,
                        t.narrow_arguments(id, iv[lo].start - t.nr_base), block, segments, in.ordered);
    }
    if (!iv[lo].has_exception) return {true, iv[lo].result, 0};
    // JEQ nr, its action, the run's action: one instruction where two boundaries would need two.
    return w.jump(BPF_JEQ, iv[lo].exception_nr, {true, iv[lo].exception_result, 0}, {true, iv[lo].result, 0}, no_word);
  }
  const std::size_t mid = split(iv, lo, hi);
  const target right = emit_tree(w, in, t, order, iv, mid, hi, block, segments);
  const target left = emit_tree(w, in, t, order, iv, lo, mid, block, segments);
  return w.jump(BPF_JGE, iv[mid].start, right, left, no_word);  // JGE start, right, left
}

// `capacity_bound` is an upper bound of the program size (capped one past the kernel's limit) for
// `abis` ABIs, so typed policies size their scratch buffer to the policy, not to 4096 instructions.
constexpr std::size_t capacity_bound(std::span<const entry> rules, std::size_t abis = 1) noexcept {
  std::size_t per_abi = 11 + 7 * rules.size();  // prologue, newer and x32 runs, leaves, inner nodes
  for (const entry& e : rules) per_abi += rule_size(e.r);
  const std::size_t n = abis * per_abi + 4 * (abis - 1);  // each more ABI: JEQ, LD nr, JGE, a JA
  return n < bpf::max_insns + 1 ? n : bpf::max_insns + 1;
}

// `patch_values` writes run-time slot values into a copy of a program, where `patches` says.
// False when a value does not fit its condition (bits above 32 in a 32-bit comparison, bits
// outside the mask): the copy is then only partly written, and apply() installs nothing.
constexpr bool patch_values(std::span<bpf::insn> program, std::span<const patch> patches,
                            std::span<const std::uint64_t> values) noexcept {
  for (const patch& at : patches) {
    const std::uint64_t v = values[at.slot];
    if ((v & at.invalid_bits) != 0) return false;
    if (!at.check_only) program[at.insn].k = static_cast<std::uint32_t>(at.high ? v >> 32 : v);
  }
  return true;
}

// `slot_patch_count` bounds the patches a rule list can need for `abis` ABIs (4 per slot
// condition in each search: 3 for a 64-bit ordering, and one that only checks the value).
constexpr std::size_t slot_patch_count(std::span<const entry> rules, std::size_t abis = 1) noexcept {
  std::size_t n = 0;
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (e.r.conditions[i].has_slot()) n += 4;
  return n * abis;
}

}  // namespace sysfence::detail
