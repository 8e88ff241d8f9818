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

// `compile_scratch` is caller-provided working memory for n rules: keys (2n), intervals (2n + 3),
// block rules (n) and segments (segments_needed(n)).
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

// `compile` checks the rules and writes the program into `out` (at most out.size() instructions).
// On a problem nothing usable is written and the diagnosis says what and where.
constexpr compile_output compile(const compile_input& in, const compile_scratch& scratch,
                                 std::span<bpf::insn> out, std::span<patch> patches) noexcept {
  if (diagnosis d = check_answers(in.default_action, in.newer_syscalls); !d.ok()) return {d, 0, 0};
  if (!in.analysed)
    if (diagnosis d = analyse(in.rules, scratch.order); !d.ok()) return {d, 0, 0};

  const auto& numbers = *in.target.numbers;
  for (const entry& e : in.rules)
    if (numbers[static_cast<std::size_t>(e.r.syscall)] < 0 && !e.portable)
      return {{problem::missing_syscall, e.r.syscall, e.origin, e.origin, condition_problem::none, 0}, 0, 0};

  // Sort by syscall number on the target; equal matches stay adjacent (see analyse). A portable
  // rule's missing syscall (-1) sorts last and is left out.
  auto number_of = [&](const entry& e) {
    return static_cast<std::uint32_t>(numbers[static_cast<std::size_t>(e.r.syscall)]);
  };
  auto ids = sort_rules(in.rules, scratch.order, number_of);
  while (!ids.empty() && ids.back().major == missing_number) ids = ids.first(ids.size() - 1);

  const std::size_t count = layout(in, ids, scratch.intervals);
  const bool x32_check = x32_checked_first(in);
  const auto iv = scratch.intervals.first(count);

  emitter w{out.data(), patches.data(), out.size()};
  using namespace bpf;
  const target root = emit_tree(w, in, ids, iv, 0, count, scratch.block, scratch.segments);
  if (x32_check) {  // JGE bit 30: x32's numbers get their own action (the default lets calls run)
    const std::size_t t = w.resolve({true, bad_abi_action(in.default_action), 0}, 1);
    const std::size_t f = w.resolve(root, 1);
    const std::size_t at = w.pos - 1;
    w.place(jge(in.target.abi_bit, static_cast<std::uint8_t>(t - at - 1), static_cast<std::uint8_t>(f - at - 1)));
  } else if (root.is_ret || root.index != w.pos) {  // LD nr must fall into the search
    w.place(root.is_ret ? ret(root.act.value) : ja(static_cast<std::uint32_t>(root.index - w.pos)));
  }
  const std::size_t load_nr = w.place(load(off_nr));  // LD nr
  // LD arch; JEQ audit, LD nr, RET KILL_PROCESS: a foreign architecture kills the process.
  const std::size_t kill = w.resolve({true, action::kill_process, 0}, 1);
  const std::size_t at = w.pos - 1;
  w.place(jeq(in.target.audit, static_cast<std::uint8_t>(load_nr - at - 1), static_cast<std::uint8_t>(kill - at - 1)));
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
