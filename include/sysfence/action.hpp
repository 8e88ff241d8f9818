// SPDX-License-Identifier: MIT
// action.hpp - what a seccomp filter answers for a system call (SECCOMP_RET_*).
#pragma once

#include <cstdint>
#include <string_view>

#include <linux/seccomp.h>

namespace sysfence {

// `action` is the 32-bit value a seccomp filter returns: an action in the high 16 bits, data below.
struct action {
  std::uint32_t value = SECCOMP_RET_KILL_PROCESS;

  // `kind` is the action part alone, without its data.
  enum class kind : std::uint32_t {
    kill_process = SECCOMP_RET_KILL_PROCESS,
    kill_thread = SECCOMP_RET_KILL_THREAD,
    trap = SECCOMP_RET_TRAP,
    error = SECCOMP_RET_ERRNO,
    user_notif = SECCOMP_RET_USER_NOTIF,
    trace = SECCOMP_RET_TRACE,
    log = SECCOMP_RET_LOG,
    allow = SECCOMP_RET_ALLOW,
  };

  static const action allow;
  static const action kill_process;
  static const action kill_thread;
  static const action log;
  static const action user_notif;

  // `error` makes the syscall fail with `err` (errno), without running it.
  static constexpr action error(std::uint16_t err) noexcept { return {SECCOMP_RET_ERRNO | err}; }
  // `trap` sends SIGSYS; `data` reaches the handler in si_errno.
  static constexpr action trap(std::uint16_t data = 0) noexcept { return {SECCOMP_RET_TRAP | data}; }
  // `trace` hands the syscall to a ptrace tracer with `data` as the event message.
  static constexpr action trace(std::uint16_t data = 0) noexcept { return {SECCOMP_RET_TRACE | data}; }

  [[nodiscard]] constexpr kind what() const noexcept {
    return static_cast<kind>(value & SECCOMP_RET_ACTION_FULL);
  }
  [[nodiscard]] constexpr std::uint16_t data() const noexcept {
    return static_cast<std::uint16_t>(value & SECCOMP_RET_DATA);
  }
  // `lets_syscall_run` is true for the actions after which the kernel runs the syscall.
  [[nodiscard]] constexpr bool lets_syscall_run() const noexcept {
    const auto k = what();
    return k == kind::allow || k == kind::log;
  }

  friend constexpr bool operator==(action, action) noexcept = default;
};

inline constexpr action action::allow{SECCOMP_RET_ALLOW};
inline constexpr action action::kill_process{SECCOMP_RET_KILL_PROCESS};
inline constexpr action action::kill_thread{SECCOMP_RET_KILL_THREAD};
inline constexpr action action::log{SECCOMP_RET_LOG};
inline constexpr action action::user_notif{SECCOMP_RET_USER_NOTIF};

// `action_name` names the action part, as in libseccomp's disassembly ("ALLOW", "ERRNO", ...).
constexpr std::string_view action_name(action a) noexcept {
  switch (a.what()) {
    case action::kind::kill_process: return "KILL_PROCESS";
    case action::kind::kill_thread: return "KILL_THREAD";
    case action::kind::trap: return "TRAP";
    case action::kind::error: return "ERRNO";
    case action::kind::user_notif: return "USER_NOTIF";
    case action::kind::trace: return "TRACE";
    case action::kind::log: return "LOG";
    case action::kind::allow: return "ALLOW";
  }
  return "UNKNOWN";
}

}  // namespace sysfence
