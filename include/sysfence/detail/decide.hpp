// SPDX-License-Identifier: MIT
// decide.hpp - the compiler core's argument stage: the decision code of one conditional syscall.
//
// Its rules' conditions become tests of 32-bit argument words. A test every remaining rule needs
// is made once (one high-half check for all `arg64<1> == small` rules); rules comparing one word
// with different constants are told apart by a search among the values (chosen for the fewest
// jumps on the longest path, then on the values' paths); what is left is tried rule by rule, in
// the order the user wrote them. Every rule's test is made at most once on any path, so nothing
// an earlier jump proved is checked again, and a refused call leaves at its first failing word.
//
// Rules with different actions never match the same call (analyse() refuses policies where they
// could), so the rules of a syscall may be tried in any order and split into groups freely.
// Ordered policies (kafel's first match wins) have no such guarantee: their rules are only chained.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sysfence/action.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/analysis.hpp"
#include "sysfence/detail/emitter.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail {

// `block_rule` is a rule of the conditional syscall whose decision code is being built: scratch
// of the compiler (one per rule of the policy).
struct block_rule {
  std::uint16_t index = 0;  // into compile_input::rules
  std::uint16_t tests = 0;  // its tests (see `test_of`), a bit each
  std::uint16_t done = 0;   // those already decided on the way to the code being built
  std::uint64_t key = 0;    // what it is sorted by: the value it is dispatched on, or its index
};

// `segment` is a run of values [first, last] of a dispatch that go one way: to the code of the
// rules block[begin, end), written when the search reaches it, or to a RET (`built`).
struct segment {
  std::uint32_t first = 0, last = 0;
  std::uint16_t begin = 0, end = 0;
  target branch{};
  bool built = false;
};

// `segments_needed` is the scratch `decider` needs for the segments of n rules: each dispatch's
// segments hold distinct rules, and a dispatch inside a segment's code holds that segment's rules.
constexpr std::size_t segments_needed(std::size_t n) noexcept { return n + 48; }

// On a target whose syscalls read 32-bit arguments (i386), a condition means what it says of
// the low 32 bits zero-extended: the syscall never sees the upper half, which seccomp still shows
// (a 64-bit process can set it before `int $0x80`). `narrow_truth` is such a condition's answer
// when its constant decides it alone (a 64-bit value above 32 bits), `narrowed` the 32-bit
// comparison it is otherwise, a run-time value included (its patch then refuses upper bits).
enum class truth : std::uint8_t { depends, always, never };
constexpr truth narrow_truth(const condition& c) noexcept {
  if (c.size == width::dword || c.has_slot() || (c.value >> 32) == 0) return truth::depends;
  switch (c.op) {
    case cmp::ne:
    case cmp::lt:
    case cmp::le: return truth::always;  // the argument is below 2^32, the value is not
    default: return truth::never;        // ==, masked ==, >, >=
  }
}
constexpr condition narrowed(condition c) noexcept {
  c.size = width::dword;
  c.value &= 0xffffffffU;
  if (c.op == cmp::masked_eq) c.mask &= 0xffffffffU;
  return c;
}
// `narrows` is whether the target reads condition c's argument as 32 bits (`narrow`: bit N for
// argument N, see arch::target::narrow_arguments).
constexpr bool narrows(const condition& c, std::uint8_t narrow) noexcept { return ((narrow >> c.arg) & 1U) != 0; }
// `condition_on` is condition i of `e` as the target compares it (see narrowed).
constexpr condition condition_on(const entry& e, std::size_t i, std::uint8_t narrow) noexcept {
  return narrows(e.r.conditions[i], narrow) ? narrowed(e.r.conditions[i]) : e.r.conditions[i];
}

