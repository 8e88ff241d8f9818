// SPDX-License-Identifier: MIT
// landlock_scope.hpp - Landlock scopes (ABI 6): signals and abstract UNIX sockets kept inside the sandbox.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sysfence/landlock.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"

namespace sysfence::builtins {

// `landlock_scope_rules` allows no syscall; it asks Landlock (ABI 6, Linux 6.12) to confine what
// the sandbox reaches through syscalls other rule sets allow: a signal (kill, tgkill, ...) to a
// process outside the sandbox, or a connection (connect, sendto) to an abstract UNIX socket
// created outside it, fails with EPERM. "Inside" is the calling thread's Landlock domain and the
// domains nested in it: processes it forks after apply, not its parent. A kernel without scopes
// fails apply (apply_step::landlock_abi) rather than leaving them free. Like every Landlock rule,
// it restricts the calling thread only (no apply_to_all_threads).
template <std::uint64_t Scopes = 0>
struct landlock_scope_rules : rule_set_base {
  static constexpr std::string_view name = "landlock_scope";
  static constexpr std::array<rule, 0> conditional_rules{};
  static constexpr std::uint64_t landlock_scopes = Scopes;

  // `nothing` confines nothing; add to it with the confine_* methods.
  static constexpr landlock_scope_rules<> nothing() noexcept { return {}; }

  // `confine_signals` refuses signals to processes outside the sandbox (LANDLOCK_SCOPE_SIGNAL).
  [[nodiscard]] constexpr landlock_scope_rules<Scopes | landlock::scope_signal> confine_signals()
      const noexcept {
    return {};
  }
  // `confine_abstract_unix_sockets` refuses connecting or sending to an abstract UNIX socket
  // bound outside the sandbox (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET); sockets with a path are
  // files, for the path rules.
  [[nodiscard]] constexpr landlock_scope_rules<Scopes | landlock::scope_abstract_unix_socket>
  confine_abstract_unix_sockets() const noexcept {
    return {};
  }
};

// `landlock_scope` is the rule set that confines nothing yet: `landlock_scope::nothing().confine_signals()`.
using landlock_scope = landlock_scope_rules<>;

}  // namespace sysfence::builtins
