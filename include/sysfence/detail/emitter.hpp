// SPDX-License-Identifier: MIT
// emitter.hpp - how the compiler core writes BPF: backwards, with shared RETs, trampolines where a
// jump cannot reach, loads left out where the accumulator already holds the word, and a record of
// where run-time values go.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sysfence/action.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail {

// `no_word` says the accumulator holds nothing known (the syscall number, or a masked word).
inline constexpr std::uint32_t no_word = 0xffffffffU;

// `patch` says where a run-time slot's value goes: instruction `insn`, low or high half. A
// `check_only` patch writes nothing: its condition's code was left out (another rule of the
// syscall matches whatever it would test), but its value must still fit.
struct patch {
  std::uint16_t insn = 0;
  std::uint16_t slot = 0;
  bool high = false;
  std::uint64_t invalid_bits = 0;  // bits the value must not have (32-bit or masked comparison)
  bool check_only = false;
};

constexpr std::uint32_t condition_size(const condition& c) noexcept {
  auto half = [&](std::uint32_t mask) -> std::uint32_t {  // LD, AND (unless all ones), JEQ
    if (mask == 0 && !c.has_slot()) return 0;
    return mask == 0xffffffffU ? 2 : 3;
  };
  const bool dword = c.size == width::dword;
  switch (c.op) {
    case cmp::eq:
    case cmp::ne: return dword ? 2 : 4;
    case cmp::lt:
    case cmp::le:
    case cmp::gt:
    case cmp::ge: return dword ? 2 : 5;
    case cmp::masked_eq:
      return half(static_cast<std::uint32_t>(c.mask)) +
             (dword ? 0 : half(static_cast<std::uint32_t>(c.mask >> 32)));
  }
  return 0;
}

constexpr std::uint32_t rule_size(const rule& r) noexcept {
  std::uint32_t n = 1;  // RET action
  for (std::size_t i = 0; i < r.count; ++i) n += condition_size(r.conditions[i]);
  return n;
}

// `slot_invalid_bits` are the bits a run-time value must not have to fit condition `c`: those
// its mask clears, and the upper half in a 32-bit comparison.
constexpr std::uint64_t slot_invalid_bits(const condition& c) noexcept {
  std::uint64_t invalid = c.op == cmp::masked_eq ? ~c.mask : 0;
  if (c.size == width::dword) invalid |= ~std::uint64_t{0xffffffffU};
  return invalid;
}

// Where a jump goes, while the program is written backwards: to code already placed at `index`,
// or to "a RET of `act`", resolved to the nearest reachable copy when the jump is placed.
struct target {
  bool is_ret = false;
  action act{};
  std::size_t index = 0;
};

// `emitter` writes the program backwards, from the end of the caller's buffer: cBPF jumps only go
// forward, so every target is placed before the jumps to it and their distances are known. RET
// instructions are shared; a copy is placed only where no copy is within a conditional jump's
// reach (255), and a JA trampoline only where code is out of reach.
struct emitter {
  bpf::insn* out;   // raw pointers: clang 14 counts steps inside std::span::operator[]
  patch* patches;
  std::size_t pos = 0;  // the program so far is out[pos, capacity)
  std::size_t npatches = 0;
  bool overflow = false;
  action ret_action[10] = {};
  std::size_t ret_index[10] = {};
  std::size_t rets = 0;

  // Jumps in a group placed next are at most this far before pos: a margin for the RET copies
  // and trampolines that resolving its targets may place first.
  static constexpr std::size_t reach = 252;