// `word_test` is one test of a condition on one 32-bit argument word: LD word; AND mask (unless
// all ones); J<op> value. Test 2c of a rule is condition c's high half, test 2c + 1 its low half;
// a 64-bit != or ordered comparison, not a conjunction of word tests, is test 2c as a whole.
// Which of them a rule has, `tests_of` says.
struct word_test {
  bool whole = false;  // the whole condition, as condition_code() codes it
  std::uint32_t word = 0;
  std::uint32_t mask = 0xffffffffU;
  std::uint16_t op = BPF_JEQ;
  bool holds_if_taken = true;  // the condition holds when the jump is taken
  std::uint32_t value = 0;
  std::int32_t slot = -1;  // the policy-wide run-time slot patched into `value`, or -1
};

// (Written as few statements: clang 14 counts constant evaluation steps by statements.)
constexpr word_test test_of(const entry& e, std::size_t test, std::uint8_t narrow) noexcept {
  const condition c = condition_on(e, test / 2, narrow);
  const bool low = test % 2 == 1;
  const std::uint32_t word = low ? bpf::off_arg_lo(c.arg) : bpf::off_arg_hi(c.arg);
  const auto value = static_cast<std::uint32_t>(low ? c.value : c.value >> 32);
  const std::int32_t slot = c.has_slot() ? e.slot_base + c.slot : -1;
  switch (c.op) {
    case cmp::eq: return {false, word, 0xffffffffU, BPF_JEQ, true, value, slot};
    case cmp::masked_eq:  // a half whose mask is 0 always holds (check() made its value 0)
      return {false, word, static_cast<std::uint32_t>(low ? c.mask : c.mask >> 32), BPF_JEQ, true, value, slot};
    case cmp::ne: return {c.size != width::dword, word, 0xffffffffU, BPF_JEQ, false, value, slot};  // JEQ v: fails
    case cmp::gt: return {c.size != width::dword, word, 0xffffffffU, BPF_JGT, true, value, slot};
    case cmp::ge: return {c.size != width::dword, word, 0xffffffffU, BPF_JGE, true, value, slot};
    case cmp::lt: return {c.size != width::dword, word, 0xffffffffU, BPF_JGE, false, value, slot};  // !(x >= v)
    default: return {c.size != width::dword, word, 0xffffffffU, BPF_JGT, false, value, slot};  // le: !(x > v)
  }
}

// `tests_of` are the tests of a rule, a bit each (as test_of says, in fewer steps); `never` is
// set when one of its conditions can never hold on the target.
constexpr std::uint16_t tests_of(const entry& e, std::uint8_t narrow, bool& never) noexcept {
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < e.r.count; ++i) {
    if (narrows(e.r.conditions[i], narrow)) {
      const truth t = narrow_truth(e.r.conditions[i]);
      never = never || t == truth::never;
      if (t != truth::depends) continue;
    }
    const condition c = condition_on(e, i, narrow);
    const bool dword = c.size == width::dword;
    std::uint32_t halves = dword ? 2U : c.op == cmp::eq || c.op == cmp::masked_eq ? 3U : 1U;  // bit 1: low
    if (c.op == cmp::masked_eq && !c.has_slot())
      halves &= (static_cast<std::uint32_t>(c.mask) != 0 ? 2U : 0U) | (c.mask >> 32 != 0 ? 1U : 0U);
    bits |= halves << (2 * i);
  }
  return static_cast<std::uint16_t>(bits);
}

// Is test `x` of `a` the same instructions, with the same run-time value, as test `y` of `b`?
constexpr bool same_test(const entry& a, std::size_t x, const word_test& s, const entry& b, std::size_t y,
                         const word_test& t, std::uint8_t narrow) noexcept {
  if (s.whole || t.whole)
    return s.whole && t.whole && a.r.conditions[x / 2] == b.r.conditions[y / 2] && s.slot == t.slot;
  if (s.word != t.word || s.mask != t.mask || s.op != t.op || s.holds_if_taken != t.holds_if_taken ||
      s.slot != t.slot)
    return false;
  if (s.slot < 0) return s.value == t.value;
  // One patch serves both: it must refuse what either condition refuses.
  return slot_invalid_bits(condition_on(a, x / 2, narrow)) == slot_invalid_bits(condition_on(b, y / 2, narrow));
}

