// SPDX-License-Identifier: MIT
// analysis.cpp - instructions run per syscall number, action-cache preparation, the balanced
// binary search reference, and the agreement check between two programs.
#include "analysis.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace sysfence_bench {
namespace {

namespace bpf = sysfence::bpf;

seccomp_data data_for(std::uint32_t nr, std::uint32_t arch, const arguments& args) noexcept {
  seccomp_data d{};
  d.nr = static_cast<int>(nr);
  d.arch = arch;
  d.instruction_pointer = 0x00007f0012345678ULL;
  for (std::size_t i = 0; i < args.size(); ++i) d.args[i] = args[i];
  return d;
}

std::uint32_t number_of(sysfence::sys::id s) noexcept {
  return static_cast<std::uint32_t>(sysfence::arch::x86_64::numbers[static_cast<std::size_t>(s)]);
}

}  // namespace

std::uint32_t table_end() noexcept {
  std::int32_t highest = 0;
  for (const std::int32_t nr : sysfence::arch::x86_64::numbers) highest = std::max(highest, nr);
  return static_cast<std::uint32_t>(highest) + 1;
}

std::uint32_t executed(program_view program, sysfence::sys::id syscall, const arguments& args) noexcept {
  return sysfence::evaluate(program, data_for(number_of(syscall), AUDIT_ARCH_X86_64, args)).executed;
}

bool allows(program_view program, sysfence::sys::id syscall, const arguments& args) noexcept {
  return sysfence::evaluate(program, data_for(number_of(syscall), AUDIT_ARCH_X86_64, args)) ==
         sysfence::action::allow;
}

path_stats paths(program_view program, const policy_shape& shape) {
  path_stats s;
  const std::uint32_t end = sweep_end();
  s.per_number.reserve(2 * end);
  for (std::uint32_t nr = 0; nr < end; ++nr) {
    const auto e = sysfence::evaluate(program, data_for(nr, AUDIT_ARCH_X86_64, shape.args[nr]));
    if (e.error != sysfence::bpf_error::none) ++s.errors;
    auto& k = s.x86_64[static_cast<std::size_t>(shape.kinds[nr])];
    k.max = std::max(k.max, e.executed);
    k.sum += e.executed;
    ++k.count;
    s.max_all = std::max(s.max_all, e.executed);
    s.per_number.push_back(e.executed);
  }
  for (std::uint32_t nr = 0; nr < end; ++nr) {
    const auto e = sysfence::evaluate(program, data_for(nr, AUDIT_ARCH_I386, {}));
    if (e.error != sysfence::bpf_error::none) ++s.errors;
    s.i386.max = std::max(s.i386.max, e.executed);
    s.i386.sum += e.executed;
    ++s.i386.count;
    s.max_all = std::max(s.max_all, e.executed);
    s.per_number.push_back(e.executed);
  }
  return s;
}

cache_stats cache_prep(program_view program, const policy_shape& shape) {
  cache_stats c;
  for (std::uint32_t nr = 0; nr < table_end(); ++nr) {
    const sysfence::const_allow_result r = sysfence::const_allow(program, AUDIT_ARCH_X86_64, nr);
    c.emulated += r.emulated;
    const bool unconditional = shape.kinds[nr] == kind::allowed;
    c.unconditional += unconditional ? 1 : 0;
    c.cached += unconditional && r.allowed ? 1 : 0;
    c.wrongly_cached += !unconditional && r.allowed ? 1 : 0;
  }
  return c;
}

