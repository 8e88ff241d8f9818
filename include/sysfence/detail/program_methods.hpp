// SPDX-License-Identifier: MIT
// program_methods.hpp - what a policy held as a compiled program (runtime_policy, prebuilt_policy)
// offers: its disassembly and the four apply forms, one copy for both.
#pragma once

#include <span>
#include <string>

#include <linux/seccomp.h>

#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/dump.hpp"

namespace sysfence::detail {

// `serves_native` is true when one of `targets` is the process's own ABI: a program that does not
// serve it would kill the process at its next syscall.
constexpr bool serves_native(std::span<const arch::target> targets) noexcept {
  for (const arch::target& t : targets)
    if (t.audit == arch::native::value.audit && t.nr_base == arch::native::value.nr_base) return true;
  return false;
}

// `apply_program` installs a compiled program: it must serve the native ABI (else EINVAL at
// install_filter) and the kernel must have its actions; then no_new_privs and one seccomp() call.
// Nothing is allocated.
inline apply_status apply_program(std::span<const bpf::insn> program, std::span<const arch::target> targets,
                                  const action_set& actions, unsigned long flags) noexcept {
  if (!serves_native(targets)) return {apply_step::install_filter, EINVAL, 0};
  if (const apply_status s = actions_available(actions); !s) return s;
  return install(program, flags);
}

// `program_methods<Derived>` gives a policy held as a compiled program its dump and apply forms.
// Derived has program(), targets() and a member `actions_` (an action_set), reachable as a friend.
template <class Derived>
class program_methods {
 public:
  // `dump` is the program's disassembly, syscalls named for each served ABI.
  [[nodiscard]] std::string dump() const {
    return render([&](text& out) { disassemble(out, self().program(), self().targets()); });
  }

  // `try_apply_to_current_thread` checks the kernel has the program's actions, sets
  // no_new_privs and installs the program; nothing is allocated.
  apply_status try_apply_to_current_thread(unsigned long flags = 0) const noexcept {
    return apply_program(self().program(), self().targets(), self().actions_, flags);
  }
  // `try_apply_to_all_threads` is try_apply_to_current_thread for every thread (TSYNC).
  apply_status try_apply_to_all_threads() const noexcept {
    return try_apply_to_current_thread(SECCOMP_FILTER_FLAG_TSYNC);
  }
  // `apply_to_current_thread` is try_apply_to_current_thread, throwing apply_error on failure.
  apply_status apply_to_current_thread() const { return checked(try_apply_to_current_thread()); }
  // `apply_to_all_threads` is try_apply_to_all_threads, throwing apply_error on failure.
  apply_status apply_to_all_threads() const { return checked(try_apply_to_all_threads()); }

 private:
  constexpr const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
  static apply_status checked(const apply_status& s) {
    if (!s) throw apply_error(s);
    return s;
  }
};

}  // namespace sysfence::detail