// A test the dispatch can use: the word equals a constant.
constexpr bool dispatchable(const word_test& t) noexcept {
  return !t.whole && t.op == BPF_JEQ && t.holds_if_taken && t.slot < 0;
}

// `decider` writes the decision code of one conditional syscall's rules, `block[0, n)`.
struct decider {
  emitter& w;
  const entry* rules;  // raw pointers: clang 14 counts steps inside std::span::operator[]
  block_rule* block;
  segment* segments;   // a stack: those of the dispatches being written
  std::size_t capacity;
  std::uint8_t narrow;  // the arguments the syscall reads as 32 bits (see narrowed)
  std::size_t used = 0;

  [[nodiscard]] constexpr word_test test(const entry& e, std::size_t x) const noexcept { return test_of(e, x, narrow); }

  // Deeper than this, what is left is tried rule by rule (constant evaluation's recursion limit).
  static constexpr unsigned max_depth = 40;
  // A dispatch among at most this many segments is planned exactly; more are halved.
  static constexpr std::size_t max_planned = 6;

  [[nodiscard]] constexpr const entry& of(std::size_t i) const noexcept { return rules[block[i].index]; }
  [[nodiscard]] constexpr std::uint16_t remaining(std::size_t i) const noexcept {
    return static_cast<std::uint16_t>(block[i].tests & ~block[i].done);
  }

  // The word the accumulator holds after test `x` of `e` holds.
  [[nodiscard]] constexpr std::uint32_t held_after(const entry& e, std::size_t x, const word_test& t) const noexcept {
    if (!t.whole) return t.mask == 0xffffffffU ? t.word : no_word;
    coded k;
    code_of(condition_on(e, x / 2, narrow), k);
    return k.pass_word;
  }

  // `place_test` writes test `x` of `e` (`t`): to `pass` when it holds, else to `fail`. The load is
  // left out when every path into it holds the word already (`held`).
  constexpr target place_test(const entry& e, std::size_t x, const word_test& t, const target& pass,
                              const target& fail, std::uint32_t held) noexcept {
    const condition c = condition_on(e, x / 2, narrow);
    if (t.whole) {
      coded k;
      code_of(c, k);
      return place_condition(w, c, k, e.slot_base, pass, fail, held);
    }
    const std::uint32_t after = t.mask == 0xffffffffU ? t.word : no_word;
    const target at = t.holds_if_taken ? w.jump(t.op, t.value, pass, fail, after)
                                       : w.jump(t.op, t.value, fail, pass, after);
    if (t.slot >= 0) w.record_patch(at.index, c, e.slot_base, x % 2 == 0);
    if (t.mask != 0xffffffffU) w.place(bpf::and_k(t.mask));  // AND mask
    if (held != t.word) w.place(bpf::load(t.word));         // LD word
    return {false, {}, w.pos};
  }

  // `place_rule` writes rule i's remaining tests in order: to `pass` when all hold, else to `fail`.
  constexpr target place_rule(std::size_t i, const target& pass, const target& fail, std::uint32_t held) noexcept {
    const entry& e = of(i);
    target next = pass;
    std::uint32_t bits = remaining(i);
    if (bits == 0) return pass;
    auto highest = [](std::uint32_t b) { return static_cast<std::size_t>(31 - std::countl_zero(b)); };
    std::size_t x = highest(bits);
    word_test t = test(e, x);
    for (;;) {  // last test first; each test enters holding what the one before it leaves
      bits &= ~(1U << x);
      if (bits == 0) return place_test(e, x, t, next, fail, held);
      const std::size_t before = highest(bits);
      const word_test u = test(e, before);
      next = place_test(e, x, t, next, fail, held_after(e, before, u));
      x = before;
      t = u;
    }
  }

