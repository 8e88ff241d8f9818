// SPDX-License-Identifier: MIT
// confine.hpp - running a command under a compiled policy (what `sysfence run` does): the
// policy installed in a spawned child before it execs the command, and optionally a supervisor
// that reports each call the policy refuses and answers it as the policy's default action would.
//
// The report works by user notification: the default action becomes USER_NOTIF, the child's
// listener is taken by the parent (pidfd_getfd) while the child waits in one notified call, and
// the parent's supervisor prints each refused call and then carries out the action the policy
// would have taken. What differs from the kernel doing it:
// - ERRNO(n): the same errno. LOG: the call runs (CONTINUE), with the report line as the log.
// - KILL_PROCESS, KILL_THREAD: the supervisor sends SIGKILL to the caller's process, so the
//   command ends by SIGKILL (status 137), not SIGSYS (159); the call is never run (it is answered
//   with EPERM should the signal come too late); KILL_THREAD kills the whole process.
// - TRAP: the supervisor sends SIGSYS to the caller's process with kill(2), so a handler sees
//   si_code SI_USER and no si_syscall; the call fails with ENOSYS.
// - TRACE and USER_NOTIF (nobody traces or listens): ENOSYS, as the kernel answers without one.
// - Calls are answered one at a time, slower than the kernel, and not a security boundary on their
//   own (see notify.hpp); the filter still denies everything it denied: only the default action's
//   calls are diverted, and each is refused unless the action is LOG.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/notify.hpp"
#include "sysfence/report.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/simulate.hpp"
#include "sysfence/spawn.hpp"

namespace sysfence {

// `allows_exec` is true when `program` lets execve run on the native ABI (simulated with zero
// arguments): a command cannot be started under a policy that refuses it.
constexpr bool allows_exec(std::span<const bpf::insn> program) noexcept {
  const evaluation e = evaluate(program, call(sys::id::execve));
  return e.error == bpf_error::none && e.result.lets_syscall_run();
}

// `violation_reply` is how a supervisor carries out `a` for a call the policy refuses: the reply
// to send, and the signal to send the caller's process first (0: none). See the header's comment.
struct violation_reply {
  notify_reply reply;
  int signal = 0;
};
constexpr violation_reply reply_for(action a) noexcept {
  switch (a.what()) {
    case action::kind::allow:
    case action::kind::log:
      return {notify_reply::continue_call(), 0};
    case action::kind::error:
      // ERRNO(0) makes the kernel return 0 from the call without running it: the same here.
      return {a.data() == 0 ? notify_reply::value(0) : notify_reply::error(a.data()), 0};
    case action::kind::kill_process:
    case action::kind::kill_thread:
      return {notify_reply::error(EPERM), SIGKILL};
    case action::kind::trap:
      return {notify_reply::error(ENOSYS), SIGSYS};
    case action::kind::trace:
    case action::kind::user_notif:
      return {notify_reply::error(ENOSYS), 0};
  }
  return {notify_reply::error(EPERM), 0};
}

// `handshake_syscall` is the number of a syscall (native ABI) that `program` answers with
// USER_NOTIF whatever its arguments look like at zero: the call a child makes to wait until its
// parent holds the listener. Harmless calls are preferred; the supervisor never runs it.
inline std::optional<std::int32_t> handshake_syscall(std::span<const bpf::insn> program) noexcept {
  const std::array<sys::id, 5> preferred{sys::id::getppid, sys::id::getpid, sys::id::sched_yield, sys::id::getuid,
                                         sys::id::umask};
  auto notified = [&](const seccomp_data& d) { return evaluate(program, d) == action::user_notif; };
  for (const sys::id s : preferred) {
    const seccomp_data d = call(s);
    if (d.nr >= 0 && notified(d)) return d.nr;
  }
  const arch::target& t = arch::native::value;
  for (std::uint32_t n = 0; n < t.table_size; ++n) {
    const seccomp_data d{static_cast<int>(t.nr_base + n), t.audit, 0, {}};
    if (notified(d)) return d.nr;
  }
  return std::nullopt;
}

// `violation_line` is the report of one refused call: the syscall by name, pid, arguments and
// address, and what it got:
//   sysfence: pid 4242 blocked openat (257) args (0xffffff9c, 0x55..., 0x0, 0x0, 0x0, 0x0) at 0x... -> ERRNO(1)
inline std::string violation_line(const notification& n, action answered) {
  std::array<char, 512> buffer{};
  detail::text t{buffer.data(), buffer.size()};
  detail::format_violation(t, detail::reported_abis, n.arch, static_cast<std::uint32_t>(n.nr), n.args,
                           n.instruction_pointer);
  std::string line(buffer.data(), t.size < buffer.size() ? t.size : buffer.size());
  if (!line.empty() && line.back() == '\n') line.pop_back();
  constexpr std::string_view prefix = "sysfence: ";
  if (line.starts_with(prefix)) line.erase(0, prefix.size());
  std::string out(prefix);
  out += "pid ";
  out += std::to_string(n.pid);
  out += ' ';
  out += line;
  out += " -> ";
  out += detail::action_words(answered);
  out += '\n';
  return out;
}

// `confine_options` says how run_confined runs the command.
struct confine_options {
  bool report = false;                    // supervise: print each refused call on report_fd
  int report_fd = STDERR_FILENO;
  std::chrono::milliseconds timeout{0};  // > 0: the command is killed (SIGKILL) when it expires
};

// `confined_run` is how a confined command went.
struct confined_run {
  spawned started;            // its failed step and errno, if the command did not start
  waited ended;               // its wait status, if it started
  std::size_t violations = 0;  // refused calls reported (report mode)
  notify_status supervised;    // the supervisor's outcome (report mode)
  bool reported = false;       // report mode was used (false also when nothing can be refused)

