// SPDX-License-Identifier: MIT
// analysis.hpp - the compiler core's first stage: rules as plain data, sorted and checked for
// malformed conditions, simple-versus-conditional conflicts and contradictory actions.
//
// Constant expressions and run time alike: spans and caller-provided scratch, no allocation, no
// throw; a problem is a `diagnosis` value the front ends turn into a static_assert or an error.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "sysfence/action.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail {

// `entry` is one rule of a policy with the index of the rule set it came from.
struct entry {
  rule r;
  std::uint16_t origin = 0;     // index of the rule set in the policy
  std::uint16_t slot_base = 0;  // the rule set's first run-time slot in the policy
  // The rule set is portable: on a target without this rule's syscall the rule is left out
  // (the built-ins name `open` and `openat`; aarch64 has only the second). Otherwise a missing
  // syscall is an error.
  bool portable = false;
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
  bad_targets,             // no ABI to serve, one ABI twice, or more than max_targets
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
  std::uint8_t target = 0;   // missing_syscall: which of the program's ABIs lacks it
  [[nodiscard]] constexpr bool ok() const noexcept { return what == problem::none; }
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
  if (!std::is_constant_evaluated()) {
    // At run time a comparison sort is cheaper: the radix passes over every key were an eighth
    // of loading Docker's profile. Same order: the radix sort is stable, so equal keys keep their
    // index order.
    std::sort(a, a + n, [](const sort_key& x, const sort_key& y) {
      if (x.major != y.major) return x.major < y.major;
      if (static_cast<std::uint8_t>(x.count) != static_cast<std::uint8_t>(y.count))
        return static_cast<std::uint8_t>(x.count) < static_cast<std::uint8_t>(y.count);
      if (x.fingerprint != y.fingerprint) return x.fingerprint < y.fingerprint;
      return x.index < y.index;
    });
  }
  for (unsigned d = 0; d < 13 && std::is_constant_evaluated(); ++d) {
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
// `ordered` rules are in priority order (the first match wins): overlaps are then the meaning,
// not a conflict, and only the conditions and actions are checked.
constexpr diagnosis analyse(std::span<const entry> rules, std::span<sort_key> keys, bool ordered = false) noexcept {
  for (const entry& e : rules)
    for (std::size_t i = 0; i < e.r.count; ++i)
      if (auto p = check(e.r.conditions[i]); p != condition_problem::none)
        return {problem::bad_condition, e.r.syscall, e.origin, e.origin, p, 0, {}, {}, e.r.conditions[i].arg};
  for (const entry& e : rules)
    if (!errno_is_usable(e.r.result))
      return {problem::bad_errno, e.r.syscall, e.origin, e.origin, condition_problem::none, 0, e.r.result};
  if (ordered) return {};

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

// `check_answers` checks the actions a policy gives calls no rule matches: its default, and
// what syscalls newer than the tables get.
constexpr diagnosis check_answers(action default_action, action newer_syscalls) noexcept {
  for (const action a : {default_action, newer_syscalls})
    if (!errno_is_usable(a))
      return {problem::bad_errno, {}, no_origin, no_origin, condition_problem::none, 0, a};
  return {};
}

}  // namespace sysfence::detail