  // Heap sort of block[begin, end) by key: in place, with no recursion, in n log n steps.
  constexpr void sort(std::size_t begin, std::size_t end) noexcept {
    block_rule* a = block + begin;
    const std::size_t n = end - begin;
    auto sift = [&](std::size_t root, std::size_t size) {
      for (std::size_t child = 2 * root + 1; child < size; child = 2 * root + 1) {
        if (child + 1 < size && a[child].key < a[child + 1].key) ++child;
        if (!(a[root].key < a[child].key)) return;
        const block_rule t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
      }
    };
    for (std::size_t i = n / 2; i-- > 0;) sift(i, n);
    for (std::size_t size = n; size-- > 1;) {
      const block_rule t = a[0];
      a[0] = a[size];
      a[size] = t;
      sift(0, size);
    }
  }

  // The word the accumulator holds wherever rule i's remaining tests fail, or no_word.
  [[nodiscard]] constexpr std::uint32_t fail_word(std::size_t i) const noexcept {
    std::uint32_t word = no_word;
    bool first = true;
    for (std::uint32_t xs = remaining(i); xs != 0; xs &= xs - 1) {
      const auto x = static_cast<std::size_t>(std::countr_zero(xs));
      const word_test t = test(of(i), x);
      std::uint32_t here = t.mask == 0xffffffffU ? t.word : no_word;
      if (t.whole) {
        coded k;
        code_of(condition_on(of(i), x / 2, narrow), k);
        here = k.fail_word;
      }
      if (!first && here != word) return no_word;
      word = here;
      first = false;
    }
    return word;
  }

  // `chain` tries the rules one after the other, in the order the user wrote them. A rule is
  // entered only where the one before it fails: the word those failures hold is not loaded again.
  constexpr target chain(std::size_t begin, std::size_t end, const target& fail, std::uint32_t held) noexcept {
    for (std::size_t i = begin; i < end; ++i) block[i].key = block[i].index;
    sort(begin, end);
    target next = fail;
    for (std::size_t i = end; i-- > begin;)
      next = place_rule(i, {true, of(i).r.result, 0}, next, i == begin ? held : fail_word(i - 1));
    return next;
  }

  // `common` writes a test every rule of block[begin, end) has, once, before the rest of their
  // code; false when there is none.
  constexpr bool common(std::size_t begin, std::size_t end, const target& fail, std::uint32_t held,
                        unsigned depth, target& out) noexcept {
    const entry& first = of(begin);  // a reference into the policy's rules, not into the block
    for (std::uint32_t xs = remaining(begin); xs != 0; xs &= xs - 1) {
      const auto x = static_cast<std::size_t>(std::countr_zero(xs));
      const word_test t = test(first, x);
      // Each rule's first test equal to it, as a bit in its key; none: not common.
      bool everywhere = true;
      for (std::size_t i = begin + 1; i < end && everywhere; ++i) {
        block[i].key = 0;
        for (std::uint32_t ys = remaining(i); ys != 0 && block[i].key == 0; ys &= ys - 1) {
          const auto y = static_cast<std::size_t>(std::countr_zero(ys));
          if (same_test(first, x, t, of(i), y, test(of(i), y), narrow)) block[i].key = ys & (0U - ys);
        }
        everywhere = block[i].key != 0;
      }
      if (!everywhere) continue;
      for (std::size_t i = begin + 1; i < end; ++i) block[i].done = static_cast<std::uint16_t>(block[i].done | block[i].key);
      block[begin].done = static_cast<std::uint16_t>(block[begin].done | 1U << x);
      const target pass = build(begin, end, fail, held_after(first, x, t), depth + 1);  // (it may reorder the rules)
      out = place_test(first, x, t, pass, fail, held);  // test x of the first rule, its slot's patch included
      return true;
    }
    return false;
  }