namespace {

// `run` is a run of x86_64 numbers with one kind, up to the next run's start; each conditional
// number is a run of its own, and the last (denied) run goes on past the table.
struct run {
  std::uint32_t start;
  kind k;
};

std::vector<run> runs_of(const policy_shape& shape) {
  std::vector<run> runs;
  for (std::uint32_t nr = 0; nr < table_end(); ++nr) {
    const kind k = shape.kinds[nr];
    if (runs.empty() || k == kind::conditional || runs.back().k != k) runs.push_back({nr, k});
  }
  if (runs.back().k != kind::denied) runs.push_back({table_end(), kind::denied});
  return runs;
}

// `search_over` writes the arch check, LD nr, an x32 check when `x32_check`, and a JGE search
// over `runs` that splits [lo, hi) at split(lo, hi, depth). Conditional leaves are stubs that
// load an argument and deny: enough for the action-cache emulation, which stops at that load.
template <class Split>
std::vector<bpf::insn> search_over(const std::vector<run>& runs, const policy_shape& shape, bool x32_check,
                                   Split split) {
  const std::uint32_t deny = shape.default_action.value;
  auto leaf_size = [](const run& r) -> std::uint32_t { return r.k == kind::conditional ? 2 : 1; };
  auto size = [&](auto& self, std::size_t lo, std::size_t hi, std::size_t depth) -> std::uint32_t {
    if (hi - lo == 1) return leaf_size(runs[lo]);
    const std::size_t mid = split(lo, hi, depth);
    const std::uint32_t left = self(self, lo, mid, depth + 1);
    return 1 + (left > 255 ? 1 : 0) + left + self(self, mid, hi, depth + 1);
  };
  std::vector<bpf::insn> out;
  auto emit = [&](auto& self, std::size_t lo, std::size_t hi, std::size_t depth) -> void {
    if (hi - lo == 1) {
      switch (runs[lo].k) {
        case kind::allowed:
          out.push_back(bpf::ret(SECCOMP_RET_ALLOW));
          break;
        case kind::denied:
          out.push_back(bpf::ret(deny));
          break;
        case kind::conditional:
          out.push_back(bpf::load(bpf::off_arg_lo(0)));  // LD arg0 (low): not a constant, stops the cache
          out.push_back(bpf::ret(deny));
          break;
      }
      return;
    }
    const std::size_t mid = split(lo, hi, depth);
    const std::uint32_t left = size(size, lo, mid, depth + 1);
    if (left <= 255) {
      out.push_back(bpf::jge(runs[mid].start, static_cast<std::uint8_t>(left), 0));  // JGE start, right, left
    } else {
      out.push_back(bpf::jge(runs[mid].start, 0, 1));  // JGE start, trampoline, left
      out.push_back(bpf::ja(left));                    // JA right
    }
    self(self, lo, mid, depth + 1);
    self(self, mid, hi, depth + 1);
  };
  out.push_back(bpf::load(bpf::off_arch));            // LD arch
  out.push_back(bpf::jeq(AUDIT_ARCH_X86_64, 1, 0));   // JEQ x86_64, nr, kill
  out.push_back(bpf::ret(SECCOMP_RET_KILL_PROCESS));  // RET KILL_PROCESS
  out.push_back(bpf::load(bpf::off_nr));              // LD nr
  if (x32_check) {
    out.push_back(bpf::jge(0x40000000U, 0, 1));  // JGE x32 bit, deny, search
    out.push_back(bpf::ret(deny));               // RET default
  }
  emit(emit, 0, runs.size(), 0);
  return out;
}

}  // namespace

std::vector<bpf::insn> balanced_search(const policy_shape& shape) {
  return search_over(runs_of(shape), shape, true,
                     [](std::size_t lo, std::size_t hi, std::size_t) { return (lo + hi) / 2; });
}

