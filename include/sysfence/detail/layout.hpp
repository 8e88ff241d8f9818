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
  arch::target target;
  action default_action;
  bool analysed = false;  // analyse() already passed (typed policies check when composed)
  // What numbers above the target's table (syscalls newer than sysfence's tables) get.
  action newer_syscalls = newer_syscalls_for(default_action);
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

// `x32_checked_first` is true when x32's numbers (bit 30) need their own check before the search:
// when the default lets calls run. Otherwise they are the search's last run, with the default.
constexpr bool x32_checked_first(const compile_input& in) noexcept {
  return in.target.abi_bit != 0 && bad_abi_action(in.default_action) != in.default_action;
}

// `layout` partitions the target's syscall numbers into runs with one outcome each, from the rules
// sorted by number (`ids`): an action, or a conditional syscall's block. A lone number between two
// runs of one action becomes an exception of the run (one JEQ at a leaf); numbers above the table
// get the newer-syscall answer. Each run is weighted for the search (see `split`). Returns the
// number of runs written to `intervals` (2n + 3 at most).
constexpr std::size_t layout(const compile_input& in, std::span<const sort_key> ids,
                             std::span<interval> intervals) noexcept {
  const std::size_t n = ids.size();  // (rules of syscalls the target lacks are not among them)
  auto number = [&](std::size_t i) { return ids[i].major; };
  const bool x32_check = x32_checked_first(in);

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
  add(0, in.default_action);
  for (std::size_t i = 0; i < n;) {
    const std::uint32_t nr = number(i);
    std::size_t j = i;
    while (j < n && number(j) == nr) ++j;
    if (in.rules[ids[i].index].r.is_simple()) {
      add(nr, in.rules[ids[i].index].r.result);  // analyse() made every simple rule here agree
    } else {
      drop_empty(nr);
      intervals[count++] = {nr, in.default_action, true, static_cast<std::uint16_t>(i),
                            static_cast<std::uint16_t>(j), 0};
    }
    add(nr + 1, in.default_action);
    i = j;
  }
  // Numbers above the table (syscalls newer than it) get their own answer, up to x32's.
  add(in.target.table_size, in.newer_syscalls);
  if (in.target.abi_bit != 0 && !x32_check) add(in.target.abi_bit, in.default_action);

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
  const std::uint64_t table = in.target.table_size;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t begin = intervals[i].start < table ? intervals[i].start : table;
    const std::uint64_t end = i + 1 < count && intervals[i + 1].start < table ? intervals[i + 1].start : table;
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