  // --- the dispatch: a search among the values of one word ---------------------------------

  // `dispatch_state` is one dispatch's segments, seg[0, m) in order of their values, and what
  // every jump of its search needs.
  struct dispatch_state {
    segment* seg;
    target fallback;  // values no segment holds, and their rules' failures, go there
    std::uint32_t held;  // what the accumulator holds in the search
    unsigned depth;

    [[nodiscard]] constexpr bool gap_after(std::size_t k) const noexcept {
      return std::uint64_t{seg[k].last} + 1 != seg[k + 1].first;
    }
    [[nodiscard]] constexpr bool single(std::size_t k) const noexcept { return seg[k].first == seg[k].last; }
    // Adjacent segments are one range when they have one action and no code of their own.
    [[nodiscard]] constexpr bool one_range(std::size_t i, std::size_t j) const noexcept {
      for (std::size_t k = i; k < j; ++k)
        if (gap_after(k) || !seg[k].built || !seg[k + 1].built || seg[k].branch.act != seg[k + 1].branch.act)
          return false;
      return true;
    }
  };

  // Segment k's code, written now, next to the jump to it, unless it is a RET.
  constexpr target branch(const dispatch_state& s, std::size_t k) noexcept {
    segment& g = s.seg[k];
    if (!g.built) {
      g.branch = build(g.begin, g.end, s.fallback, s.held, s.depth + 1);
      g.built = true;
    }
    return g.branch;
  }

  // `leaf` sends the values of segments [i, j] (one range, one branch) to their branch, and the
  // others to the fallback: JGT last; JGE first (each left out where the bound is known).
  constexpr target leaf(const dispatch_state& s, std::size_t i, std::size_t j, bool lk, bool uk) noexcept {
    const std::uint32_t first = s.seg[i].first, last = s.seg[j].last;
    if (lk && uk) return branch(s, i);
    if (!lk && !uk && first == last) return w.jump(BPF_JEQ, first, branch(s, i), s.fallback, s.held);
    if (lk) return w.jump(BPF_JGT, last, s.fallback, branch(s, i), s.held);
    const target in = w.jump(BPF_JGE, first, branch(s, i), s.fallback, s.held);
    return uk ? in : w.jump(BPF_JGT, last, s.fallback, in, s.held);
  }

  // `plan` is the best search among segments [i, j] when the value is known to be at least
  // segment i's first (`lk`) or at most segment j's last (`uk`), or may lie outside.
  struct plan {
    std::uint8_t worst = 0xff;  // jumps on the longest path, the fallback's included
    std::uint16_t sum = 0;      // jumps summed over the segments' paths
    std::uint8_t how = 0;
    std::uint8_t at = 0;
  };
  enum : std::uint8_t { leaf_node, split_ge, split_gt, first_eq, last_eq };

  // `planned_search` writes the search among few segments with the fewest jumps on the longest
  // path, then on the segments' paths: every tree of leaves (ranges), splits (JGE, JGT) and
  // JEQ chains, by dynamic programming over the runs of segments.
  struct planned_search {
    decider& d;
    const dispatch_state& s;
    std::size_t m;
    plan p[max_planned][max_planned][2][2] = {};

