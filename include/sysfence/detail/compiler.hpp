// SPDX-License-Identifier: MIT
// compiler.hpp - the constexpr core: rules as plain data in, a checked seccomp BPF program out.
//
// The same functions run in constant expressions (typed policies) and at run time. They take
// spans and caller-provided scratch, allocate nothing, throw nothing, and report problems as a
// `diagnosis` value that the front ends turn into a static_assert or a run-time error.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail {

// `entry` is one rule of a policy with the index of the rule set it came from.
struct entry {
  rule r;
  std::uint16_t origin = 0;     // index of the rule set in the policy
  std::uint16_t slot_base = 0;  // the rule set's first run-time slot in the policy
};

// `problem` is what can be wrong with a policy.
enum class problem : std::uint8_t {
  none,
  simple_and_conditional,  // a syscall allowed both unconditionally and under conditions
  different_actions,       // the same syscall and arguments answered with two actions
  bad_condition,           // see `condition_problem`
  missing_syscall,         // the syscall does not exist on the target architecture
  too_long,                // more than BPF_MAXINSNS instructions
  bad_errno,               // action::error(n) with n = 0 (a fake success) or n > 4095 (MAX_ERRNO)
};

// `no_origin` is a diagnosis's culprit when it is not a rule: the policy's default action, or
// what it answers syscalls newer than the tables (bad_errno).
inline constexpr std::uint16_t no_origin = 0xffff;

// `errno_is_usable` is false for action::error(0), which makes a refused syscall return 0 as if
// it had succeeded (a refused openat "opens" fd 0), and for errno values above 4095, which the
// kernel caps at MAX_ERRNO. Other actions carry any data.
constexpr bool errno_is_usable(action a) noexcept {
  return a.what() != action::kind::error || (a.data() >= 1 && a.data() <= 4095);
}

// `newer_syscalls_for` is what syscalls newer than sysfence's tables get unless a policy says
// otherwise: ENOSYS when the default refuses (glibc probes new syscalls and falls back to older
// ones only on ENOSYS, as systemd, Chromium and Cosmopolitan answer them), else the default.
constexpr action newer_syscalls_for(action default_action) noexcept {
  return default_action.lets_syscall_run() ? default_action : action::error(38);  // ENOSYS
}

// `diagnosis` names a problem and its culprits; structural, so it can be a template argument.
struct diagnosis {
  problem what = problem::none;
  sys::id syscall{};
  std::uint16_t first = 0;   // origin of the first culprit rule
  std::uint16_t second = 0;  // origin of the second culprit rule
  condition_problem condition = condition_problem::none;
  std::size_t size = 0;      // program size, for too_long
  action first_action{};     // different_actions: what each culprit answers
  action second_action{};
  std::uint8_t arg = 0;      // bad_condition: the condition's argument index
  [[nodiscard]] constexpr bool ok() const noexcept { return what == problem::none; }
};

// `patch` says where a run-time slot's value goes: instruction `insn`, low or high half.
struct patch {
  std::uint16_t insn = 0;
  std::uint16_t slot = 0;
  bool high = false;
  std::uint64_t invalid_bits = 0;  // bits the value must not have (32-bit or masked comparison)
};

// `sort_key` orders rules cheaply: by syscall (id or number), simple rules first, then by a
// fingerprint of the conditions; only on equal fingerprints are the conditions compared. Rules
// that match the same calls end up next to each other.
struct sort_key {
  std::uint32_t major = 0;
  std::uint32_t count = 0;
  std::uint64_t fingerprint = 0;
  std::uint16_t index = 0;
};

constexpr bool condition_less(const condition& a, const condition& b) noexcept {
  if (a.arg != b.arg) return a.arg < b.arg;
  if (a.op != b.op) return a.op < b.op;
  if (a.size != b.size) return a.size < b.size;
  if (a.slot != b.slot) return a.slot < b.slot;
  if (a.value != b.value) return a.value < b.value;
  return a.mask < b.mask;
}
constexpr bool match_less(const rule& a, const rule& b) noexcept {
  if (a.count != b.count) return a.count < b.count;
  for (std::size_t i = 0; i < a.count; ++i) {
    if (condition_less(a.conditions[i], b.conditions[i])) return true;
    if (condition_less(b.conditions[i], a.conditions[i])) return false;
  }
  return false;
}
// Two rules from different rule sets with slots never match the same calls for sure, so slots
// compare by their policy-wide number.
constexpr bool same_match(const entry& a, const entry& b) noexcept {
  if (!a.r.same_match(b.r)) return false;
  for (std::size_t i = 0; i < a.r.count; ++i)
    if (a.r.conditions[i].has_slot() && a.slot_base != b.slot_base) return false;
  return true;
}

