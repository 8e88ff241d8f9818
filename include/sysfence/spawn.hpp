// SPDX-License-Identifier: MIT
// spawn.hpp - running a command confined: fork, prepare the child (install a filter, hand its
// listener over), execvp the command, learn whether the exec happened, and wait for the command,
// its status passed on as a shell passes it (the exit code, or 128 + the signal).
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sysfence {

// `spawn_step` is the step of spawning that failed.
enum class spawn_step : std::uint8_t {
  none,
  pipe,     // the exec-status pipe could not be made
  fork,     // fork()
  prepare,  // the caller's preparation in the child (its error is the errno it returned)
  exec,     // execvp() of the command
  wait,     // waitpid() or pidfd_open()/poll() while waiting
};

// `spawned` is a forked child on its way to exec: its pid, and the read end of a close-on-exec
// pipe that stays empty when the exec succeeds and carries the failed step and errno otherwise.
struct spawned {
  pid_t pid = -1;
  int status_fd = -1;  // closed by exec_outcome()
  spawn_step failed = spawn_step::none;
  int error = 0;

  explicit operator bool() const noexcept { return failed == spawn_step::none; }
};

namespace detail {

// `child_failed` reports a failed step to the parent and ends the child with 127, as a shell does
// for a command it cannot run. The write may itself be refused by a filter already installed: the
// parent then sees an exec that happened and a command that exited 127.
[[noreturn]] inline void child_failed(int fd, spawn_step step, int error) noexcept {
  const int report[2] = {static_cast<int>(step), error};
  [[maybe_unused]] const ssize_t n = ::write(fd, report, sizeof report);
  ::_exit(127);
}

}  // namespace detail

// `spawn` forks; the child calls `prepare()` (returning 0, or an errno to abandon the command),
// then execvp(argv[0], argv). `argv` ends with a null pointer. The parent returns at once: a
// preparation that hands a user-notification listener over needs the parent to take it before
// the exec, whose execve the listener would hold. Then call exec_outcome().
//
// In the child only async-signal-safe work is allowed (the parent may have threads): `prepare`
// installs filters, sends descriptors, closes them.
template <class Prepare>
spawned spawn(std::span<char* const> argv, Prepare&& prepare) noexcept {
  spawned s;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {-1, -1, spawn_step::pipe, errno};
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return {-1, -1, spawn_step::fork, e};
  }
  if (pid == 0) {
    ::close(fds[0]);
    if (const int e = prepare(); e != 0) detail::child_failed(fds[1], spawn_step::prepare, e);
    ::execvp(argv[0], argv.data());
    detail::child_failed(fds[1], spawn_step::exec, errno);
  }
  ::close(fds[1]);
  s.pid = pid;
  s.status_fd = fds[0];
  return s;
}

// `exec_outcome` waits until the child has exec'd or failed to; on failure it records the step
// and errno in `s` and reaps the child. It returns `s` as it then stands.
inline spawned& exec_outcome(spawned& s) noexcept {
  if (!s || s.status_fd < 0) return s;
  int report[2] = {0, 0};
  ssize_t n;
  do n = ::read(s.status_fd, report, sizeof report);
  while (n < 0 && errno == EINTR);
  ::close(s.status_fd);
  s.status_fd = -1;
  if (n == static_cast<ssize_t>(sizeof report)) {
    s.failed = static_cast<spawn_step>(report[0]);
    s.error = report[1];
    int ignored;
    while (::waitpid(s.pid, &ignored, 0) < 0 && errno == EINTR) {
    }
  }
  return s;
}

// `shell_status` is a wait status as a shell reports it: the exit code, or 128 + the signal.
constexpr int shell_status(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 128;
}

// `waited` is how a command ended: its wait status, whether the timeout stopped it, and the
// failed step and errno if waiting failed.
struct waited {
  int wait_status = 0;
  bool timed_out = false;
  spawn_step failed = spawn_step::none;
  int error = 0;

  explicit operator bool() const noexcept { return failed == spawn_step::none; }
  [[nodiscard]] int shell_status() const noexcept { return sysfence::shell_status(wait_status); }
};

// `wait_command` reaps `pid`. With a timeout (> 0), a command still running when it expires is
// killed (SIGKILL) and reaped, and `timed_out` is set.
inline waited wait_command(pid_t pid, std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) noexcept {
  waited w;
  if (timeout.count() > 0) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return {0, false, spawn_step::wait, errno};
    pollfd p{pidfd, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int r;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      r = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
      if (r >= 0 || errno != EINTR) break;
    }
    if (r == 0) {
      ::kill(pid, SIGKILL);
      w.timed_out = true;
    }
    ::close(pidfd);
  }
  while (::waitpid(pid, &w.wait_status, 0) < 0) {
    if (errno != EINTR) return {0, w.timed_out, spawn_step::wait, errno};
  }
  return w;
}

// `spawn_words` says in words which step of spawning failed.
constexpr std::string_view spawn_words(spawn_step step) noexcept {
  switch (step) {
    case spawn_step::none:
      return "done";
    case spawn_step::pipe:
      return "pipe2() failed";
    case spawn_step::fork:
      return "fork() failed";
    case spawn_step::prepare:
      return "preparing the child (installing the filter) failed";
    case spawn_step::exec:
      return "the command could not be executed";
    case spawn_step::wait:
      return "waiting for the command failed";
  }
  return "unknown step";
}

}  // namespace sysfence