  constexpr std::size_t place(bpf::insn i) noexcept {
    if (pos == 0) {
      overflow = true;
      return 0;
    }
    out[--pos] = i;
    return pos;
  }
  // Is `index` reachable by a conditional jump in the next `group` instructions placed?
  [[nodiscard]] constexpr bool near(std::size_t index, std::size_t group) const noexcept {
    return pos >= group && index - (pos - group) - 1 <= reach;
  }
  constexpr std::size_t ret_of(action a, std::size_t group) noexcept {
    std::size_t k = 0;
    while (k < rets && ret_action[k] != a) ++k;
    if (k < rets && near(ret_index[k], group)) return ret_index[k];
    const std::size_t at = place(bpf::ret(a.value));  // RET a: a copy within reach
    if (k == rets && rets < 10) ++rets;
    if (k < 10) {
      ret_action[k] = a;
      ret_index[k] = at;
    }
    return at;
  }
  // The index a jump in the next `group` instructions uses for `t`.
  constexpr std::size_t resolve(const target& t, std::size_t group) noexcept {
    if (t.is_ret) return ret_of(t.act, group);
    if (near(t.index, group)) return t.index;
    const std::size_t at = place(bpf::ja(0));
    out[at].k = static_cast<std::uint32_t>(t.index - at - 1);  // JA t: a trampoline
    return at;
  }
  constexpr void record_patch(std::size_t at, const condition& c, std::uint16_t slot_base, bool high) noexcept {
    if (!c.has_slot()) return;
    patches[npatches++] = {static_cast<std::uint16_t>(at), static_cast<std::uint16_t>(slot_base + c.slot), high,
                           slot_invalid_bits(c)};
  }
  // The offset of a jump at `at` to `dest`, past dest's first instruction when that instruction
  // only loads the word the accumulator holds at the jump (`held`).
  [[nodiscard]] constexpr std::uint8_t offset_to(std::size_t dest, std::size_t at, std::uint32_t held) const noexcept {
    const bpf::insn& first = out[dest];
    if (held != no_word && first.code == (BPF_LD | BPF_W | BPF_ABS) && first.k == held && dest - at <= 255) ++dest;
    return static_cast<std::uint8_t>(dest - at - 1);
  }
  // `jump` places `J<op> k, t, f` (A holds `held`) and returns where it starts.
  constexpr target jump(std::uint16_t op, std::uint32_t k, const target& t, const target& f,
                        std::uint32_t held) noexcept {
    const std::size_t ti = resolve(t, 1);
    const std::size_t fi = resolve(f, 1);
    const std::size_t at = pos - 1;
    return {false, {}, place(bpf::jump(BPF_JMP | op | BPF_K, k, offset_to(ti, at, held), offset_to(fi, at, held)))};
  }
};

// One instruction of a condition with symbolic jumps: to the next instruction, to `pass` (the
// condition holds) or to `fail`.
enum class to : std::uint8_t { next, pass, fail };
struct symbolic {
  bpf::insn i;
  to jt, jf;
  std::int8_t patch_half;  // -1 none, 0 low, 1 high: this k is a run-time slot's value
};

// `condition_code` is a condition's instructions, first to last.
constexpr std::size_t condition_code(const condition& c, symbolic (&code)[6]) noexcept {
  std::size_t n = 0;
  auto ld = [&](std::uint32_t off) { code[n++] = {bpf::load(off), to::next, to::next, -1}; };
  auto jmp = [&](std::uint16_t op, std::uint32_t k, to jt, to jf, bool high) {
    code[n++] = {bpf::jump(BPF_JMP | op | BPF_K, k, 0, 0), jt, jf, static_cast<std::int8_t>(high ? 1 : 0)};
  };
  const auto lo = static_cast<std::uint32_t>(c.value);
  const auto hi = static_cast<std::uint32_t>(c.value >> 32);
  const std::uint32_t off_lo = bpf::off_arg_lo(c.arg);
  const std::uint32_t off_hi = bpf::off_arg_hi(c.arg);
  const bool dword = c.size == width::dword;
  switch (c.op) {
    case cmp::eq:  // hi == vhi && lo == vlo
      if (!dword) ld(off_hi), jmp(BPF_JEQ, hi, to::next, to::fail, true);
      ld(off_lo), jmp(BPF_JEQ, lo, to::pass, to::fail, false);
      break;
    case cmp::ne:  // hi != vhi || lo != vlo
      if (!dword) ld(off_hi), jmp(BPF_JEQ, hi, to::next, to::pass, true);
      ld(off_lo), jmp(BPF_JEQ, lo, to::fail, to::pass, false);
      break;
    case cmp::gt:  // hi > vhi || (hi == vhi && lo > vlo)
    case cmp::ge:
      if (!dword) ld(off_hi), jmp(BPF_JGT, hi, to::pass, to::next, true), jmp(BPF_JEQ, hi, to::next, to::fail, true);
      ld(off_lo), jmp(c.op == cmp::gt ? BPF_JGT : BPF_JGE, lo, to::pass, to::fail, false);
      break;
    case cmp::lt:  // !(arg >= v)
    case cmp::le:  // !(arg > v)
      if (!dword) ld(off_hi), jmp(BPF_JGT, hi, to::fail, to::next, true), jmp(BPF_JEQ, hi, to::next, to::pass, true);
      ld(off_lo), jmp(c.op == cmp::lt ? BPF_JGE : BPF_JGT, lo, to::fail, to::pass, false);
      break;
    case cmp::masked_eq: {  // (hi & mhi) == vhi && (lo & mlo) == vlo
      auto half = [&](std::uint32_t off, std::uint32_t mask, std::uint32_t value, bool high, bool last) {
        if (mask == 0 && !c.has_slot()) return;  // (x & 0) == 0 always holds (check() ensured value 0)
        ld(off);
        if (mask != 0xffffffffU) code[n++] = {bpf::and_k(mask), to::next, to::next, -1};
        jmp(BPF_JEQ, value, last ? to::pass : to::next, to::fail, high);
      };
      const auto mlo = static_cast<std::uint32_t>(c.mask);
      const bool low_emitted = mlo != 0 || c.has_slot();
      if (!dword) half(off_hi, static_cast<std::uint32_t>(c.mask >> 32), hi, true, !low_emitted);
      half(off_lo, mlo, lo, false, true);
      break;
    }
  }
  return n;
}