constexpr std::uint64_t fingerprint(const rule& r) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the fields, 64-bit words at a time
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
  for (std::size_t i = 0; i < r.count; ++i) {
    const condition& c = r.conditions[i];
    mix(c.arg | (std::uint64_t{static_cast<std::uint8_t>(c.op)} << 8) |
        (std::uint64_t{static_cast<std::uint8_t>(c.size)} << 16) |
        (static_cast<std::uint64_t>(static_cast<std::uint16_t>(c.slot)) << 24));
    mix(c.value);
    mix(c.mask);
  }
  return h;
}

// `sort_rules` fills `keys` for `rules` and sorts them by (major, count, fingerprint, index);
// `major` maps an entry to its group. `keys` is scratch of 2n: an LSD radix sort over the key
// bytes that differ between rules, cheap in constant evaluation (a comparison sort of 1000 rules
// costs clang a third of its step limit). Equal fingerprints, where different conditions could
// collide, are then ordered by their conditions.
template <class Major>
constexpr std::span<sort_key> sort_rules(std::span<const entry> rules, std::span<sort_key> keys,
                                         Major major) noexcept {
  // Raw pointers: clang 14 counts steps inside std::span::operator[].
  const std::size_t n = rules.size();
  const entry* r = rules.data();
  sort_key* a = keys.data();
  sort_key* b = keys.data() + n;
  for (std::size_t i = 0; i < n; ++i)
    a[i] = {major(r[i]), r[i].r.count, fingerprint(r[i].r), static_cast<std::uint16_t>(i)};
  // Byte d of the key, least significant first: fingerprint (8), count (1), major (4).
  auto byte = [](const sort_key& k, unsigned d) -> std::uint8_t {
    if (d < 8) return static_cast<std::uint8_t>(k.fingerprint >> (8 * d));
    if (d == 8) return static_cast<std::uint8_t>(k.count);
    return static_cast<std::uint8_t>(k.major >> (8 * (d - 9)));
  };
  for (unsigned d = 0; d < 13; ++d) {
    bool varies = false;
    for (std::size_t i = 1; i < n && !varies; ++i) varies = byte(a[i], d) != byte(a[0], d);
    if (!varies) continue;
    std::size_t start[257] = {};
    for (std::size_t i = 0; i < n; ++i) ++start[byte(a[i], d) + 1u];
    for (std::size_t v = 1; v < 257; ++v) start[v] += start[v - 1];
    for (std::size_t i = 0; i < n; ++i) b[start[byte(a[i], d)]++] = a[i];  // stable
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i];
  }
  // Rare: equal fingerprints of different conditions must not interleave.
  for (std::size_t i = 1; i < n; ++i)
    for (std::size_t j = i; j > 0 && a[j - 1].major == a[j].major && a[j - 1].count == a[j].count &&
                            a[j - 1].fingerprint == a[j].fingerprint && match_less(r[a[j].index].r, r[a[j - 1].index].r);
         --j) {
      const sort_key t = a[j];
      a[j] = a[j - 1];
      a[j - 1] = t;
    }
  return keys.first(n);
}

