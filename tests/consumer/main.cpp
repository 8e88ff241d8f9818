// SPDX-License-Identifier: MIT
// main.cpp - compiles a policy through the installed package, and applies one generated at build
// time from policy.json (sysfence_add_policy) in a forked child: getppid fails with EPERM there.
#include <sysfence/sysfence.hpp>

#include <cerrno>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deny_getppid.hpp>

int main() {
  constexpr auto policy = sysfence::safety_context{}.enable(sysfence::sys::getppid);
  if (sysfence::compile(policy).size() == 0) return 1;
  static_assert(deny_getppid::policy.program().size() > 0);
  if (deny_getppid::policy.dump().empty()) return 2;
#ifndef SYSFENCE_CONSUMER_EMULATED
  const pid_t child = ::fork();
  if (child == 0) {
    if (!deny_getppid::policy.try_apply_to_current_thread()) ::_exit(3);
    ::_exit(::syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 4);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 5;
  return WEXITSTATUS(status);
#else
  return 0;
#endif
}
