// SPDX-License-Identifier: MIT
// layout.hpp - the compiler core's second stage: the target's syscall numbers partitioned into runs
// with one outcome each, weighted for the binary search over them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/detail/analysis.hpp"

namespace sysfence::detail {

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

// `compile_input` is everything the emitter needs, as plain data.
struct compile_input {
  std::span<const entry> rules;
  // The ABIs the program serves, each with its own search, dispatched on seccomp_data.arch (and
  // on the x32 bit) in this order; any other ABI kills the process.
  std::span<const arch::target> targets;
  action default_action;
  bool analysed = false;  // analyse() already passed (typed policies check when composed)
  // What numbers above the target's table (syscalls newer than sysfence's tables) get.
  action newer_syscalls = newer_syscalls_for(default_action);
  // The rules are in priority order and the first that matches a call decides it (kafel's
  // meaning): no conflict checks, and each syscall's rules are tried in their order.
  bool ordered = false;
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

// `abi_split` is how a target's search meets the other ABI sharing its audit value (x86_64 and
// x32, told apart by nr's bit 30).
enum class abi_split : std::uint8_t {
  none,     // no other ABI shares the audit value
  partner,  // both are served: JGE bit 30 chooses between their searches
  first,    // the other is not served and the default lets calls run: JGE bit 30 refuses it first
  in_tree,  // the other is not served and the default denies: its numbers are a run of the search
};

constexpr abi_split split_for(const compile_input& in, const arch::target& t) noexcept {
  if (t.abi_bit == 0) return abi_split::none;
  for (const arch::target& other : in.targets)
    if (other.audit == t.audit && other.nr_base != t.nr_base) return abi_split::partner;
  return bad_abi_action(in.default_action) != in.default_action ? abi_split::first : abi_split::in_tree;
}

// `intervals_needed` is the scratch `layout` needs for n rules: a run before, one for and one
// after each rule's number, x32's gap (2), the newer syscalls and the other ABI.
constexpr std::size_t intervals_needed(std::size_t n) noexcept { return 2 * n + 5; }

// `layout` partitions target `t`'s syscall numbers into runs with one outcome each, from the
// rules sorted by number (`ids`): an action, or a conditional syscall's block. A lone number
// between two runs of one action becomes an exception of the run (one JEQ at a leaf); numbers
// above the table get the newer-syscall answer (on x32 also those between its common syscalls and
// its compat ones). Each run is weighted for the search (see `split`). Returns the number of runs
// written to `intervals` (intervals_needed(n) at most).
constexpr std::size_t layout(const compile_input& in, const arch::target& t, abi_split abi,
                             std::span<const sort_key> ids, std::span<interval> intervals) noexcept {
  const std::size_t n = ids.size();  // (rules of syscalls the target lacks are not among them)
  auto number = [&](std::size_t i) { return ids[i].major; };

  // Partition the numbers into runs with one outcome each.
  std::size_t count = 0;
  auto drop_empty = [&](std::uint32_t start) {
    if (count > 0 && intervals[count - 1].start == start) --count;  // it would be empty
  };
  auto add = [&](std::uint32_t start, action a) {
    drop_empty(start);
    if (count > 0 && !intervals[count - 1].conditional && intervals[count - 1].result == a)
      return;  // same outcome as the run before: extend it
    intervals[count++] = {start, a, false, 0, 0, 0};
  };
  // x32's gap: numbers past its common syscalls and before its compat ones are newer syscalls.
  const std::uint32_t gap_begin = t.nr_base + t.common_end(), gap_end = t.nr_base + t.compat_first;
  bool gap_added = t.compat_first == 0;
  auto add_gap = [&] {
    add(gap_begin, in.newer_syscalls);
    add(gap_end, in.default_action);
    gap_added = true;
  };
  add(0, in.default_action);
  for (std::size_t i = 0; i < n;) {
    const std::uint32_t nr = number(i);
    if (!gap_added && nr >= gap_end) add_gap();
    std::size_t j = i;
    while (j < n && number(j) == nr) ++j;
    // Ordered: the syscall's first rule decides alone when it is simple (the rest never run).
    std::size_t lead = i;
    for (std::size_t k = i + 1; in.ordered && k < j; ++k)
      if (ids[k].index < ids[lead].index) lead = k;
    if (in.rules[ids[lead].index].r.is_simple()) {
      add(nr, in.rules[ids[lead].index].r.result);  // analyse() made every simple rule here agree
    } else {
      drop_empty(nr);
      intervals[count++] = {nr, in.default_action, true, static_cast<std::uint16_t>(i),
                            static_cast<std::uint16_t>(j), 0};
    }
    add(nr + 1, in.default_action);
    i = j;
  }
  if (!gap_added) add_gap();
  // Numbers above the table (syscalls newer than it) get their own answer, up to x32's.
  add(t.nr_base + t.table_size, in.newer_syscalls);
  if (t.nr_base == 0 && abi == abi_split::in_tree) add(t.abi_bit, in.default_action);

  // A lone number between two runs with the same action becomes an exception of one run.
  {
    interval* v = intervals.data();
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
  const std::uint64_t low = t.nr_base, table = t.table_size;
  auto clamp = [&](std::uint64_t nr) { return nr < low ? 0 : nr - low < table ? nr - low : table; };
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t begin = clamp(intervals[i].start);
    const std::uint64_t end = i + 1 < count ? clamp(intervals[i + 1].start) : table;
    const std::uint64_t width = end > begin ? end - begin : 1;
    sum += intervals[i].conditional ? width + table / 8 : width;
    intervals[i].weight = sum;
  }
  return count;
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

}  // namespace sysfence::detail
