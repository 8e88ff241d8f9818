// SPDX-License-Identifier: MIT
// actions.cpp - every seccomp action, observed in the kernel: errno values, SIGSYS with
// si_syscall, kill process, kill thread, log, trace without a tracer, user notification.
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/report.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;

namespace {

// Rule sets answering one syscall with one action each.
struct getuid_enosys : rule_set_base {
  static constexpr std::string_view name = "getuid_enosys";
  static constexpr std::array conditional_rules{rule{sys::getuid}.then(action::error(ENOSYS))};
};
struct getgid_eacces_on_zero : rule_set_base {
  static constexpr std::string_view name = "getgid_eacces";
  static constexpr std::array conditional_rules{rule{sys::getpgid, arg<0> == 0}.then(action::error(EACCES))};
};
struct getppid_logged : rule_set_base {
  static constexpr std::string_view name = "getppid_logged";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::log)};
};
struct getppid_traced : rule_set_base {
  static constexpr std::string_view name = "getppid_traced";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::trace(7))};
};
struct getppid_notified : rule_set_base {
  static constexpr std::string_view name = "getppid_notified";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::user_notif)};
};
struct getppid_killed : rule_set_base {
  static constexpr std::string_view name = "getppid_killed";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::kill_process)};
};
struct getppid_trapped : rule_set_base {
  static constexpr std::string_view name = "getppid_trapped";
  static constexpr std::array conditional_rules{rule{sys::getppid, arg64<0> == 7}.then(action::trap(99))};
};

struct sigsys_seen {
  int count = 0;
  int syscall = -1;
  int data = -1;
  unsigned arch = 0;
};
sigsys_seen* seen = nullptr;
void record_sigsys(int, siginfo_t* info, void*) {
  seen->count++;
  seen->syscall = info->si_syscall;
  seen->data = info->si_errno;
  seen->arch = info->si_arch;
}

// `reported` runs `blocked` in a child whose stderr is a pipe, after report_violations(): how the
// child ended, and the report line it wrote (at most 511 bytes).
struct report_run {
  ending e;
  std::string text;
};
template <class F>
report_run reported(F&& blocked) {
  int err_pipe[2];
  REQUIRE(::pipe(err_pipe) == 0);
  const ending e = in_child([&] {
    ::dup2(err_pipe[1], STDERR_FILENO);
    report_violations();
    return blocked();
  });
  ::close(err_pipe[1]);
  char buf[512] = {};
  const ssize_t n = ::read(err_pipe[0], buf, sizeof buf - 1);
  ::close(err_pipe[0]);
  return {e, std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0)};
}

}  // namespace

TEST_CASE("errno: per rule and as the default action") {
  shared<std::array<outcome, 4>> r;
  const ending e = in_child([&] {
    const auto policy = (getuid_enosys{} | getgid_eacces_on_zero{}).with_errno<EXDEV>();
    policy.apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getuid); });
    (*r)[1] = record([] { return ::syscall(SYS_getpgid, 0); });
    (*r)[2] = record([] { return ::syscall(SYS_getpgid, 1); });  // no rule: the default
    (*r)[3] = record([] { return ::syscall(SYS_getcwd, nullptr, 0); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK((*r)[0].err == ENOSYS);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].err == EXDEV);
  CHECK((*r)[3].err == EXDEV);
}

TEST_CASE("trap: SIGSYS with si_syscall, the rule's data in si_errno, and the arch") {
  shared<sigsys_seen> s;
  shared<std::array<outcome, 2>> r;
  const ending e = in_child([&] {
    seen = &*s;
    struct sigaction sa {};
    sa.sa_sigaction = record_sigsys;
    sa.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSYS, &sa, nullptr);
    (safety_context{}.enable(getppid_trapped{})).apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getppid, 7); });  // trapped
    (*r)[1] = record([] { return ::syscall(SYS_getppid, 8); });  // default EPERM, no signal
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(s->count == 1);
  CHECK(s->syscall == SYS_getppid);
  CHECK(s->data == 99);
  CHECK(s->arch == AUDIT_ARCH_X86_64);
  CHECK((*r)[1].err == EPERM);
}

TEST_CASE("trap as the default action, with the violation report") {
  const report_run r = reported([] {
    const auto policy = safety_context{}.enable(builtins::system_io::nothing().allow_stderr()).with_default<action::trap()>();
    policy.apply_to_current_thread();
    ::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);  // reported, then SIGSYS
    return 0;
  });
  INFO("report: " << r.text);
  CHECK_FALSE(r.e.exited);
  CHECK(r.e.signal == SIGSYS);
  REQUIRE(!r.text.empty());
  // syscall() is variadic: AT_FDCWD travels as a 32-bit int, upper half zero (hence arg32).
  CHECK(r.text.find("sysfence: blocked openat (257) args (0xffffff9c, 0x") != std::string::npos);
  CHECK(r.text.find(") at 0x") != std::string::npos);
}

TEST_CASE("kill process: the child dies by SIGSYS") {
  const ending e = in_child([&] {
    (safety_context{}.enable(getppid_killed{})).apply_to_current_thread();
    ::syscall(SYS_getppid);
    return 0;
  });
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
}