    [[nodiscard]] constexpr const plan& sub(std::size_t a, std::size_t b, bool l, bool u) const noexcept {
      return p[a][b][l ? 1 : 0][u ? 1 : 0];
    }
    constexpr void compute() noexcept {
      for (std::size_t n = 1; n <= m; ++n)
        for (std::size_t i = 0; i + n <= m; ++i) {
          const std::size_t j = i + n - 1;
          for (unsigned lk = 0; lk < 2; ++lk)
            for (unsigned uk = 0; uk < 2; ++uk) {
              plan best;
              auto consider = [&](unsigned worst, unsigned sum, std::uint8_t how, std::size_t at) {
                if (worst < best.worst || (worst == best.worst && sum < best.sum))
                  best = {static_cast<std::uint8_t>(worst), static_cast<std::uint16_t>(sum), how,
                          static_cast<std::uint8_t>(at)};
              };
              if (n == 1 || s.one_range(i, j)) {  // JGT last → fallback; JGE first → branch
                const bool one_value = n == 1 && s.single(i);
                const unsigned jumps = lk && uk ? 0 : !lk && !uk ? (one_value ? 1 : 2) : 1;
                consider(jumps, jumps * n, leaf_node, 0);
              }
              for (std::size_t k = i; k < j; ++k) {
                const bool gap = s.gap_after(k);
                {  // JGE first of k + 1: a gap before it goes left
                  const plan& l = sub(i, k, lk, !gap);
                  const plan& r = sub(k + 1, j, true, uk);
                  consider(1U + (l.worst > r.worst ? l.worst : r.worst), l.sum + r.sum + n, split_ge, k);
                }
                if (gap) {  // JGT last of k: the gap goes right
                  const plan& l = sub(i, k, lk, true);
                  const plan& r = sub(k + 1, j, false, uk);
                  consider(1U + (l.worst > r.worst ? l.worst : r.worst), l.sum + r.sum + n, split_gt, k);
                }
              }
              if (n >= 2 && s.single(i)) {  // JEQ first value → its branch, else the others
                const plan& r = sub(i + 1, j, lk && !s.gap_after(i), uk);
                consider(1U + r.worst, 1U + r.sum + (n - 1), first_eq, 0);
              }
              if (n >= 2 && s.single(j)) {  // JEQ last value
                const plan& l = sub(i, j - 1, lk, uk && !s.gap_after(j - 1));
                consider(1U + l.worst, 1U + l.sum + (n - 1), last_eq, 0);
              }
              p[i][j][lk][uk] = best;
            }
        }
    }
    // Written right to left: the code a jump is taken to is placed first, after it.
    constexpr target emit(std::size_t i, std::size_t j, bool lk, bool uk) noexcept {
      const plan& q = sub(i, j, lk, uk);
      emitter& w = d.w;
      switch (q.how) {
        case leaf_node: return d.leaf(s, i, j, lk, uk);
        case split_ge: {
          const target r = emit(q.at + 1, j, true, uk);
          const target l = emit(i, q.at, lk, !s.gap_after(q.at));
          return w.jump(BPF_JGE, s.seg[q.at + 1].first, r, l, s.held);
        }
        case split_gt: {
          const target r = emit(q.at + 1, j, false, uk);
          const target l = emit(i, q.at, lk, true);
          return w.jump(BPF_JGT, s.seg[q.at].last, r, l, s.held);
        }
        case first_eq: {
          const target r = emit(i + 1, j, lk && !s.gap_after(i), uk);
          return w.jump(BPF_JEQ, s.seg[i].first, d.branch(s, i), r, s.held);
        }
        default: {  // last_eq
          const target l = emit(i, j - 1, lk, uk && !s.gap_after(j - 1));
          return w.jump(BPF_JEQ, s.seg[j].first, d.branch(s, j), l, s.held);
        }
      }
    }
  };

  // `halved_search` writes the search among many segments [i, j): JGE at the middle one, down to
  // single segments (planning would cost constant evaluation steps by the cube).
  constexpr target halved_search(const dispatch_state& s, std::size_t i, std::size_t j, bool lk, bool uk) noexcept {
    if (j - i == 1) return leaf(s, i, i, lk, uk);
    const std::size_t k = i + (j - i) / 2;  // JGE first of k: a gap before it goes left
    const target r = halved_search(s, k, j, true, uk);
    const target l = halved_search(s, i, k, lk, !s.gap_after(k - 1));
    return w.jump(BPF_JGE, s.seg[k].first, r, l, s.held);
  }

