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

// `emit_tree` writes the search over the runs iv[lo, hi): JGE at each split, a run's action or
// its conditional syscall's decision code (decide.hpp) at each leaf.
constexpr target emit_tree(emitter& w, const compile_input& in, std::span<const sort_key> order,
                           std::span<const interval> iv, std::size_t lo, std::size_t hi,
                           std::span<block_rule> block, std::span<segment> segments) noexcept {
  if (hi - lo == 1) {
    if (iv[lo].conditional)
      return emit_block(w, in.rules, order, iv[lo].first, iv[lo].last, in.default_action,
                        in.target.argument_bits == 32, block, segments);
    if (!iv[lo].has_exception) return {true, iv[lo].result, 0};
    // JEQ nr, its action, the run's action: one instruction where two boundaries would need two.
    const std::size_t t = w.resolve({true, iv[lo].exception_result, 0}, 1);
    const std::size_t f = w.resolve({true, iv[lo].result, 0}, 1);
    const std::size_t at = w.pos - 1;
    w.place(bpf::jeq(iv[lo].exception_nr, static_cast<std::uint8_t>(t - at - 1), static_cast<std::uint8_t>(f - at - 1)));
    return {false, {}, at};
  }
  const std::size_t mid = split(iv, lo, hi);
  const target right = emit_tree(w, in, order, iv, mid, hi, block, segments);
  const target left = emit_tree(w, in, order, iv, lo, mid, block, segments);
  const std::size_t t = w.resolve(right, 1);
  const std::size_t f = w.resolve(left, 1);
  const std::size_t at = w.pos - 1;
  w.place(bpf::jge(iv[mid].start, static_cast<std::uint8_t>(t - at - 1), static_cast<std::uint8_t>(f - at - 1)));
  return {false, {}, at};  // JGE start, right, left
}

// `capacity_bound` is an upper bound of the program size (capped one past the kernel's limit),
// so typed policies size their scratch buffer to the policy, not to 4096 instructions.
constexpr std::size_t capacity_bound(std::span<const entry> rules) noexcept {
  std::size_t n = 11 + 7 * rules.size();  // prologue, newer and x32 runs, leaves, inner nodes
  for (const entry& e : rules) n += rule_size(e.r);
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

// `slot_patch_count` bounds the patches a rule list can need (4 per slot condition: 3 for a
// 64-bit ordering, and one that only checks the value).
constexpr std::size_t slot_patch_count(std::span<const entry> rules) noexcept {
  std::size_t n = 0;
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (e.r.conditions[i].has_slot()) n += 4;
  return n;
}

}  // namespace sysfence::detail
