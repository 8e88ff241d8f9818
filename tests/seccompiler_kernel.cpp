// SPDX-License-Identifier: MIT
// seccompiler_kernel.cpp - a policy loaded from seccompiler JSON, installed in a forked child:
// the refused calls fail with the filter's errno, the others run.
#include "sysfence/formats/seccompiler.hpp"

#include <cerrno>
#include <string_view>

#include <doctest/doctest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel.hpp"

namespace {

// A deny-list, as Firecracker's filters are not: everything runs except getppid and dup of fd
// 1000 (compared on the low 32 bits), which fail with EACCES.
constexpr std::string_view deny_json = R"({
  "deny": {
    "mismatch_action": "allow",
    "match_action": {"errno": 13},
    "filter": [
      {"syscall": "getppid", "comment": "who started us is none of our business"},
      {"syscall": "dup", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1000}]}
    ]
  }
})";

}  // namespace

TEST_CASE("a loaded seccompiler filter confines a real process") {
  // Parsing and compiling allocate: done before forking; the child only applies.
  const sysfence::runtime_policy policy = sysfence::load_seccompiler_json(deny_json, "deny", {"deny.json"});
  kernel_test::shared<int> ppid_errno, dup_errno, dup_other_errno, pid_ok;
  const auto e = kernel_test::in_child([&] {
    if (!policy.try_apply_to_current_thread()) return 1;
    *ppid_errno = ::syscall(SYS_getppid) == -1 ? errno : 0;
    *dup_errno = ::syscall(SYS_dup, 1000) == -1 ? errno : 0;
    *dup_other_errno = ::syscall(SYS_dup, 1001) == -1 ? errno : 0;  // runs: no such fd
    *pid_ok = ::syscall(SYS_getpid) > 0 ? 1 : 0;
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(*ppid_errno == EACCES);
  CHECK(*dup_errno == EACCES);
  CHECK(*dup_other_errno == EBADF);
  CHECK(*pid_ok == 1);
}

// The allow-list also lets the sanitizers' exit path run (sigaltstack, mmap, munmap): under ASan a
// refused call there fails the child with exit code 1.
TEST_CASE("a loaded allow-list refuses what it does not name, with its errno") {
  const sysfence::runtime_policy policy = sysfence::load_seccompiler_json(
      R"({"vmm": {"mismatch_action": {"errno": 1}, "match_action": "allow", "filter": [
           {"syscall": "exit_group"}, {"syscall": "exit"}, {"syscall": "getpid"},
           {"syscall": "sigaltstack", "comment": "ASan's exit path checks the signal stack"},
           {"syscall": "mmap"}, {"syscall": "munmap"},
           {"syscall": "write", "args": [{"index": 2, "type": "qword", "op": "eq", "val": 0}]}]}})",
      "vmm", {"vmm.json"});
  kernel_test::shared<int> ppid_errno, write_errno, pid_ok, write_ok;
  const auto e = kernel_test::in_child([&] {
    if (!policy.try_apply_to_current_thread()) return 1;
    *ppid_errno = ::syscall(SYS_getppid) == -1 ? errno : 0;
    *write_errno = ::syscall(SYS_write, 1, "x", 1) == -1 ? errno : 0;
    *write_ok = ::syscall(SYS_write, 1, "x", 0) == 0 ? 1 : 0;
    *pid_ok = ::syscall(SYS_getpid) > 0 ? 1 : 0;
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(*ppid_errno == EPERM);
  CHECK(*write_errno == EPERM);
  CHECK(*write_ok == 1);
  CHECK(*pid_ok == 1);
}