// `disjoint` is true when no call can satisfy both rules' conditions: on some argument their
// ranges do not meet, or equal values or masked bits contradict. When it cannot prove that, two
// rules of one syscall with different actions are a conflict (the first would silently win).
constexpr bool disjoint(const rule& a, const rule& b) noexcept {
  for (std::uint8_t arg = 0; arg < 6; ++arg) {
    // Ranges of the full value and of the low 32 bits, from eq/lt/le/gt/ge on each side.
    std::uint64_t lo64 = 0, hi64 = ~std::uint64_t{0}, lo32 = 0, hi32 = 0xffffffffU;
    auto narrow = [&](const condition& c) {
      const bool dword = c.size == width::dword;
      std::uint64_t& lo = dword ? lo32 : lo64;
      std::uint64_t& hi = dword ? hi32 : hi64;
      const std::uint64_t top = dword ? 0xffffffffU : ~std::uint64_t{0};
      const std::uint64_t v = c.value;
      switch (c.op) {
        case cmp::eq: lo = lo > v ? lo : v; hi = hi < v ? hi : v; break;
        case cmp::lt: if (v == 0) { lo = 1; hi = 0; } else if (hi > v - 1) hi = v - 1; break;
        case cmp::le: if (hi > v) hi = v; break;
        case cmp::gt: if (v == top) { lo = 1; hi = 0; } else if (lo < v + 1) lo = v + 1; break;
        case cmp::ge: if (lo < v) lo = v; break;
        case cmp::masked_eq: {  // (x & m) == v bounds x to [v, v | ~m]
          const std::uint64_t most = v | (~c.mask & top);
          if (lo < v) lo = v;
          if (hi > most) hi = most;
          break;
        }
        default: break;
      }
    };
    bool slot = false;
    for (const rule* r : {&a, &b})
      for (std::size_t i = 0; i < r->count; ++i)
        if (r->conditions[i].arg == arg) {
          slot = slot || r->conditions[i].has_slot();
          narrow(r->conditions[i]);
        }
    if (slot) continue;  // run-time values: nothing provable at compile time
    if (lo64 > hi64 || lo32 > hi32) return true;
    // Equal values against != and masks, both ways.
    for (const rule* x : {&a, &b})
      for (const rule* y : {&a, &b}) {
        if (x == y) continue;
        for (std::size_t i = 0; i < x->count; ++i)
          for (std::size_t j = 0; j < y->count; ++j) {
            const condition& c = x->conditions[i];
            const condition& d = y->conditions[j];
            if (c.arg != arg || d.arg != arg || c.size != d.size) continue;
            const std::uint64_t m1 = c.op == cmp::masked_eq ? c.mask : ~std::uint64_t{0};
            const std::uint64_t m2 = d.op == cmp::masked_eq ? d.mask : ~std::uint64_t{0};
            const bool c_fixes = c.op == cmp::eq || c.op == cmp::masked_eq;
            const bool d_fixes = d.op == cmp::eq || d.op == cmp::masked_eq;
            if (c_fixes && d_fixes && ((c.value ^ d.value) & m1 & m2) != 0) return true;
            if (c.op == cmp::eq && d.op == cmp::ne && c.value == d.value) return true;
          }
      }
  }
  return false;
}

