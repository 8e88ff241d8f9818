// SPDX-License-Identifier: MIT
// libseccomp_peer.hpp - a sysfence policy's rules built with libseccomp at run time, the peer the
// benchmarks compare with: the rule list is translated from `Policy::rules`, so the sides cannot
// drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
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

// `scmp_arch<Arch>` is libseccomp's token for a sysfence architecture.
template <class Arch>
inline constexpr std::uint32_t scmp_arch = [] {
  namespace arch = sysfence::arch;
  if constexpr (std::is_same_v<Arch, arch::x86_64>)
    return std::uint32_t{SCMP_ARCH_X86_64};
  else if constexpr (std::is_same_v<Arch, arch::x86>)
    return std::uint32_t{SCMP_ARCH_X86};
  else if constexpr (std::is_same_v<Arch, arch::x32>)
    return std::uint32_t{SCMP_ARCH_X32};
  else if constexpr (std::is_same_v<Arch, arch::aarch64>)
    return std::uint32_t{SCMP_ARCH_AARCH64};
  else if constexpr (std::is_same_v<Arch, arch::riscv64>)
    return std::uint32_t{SCMP_ARCH_RISCV64};
  else
    static_assert(std::is_void_v<Arch>, "sysfence_bench: no libseccomp token for this architecture");
}();

// `peer_program_for` is the program libseccomp generates for `Policy` on the architectures
// `scmp_arches` (e.g. {SCMP_ARCH_AARCH64}, or {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32}
// as Docker's profile has them; libseccomp writes any on x86_64). The native one stays first in
// the filter if listed, the others follow in the order given. Each rule is added once, by
// syscall name: libseccomp resolves it on each architecture and leaves it out where that lacks
// it, as sysfence's portable rule sets do; a name none of them knows is skipped. Empty on failure.
template <class Policy>
std::vector<sysfence::bpf::insn> peer_program_for(peer_mode mode,
                                                  std::initializer_list<std::uint32_t> scmp_arches) {
  std::vector<sysfence::bpf::insn> program;
  scmp_filter_ctx ctx = seccomp_init(Policy::default_action.value);
  if (ctx == nullptr) return program;
  bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) == 0;
  bool native_listed = false;
  for (const std::uint32_t a : scmp_arches) {
    if (a == seccomp_arch_native())
      native_listed = true;
    else
      ok = ok && seccomp_arch_add(ctx, a) == 0;
  }
  if (ok && !native_listed) ok = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) == 0;
  if (ok && mode == peer_mode::tree) ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0;
  for (std::size_t i = 0; ok && i < Policy::rules.size(); ++i) {
    const std::string name(sysfence::sys::name(Policy::rules[i].r.syscall));
    bool known = false;
    for (const std::uint32_t a : scmp_arches)
      known = known || seccomp_syscall_resolve_name_arch(a, name.c_str()) >= 0;
    if (!known) continue;  // every target lacks it, or libseccomp does not know it
    // The native number, or libseccomp's negative pseudo number for a syscall x86_64 lacks
    // (mmap2): libseccomp translates either by name for each architecture of the filter.
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
