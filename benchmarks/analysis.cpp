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

std::vector<bpf::insn> balanced_search(const policy_shape& shape) {
  // Runs of equal outcome over [0, 2^30): each conditional number is a run of its own.
  struct run {
    std::uint32_t start;
    kind k;
  };
  std::vector<run> runs;
  for (std::uint32_t nr = 0; nr < table_end(); ++nr) {
    const kind k = shape.kinds[nr];
    if (runs.empty() || k == kind::conditional || runs.back().k != k) runs.push_back({nr, k});
  }
  if (runs.back().k != kind::denied) runs.push_back({table_end(), kind::denied});

  const std::uint32_t deny = shape.default_action.value;
  auto leaf_size = [](const run& r) -> std::uint32_t { return r.k == kind::conditional ? 2 : 1; };
  auto size = [&](auto& self, std::size_t lo, std::size_t hi) -> std::uint32_t {
    if (hi - lo == 1) return leaf_size(runs[lo]);
    const std::size_t mid = (lo + hi) / 2;
    const std::uint32_t left = self(self, lo, mid);
    return 1 + (left > 255 ? 1 : 0) + left + self(self, mid, hi);
  };
  std::vector<bpf::insn> out;
  auto emit = [&](auto& self, std::size_t lo, std::size_t hi) -> void {
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
    const std::size_t mid = (lo + hi) / 2;
    const std::uint32_t left = size(size, lo, mid);
    if (left <= 255) {
      out.push_back(bpf::jge(runs[mid].start, static_cast<std::uint8_t>(left), 0));  // JGE start, right, left
    } else {
      out.push_back(bpf::jge(runs[mid].start, 0, 1));  // JGE start, trampoline, left
      out.push_back(bpf::ja(left));                    // JA right
    }
    self(self, lo, mid);
    self(self, mid, hi);
  };
  out.push_back(bpf::load(bpf::off_arch));            // LD arch
  out.push_back(bpf::jeq(AUDIT_ARCH_X86_64, 1, 0));   // JEQ x86_64, nr, kill
  out.push_back(bpf::ret(SECCOMP_RET_KILL_PROCESS));  // RET KILL_PROCESS
  out.push_back(bpf::load(bpf::off_nr));              // LD nr
  out.push_back(bpf::jge(0x40000000U, 0, 1));         // JGE x32 bit, deny, search
  out.push_back(bpf::ret(deny));                      // RET default
  emit(emit, 0, runs.size());
  return out;
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
