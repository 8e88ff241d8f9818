// SPDX-License-Identifier: MIT
// libseccomp_peer.hpp - a sysfence policy's rules built with libseccomp at run time, the peer the
// benchmarks compare with: the rule list is translated from `Policy::rules`, so the sides cannot
// drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sysfence/sysfence.hpp"

namespace sysfence_bench {

// `peer_mode` is how libseccomp lays out its filter: a linear list of syscall checks (its
// default), or a binary tree over syscall numbers (SCMP_FLTATR_CTL_OPTIMIZE = 2).
enum class peer_mode { linear, tree };

// `peer_rule` is one sysfence rule as the arguments of seccomp_rule_add_array().
struct peer_rule {
  std::uint32_t action = 0;
  int nr = 0;
  unsigned int count = 0;
  std::array<scmp_arg_cmp, sysfence::max_conditions> cmps{};
};

namespace peer_detail {
// Not constexpr: reaching it in a constant expression stops the build here.
inline void unsupported(const char*) noexcept {}

// `translate` is a sysfence condition as a libseccomp comparison. libseccomp 2.5 compares all 64
// bits, so a 32-bit (arg32) equality becomes a masked equality on the low half; 32-bit ordered
// comparisons have no libseccomp 2.5 spelling and stop the build.
constexpr scmp_arg_cmp translate(const sysfence::condition& c) noexcept {
  using sysfence::cmp;
  constexpr std::uint64_t low = 0xffffffffULL;
  if (c.has_slot()) unsupported("sysfence_bench: run-time slots have no libseccomp translation here");
  const bool dword = c.size == sysfence::width::dword;
  scmp_arg_cmp out{.arg = c.arg, .op = SCMP_CMP_EQ, .datum_a = c.value, .datum_b = 0};
  switch (c.op) {
    case cmp::eq:
      if (dword) out = {.arg = c.arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = low, .datum_b = c.value};
      return out;
    case cmp::masked_eq:
      return {.arg = c.arg,
              .op = SCMP_CMP_MASKED_EQ,
              .datum_a = dword ? c.mask & low : c.mask,
              .datum_b = c.value};
    case cmp::ne:
      out.op = SCMP_CMP_NE;
      break;
    case cmp::lt:
      out.op = SCMP_CMP_LT;
      break;
    case cmp::le:
      out.op = SCMP_CMP_LE;
      break;
    case cmp::gt:
      out.op = SCMP_CMP_GT;
      break;
    case cmp::ge:
      out.op = SCMP_CMP_GE;
      break;
  }
  if (dword) unsupported("sysfence_bench: a 32-bit ordered comparison has no libseccomp 2.5 translation");
  return out;
}
}  // namespace peer_detail

// `peer_rules<Policy>` is the policy's rule list in libseccomp's terms, translated at compile
// time so that building the peer costs only the libseccomp calls a hand-written program makes.
template <class Policy>
inline constexpr auto peer_rules = [] {
  std::array<peer_rule, Policy::rules.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& r = Policy::rules[i].r;
    out[i].action = r.result.value;  // SCMP_ACT_* are the kernel's SECCOMP_RET_* values
    out[i].nr = sysfence::arch::native::numbers[static_cast<std::size_t>(r.syscall)];
    out[i].count = r.count;
    for (std::size_t c = 0; c < r.count; ++c) out[i].cmps[c] = peer_detail::translate(r.conditions[c]);
  }
  return out;
}();

// `build_peer` builds the libseccomp filter of `Policy`: its default action, kill-process for
// a foreign architecture, then one seccomp_rule_add_array() per rule. Null on any failure.
template <class Policy>
scmp_filter_ctx build_peer(peer_mode mode) noexcept {
  scmp_filter_ctx ctx = seccomp_init(Policy::default_action.value);
  if (ctx == nullptr) return nullptr;
  bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) == 0;
  if (ok && mode == peer_mode::tree) ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0;
  for (const peer_rule& r : peer_rules<Policy>) {
    if (!ok) break;
    if (r.nr < 0) continue;  // a built-in's syscall the target lacks (mmap2): sysfence leaves it out too
    ok = seccomp_rule_add_array(ctx, r.action, r.nr, r.count, r.cmps.data()) == 0;
  }
  if (!ok) {
    seccomp_release(ctx);
    return nullptr;
  }
  return ctx;
}

// `exported` is the BPF program of a libseccomp filter, read back from a memfd (libseccomp
// 2.5.4 has no seccomp_export_bpf_mem); empty on failure.
inline std::vector<sysfence::bpf::insn> exported(scmp_filter_ctx ctx) {
  std::vector<sysfence::bpf::insn> program;
  const int fd = memfd_create("sysfence-bench", MFD_CLOEXEC);
  if (fd >= 0 && seccomp_export_bpf(ctx, fd) == 0) {
    const off_t size = lseek(fd, 0, SEEK_END);
    if (size > 0 && static_cast<std::size_t>(size) % sizeof(sysfence::bpf::insn) == 0) {
      program.resize(static_cast<std::size_t>(size) / sizeof(sysfence::bpf::insn));
      if (pread(fd, program.data(), static_cast<std::size_t>(size), 0) != size) program.clear();
    }
  }
  if (fd >= 0) close(fd);
  return program;
}

// `peer_program_for` is the program libseccomp generates for `Policy` on another architecture
// (`scmp_arch`, e.g. SCMP_ARCH_AARCH64, alone in the filter; libseccomp writes any on x86_64).
// Rules are added by syscall name, resolved on that architecture; a syscall the target lacks is
// skipped, as sysfence's portable built-ins leave it out. Empty on failure.
template <class Policy>
std::vector<sysfence::bpf::insn> peer_program_for(peer_mode mode, std::uint32_t scmp_arch) {
  std::vector<sysfence::bpf::insn> program;
  scmp_filter_ctx ctx = seccomp_init(Policy::default_action.value);
  if (ctx == nullptr) return program;
  bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) == 0 &&
            seccomp_arch_add(ctx, scmp_arch) == 0 && seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) == 0;
  if (ok && mode == peer_mode::tree) ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0;
  for (std::size_t i = 0; ok && i < Policy::rules.size(); ++i) {
    const auto& r = Policy::rules[i].r;
    const std::string name(sysfence::sys::name(r.syscall));
    if (seccomp_syscall_resolve_name_arch(scmp_arch, name.c_str()) < 0) continue;  // the target lacks it
    const peer_rule& pr = peer_rules<Policy>[i];
    ok = seccomp_rule_add_array(ctx, pr.action, seccomp_syscall_resolve_name(name.c_str()), pr.count,
                                pr.cmps.data()) == 0;
  }
  if (ok) program = exported(ctx);
  seccomp_release(ctx);
  return program;
}

// `install_peer` builds the filter and loads it (no_new_privs, then seccomp()): what a program
// using libseccomp runs to lock itself down. The context is not released (the caller _exits).
template <class Policy>
bool install_peer(peer_mode mode) noexcept {
  scmp_filter_ctx ctx = build_peer<Policy>(mode);
  return ctx != nullptr && seccomp_load(ctx) == 0;
}

// `peer_program` is the BPF program libseccomp generates for `Policy`; empty on failure.
template <class Policy>
std::vector<sysfence::bpf::insn> peer_program(peer_mode mode) {
  scmp_filter_ctx ctx = build_peer<Policy>(mode);
  if (ctx == nullptr) return {};
  std::vector<sysfence::bpf::insn> program = exported(ctx);
  seccomp_release(ctx);
  return program;
}

}  // namespace sysfence_bench