std::vector<bpf::insn> fitted_search(const policy_shape& shape, std::span<const std::uint32_t> bound) {
  const std::vector<run> runs = runs_of(shape);
  const std::size_t n = runs.size();
  // With a denying default, x32 numbers fall into the last run: no x32 check (as sysfence does).
  const bool x32_check = shape.default_action == sysfence::action::allow;
  const std::uint32_t before = x32_check ? 4 : 3;  // LD arch, JEQ, LD nr (, JGE x32)

  // Per run: numbers of the kernel's table it covers (the cache emulates each once) and the most
  // JGEs above it that keep every number within its bound.
  constexpr std::size_t max_depth = 24;
  std::vector<std::uint64_t> width(n);
  std::vector<std::size_t> budget(n, max_depth);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t end = i + 1 < n ? runs[i + 1].start : sweep_end();
    width[i] = std::min(end, table_end()) - std::min(runs[i].start, table_end());
    if (runs[i].k == kind::conditional) continue;  // stubs: the real condition blocks differ
    for (std::uint32_t nr = runs[i].start; nr < end && nr < bound.size(); ++nr) {
      const std::uint32_t room = bound[nr] > before + 1 ? bound[nr] - before - 1 : 0;  // minus RET
      budget[i] = std::min<std::size_t>(budget[i], room);
    }
  }
  // cost[lo, hi, d]: the fewest emulated JGEs for the runs [lo, hi) under a root at depth d.
  constexpr std::uint64_t infeasible = ~std::uint64_t{0} / 4;
  auto at = [&](std::size_t lo, std::size_t hi, std::size_t d) { return (lo * (n + 1) + hi) * (max_depth + 1) + d; };
  std::vector<std::uint64_t> cost((n + 1) * (n + 1) * (max_depth + 1), infeasible);
  std::vector<std::uint16_t> root(cost.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t d = 0; d <= budget[i]; ++d) cost[at(i, i + 1, d)] = width[i] * d;
  for (std::size_t len = 2; len <= n; ++len)
    for (std::size_t lo = 0; lo + len <= n; ++lo)
      for (std::size_t d = 0; d < max_depth; ++d)
        for (std::size_t m = lo + 1; m < lo + len; ++m) {
          const std::uint64_t c = cost[at(lo, m, d + 1)] + cost[at(m, lo + len, d + 1)];
          if (c < cost[at(lo, lo + len, d)]) {
            cost[at(lo, lo + len, d)] = c;
            root[at(lo, lo + len, d)] = static_cast<std::uint16_t>(m);
          }
        }
  if (cost[at(0, n, 0)] >= infeasible) return {};
  return search_over(runs, shape, x32_check,
                     [&](std::size_t lo, std::size_t hi, std::size_t d) -> std::size_t { return root[at(lo, hi, d)]; });
}

agreement compare(program_view a, program_view b, const policy_shape& shape) {
  agreement g;
  // Values around the conditions of the benchmark policies and the 32-bit boundary.
  static constexpr std::array<std::uint64_t, 7> first{0, 1, 2, 3, AF_INET6, 0xffffffffULL, 0x100000001ULL};
  static constexpr std::array<std::uint64_t, 15> second{
      0,          F_GETFD,       F_SETFD,       F_GETFL,
      F_SETFL,    F_SETLK,       SOCK_STREAM,   SOCK_STREAM | SOCK_CLOEXEC,
      SOCK_DGRAM, SOCK_RAW,      FIONBIO,       TCGETS,
      FIONREAD,   0xffffffffULL, 0x100000001ULL};
  auto check = [&](std::uint32_t nr, std::uint32_t arch, const arguments& args) {
    const seccomp_data d = data_for(nr, arch, args);
    const auto x = sysfence::evaluate(a, d);
    const auto y = sysfence::evaluate(b, d);
    ++g.evaluations;
    if (x.error != sysfence::bpf_error::none || y.error != sysfence::bpf_error::none ||
        !(x.result == y.result))
      ++g.differences;
  };
  for (std::uint32_t nr = 0; nr < sweep_end(); ++nr) {
    for (const std::uint32_t arch : {std::uint32_t{AUDIT_ARCH_X86_64}, std::uint32_t{AUDIT_ARCH_I386}}) {
      // Past the table, sysfence answers newer syscalls with ENOSYS, libseccomp with the default.
      if (arch == AUDIT_ARCH_X86_64 && nr >= table_end()) continue;
      check(nr, arch, {});
      check(nr, arch, shape.args[nr]);
      if (shape.kinds[nr] != kind::conditional) continue;
      for (const std::uint64_t x : first)
        for (const std::uint64_t y : second) check(nr, arch, {x, y, x, y, x, y});
    }
  }
  return g;
}

}  // namespace sysfence_bench