// `analyse` checks a policy's rules independently of the architecture: malformed conditions,
// simple-versus-conditional conflicts and contradictory actions. `keys` is scratch of size 2n.
constexpr diagnosis analyse(std::span<const entry> rules, std::span<sort_key> keys) noexcept {
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (auto p = check(e.r.conditions[i]); p != condition_problem::none)
        return {problem::bad_condition, e.r.syscall, e.origin, e.origin, p, 0, {}, {}, e.r.conditions[i].arg};
  for (const entry& e : rules)
    if (!errno_is_usable(e.r.result))
      return {problem::bad_errno, e.r.syscall, e.origin, e.origin, condition_problem::none, 0, e.r.result};

  const auto sorted = sort_rules(rules, keys, [](const entry& e) {
    return static_cast<std::uint32_t>(e.r.syscall);
  });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const entry& prev = rules[sorted[i - 1].index];
    const entry& cur = rules[sorted[i].index];
    if (prev.r.syscall != cur.r.syscall) continue;
    if (prev.r.is_simple() && !cur.r.is_simple())
      return {problem::simple_and_conditional, cur.r.syscall, prev.origin, cur.origin,
              condition_problem::none, 0};
    if (same_match(prev, cur) && prev.r.result != cur.r.result)
      return {problem::different_actions, cur.r.syscall, prev.origin, cur.origin,
              condition_problem::none, 0, prev.r.result, cur.r.result};
  }
  // Conditional rules of one syscall with different actions must not match the same call.
  for (std::size_t begin = 0; begin < sorted.size();) {
    std::size_t end = begin + 1;
    bool mixed = false;
    const rule& first = rules[sorted[begin].index].r;
    while (end < sorted.size() && rules[sorted[end].index].r.syscall == first.syscall) {
      mixed = mixed || rules[sorted[end].index].r.result != first.result;
      ++end;
    }
    for (std::size_t i = begin; mixed && i < end; ++i)
      for (std::size_t j = i + 1; j < end; ++j) {
        const entry& x = rules[sorted[i].index];
        const entry& y = rules[sorted[j].index];
        if (x.r.result != y.r.result && !x.r.is_simple() && !disjoint(x.r, y.r))
          return {problem::different_actions, x.r.syscall, x.origin, y.origin,
                  condition_problem::none, 0, x.r.result, y.r.result};
      }
    begin = end;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Emission.

// `interval` is a run of syscall numbers [start, next interval's start) with one outcome: an
// action, or the conditional block of the rules in order[first, last).
struct interval {
  std::uint32_t start = 0;
  action result{};
  bool conditional = false;
  std::uint16_t first = 0, last = 0;
  std::uint64_t weight = 0;  // prefix sum of the weights of the intervals before and including it
  bool has_exception = false;  // one number inside the run gets another action: JEQ at the leaf
  std::uint32_t exception_nr = 0;
  action exception_result{};
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
    std::uint64_t invalid = c.op == cmp::masked_eq ? ~c.mask : 0;
    if (c.size == width::dword) invalid |= ~std::uint64_t{0xffffffffU};
    patches[npatches++] = {static_cast<std::uint16_t>(at), static_cast<std::uint16_t>(slot_base + c.slot), high,
                           invalid};
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

// `no_word` says the accumulator holds nothing known (the syscall number, or a masked word).
inline constexpr std::uint32_t no_word = 0xffffffffU;

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
    if (t == to::next) return 0;
    std::size_t dest = t == to::pass ? p : f;
    const bpf::insn& first = w.out[dest];
    if (held[j] != no_word && first.code == (BPF_LD | BPF_W | BPF_ABS) && first.k == held[j] && dest - at <= 255)
      ++dest;
    return static_cast<std::uint8_t>(dest - at - 1);
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

// `compile_input` is everything the emitter needs, as plain data.
struct compile_input {
  std::span<const entry> rules;
  arch::target target;
  action default_action;
  bool analysed = false;  // analyse() already passed (typed policies check when composed)
  // What numbers above the target's table (syscalls newer than sysfence's tables) get.
  action newer_syscalls = newer_syscalls_for(default_action);
};

// `check_answers` checks the actions a policy gives calls no rule matches: its default, and
// what syscalls newer than the tables get.
constexpr diagnosis check_answers(action default_action, action newer_syscalls) noexcept {
  for (const action a : {default_action, newer_syscalls})
    if (!errno_is_usable(a))
      return {problem::bad_errno, {}, no_origin, no_origin, condition_problem::none, 0, a};
  return {};
}

// `compile_scratch` is caller-provided working memory: keys (2n), intervals (2n + 3).
struct compile_scratch {
  std::span<sort_key> order;
  std::span<interval> intervals;
};

struct compile_output {
  diagnosis result;
  std::size_t size = 0;
  std::size_t patches = 0;
};

// `bad_abi_action` is what syscalls of a foreign ABI sharing the architecture (x32) get: the
// default action when it denies, else the process is killed (never let a foreign ABI through).
constexpr action bad_abi_action(action def) noexcept {
  const auto k = def.what();
  return (k == action::kind::error || k == action::kind::kill_process ||
          k == action::kind::kill_thread || k == action::kind::trap)
             ? def
             : action::kill_process;
}

// `emit_block` writes a conditional syscall's rules (each its conditions, then its action) and
// the default action when none matches; returns where the block starts.
constexpr target emit_block(emitter& w, const compile_input& in, std::span<const sort_key> order,
                            const interval& leaf) noexcept {
  // Rules in order, without duplicates (analyse() made equal matches agree on their action).
  auto duplicate = [&](std::size_t i) {
    if (i == leaf.first || order[i - 1].fingerprint != order[i].fingerprint) return false;
    const entry& before = in.rules[order[i - 1].index];
    const entry& e = in.rules[order[i].index];
    return same_match(before, e) && before.r.result == e.r.result;
  };
  // Each rule's conditions coded once: for placing them, and for the rule after it, which the
  // rule's failures enter with the word they hold.
  coded codes[2][max_conditions] = {};
  std::size_t cur = 0;
  bool coded_already = false;  // codes[cur] holds the rule about to be placed
  target next{true, in.default_action, 0};  // where the last rule's failure goes
  for (std::size_t i = leaf.last; i-- > leaf.first;) {
    if (duplicate(i)) continue;
    const entry& e = in.rules[order[i].index];
    if (!coded_already)
      for (std::size_t c = 0; c < e.r.count; ++c) code_of(e.r.conditions[c], codes[cur][c]);
    // The rule placed before this one in the program fails into it; the block's first rule is
    // entered from the search, with the syscall number in the accumulator.
    std::size_t before = i;
    while (before > leaf.first && duplicate(before - 1)) --before;
    std::uint32_t entry_word = no_word;
    coded_already = before > leaf.first;
    if (coded_already) {
      const rule& r = in.rules[order[before - 1].index].r;
      for (std::size_t c = 0; c < r.count; ++c) {
        code_of(r.conditions[c], codes[1 - cur][c]);
        const std::uint32_t here = codes[1 - cur][c].fail_word;
        entry_word = c == 0 || here == entry_word ? here : no_word;
      }
    }
    target pass{true, e.r.result, 0};
    for (std::size_t c = e.r.count; c-- > 0;) {
      const std::uint32_t held = c > 0 ? codes[cur][c - 1].pass_word : entry_word;
      pass = place_condition(w, e.r.conditions[c], codes[cur][c], e.slot_base, pass, next, held);
    }
    next = pass;  // this rule's start: where the rule before it fails to
    cur = 1 - cur;
  }
  return next;
}

// The split of intervals [lo, hi) whose halves weigh most alike (a weight-balanced tree).
constexpr std::size_t split(std::span<const interval> iv, std::size_t lo, std::size_t hi) noexcept {
  const std::uint64_t before = lo == 0 ? 0 : iv[lo - 1].weight;
  const std::uint64_t total = iv[hi - 1].weight - before;
  std::size_t a = lo + 1, b = hi - 1;  // the first interval of the right half is in [a, b]
  while (a < b) {  // the first mid whose left half weighs at least half
    const std::size_t m = (a + b) / 2;
    if ((iv[m - 1].weight - before) * 2 >= total) b = m; else a = m + 1;
  }
  // a or a - 1, whichever leaves the halves closer
  if (a > lo + 1) {
    const std::uint64_t left_a = iv[a - 1].weight - before, left_b = iv[a - 2].weight - before;
    const std::uint64_t diff_a = left_a * 2 > total ? left_a * 2 - total : total - left_a * 2;
    const std::uint64_t diff_b = left_b * 2 > total ? left_b * 2 - total : total - left_b * 2;
    if (diff_b < diff_a) return a - 1;
  }
  return a;
}

constexpr target emit_tree(emitter& w, const compile_input& in, std::span<const sort_key> order,
                           std::span<const interval> iv, std::size_t lo, std::size_t hi) noexcept {
  if (hi - lo == 1) {
    if (iv[lo].conditional) return emit_block(w, in, order, iv[lo]);
    if (!iv[lo].has_exception) return {true, iv[lo].result, 0};
    // JEQ nr, its action, the run's action: one instruction where two boundaries would need two.
    const std::size_t t = w.resolve({true, iv[lo].exception_result, 0}, 1);
    const std::size_t f = w.resolve({true, iv[lo].result, 0}, 1);
    const std::size_t at = w.pos - 1;
    w.place(bpf::jeq(iv[lo].exception_nr, static_cast<std::uint8_t>(t - at - 1), static_cast<std::uint8_t>(f - at - 1)));
    return {false, {}, at};
  }
  const std::size_t mid = split(iv, lo, hi);
  const target right = emit_tree(w, in, order, iv, mid, hi);
  const target left = emit_tree(w, in, order, iv, lo, mid);
  const std::size_t t = w.resolve(right, 1);
  const std::size_t f = w.resolve(left, 1);
  const std::size_t at = w.pos - 1;
  w.place(bpf::jge(iv[mid].start, static_cast<std::uint8_t>(t - at - 1), static_cast<std::uint8_t>(f - at - 1)));
  return {false, {}, at};  // JGE start, right, left
}

// `compile` checks the rules and writes the program into `out` (at most out.size() instructions).
// On a problem nothing usable is written and the diagnosis says what and where.
constexpr compile_output compile(const compile_input& in, const compile_scratch& scratch,
                                 std::span<bpf::insn> out, std::span<patch> patches) noexcept {
  const std::size_t n = in.rules.size();
  if (diagnosis d = check_answers(in.default_action, in.newer_syscalls); !d.ok()) return {d, 0, 0};
  if (!in.analysed)
    if (diagnosis d = analyse(in.rules, scratch.order); !d.ok()) return {d, 0, 0};

  const auto& numbers = *in.target.numbers;
  for (const entry& e : in.rules)
    if (numbers[static_cast<std::size_t>(e.r.syscall)] < 0)
      return {{problem::missing_syscall, e.r.syscall, e.origin, e.origin, condition_problem::none, 0}, 0, 0};

  // Sort by syscall number on the target; equal matches stay adjacent (see analyse).
  auto number_of = [&](const entry& e) {
    return static_cast<std::uint32_t>(numbers[static_cast<std::size_t>(e.r.syscall)]);
  };
  const auto ids = sort_rules(in.rules, scratch.order, number_of);
  auto number = [&](std::size_t i) { return ids[i].major; };

  // Partition the numbers into runs with one outcome each.
  std::size_t count = 0;
  auto drop_empty = [&](std::uint32_t start) {
    if (count > 0 && scratch.intervals[count - 1].start == start) --count;  // it would be empty
  };
  auto add = [&](std::uint32_t start, action a) {
    drop_empty(start);
    if (count > 0 && !scratch.intervals[count - 1].conditional && scratch.intervals[count - 1].result == a)
      return;  // same outcome as the run before: extend it
    scratch.intervals[count++] = {start, a, false, 0, 0, 0};
  };
  add(0, in.default_action);
  for (std::size_t i = 0; i < n;) {
    const std::uint32_t nr = number(i);
    std::size_t j = i;
    while (j < n && number(j) == nr) ++j;
    if (in.rules[ids[i].index].r.is_simple()) {
      add(nr, in.rules[ids[i].index].r.result);  // analyse() made every simple rule here agree
    } else {
      drop_empty(nr);
      scratch.intervals[count++] = {nr, in.default_action, true, static_cast<std::uint16_t>(i),
                                    static_cast<std::uint16_t>(j), 0};
    }
    add(nr + 1, in.default_action);
    i = j;
  }
  // When x32 numbers get the default action, the search itself rejects them (they are above the
  // highest rule's number, in the last run); otherwise an explicit bit-30 check comes first.
  const bool x32_check = in.target.abi_bit != 0 && bad_abi_action(in.default_action) != in.default_action;
  // Numbers above the table (syscalls newer than it) get their own answer, up to x32's.
  add(in.target.table_size, in.newer_syscalls);
  if (in.target.abi_bit != 0 && !x32_check) add(in.target.abi_bit, in.default_action);

  // A lone number between two runs with the same action becomes an exception of one run.
  {
    interval* v = scratch.intervals.data();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const bool lone = i + 1 < count && kept > 0 && !v[i].conditional && v[i + 1].start == v[i].start + 1 &&
                        !v[kept - 1].conditional && !v[kept - 1].has_exception && !v[i + 1].conditional &&
                        v[kept - 1].result == v[i + 1].result;
      if (lone) {
        v[kept - 1].has_exception = true;
        v[kept - 1].exception_nr = v[i].start;
        v[kept - 1].exception_result = v[i].result;
        ++i;  // the run after it joins the one before
        continue;
      }
      v[kept++] = v[i];
    }
    count = kept;
  }

  // Weights: how many of the kernel's syscall numbers each run covers (its cache preparation runs
  // the filter once for each), more for conditional syscalls, which run the filter on every call.
  const std::uint64_t table = in.target.table_size;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t begin = scratch.intervals[i].start < table ? scratch.intervals[i].start : table;
    const std::uint64_t end = i + 1 < count && scratch.intervals[i + 1].start < table ? scratch.intervals[i + 1].start : table;
    const std::uint64_t width = end > begin ? end - begin : 1;
    sum += scratch.intervals[i].conditional ? width + table / 8 : width;
    scratch.intervals[i].weight = sum;
  }
  const auto iv = scratch.intervals.first(count);

  emitter w{out.data(), patches.data(), out.size()};
  using namespace bpf;
  const target root = emit_tree(w, in, ids, iv, 0, count);
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
  for (std::size_t i = 0; i < w.npatches; ++i) w.patches[i].insn = static_cast<std::uint16_t>(w.patches[i].insn - w.pos);
  return {{}, size, w.npatches};
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
    program[at.insn].k = static_cast<std::uint32_t>(at.high ? v >> 32 : v);
  }
  return true;
}

// `slot_patch_count` bounds the patches a rule list can need (3 per slot condition).
constexpr std::size_t slot_patch_count(std::span<const entry> rules) noexcept {
  std::size_t n = 0;
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (e.r.conditions[i].has_slot()) n += 3;
  return n;
}

}  // namespace sysfence::detail
