// SPDX-License-Identifier: MIT
// prebuilt.hpp - a policy compiled before the build: the program sysfence_add_policy generated
// from a policy file, held as a constant and applied as a typed policy's program is.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <linux/filter.h>

#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/detail/program_methods.hpp"

namespace sysfence {

// `prebuilt_policy` is a compiled program of N instructions serving Abis ABIs, made in a constant
// expression from a constant array (sysfence_add_policy's generated header: `inline constexpr
// std::array<bpf::insn, N> insns{...}; inline constexpr prebuilt_policy<N, Abis> policy{insns, ...}`),
// which stays in .rodata; applying it is the action check, no_new_privs and one seccomp() call over
// that array, nothing built or allocated. dump() and the apply forms are runtime_policy's.
template <std::size_t N, std::size_t Abis>
class prebuilt_policy : public detail::program_methods<prebuilt_policy<N, Abis>> {
 public:
  // `insns` must outlive the policy: a constant (a temporary does not compile). The program is
  // checked as the compiler core leaves it: 1 to 4096 instructions starting with the architecture
  // load, and ABIs the core accepts; anything else stops the build here.
  consteval prebuilt_policy(const std::array<bpf::insn, N>& insns,
                            const std::array<arch::target, Abis>& targets)
      : insns_(&insns), targets_(targets), actions_(detail::actions_returned(insns)) {
    if (N == 0 || N > bpf::max_insns) throw "sysfence: a prebuilt program holds 1 to 4096 instructions";
    if (insns[0].code != (BPF_LD | BPF_W | BPF_ABS) || insns[0].k != bpf::off_arch)
      throw "sysfence: a prebuilt program starts by loading seccomp_data.arch (regenerate the header)";
    if (!detail::targets_ok(targets_))
      throw "sysfence: a prebuilt program serves 1 to 8 different ABIs, each once";
  }

  // `insns` is the program as a constant array, ready for seccomp(SECCOMP_SET_MODE_FILTER).
  [[nodiscard]] constexpr const std::array<bpf::insn, N>& insns() const noexcept { return *insns_; }
  // `program` is the same program as a span, as runtime_policy gives it.
  [[nodiscard]] constexpr std::span<const bpf::insn> program() const noexcept { return *insns_; }
  // `targets` is the ABIs the program serves, in dispatch order.
  [[nodiscard]] constexpr std::span<const arch::target> targets() const noexcept { return targets_; }

 private:
  friend detail::program_methods<prebuilt_policy>;
  const std::array<bpf::insn, N>* insns_;  // (the ABIs hold pointers, so the policy itself is
                                           // relocated: in .data.rel.ro in a PIE, the array not)
  std::array<arch::target, Abis> targets_;
  detail::action_set actions_;
};

}  // namespace sysfence
