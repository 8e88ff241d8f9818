// SPDX-License-Identifier: MIT
// kafel_kernel.cpp - kafel policies installed in forked children, compiled at compile time
// (kafel<"...">) and at run time (kafel_policy): the kernel answers as kafel's first-match rules
// say, with each rule's errno, or kills the process.
#include "sysfence/kafel.hpp"

#include <cerrno>
#include <csignal>

#include <doctest/doctest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel.hpp"

namespace {
using namespace sysfence;

// A deny list: dup(12345) fails with 42 (the first rule), any other dup and getppid with 43,
// getpgid(999999) kills the process; everything else runs. dup's fildes is 32 bits: a value
// with bits above 32 set is still 12345 to the kernel, and to the filter.
constexpr char deny_list[] = R"(
  #define MAGIC 12345
  ERRNO(42) { dup { fildes == MAGIC } }
  ERRNO(43) { dup, getppid }
  KILL_PROCESS { getpgid { pid == 999999 } }
  DEFAULT ALLOW
)";

template <class Policy>
void check_deny_list(const Policy& policy) {
  kernel_test::shared<int> dup_magic, dup_magic_high, dup_other, ppid, pid_ok;
  const auto e = kernel_test::in_child([&] {
    if (!policy.try_apply_to_current_thread()) return 1;
    *dup_magic = ::syscall(SYS_dup, 12345) == -1 ? errno : 0;
    *dup_magic_high = ::syscall(SYS_dup, 0x100000000L | 12345) == -1 ? errno : 0;
    *dup_other = ::syscall(SYS_dup, 12346) == -1 ? errno : 0;
    *ppid = ::syscall(SYS_getppid) == -1 ? errno : 0;
    *pid_ok = ::syscall(SYS_getpid) > 0 ? 1 : 0;
    ::syscall(SYS_getpgid, 999999);  // killed here
    return 0;
  });
  CHECK(e.signal == SIGSYS);
  CHECK(*dup_magic == 42);
  CHECK(*dup_magic_high == 42);
  CHECK(*dup_other == 43);
  CHECK(*ppid == 43);
  CHECK(*pid_ok == 1);
}

}  // namespace

TEST_CASE("a kafel literal policy confines a real process") {
  constexpr kafel<deny_list> policy;
  check_deny_list(policy);
}

TEST_CASE("the same policy read at run time confines it the same way") {
  const runtime_policy policy = kafel_policy(deny_list, "deny.policy");
  check_deny_list(policy);
}

// An allow list ends in its default: KILL (the thread, as kafel) for calls it does not name.
TEST_CASE("an allow list's default refuses the rest") {
  const runtime_policy policy = kafel_policy(R"(
    ALLOW { exit_group, exit, getpid, sigaltstack, mmap, munmap, write { count == 0 } }
    ERRNO(7) { getppid }
    DEFAULT ERRNO(1)
  )",
                                             "allow.policy");
  kernel_test::shared<int> ppid, uid, pid_ok, write_ok;
  const auto e = kernel_test::in_child([&] {
    if (!policy.try_apply_to_current_thread()) return 1;
    *ppid = ::syscall(SYS_getppid) == -1 ? errno : 0;
    *uid = ::syscall(SYS_getuid) == -1 ? errno : 0;
    *pid_ok = ::syscall(SYS_getpid) > 0 ? 1 : 0;
    *write_ok = ::syscall(SYS_write, 1, "", 0) == 0 ? 1 : 0;
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(*ppid == 7);
  CHECK(*uid == 1);
  CHECK(*pid_ok == 1);
  CHECK(*write_ok == 1);
}
