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
};

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

// `sort_rules` fills `keys` for `rules` and sorts them; `major` maps an entry to its group.
template <class Major>
constexpr std::span<sort_key> sort_rules(std::span<const entry> rules, std::span<sort_key> keys,
                                         Major major) noexcept {
  auto out = keys.first(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i)
    out[i] = {major(rules[i]), rules[i].r.count, fingerprint(rules[i].r), static_cast<std::uint16_t>(i)};
  std::sort(out.begin(), out.end(), [&](const sort_key& a, const sort_key& b) {
    if (a.major != b.major) return a.major < b.major;
    if (a.count != b.count) return a.count < b.count;
    if (a.fingerprint != b.fingerprint) return a.fingerprint < b.fingerprint;
    if (match_less(rules[a.index].r, rules[b.index].r)) return true;  // rare: equal fingerprints
    if (match_less(rules[b.index].r, rules[a.index].r)) return false;
    return a.index < b.index;  // the first rule set named first
  });
  return out;
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
// simple-versus-conditional conflicts and contradictory actions. `keys` is scratch of size n.
constexpr diagnosis analyse(std::span<const entry> rules, std::span<sort_key> keys) noexcept {
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (auto p = check(e.r.conditions[i]); p != condition_problem::none)
        return {problem::bad_condition, e.r.syscall, e.origin, e.origin, p, 0};

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
  std::uint32_t block_size = 1;  // instructions of the leaf: 1 (RET) or the conditional block
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

// `emitter` writes instructions into the caller's buffer and records run-time slot patches.
struct emitter {
  std::span<bpf::insn> out;
  std::span<patch> patches;
  std::size_t pos = 0;
  std::size_t npatches = 0;

  constexpr void put(bpf::insn i) noexcept { out[pos++] = i; }
  constexpr void put_patched(bpf::insn i, const condition& c, std::uint16_t slot_base, bool high) noexcept {
    if (c.has_slot()) {
      std::uint64_t invalid = c.op == cmp::masked_eq ? ~c.mask : 0;
      if (c.size == width::dword) invalid |= ~std::uint64_t{0xffffffffU};
      patches[npatches++] = {static_cast<std::uint16_t>(pos),
                             static_cast<std::uint16_t>(slot_base + c.slot), high, invalid};
    }
    put(i);
  }
};

// `emit_condition` writes one condition: it falls through when the condition holds and jumps
// to the rule's fail label, `after` instructions past its own end, when it does not.
constexpr void emit_condition(emitter& w, const condition& c, std::uint16_t slot_base,
                              std::uint32_t after) noexcept {
  const std::uint32_t s = condition_size(c);
  const std::size_t begin = w.pos;
  // Offsets from the instruction being written to the end (pass) and to the fail label.
  auto pass = [&]() { return static_cast<std::uint8_t>(s - (w.pos - begin) - 1); };
  auto fail = [&]() { return static_cast<std::uint8_t>(s - (w.pos - begin) - 1 + after); };
  const auto lo = static_cast<std::uint32_t>(c.value);
  const auto hi = static_cast<std::uint32_t>(c.value >> 32);
  const std::uint32_t off_lo = bpf::off_arg_lo(c.arg);
  const std::uint32_t off_hi = bpf::off_arg_hi(c.arg);
  const bool dword = c.size == width::dword;
  using namespace bpf;

  switch (c.op) {
    case cmp::eq:  // hi == vhi && lo == vlo
      if (!dword) {
        w.put(load(off_hi));                                    // LD hi
        w.put_patched(jeq(hi, 0, fail()), c, slot_base, true);  // JEQ vhi, next, fail
      }
      w.put(load(off_lo));                                      // LD lo
      w.put_patched(jeq(lo, 0, fail()), c, slot_base, false);   // JEQ vlo, pass, fail
      return;
    case cmp::ne:  // hi != vhi || lo != vlo
      if (!dword) {
        w.put(load(off_hi));
        w.put_patched(jeq(hi, 0, 2), c, slot_base, true);       // JEQ vhi, next, pass
      }
      w.put(load(off_lo));
      w.put_patched(jeq(lo, fail(), 0), c, slot_base, false);   // JEQ vlo, fail, pass
      return;
    case cmp::gt:  // hi > vhi || (hi == vhi && lo > vlo)
    case cmp::ge: {
      const auto low = c.op == cmp::gt ? jgt(lo, 0, 0) : jge(lo, 0, 0);
      if (!dword) {
        w.put(load(off_hi));
        w.put_patched(jgt(hi, pass(), 0), c, slot_base, true);  // JGT vhi, pass, next
        w.put_patched(jeq(hi, 0, fail()), c, slot_base, true);  // JEQ vhi, next, fail
      }
      w.put(load(off_lo));
      w.put_patched(jump(low.code, lo, 0, fail()), c, slot_base, false);  // J(G|GE) vlo, pass, fail
      return;
    }
    case cmp::lt:  // !(arg >= v)
    case cmp::le: {  // !(arg > v)
      const auto low = c.op == cmp::lt ? jge(lo, 0, 0) : jgt(lo, 0, 0);
      if (!dword) {
        w.put(load(off_hi));
        w.put_patched(jgt(hi, fail(), 0), c, slot_base, true);  // JGT vhi, fail, next
        w.put_patched(jeq(hi, 0, pass()), c, slot_base, true);  // JEQ vhi, next, pass
      }
      w.put(load(off_lo));
      w.put_patched(jump(low.code, lo, fail(), 0), c, slot_base, false);  // J(GE|G) vlo, fail, pass
      return;
    }
    case cmp::masked_eq: {  // (hi & mhi) == vhi && (lo & mlo) == vlo
      auto half = [&](std::uint32_t off, std::uint32_t mask, std::uint32_t value, bool high) {
        if (mask == 0 && !c.has_slot()) return;  // (x & 0) == 0 always holds (check() ensured value 0)
        w.put(load(off));
        if (mask != 0xffffffffU) w.put(and_k(mask));  // AND mask
        w.put_patched(jeq(value, 0, fail()), c, slot_base, high);
      };
      if (!dword) half(off_hi, static_cast<std::uint32_t>(c.mask >> 32), hi, true);
      half(off_lo, static_cast<std::uint32_t>(c.mask), lo, false);
      return;
    }
  }
}

// `compile_input` is everything the emitter needs, as plain data.
struct compile_input {
  std::span<const entry> rules;
  arch::target target;
  action default_action;
  bool analysed = false;  // analyse() already passed (typed policies check when composed)
};

// `compile_scratch` is caller-provided working memory: keys (n), intervals (2n + 1).
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

constexpr std::uint32_t prologue_size(const arch::target& t) noexcept {
  return 4 + (t.abi_bit != 0 ? 2 : 0);
}

// Size of the binary search over intervals [lo, hi): a JGE per inner node, a JA trampoline where
// the left subtree is longer than a conditional jump reaches (255), and the leaves.
constexpr std::uint32_t tree_size(std::span<const interval> iv, std::size_t lo, std::size_t hi) noexcept {
  if (hi - lo == 1) return iv[lo].block_size;
  const std::size_t mid = (lo + hi) / 2;
  const std::uint32_t left = tree_size(iv, lo, mid);
  return 1 + (left > 255 ? 1 : 0) + left + tree_size(iv, mid, hi);
}

constexpr void emit_block(emitter& w, const compile_input& in, std::span<const sort_key> order,
                          const interval& leaf) noexcept {
  const entry* prev = nullptr;
  for (std::size_t i = leaf.first; i < leaf.last; ++i) {
    const entry& e = in.rules[order[i].index];
    if (prev != nullptr && same_match(*prev, e) && prev->r.result == e.r.result) continue;  // duplicate
    prev = &e;
    std::uint32_t after = 1;  // the RET that ends the rule
    for (std::size_t c = 0; c < e.r.count; ++c) after += condition_size(e.r.conditions[c]);
    for (std::size_t c = 0; c < e.r.count; ++c) {
      after -= condition_size(e.r.conditions[c]);
      emit_condition(w, e.r.conditions[c], e.slot_base, after);
    }
    w.put(bpf::ret(e.r.result.value));  // RET action: every condition held
  }
  w.put(bpf::ret(in.default_action.value));  // RET default: no rule matched
}

constexpr void emit_tree(emitter& w, const compile_input& in, std::span<const sort_key> order,
                         std::span<const interval> iv, std::size_t lo, std::size_t hi) noexcept {
  if (hi - lo == 1) {
    if (iv[lo].conditional)
      emit_block(w, in, order, iv[lo]);
    else
      w.put(bpf::ret(iv[lo].result.value));  // RET action
    return;
  }
  const std::size_t mid = (lo + hi) / 2;
  const std::uint32_t left = tree_size(iv, lo, mid);
  if (left <= 255) {
    w.put(bpf::jge(iv[mid].start, static_cast<std::uint8_t>(left), 0));  // JGE start, right, left
  } else {
    w.put(bpf::jge(iv[mid].start, 0, 1));  // JGE start, trampoline, left
    w.put(bpf::ja(left));                  // JA right
  }
  emit_tree(w, in, order, iv, lo, mid);
  emit_tree(w, in, order, iv, mid, hi);
}

// `compile` checks the rules and writes the program into `out` (at most out.size() instructions).
// On a problem nothing usable is written and the diagnosis says what and where.
constexpr compile_output compile(const compile_input& in, const compile_scratch& scratch,
                                 std::span<bpf::insn> out, std::span<patch> patches) noexcept {
  const std::size_t n = in.rules.size();
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

  // Partition the numbers below the ABI bit (or all 32-bit values) into intervals.
  std::size_t count = 0;
  auto drop_empty = [&](std::uint32_t start) {
    if (count > 0 && scratch.intervals[count - 1].start == start) --count;  // it would be empty
  };
  auto add = [&](std::uint32_t start, action a) {
    drop_empty(start);
    if (count > 0 && !scratch.intervals[count - 1].conditional &&
        scratch.intervals[count - 1].result == a)
      return;  // same outcome as the run before: extend it
    scratch.intervals[count++] = {start, a, false, 0, 0, 1};
  };
  add(0, in.default_action);
  for (std::size_t i = 0; i < n;) {
    const std::uint32_t nr = number(i);
    std::size_t j = i;
    while (j < n && number(j) == nr) ++j;
    if (in.rules[ids[i].index].r.is_simple()) {
      add(nr, in.rules[ids[i].index].r.result);  // analyse() made every simple rule here agree
    } else {
      std::uint32_t block = 1;  // RET default
      const entry* prev = nullptr;
      for (std::size_t k = i; k < j; ++k) {
        const entry& e = in.rules[ids[k].index];
        if (prev != nullptr && same_match(*prev, e) && prev->r.result == e.r.result) continue;
        prev = &e;
        block += rule_size(e.r);
      }
      drop_empty(nr);
      scratch.intervals[count++] = {nr, in.default_action, true, static_cast<std::uint16_t>(i),
                                    static_cast<std::uint16_t>(j), block};
    }
    if (nr + 1 != in.target.abi_bit && nr != 0xffffffffU) add(nr + 1, in.default_action);
    i = j;
  }
  const auto iv = scratch.intervals.first(count);

  const std::size_t size = prologue_size(in.target) + tree_size(iv, 0, count);
  if (size > bpf::max_insns || size > out.size())
    return {{problem::too_long, {}, 0, 0, condition_problem::none, size}, size, 0};

  emitter w{out, patches};
  using namespace bpf;
  w.put(load(off_arch));                            // LD arch
  w.put(jeq(in.target.audit, 1, 0));                // JEQ audit, next+1, next
  w.put(ret(action::kill_process.value));           // RET KILL_PROCESS: foreign architecture
  w.put(load(off_nr));                              // LD nr
  if (in.target.abi_bit != 0) {
    w.put(jge(in.target.abi_bit, 0, 1));            // JGE abi_bit, next, next+1
    w.put(ret(bad_abi_action(in.default_action).value));  // RET: foreign ABI (x32)
  }
  emit_tree(w, in, ids, iv, 0, count);
  return {{}, w.pos, w.npatches};
}

// `capacity_bound` is an upper bound of the program size (capped one past the kernel's limit),
// so typed policies size their scratch buffer to the policy, not to 4096 instructions.
constexpr std::size_t capacity_bound(std::span<const entry> rules) noexcept {
  std::size_t n = 7 + 7 * rules.size();  // prologue, leaves, inner nodes with trampolines
  for (const entry& e : rules) n += rule_size(e.r);
  return n < bpf::max_insns + 1 ? n : bpf::max_insns + 1;
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
