// SPDX-License-Identifier: MIT
// systemd_kernel.cpp - systemd_filter's policies installed in a forked child: the calls a group
// allows run, the others kill the process or fail with the errno systemd's settings give.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/systemd.hpp"

using namespace sysfence;

TEST_CASE("the groups' filters in a child: allowed calls run, the rest kill or fail") {
  // @system-service with SystemCallErrorNumber=EPERM: a service's calls run, mount does not.
  systemd_filter_options eperm;
  eperm.error_number = EPERM;
  const runtime_policy service = systemd_filter("@system-service", eperm);
  const auto served = kernel_test::in_child([&] {
    service.apply_to_current_thread();
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return 1;
    ::close(fd);
    if (::syscall(SYS_getpid) <= 0) return 2;
    errno = 0;
    if (::mount("none", "/", "tmpfs", 0, nullptr) != -1 || errno != EPERM) return 3;
    errno = 0;
    if (::syscall(SYS_reboot, 0, 0, 0, nullptr) != -1 || errno != EPERM) return 4;
    // ioctl reaches the kernel (a pipe is no terminal: ENOTTY), but TIOCSTI does not (EPERM, where
    // the kernel would also say ENOTTY: no character is ever typed into a terminal here).
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return 5;
    errno = 0;
    if (::ioctl(pipe_fds[0], TCGETS, nullptr) != -1 || errno != ENOTTY) return 6;
    const char c = 'x';
    errno = 0;
    if (::ioctl(pipe_fds[0], TIOCSTI, &c) != -1 || errno != EPERM) return 7;
    return 0;
  });
  CHECK(served.exited);
  CHECK(served.code == 0);

  // An allow list without @network-io kills a socket() call with SIGSYS, as systemd does.
  const runtime_policy io = systemd_filter("@basic-io @signal");
  const auto killed = kernel_test::in_child([&] {
    io.apply_to_current_thread();
    if (::write(1, "", 0) != 0) return 1;
    ::socket(AF_UNIX, SOCK_STREAM, 0);
    return 2;
  });
  CHECK(killed.signal == SIGSYS);

  // A deny list: everything runs but its entries.
  const runtime_policy deny = systemd_filter("~@mount @reboot:EPERM");
  const auto denied = kernel_test::in_child([&] {
    deny.apply_to_current_thread();
    const int fd = ::openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 1;
    ::close(fd);
    errno = 0;
    if (::syscall(SYS_reboot, 0, 0, 0, nullptr) != -1 || errno != EPERM) return 2;
    ::umount2("/nonexistent", 0);
    return 3;
  });
  CHECK(denied.signal == SIGSYS);
}
