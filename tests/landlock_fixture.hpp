// SPDX-License-Identifier: MIT
// landlock_fixture.hpp - what the Landlock kernel tests share (tests/landlock.cpp,
// tests/landlock_net.cpp): the running kernel's ABI, a scratch tree, file and syscall probes,
// and older kernels played by a seccomp supervisor on this one.
#pragma once

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/apply.hpp"
#include "sysfence/policy.hpp"

namespace landlock_test {

using kernel_test::outcome;
using kernel_test::record;

// `kernel_abi` is the running kernel's Landlock ABI (0 without Landlock).
inline long kernel_abi() {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : abi;
}

// A scratch tree: granted/ (with a file and a subdirectory), other/ (with a file).
struct tree {
  std::string root;
  tree() {
    char tmpl[] = "/tmp/sysfence-landlock-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    for (const char* d : {"/granted", "/granted/sub", "/other"}) REQUIRE(::mkdir((root + d).c_str(), 0700) == 0);
    for (const char* f : {"/granted/file", "/other/file"}) {
      const int fd = ::open((root + f).c_str(), O_CREAT | O_WRONLY, 0600);
      REQUIRE(fd >= 0);
      REQUIRE(::write(fd, "data", 4) == 4);
      ::close(fd);
    }
  }
  ~tree() { (void)std::system(("rm -rf " + root).c_str()); }
  tree(const tree&) = delete;
  tree& operator=(const tree&) = delete;
  [[nodiscard]] std::string operator/(const char* p) const { return root + "/" + p; }
};

// `open_read` opens `path` read-only and reads a byte: 1, or -1 and errno.
inline outcome open_read(const std::string& path) {
  return record([&] {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return -1L;
    char c;
    const long n = ::read(fd, &c, 1);
    ::close(fd);
    return n;
  });
}

// `open_flags` opens `path` with `flags` and closes it: 0, or -1 and errno.
inline outcome open_flags(const std::string& path, int flags) {
  return record([&] {
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) return -1L;
    ::close(fd);
    return 0L;
  });
}

// `uid_call` is a call the policies of these tests deny with seccomp (EPERM).
inline outcome uid_call() {
  return record([] { return ::syscall(SYS_getuid); });
}

// `applied` runs `body` in a child after applying `policy` there; the status is kept.
template <class Policy, class Body>
sysfence::apply_status applied(const Policy& policy, Body body) {
  kernel_test::shared<sysfence::apply_status> status;
  const kernel_test::ending e = kernel_test::in_child([&] {
    *status = policy.try_apply_to_current_thread();
    if (!*status) return 10;
    body();
    return 0;
  });
  INFO(status->what() << " errno " << status->error);
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  return *status;
}

// `play_landlock_abi` plays a kernel of Landlock ABI `abi` on this one, in the calling thread
// (a forked child): it installs rule set `Supervised`, which sends Landlock calls to a listener,
// and starts a supervisor that answers the ABI query with `abi`, shows every other call to
// `note(const seccomp_notif&)` and lets it through to the real kernel. False if the filter could
// not be installed.
template <class Supervised, class Note>
bool play_landlock_abi(long abi, Note note) {
  // Outlives this call: the supervisor runs, detached, until the child exits.
  static std::atomic<int> listener{-1};
  listener.store(-1);
  // Started before the filter, which applies to the calling thread only.
  std::thread supervisor([abi, note] {
    while (listener.load() < 0) {
    }
    for (;;) {
      seccomp_notif req{};
      if (::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
      seccomp_notif_resp resp{};
      resp.id = req.id;
      if (req.data.nr == SYS_landlock_create_ruleset && (req.data.args[2] & LANDLOCK_CREATE_RULESET_VERSION) != 0) {
        resp.val = abi;  // the only call answered here
      } else {
        note(req);  // same address space: the blocked caller's arguments can be read directly
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      }
      ::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
  });
  supervisor.detach();
  const sysfence::apply_status s =
      sysfence::policy<Supervised>{}.try_apply_to_current_thread(sysfence::install_flag::new_listener);
  listener.store(s ? s.listener : 0);
  return static_cast<bool>(s);
}

}  // namespace landlock_test