  // `dispatch` tells apart the rules of block[begin, end) that compare one word with constants,
  // when at least two do: LD word; AND mask; a search among the values, each to the code of its
  // rules; values none has, and those rules' failures, go to the rules that do not compare it.
  constexpr bool dispatch(std::size_t begin, std::size_t end, const target& fail, std::uint32_t held,
                          unsigned depth, target& out) noexcept {
    // The (word, mask) most rules compare with a constant; the first found among equals.
    struct key {
      std::uint32_t word, mask;
      std::size_t rules, last;
    };
    key keys[16] = {};
    std::size_t nkeys = 0;
    for (std::size_t i = begin; i < end; ++i)
      for (std::uint32_t xs = remaining(i); xs != 0; xs &= xs - 1) {
        const word_test t = test(of(i), static_cast<std::size_t>(std::countr_zero(xs)));
        if (!dispatchable(t)) continue;
        std::size_t k = 0;
        while (k < nkeys && (keys[k].word != t.word || keys[k].mask != t.mask)) ++k;
        if (k == nkeys) {
          if (nkeys == 16) continue;
          keys[nkeys++] = {t.word, t.mask, 0, end};
        }
        if (keys[k].last != i) ++keys[k].rules;
        keys[k].last = i;
      }
    std::size_t best = nkeys;
    for (std::size_t k = 0; k < nkeys; ++k)
      if (keys[k].rules >= 2 && (best == nkeys || keys[k].rules > keys[best].rules)) best = k;
    if (best == nkeys) return false;
    const std::uint32_t word = keys[best].word, mask = keys[best].mask;

    // Rules that compare it first, by value (key: value, test); the others after them, in the
    // user's order (key: bit 63, index).
    constexpr std::uint64_t other = std::uint64_t{1} << 63;
    for (std::size_t i = begin; i < end; ++i) {
      block[i].key = other | block[i].index;
      for (std::uint32_t xs = remaining(i); xs != 0; xs &= xs - 1) {
        const auto x = static_cast<std::size_t>(std::countr_zero(xs));
        const word_test t = test(of(i), x);
        if (dispatchable(t) && t.word == word && t.mask == mask) {
          block[i].key = std::uint64_t{t.value} << 8 | x;
          break;
        }
      }
    }
    sort(begin, end);
    std::size_t others = begin;
    while (others < end && (block[others].key & other) == 0) ++others;

    if (used + (others - begin) > capacity) return false;  // (segments_needed() makes it never so)
    const target rest = build(others, end, fail, no_word, depth + 1);
    // One segment per value, its rules with the search's test marked decided. A rule with nothing
    // left to test makes its segment a RET; the others' code is written next to their jump.
    dispatch_state s{segments + used, rest, mask == 0xffffffffU ? word : no_word, depth};
    std::size_t m = 0;
    for (std::size_t g = begin; g < others;) {
      const std::uint64_t v = block[g].key >> 8;
      std::size_t h = g;
      bool decided = false;
      action decided_action{};
      for (; h < others && block[h].key >> 8 == v; ++h) {
        block[h].done = static_cast<std::uint16_t>(block[h].done | 1U << (block[h].key & 0xff));
        if (remaining(h) == 0 && !decided) {
          decided = true;
          decided_action = of(h).r.result;
        }
      }
      const auto value = static_cast<std::uint32_t>(v);
      // Many values: adjacent ones with one action become one segment.
      if (decided && m > 0 && s.seg[m - 1].built && s.seg[m - 1].branch.act == decided_action &&
          std::uint64_t{s.seg[m - 1].last} + 1 == v && others - begin > max_planned) {
        s.seg[m - 1].last = value;
      } else {
        s.seg[m++] = {value, value, static_cast<std::uint16_t>(g), static_cast<std::uint16_t>(h),
                      {true, decided_action, 0}, decided};
      }
      g = h;
    }
    used += m;
    const bool lk = s.seg[0].first == 0, uk = s.seg[m - 1].last == mask;  // (word & mask) <= mask
    target root{};
    if (m <= max_planned) {
      planned_search plan{*this, s, m};
      plan.compute();
      root = plan.emit(0, m - 1, lk, uk);
    } else {
      root = halved_search(s, 0, m, lk, uk);
    }
    used -= m;
    if (root.is_ret) {  // every value the word can have goes one way: nothing to load
      out = root;
      return true;
    }
    if (root.index != w.pos) w.place(bpf::ja(static_cast<std::uint32_t>(root.index - w.pos)));  // JA root
    if (mask != 0xffffffffU) w.place(bpf::and_k(mask));  // AND mask
    if (held != word) w.place(bpf::load(word));          // LD word
    out = {false, {}, w.pos};
    return true;
  }

