// SPDX-License-Identifier: MIT
// oci_kernel.cpp - Docker's default seccomp profile, loaded by formats/oci.hpp, confines a real
// forked child: allowed calls run, refused ones fail with the profile's errno, and an i386 call
// through int $0x80 is judged by the program's i386 part; the header sysfence_add_policy generates
// from the same file does the same.
#include "sysfence/formats/oci.hpp"

#include <cerrno>
#include <csignal>
#include <string>

#include <doctest/doctest.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <docker_default.hpp>

#include "kernel.hpp"
#include "oci_profiles.hpp"

namespace {

std::string default_profile() { return oci_test::profile_text("default.json"); }

// `refused` is the errno of a raw syscall that failed, 0 if it ran.
template <class... Args>
int refused(long nr, Args... args) {
  return ::syscall(nr, args...) == -1 ? errno : 0;
}

#if defined(__x86_64__)
// `int80` makes an i386 syscall from this 64-bit process (see tests/bypass.cpp).
long int80(long nr, long a = 0, long b = 0, long c = 0) {
  long ret = nr;
  __asm__ __volatile__("int $0x80" : "+a"(ret) : "b"(a), "c"(b), "d"(c) : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret;
}
#endif

struct results {
  int pid_ok = 0, write_ok = 0;
  int mount = -1, reboot = -1, unshare_user = -1, clone_newuser = -1, clone3 = -1, personality_bsd = -1;
  int personality_query = -1, socket_ok = 0;
  long i386_getpid = 0, i386_mount = 0, i386_reboot = 0, i386_clone3 = 0;
};

// `confined` applies a policy holding Docker's default profile in a forked child, makes the calls
// the profile decides, and checks what each got: the same checks for the run-time loader and for
// the header sysfence_add_policy generated from the same file.
template <class Apply>
void confined(Apply apply) {
  kernel_test::shared<results> r;
  const auto e = kernel_test::in_child([&] {
    if (!apply()) return 1;
    r->pid_ok = ::syscall(SYS_getpid) > 0 ? 1 : 0;
    r->write_ok = ::syscall(SYS_write, 1, "", 0) == 0 ? 1 : 0;
    r->mount = refused(SYS_mount, "none", "/", "tmpfs", 0L, nullptr);
    r->reboot = refused(SYS_reboot, 0L, 0L, 0L, nullptr);
    r->unshare_user = refused(SYS_unshare, static_cast<long>(CLONE_NEWUSER));
    // Refused by the filter before the kernel creates anything; if it ran, the new child leaves.
    const long pid = ::syscall(SYS_clone, static_cast<long>(CLONE_NEWUSER | SIGCHLD), 0L, nullptr, nullptr, 0L);
    if (pid == 0) ::_exit(0);
    r->clone_newuser = pid == -1 ? errno : 0;
    r->clone3 = refused(SYS_clone3, nullptr, 0L);
    r->personality_bsd = refused(SYS_personality, static_cast<long>(PER_BSD));
    r->personality_query = refused(SYS_personality, 0xffffffffL);
    const long fd = ::syscall(SYS_socket, 1L /* AF_UNIX */, 1L /* SOCK_STREAM */, 0L);
    r->socket_ok = fd >= 0 ? 1 : 0;
    if (fd >= 0) ::close(static_cast<int>(fd));
#if defined(__x86_64__)
    r->i386_getpid = int80(20);
    r->i386_mount = int80(21, 0, 0, 0);
    r->i386_reboot = int80(88, 0, 0, 0);
    r->i386_clone3 = int80(435, 0, 0);
#endif
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->pid_ok == 1);
  CHECK(r->write_ok == 1);
  CHECK(r->mount == EPERM);
  CHECK(r->reboot == EPERM);
  CHECK(r->unshare_user == EPERM);
  CHECK(r->clone_newuser == EPERM);
  CHECK(r->clone3 == ENOSYS);  // so glibc falls back to clone
  CHECK(r->personality_bsd == EPERM);
  CHECK(r->personality_query == 0);
  CHECK(r->socket_ok == 1);
#if defined(__x86_64__)
  CHECK(r->i386_getpid > 0);  // the i386 part allows it: not killed as a foreign ABI
  CHECK(r->i386_mount == -EPERM);
  CHECK(r->i386_reboot == -EPERM);
  CHECK(r->i386_clone3 == -ENOSYS);
#endif
}

}  // namespace

TEST_CASE("Docker's default profile confines a real process as dockerd + runc would") {
  // Loading allocates: done before forking (the running kernel's version picks minKernel rules).
  const sysfence::oci_profile profile = sysfence::load_oci_profile(default_profile(), {.file_name = "default.json"});
  confined([&] { return static_cast<bool>(profile.try_apply_to_current_thread()); });
}

TEST_CASE("Docker's default profile compiled at build time (sysfence_add_policy) confines it the same way") {
  confined([] { return static_cast<bool>(docker_default::policy.try_apply_to_current_thread(docker_default::flags)); });
}

TEST_CASE("with CAP_SYS_ADMIN in the bounding set, the profile lets unshare and clone3 reach the kernel") {
  sysfence::oci_options o{.file_name = "default.json"};
  o.capabilities.push_back("CAP_SYS_ADMIN");
  const sysfence::oci_profile profile = sysfence::load_oci_profile(default_profile(), o);
  kernel_test::shared<results> r;
  const auto e = kernel_test::in_child([&] {
    if (!profile.try_apply_to_current_thread()) return 1;
    // Invalid flags: the kernel answers EINVAL, which only a call the filter let through can get.
    r->unshare_user = refused(SYS_unshare, -1L);
    r->clone3 = refused(SYS_clone3, nullptr, 0L);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->unshare_user == EINVAL);
  CHECK(r->clone3 == EINVAL);
}