// `coded` is a condition's instructions, and the word the accumulator holds (loaded, not masked)
// at every jump to where the condition holds, and at every jump to where it fails: no_word when
// those jumps disagree, one holds a masked value, or there is none.
struct coded {
  symbolic code[6];
  std::uint32_t held[6];  // the word the accumulator holds at each instruction (after it runs)
  std::size_t n = 0;
  std::uint32_t pass_word = no_word, fail_word = no_word;
};

constexpr void code_of(const condition& c, coded& out) noexcept {
  out.n = condition_code(c, out.code);
  out.pass_word = out.fail_word = no_word;
  std::uint32_t word = no_word;
  bool any_pass = false, any_fail = false, mixed_pass = false, mixed_fail = false;
  auto exit = [&](std::uint32_t& found, bool& any, bool& mixed) {
    if (any && found != word) mixed = true;
    found = word;
    any = true;
  };
  for (std::size_t j = 0; j < out.n; ++j) {
    const symbolic& i = out.code[j];
    if (i.i.code == (BPF_LD | BPF_W | BPF_ABS)) word = i.i.k;
    else if (BPF_CLASS(i.i.code) == BPF_ALU) word = no_word;
    out.held[j] = word;
    if (BPF_CLASS(i.i.code) == BPF_JMP) {
      if (i.jt == to::pass || i.jf == to::pass) exit(out.pass_word, any_pass, mixed_pass);
      if (i.jt == to::fail || i.jf == to::fail) exit(out.fail_word, any_fail, mixed_fail);
    }
  }
  if (mixed_pass) out.pass_word = no_word;
  if (mixed_fail) out.fail_word = no_word;
}

// `place_condition` writes a condition before what is placed so far; returns its first index.
// `held` is the word the accumulator holds on every path into the condition (or no_word): a
// load of that word is left out. A jump to code that starts by loading the word the accumulator
// holds at the jump skips that load.
constexpr target place_condition(emitter& w, const condition& c, const coded& k, std::uint16_t slot_base,
                                 const target& pass, const target& fail, std::uint32_t held_on_entry) noexcept {
  // Every condition's code starts by loading a word; the rest does not depend on how A got it.
  const symbolic* code = k.code;
  const std::uint32_t* held = k.held;
  std::size_t n = k.n;
  if (n > 0 && held_on_entry != no_word && code[0].i.code == (BPF_LD | BPF_W | BPF_ABS) &&
      code[0].i.k == held_on_entry) {
    ++code;
    ++held;
    --n;
  }
  if (n == 0) return pass;  // always holds
  const std::size_t p = w.resolve(pass, n);
  const std::size_t f = w.resolve(fail, n);
  const std::size_t base = w.pos - n;
  auto offset = [&](to t, std::size_t at, std::size_t j) -> std::uint8_t {
    return t == to::next ? 0 : w.offset_to(t == to::pass ? p : f, at, held[j]);
  };
  for (std::size_t j = n; j-- > 0;) {
    bpf::insn i = code[j].i;
    const std::size_t at = base + j;
    if (BPF_CLASS(i.code) == BPF_JMP) {
      i.jt = offset(code[j].jt, at, j);
      i.jf = offset(code[j].jf, at, j);
    }
    w.place(i);
    if (code[j].patch_half >= 0) w.record_patch(at, c, slot_base, code[j].patch_half == 1);
  }
  return {false, {}, base};
}

}  // namespace sysfence::detail