  explicit operator bool() const noexcept { return static_cast<bool>(started) && static_cast<bool>(ended); }
  // `shell_status` is the command's status as a shell gives it (exit code, or 128 + signal);
  // 127 if it could not be started, 126 if the policy could not be installed.
  [[nodiscard]] int shell_status() const noexcept {
    if (started.failed == spawn_step::prepare) return 126;
    if (!started) return 127;
    return ended.shell_status();
  }
};

namespace detail {

inline void write_all(int fd, std::string_view s) noexcept {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

// `timer_fd` is a timerfd that becomes readable after `timeout` (-1 without one, or on failure).
inline int timer_fd(std::chrono::milliseconds timeout) noexcept {
  if (timeout.count() <= 0) return -1;
  const int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (fd < 0) return -1;
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  when.it_value.tv_nsec = static_cast<long>(timeout.count() % 1000) * 1000000L;
  ::timerfd_settime(fd, 0, &when, nullptr);
  return fd;
}

inline confined_run run_plain(const runtime_policy& policy, std::span<char* const> argv,
                              const confine_options& options) {
  confined_run r;
  r.started = spawn(argv, [&]() noexcept {
    const apply_status s = policy.try_apply_to_current_thread();
    return s ? 0 : (s.error != 0 ? s.error : EPERM);
  });
  if (!exec_outcome(r.started)) return r;
  r.ended = wait_command(r.started.pid, options.timeout);
  return r;
}

inline confined_run run_reported(const runtime_policy& policy, const runtime_policy& notified, std::int32_t handshake,
                                 std::span<char* const> argv, const confine_options& options) {
  confined_run r;
  r.reported = true;
  int fd_pipe[2];
  if (::pipe2(fd_pipe, O_CLOEXEC) != 0) {
    r.started = {-1, -1, spawn_step::pipe, errno};
    return r;
  }
  r.started = spawn(argv, [&]() noexcept {
    ::close(fd_pipe[0]);
    // The listener will be the lowest free descriptor: tell the parent which, then install.
    const int next = ::fcntl(fd_pipe[1], F_DUPFD_CLOEXEC, 0);
    if (next < 0) return errno;
    ::close(next);
    if (::write(fd_pipe[1], &next, sizeof next) != static_cast<ssize_t>(sizeof next)) return EPIPE;
    applied_listener a = try_apply_with_listener(notified);
    if (!a) return a.status.error != 0 ? a.status.error : EPERM;
    // Kept open (close-on-exec): closing it here would be a refused call, and the parent takes
    // its copy while this call waits.
    if (a.listener.release() != next) return EBADFD;
    ::syscall(handshake, 0, 0, 0, 0, 0, 0);
    return 0;
  });
  ::close(fd_pipe[1]);
  int listener_fd = -1;
  const bool told = r.started && ::read(fd_pipe[0], &listener_fd, sizeof listener_fd) == sizeof listener_fd;
  ::close(fd_pipe[0]);
  if (!told) {  // the child failed before installing (its step is in the status pipe)
    exec_outcome(r.started);
    return r;
  }
  received_listener got;
  for (int tries = 0; tries < 10000; ++tries) {  // the child installs in microseconds
    got = take_listener(r.started.pid, listener_fd);
    if (got || got.status.error != EBADF) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  if (!got) {
    // A child that failed to install has reported it and exited; one stuck waiting is killed.
    ::kill(r.started.pid, SIGKILL);
    r.supervised = got.status;
    exec_outcome(r.started);
    if (r.started) {
      r.started.failed = spawn_step::prepare;
      r.started.error = got.status.error;
      wait_command(r.started.pid);
    }
    return r;
  }
  const violation_reply emulated = reply_for(policy.default_action());
  bool shaken = false;
  const int stop = timer_fd(options.timeout);
  const pid_t child = r.started.pid;
  r.supervised = supervise(
      got.listener,
      [&](const notification& n) {
        if (!shaken && n.pid == child && n.nr == handshake) {
          shaken = true;
          return notify_reply::value(0);
        }
        ++r.violations;
        write_all(options.report_fd, violation_line(n, policy.default_action()));
        if (emulated.signal != 0) ::kill(n.pid, emulated.signal);
        return emulated.reply;
      },
      stop);
  got.listener.reset();  // calls still waiting (a stopped supervisor) fail with ENOSYS
  bool expired = false;
  if (stop >= 0) {
    pollfd p{stop, POLLIN, 0};
    expired = ::poll(&p, 1, 0) == 1;
    ::close(stop);
  }
  if (expired) ::kill(child, SIGKILL);
  if (!exec_outcome(r.started)) return r;
  r.ended = wait_command(child);
  r.ended.timed_out = expired;
  return r;
}

}  // namespace detail

// `run_confined` runs argv (ending with a null pointer; argv[0] searched in PATH) under `policy`:
// forked, the policy installed in the child, then execvp. With options.report, each call the
// policy gives its default action is printed on options.report_fd and then answered as that
// action would (see the header's comment). Throws policy_error, before starting anything, if
// the policy does not let the command be executed (execve).
inline confined_run run_confined(const runtime_policy& policy, std::span<char* const> argv,
                                 const confine_options& options = {}) {
  if (!allows_exec(policy.program()))
    throw policy_error("sysfence: the policy does not allow execve, so no command can be started under it "
                       "(allow execve, and execveat if the command uses it)");
  if (options.report && policy.default_action() != action::allow) {
    const runtime_policy notified = with_default_action(policy, action::user_notif);
    if (const std::optional<std::int32_t> handshake = handshake_syscall(notified.program()))
      return detail::run_reported(policy, notified, *handshake, argv, options);
  }
  return detail::run_plain(policy, argv, options);
}

}  // namespace sysfence