  // `build` writes the decision code of block[begin, end): a matching rule's action, else `fail`.
  // `held` is the word the accumulator holds on every path into it, or no_word.
  constexpr target build(std::size_t begin, std::size_t end, const target& fail, std::uint32_t held,
                         unsigned depth) noexcept {
    if (begin == end) return fail;
    for (std::size_t i = begin; i < end; ++i)  // all its tests held: no other action can match
      if (remaining(i) == 0) return {true, of(i).r.result, 0};
    if (end - begin == 1) return place_rule(begin, {true, of(begin).r.result, 0}, fail, held);
    if (depth < max_depth) {
      target out{};
      if (common(begin, end, fail, held, depth, out)) return out;
      if (dispatch(begin, end, fail, held, depth, out)) return out;
    }
    return chain(begin, end, fail, held);
  }
};

// `emit_block` writes a conditional syscall's decision code: the rules order[first, last) (sorted
// so that equal matches are adjacent), each to its action, and the default when none matches.
// Scratch: `block` of at least last - first rules, `segments` of segments_needed(last - first).
// Returns where the code starts.
// `narrow`: the arguments the syscall reads as 32 bits, bit N for argument N (see narrowed).
// `ordered`: the rules are in priority order (the first match wins), so they are tried one after
// the other in that order, and those after a rule that always matches are left out.
constexpr target emit_block(emitter& w, std::span<const entry> rules, std::span<const sort_key> order,
                            std::size_t first, std::size_t last, action default_action, std::uint8_t narrow,
                            std::span<block_rule> block, std::span<segment> segments,
                            bool ordered = false) noexcept {
  std::size_t n = 0;
  for (std::size_t i = first; i < last; ++i) {
    const entry& e = rules[order[i].index];
    // Every run-time value is checked at apply(), also where its test is left out.
    for (std::size_t c = 0; c < e.r.count; ++c)
      if (e.r.conditions[c].has_slot())
        w.patches[w.npatches++] = {0, static_cast<std::uint16_t>(e.slot_base + e.r.conditions[c].slot), false,
                                   slot_invalid_bits(condition_on(e, c, narrow)), true};
    if (i > first && order[i - 1].fingerprint == order[i].fingerprint) {
      const entry& before = rules[order[i - 1].index];
      if (same_match(before, e) && before.r.result == e.r.result) continue;  // a duplicate
    }
    bool never = false;
    const std::uint16_t tests = tests_of(e, narrow, never);
    if (!never) block[n++] = {order[i].index, tests, 0, 0};  // (a rule that can never match has no code)
  }
  decider d{w, rules.data(), block.data(), segments.data(), segments.size(), narrow};
  if (ordered) {
    // chain() tries them by index (the source order); nothing after a catch-all can match.
    for (std::size_t i = 0; i < n; ++i) block[i].key = block[i].index;
    d.sort(0, n);
    std::size_t live = 0;
    while (live < n && block[live].tests != 0) ++live;
    return d.chain(0, live < n ? live + 1 : n, {true, default_action, 0}, no_word);
  }
  return d.build(0, n, {true, default_action, 0}, no_word, 0);
}

}  // namespace sysfence::detail
