// SPDX-License-Identifier: MIT
// prebuilt_kernel.cpp - policies generated at build time from tests/policies/vmm.json, installed
// in forked children: what a filter allows runs, the rest gets its errno or signal.
#include "sysfence/prebuilt.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <api.hpp>
#include <jail.hpp>
#include <vmm.hpp>

#include "kernel.hpp"

// Firecracker's vmm filter: allows by name and by dword and qword (masked) arguments, traps the
// rest (SIGSYS, the child has no handler).
TEST_CASE("the generated vmm filter allows what it names and traps the rest") {
  kernel_test::shared<int> steps;
  const auto e = kernel_test::in_child([&] {
    if (!vmm::policy.try_apply_to_current_thread()) return 1;
    if (::syscall(SYS_write, 1, "", 0) != 0) return 2;                // allowed by name
    if (::syscall(SYS_fcntl, 1, F_SETFD, FD_CLOEXEC) != 0) return 3;  // fcntl(F_SETFD, FD_CLOEXEC) only
    if (::syscall(SYS_lseek, 1000, 0, SEEK_SET) != -1 || errno != EBADF) return 4;  // allowed: runs
    // mprotect without PROT_EXEC (masked_eq on 64 bits) runs; the address is unmapped: ENOMEM.
    if (::syscall(SYS_mprotect, 0x10000, 4096, PROT_READ) != -1 || errno != ENOMEM) return 5;
    *steps = 1;
    ::syscall(SYS_fcntl, 1, F_GETFD);  // fcntl with another command: trapped
    *steps = 2;
    return 0;
  });
  CHECK(*steps == 1);
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
  const auto exec = kernel_test::in_child([&] {
    if (!vmm::policy.try_apply_to_current_thread()) return 1;
    ::syscall(SYS_mprotect, 0x10000, 4096, PROT_READ | PROT_EXEC);  // PROT_EXEC: trapped
    return 0;
  });
  CHECK(exec.signal == SIGSYS);
}

// An allow-list whose default is {"errno": 13}: named calls run, the rest fail with EACCES.
TEST_CASE("the generated api filter answers what it does not allow with its errno") {
  kernel_test::shared<int> ppid_errno, seek_low, seek_high_errno;
  const auto e = kernel_test::in_child([&] {
    if (!api::policy.try_apply_to_current_thread()) return 1;
    *ppid_errno = ::syscall(SYS_getppid) == -1 ? errno : 0;
    *seek_low = ::syscall(SYS_lseek, 1000, 10, SEEK_SET) == -1 && errno == EBADF ? 1 : 0;  // allowed: runs
    *seek_high_errno = ::syscall(SYS_lseek, 1000, std::int64_t{1} << 33, SEEK_SET) == -1 ? errno : 0;
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(*ppid_errno == EACCES);
  CHECK(*seek_low == 1);
  CHECK(*seek_high_errno == EACCES);
}

// A deny-list that kills: everything runs but what it names.
TEST_CASE("the generated jail filter kills the process on what it names") {
  kernel_test::shared<int> dumpable_ok;
  const auto e = kernel_test::in_child([&] {
    if (!jail::policy.try_apply_to_current_thread()) return 1;
    *dumpable_ok = ::prctl(PR_GET_DUMPABLE) >= 0 ? 1 : 0;  // another prctl: runs
    ::prctl(PR_SET_DUMPABLE, 0);                           // killed
    return 0;
  });
  CHECK(*dumpable_ok == 1);
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
}

TEST_CASE("apply_to_all_threads installs a generated filter with TSYNC") {
  const auto e = kernel_test::in_child([&] {
    vmm::policy.apply_to_all_threads();
    return ::syscall(SYS_write, 1, "", 0) == 0 ? 0 : 2;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
}