TEST_CASE("kill process as the default action, foreign architectures too") {
  const ending e = in_child([&] {
    safety_context{}.with_default<action::kill_process>().apply_to_current_thread();
    ::syscall(SYS_getuid);
    return 0;
  });
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
}

TEST_CASE("kill thread: only the calling thread dies") {
  shared<std::array<int, 2>> r;
  const ending e = in_child([&] {
    const auto policy = safety_context{}.with_default<action::kill_thread>();
    (*r)[0] = 0;
    std::thread victim([&] {
      policy.apply_to_current_thread();  // this thread only
      ::syscall(SYS_getuid);             // kills this thread, not the process
      (*r)[0] = 1;                       // never reached
    });
    // The victim's exit is a kernel kill: its join still returns once the thread is gone.
    victim.join();
    (*r)[1] = 1;  // the main thread lives on
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0] == 0);
  CHECK((*r)[1] == 1);
}

TEST_CASE("log: the call runs") {
  shared<std::array<outcome, 1>> r;
  const ending e = in_child([&] {
    (safety_context{}.enable(getppid_logged{})).apply_to_current_thread(install_flag::log);
    (*r)[0] = record([] { return ::syscall(SYS_getppid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK((*r)[0].ret > 0);
}

TEST_CASE("trace without a tracer: ENOSYS") {
  shared<std::array<outcome, 1>> r;
  const ending e = in_child([&] {
    (safety_context{}.enable(getppid_traced{})).apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getppid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK((*r)[0].err == ENOSYS);
}

TEST_CASE("user notification: a supervisor receives the call and answers it") {
  struct result {
    outcome call;
    int notified_nr = -1;
    int listener = -1;
  };
  shared<result> r;
  const ending e = in_child([&] {
    std::atomic<int> listener{-1};
    // The supervisor thread starts before the filter, which applies to the calling thread only.
    std::thread supervisor([&] {
      while (listener.load() < 0) {
      }
      seccomp_notif req{};
      if (::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
      r->notified_nr = req.data.nr;
      seccomp_notif_resp resp{};
      resp.id = req.id;
      resp.val = 4242;  // the answer the caller sees
      ::ioctl(listener.load(), SECCOMP_IOCTL_NOTIF_SEND, &resp);
    });
    const apply_status s =
        (safety_context{}.enable(getppid_notified{})).try_apply_to_current_thread(install_flag::new_listener);
    r->listener = s.listener;
    listener.store(s ? s.listener : 0);
    r->call = record([] { return ::syscall(SYS_getppid); });
    supervisor.join();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->listener > 0);
  CHECK(r->notified_nr == SYS_getppid);
  CHECK(r->call.ret == 4242);
}

TEST_CASE("spec_allow is accepted by this kernel") {
  shared<apply_status> s;
  const ending e = in_child([&] {
    *s = safety_context{}.try_apply_to_current_thread(install_flag::spec_allow);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(*s));
}

TEST_CASE("the report line, formatted without a signal") {
  std::array<char, 256> buf{};
  detail::text t{buf.data(), buf.size()};
  detail::format_violation(t, detail::reported_abis, AUDIT_ARCH_X86_64, 257, {1, 2, 3, 4, 5, 6}, 0x401000);
  CHECK(std::string_view(buf.data(), t.size) ==
        "sysfence: blocked openat (257) args (0x1, 0x2, 0x3, 0x4, 0x5, 0x6) at 0x0000000000401000\n");
  // An i386 call of a 64-bit process (a program serving i386 too) is named in i386's numbers.
  detail::text i386{buf.data(), buf.size()};
  detail::format_violation(i386, detail::reported_abis, AUDIT_ARCH_I386, 39, {1, 0, 0, 0, 0, 0}, 0x401000);
  CHECK(std::string_view(buf.data(), i386.size) ==
        "sysfence: blocked mkdir (39, i386) args (0x1, 0x0, 0x0, 0x0, 0x0, 0x0) at 0x0000000000401000\n");
  detail::text foreign{buf.data(), buf.size()};
  detail::format_violation(foreign, detail::reported_abis, 0x1234, 39, {}, 0);
  CHECK(std::string_view(buf.data(), foreign.size).starts_with("sysfence: blocked syscall (39, arch 0x00001234) args"));
}

TEST_CASE("trap in a program serving i386 too: an int $0x80 call reported in i386's names, then SIGSYS") {
  const report_run r = reported([] {
    const auto policy = safety_context{}.enable(builtins::system_io::nothing().allow_stderr()).with_default<action::trap()>();
    policy.apply_to_current_thread<arch::x86_64, arch::x86>();
    long ret = 39;  // i386 mkdir("", 0755): reported, then SIGSYS (x86_64's 39 is getpid, allowed)
    __asm__ __volatile__("int $0x80" : "+a"(ret) : "b"(""), "c"(0755) : "memory", "cc", "r8", "r9", "r10", "r11");
    return 3;
  });
  INFO("report: " << r.text);
  CHECK_FALSE(r.e.exited);
  CHECK(r.e.signal == SIGSYS);
  REQUIRE(!r.text.empty());
  CHECK(r.text.find("sysfence: blocked mkdir (39, i386) args (0x") != std::string::npos);
  CHECK(r.text.find(", 0x1ed, 0x") != std::string::npos);  // ecx: 0755
}
