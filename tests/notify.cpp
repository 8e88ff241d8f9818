// SPDX-License-Identifier: MIT
// notify.cpp - tests of notify.hpp in the kernel: a forked child installs a policy notifying
// getppid, hands the listener to its parent over a socketpair (SCM_RIGHTS), and the parent's
// supervisor answers: a value, an errno, CONTINUE, an added fd; id_valid once the caller died.
#include "sysfence/notify.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#ifdef SYSFENCE_COUNT_ALLOCATIONS
#include "allocation_counter.hpp"
#endif
#include "sysfence/runtime_policy.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;

namespace {

// `notify_getppid` answers getppid with user_notif and lets everything else run (sendmsg too: the
// handoff itself must not wait for a supervisor who has no listener yet).
runtime_policy notify_getppid() {
  return runtime_policy({{rule{sys::getppid}.then(action::user_notif), 0}}, {"notify_getppid"},
                        action::allow);
}

// `supervised_run` is how a supervised child ended, and what the supervisor saw.
struct supervised_run {
  ending e;
  bool received = false;     // the listener arrived
  notify_status supervised;  // supervise's outcome
  notify_listener listener;  // kept open, for checks after the child is gone
  long allocations = -1;     // heap allocations while supervising (SYSFENCE_COUNT_ALLOCATIONS)
};

// `heap_allocations` is the process's count so far, or 0 when allocations are not counted.
long heap_allocations() noexcept {
#ifdef SYSFENCE_COUNT_ALLOCATIONS
  return allocation_counter::heap_allocations();
#else
  return 0;
#endif
}

// `supervised_under` runs `child` in a forked child under `policy` (built before fork: the child
// allocates nothing), after it sent its listener to the parent; a thread of the parent receives it
// and supervises with `handler` until the child is gone (the listener hangs up).
template <class Child, class Handler>
supervised_run supervised_under(const runtime_policy& policy, Child&& child, Handler&& handler,
                                bool wait_killable = false) {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  supervised_run run;
  std::thread supervisor([&] {
    received_listener r = receive_listener(sv[0]);
    run.received = static_cast<bool>(r);
    if (!r) return;
    run.listener = std::move(r.listener);
    const long before = heap_allocations();
    run.supervised = supervise(run.listener, handler);
    // A failed supervise leaves its call waiting: closing the listener fails it (ENOSYS).
    if (!run.supervised) run.listener.reset();
    run.allocations = heap_allocations() - before;
  });
  run.e = in_child([&] {
    ::close(sv[0]);
    applied_listener a = wait_killable ? try_apply_with_listener(policy, install_flag::wait_killable_recv)
                                       : try_apply_with_listener(policy);
    if (!a) return 10;
    if (!send_listener(sv[1], a.listener)) return 11;
    a.listener.reset();  // the parent's copy is the one it supervises with
    ::close(sv[1]);
    return std::forward<Child>(child)();
  });
  // The child is reaped: the listener hangs up and supervise returns. A child that failed before
  // sending leaves recvmsg to see the socket's end once our copy is closed too.
  ::close(sv[1]);
  supervisor.join();
  ::close(sv[0]);
  return run;
}

// `supervised` is supervised_under notify_getppid.
template <class Child, class Handler>
supervised_run supervised(Child&& child, Handler&& handler, bool wait_killable = false) {
  return supervised_under(notify_getppid(), std::forward<Child>(child), std::forward<Handler>(handler),
                          wait_killable);
}

}  // namespace

TEST_CASE("SECCOMP_GET_NOTIF_SIZES: the kernel's structures are the headers' and fit the buffers") {
  const notif_sizes s = query_notif_sizes();
  REQUIRE(s.error == 0);
  CHECK(s.notification == sizeof(seccomp_notif));
  CHECK(s.response == sizeof(seccomp_notif_resp));
  CHECK(s.data == sizeof(seccomp_data));
  CHECK(s.fits());
  CHECK_FALSE(notif_sizes{300, 24, 64, 0}.fits());  // a kernel whose structures outgrew the buffers
  CHECK_FALSE(notif_sizes{0, 0, 0, EINVAL}.fits());
}

TEST_CASE("the listener is handed over SCM_RIGHTS and the supervisor answers with a value") {
  shared<outcome> r;
  notification seen;
  supervised_run run = supervised(
      [&] {
        *r = record([] { return ::syscall(SYS_getppid, 7, 0x123456789abcdef0ULL, 0, 0, 0, -1L); });
        return 0;
      },
      [&](const notification& n) {
        seen = n;
        return notify_reply::value(4242);
      });
  REQUIRE(run.e.exited);
  CHECK(run.e.code == 0);
  CHECK(run.received);
  CHECK(static_cast<bool>(run.supervised));
  CHECK(r->ret == 4242);
  CHECK(seen.nr == SYS_getppid);
  CHECK(seen.arch == arch::native::audit);
  CHECK(seen.syscall_name() == "getppid");
  CHECK(seen.pid > 0);
  CHECK(seen.id != 0);
  CHECK(seen.instruction_pointer != 0);
  CHECK(seen.args == std::array<std::uint64_t, 6>{7, 0x123456789abcdef0ULL, 0, 0, 0, ~0ULL});
}

TEST_CASE("an errno answer: the call fails with it") {
  shared<outcome> r;
  supervised_run run = supervised(
      [&] {
        *r = record([] { return ::syscall(SYS_getppid); });
        return 0;
      },
      [](const notification&) { return notify_reply::error(EACCES); });
  REQUIRE(run.e.exited);
  CHECK(static_cast<bool>(run.supervised));
  CHECK(r->ret == -1);
  CHECK(r->err == EACCES);
}

TEST_CASE("CONTINUE: the kernel runs the call, the child sees its real parent") {
  shared<std::array<outcome, 2>> r;
  int calls = 0;
  supervised_run run = supervised(
      [&] {
        (*r)[0] = record([] { return ::syscall(SYS_getppid); });
        (*r)[1] = record([] { return ::syscall(SYS_getppid); });  // each call is notified
        return 0;
      },
      [&](const notification&) {
        ++calls;
        return notify_reply::continue_call();
      });
  REQUIRE(run.e.exited);
  CHECK(static_cast<bool>(run.supervised));
  CHECK(calls == 2);
  CHECK((*r)[0].ret == ::getpid());
  CHECK((*r)[1].ret == ::getpid());
}

#ifdef SYSFENCE_COUNT_ALLOCATIONS
TEST_CASE("supervising allocates nothing: receive, and answers of every kind") {
  shared<std::array<outcome, 3>> r;
  int calls = 0;
  supervised_run run = supervised(
      [&] {
        for (outcome& o : *r) o = record([] { return ::syscall(SYS_getppid); });
        return 0;
      },
      [&](const notification& n) {
        ++calls;
        if (n.syscall_name() != "getppid") return notify_reply::error(EINVAL);
        if (calls == 1) return notify_reply::value(1);
        if (calls == 2) return notify_reply::error(EPERM);
        return notify_reply::continue_call();
      });
  REQUIRE(run.e.exited);
  CHECK(static_cast<bool>(run.supervised));
  CHECK(calls == 3);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EPERM);
  CHECK((*r)[2].ret == ::getpid());
  CHECK(run.allocations == 0);
}
#endif

TEST_CASE("id_valid while the caller waits, not once it died; answering it then is target_gone") {
  bool valid_while_waiting = false;
  notification seen;
  supervised_run run = supervised(
      [] {
        ::syscall(SYS_getppid);  // never answered: the supervisor kills the caller
        return 0;
      },
      [&](const notify_listener& listener, const notification& n) {
        seen = n;
        valid_while_waiting = id_valid(listener, n);
        ::kill(n.pid, SIGKILL);
        return notify_reply::answered();  // left waiting
      });
  CHECK_FALSE(run.e.exited);
  CHECK(run.e.signal == SIGKILL);
  CHECK(static_cast<bool>(run.supervised));
  CHECK(valid_while_waiting);
  CHECK_FALSE(id_valid(run.listener, seen));
  const notify_status late = respond_value(run.listener, seen, 1);
  CHECK_FALSE(static_cast<bool>(late));
  CHECK(late.failed == notify_step::respond);
  CHECK(late.target_gone());
}

TEST_CASE("a reply the kernel cannot give ends supervise; the call then fails with ENOSYS") {
  shared<outcome> r;
  supervised_run run = supervised(
      [&] {
        *r = record([] { return ::syscall(SYS_getppid); });
        return 0;
      },
      [](const notification&) { return notify_reply::error(0); });
  REQUIRE(run.e.exited);
  CHECK(run.supervised.failed == notify_step::respond);
  CHECK(run.supervised.error == EINVAL);
  CHECK(r->err == ENOSYS);  // the listener closed with the call unanswered
}

namespace {

volatile sig_atomic_t usr1_seen = 0;
void on_usr1(int) { usr1_seen = 1; }

// `signalled_while_waiting` has the supervisor signal the caller (SIGUSR1, handled, no SA_RESTART)
// after receiving its getppid, then answer 5: what the call returned, and the answer's status.
struct signalled_run {
  supervised_run run;
  outcome call;
  bool handled = false;
  notify_status answer;
};
signalled_run signalled_while_waiting(bool wait_killable) {
  struct seen_by_child {
    outcome call;
    bool handled = false;
  };
  shared<seen_by_child> c;
  signalled_run out;
  out.run = supervised(
      [&] {
        struct sigaction sa {};
        sa.sa_handler = on_usr1;
        ::sigaction(SIGUSR1, &sa, nullptr);
        c->call = record([] { return ::syscall(SYS_getppid); });
        c->handled = usr1_seen != 0;
        return 0;
      },
      [&](const notify_listener& listener, const notification& n) {
        ::kill(n.pid, SIGUSR1);
        ::usleep(100000);  // the signal reaches the waiting caller
        out.answer = respond_value(listener, n, 5);
        return notify_reply::answered();
      },
      wait_killable);
  out.call = c->call;
  out.handled = c->handled;
  return out;
}

}  // namespace

TEST_CASE("a signal withdraws a received call (EINTR); with wait_killable_recv it waits for the answer") {
  const signalled_run plain = signalled_while_waiting(false);
  REQUIRE(plain.run.e.exited);
  CHECK(plain.handled);
  CHECK(plain.call.err == EINTR);
  CHECK(plain.answer.target_gone());

  const signalled_run killable = signalled_while_waiting(true);
  REQUIRE(killable.run.e.exited);
  CHECK(killable.handled);
  CHECK(killable.call.ret == 5);
  CHECK(static_cast<bool>(killable.answer));
}

TEST_CASE("read_caller_string and read_caller_memory: the caller's path argument, checked with id_valid") {
  std::array<char, 64> path{};
  std::array<char, 4> small{};
  memory_read whole, cut, bytes;
  std::array<std::byte, 5> raw{};
  supervised_run run = supervised(
      [] {
        ::syscall(SYS_getppid, "/etc/hostname");
        return 0;
      },
      [&](const notify_listener& listener, const notification& n) {
        whole = read_caller_string(listener, n, n.args[0], path);
        cut = read_caller_string(listener, n, n.args[0], small);
        bytes = read_caller_memory(listener, n, n.args[0], raw);
        return notify_reply::value(0);
      });
  REQUIRE(run.e.exited);
  CHECK(static_cast<bool>(whole));
  CHECK(whole.size == 13);
  CHECK(std::string(path.data()) == "/etc/hostname");
  CHECK(cut.status.error == ENAMETOOLONG);
  CHECK(std::string(small.data()) == "/et");
  CHECK(static_cast<bool>(bytes));
  CHECK(std::memcmp(raw.data(), "/etc/", 5) == 0);
}

TEST_CASE("read_caller_string: across a page boundary, and ending just before an unmapped page") {
  std::array<std::array<char, 64>, 2> text{};
  std::array<memory_read, 2> got;
  int calls = 0;
  supervised_run run = supervised(
      [] {
        const long page = ::sysconf(_SC_PAGESIZE);
        auto* p = static_cast<char*>(::mmap(nullptr, 3 * static_cast<std::size_t>(page),
                                            PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) return 1;
        ::munmap(p + 2 * page, static_cast<std::size_t>(page));  // nothing after the second page
        std::memcpy(p + page - 2, "across", 7);                  // "ac" | "ross"
        std::memcpy(p + 2 * page - 5, "last", 5);                // its NUL is the page's last byte
        ::syscall(SYS_getppid, p + page - 2);
        ::syscall(SYS_getppid, p + 2 * page - 5);
        return 0;
      },
      [&](const notify_listener& listener, const notification& n) {
        const int i = calls++;
        if (i < 2)
          got[static_cast<std::size_t>(i)] =
              read_caller_string(listener, n, n.args[0], text[static_cast<std::size_t>(i)]);
        return notify_reply::value(0);
      });
  REQUIRE(run.e.exited);
  CHECK(run.e.code == 0);
  CHECK(calls == 2);
  CHECK(static_cast<bool>(got[0]));
  CHECK(std::string(text[0].data()) == "across");
  CHECK(static_cast<bool>(got[1]));
  CHECK(std::string(text[1].data()) == "last");
}

#if defined(__x86_64__) && !defined(__ILP32__)
TEST_CASE("an int $0x80 call is notified with i386's arch and number, and named") {
  const runtime_policy policy({{rule{sys::getppid}.then(action::user_notif), 0}}, {"notify_getppid"},
                              action::allow, {arch::x86_64::value, arch::x86::value});
  shared<long> ret;
  notification seen;
  supervised_run run = supervised_under(
      policy,
      [&] {
        long r = 64;  // i386 getppid
        __asm__ __volatile__("int $0x80" : "+a"(r) : : "memory", "cc", "r8", "r9", "r10", "r11");
        *ret = r;
        return 0;
      },
      [&](const notification& n) {
        seen = n;
        return notify_reply::value(64064);
      });
  REQUIRE(run.e.exited);
  CHECK(*ret == 64064);
  CHECK(seen.arch == AUDIT_ARCH_I386);
  CHECK(seen.nr == 64);
  CHECK(seen.syscall_name() == "getppid");
}
#endif

TEST_CASE("a thread and a forked grandchild inherit the filter: their calls reach the supervisor too") {
  struct pids {
    pid_t child = 0, thread = 0, grandchild = 0;
    long thread_ret = -2, grandchild_ret = -2;
  };
  shared<pids> p;
  std::array<pid_t, 8> callers{};
  std::size_t calls = 0;
  supervised_run run = supervised(
      [&] {
        p->child = ::getpid();
        std::thread t([&] {
          p->thread = static_cast<pid_t>(::syscall(SYS_gettid));
          p->thread_ret = ::syscall(SYS_getppid);
        });
        t.join();
        const pid_t g = ::fork();
        if (g == 0) {
          p->grandchild = ::getpid();
          p->grandchild_ret = ::syscall(SYS_getppid);
          ::_exit(0);
        }
        int status = 0;
        ::waitpid(g, &status, 0);
        return WIFEXITED(status) ? 0 : 1;
      },
      [&](const notification& n) {
        if (calls < callers.size()) callers[calls] = n.pid;
        ++calls;
        return notify_reply::value(calls);
      });
  REQUIRE(run.e.exited);
  CHECK(run.e.code == 0);
  CHECK(static_cast<bool>(run.supervised));  // returned once the grandchild was gone too
  REQUIRE(calls == 2);
  CHECK(callers[0] == p->thread);
  CHECK(callers[0] != p->child);
  CHECK(callers[1] == p->grandchild);
  CHECK(p->thread_ret == 1);
  CHECK(p->grandchild_ret == 2);
}

TEST_CASE("supervise stops when its stop fd becomes readable, the caller still alive") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  int stop[2];
  REQUIRE(::pipe2(stop, O_CLOEXEC) == 0);
  const runtime_policy policy = notify_getppid();
  shared<std::atomic<pid_t>> child;
  shared<outcome> r;
  shared<std::atomic<bool>> recorded;
  notify_status status{notify_step::poll, -1};
  int calls = 0;
  std::thread supervisor([&] {
    received_listener l = receive_listener(sv[0]);
    if (!l) return;
    status = supervise(
        l.listener,
        [&](const notification&) {
          ++calls;
          (void)!::write(stop[1], "s", 1);  // after this answer
          return notify_reply::value(9);
        },
        stop[0]);
    // The child records its answer, then waits in pause(): only the stop ended supervise.
    for (int i = 0; i < 5000 && !recorded->load(); ++i) ::usleep(1000);
    ::kill(child->load(), SIGKILL);
  });
  const ending e = in_child([&] {
    child->store(::getpid());
    ::close(sv[0]);
    applied_listener a = try_apply_with_listener(policy);
    if (!a || !send_listener(sv[1], a.listener)) return 10;
    a.listener.reset();
    *r = record([] { return ::syscall(SYS_getppid); });
    recorded->store(true);
    ::pause();
    return 0;
  });
  ::close(sv[1]);
  supervisor.join();
  ::close(sv[0]);
  ::close(stop[0]);
  ::close(stop[1]);
  CHECK(e.signal == SIGKILL);
  CHECK(static_cast<bool>(status));
  CHECK(calls == 1);
  CHECK(r->ret == 9);
}

TEST_CASE("an errno outside 1..4095 is refused before it reaches the kernel") {
  const notify_listener none;
  const notification n;
  CHECK(respond_errno(none, n, 0).error == EINVAL);
  CHECK(respond_errno(none, n, 4096).error == EINVAL);
  CHECK(respond(none, n, notify_reply::answered()));
}

TEST_CASE("receive_listener: a peer that closes without sending one is ENOMSG") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  ::close(sv[1]);
  const received_listener r = receive_listener(sv[0]);
  ::close(sv[0]);
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.status.failed == notify_step::receive_listener);
  CHECK(r.status.error == ENOMSG);
  CHECK_FALSE(static_cast<bool>(r.listener));
}

TEST_CASE("one listener per filter chain: a second is refused with EBUSY, the first kept") {
  struct result {
    apply_status first, second, third;
    bool second_has_listener = true;
  };
  shared<result> r;
  const runtime_policy policy = notify_getppid();
  const ending e = in_child([&] {
    applied_listener a = try_apply_with_listener(policy.program(), policy.targets());  // a program
    applied_listener b = try_apply_with_listener(policy);
    r->first = a.status;
    r->second = b.status;
    r->second_has_listener = static_cast<bool>(b.listener);
    // Extra flags, through the program form too.
    r->third =
        try_apply_with_listener(policy.program(), policy.targets(), install_flag::wait_killable_recv).status;
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(r->first));
  CHECK(r->first.listener == -1);  // moved into the notify_listener
  CHECK(r->second.failed == apply_step::install_filter);
  CHECK(r->second.error == EBUSY);
  CHECK_FALSE(r->second_has_listener);
  CHECK(r->third.error == EBUSY);
}

namespace {

// `injected` runs a child whose getppid returns a descriptor `answer` put there, reading what the
// parent wrote into the pipe behind it.
struct injected_run {
  supervised_run run;
  std::string read;
  int fd = -1;
  bool cloexec = false;
};
template <class Answer>
injected_run injected(Answer&& answer) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(::write(p[1], "hello", 5) == 5);
  ::close(p[1]);
  struct seen_by_child {
    std::array<char, 16> text{};
    long fd = -1;
    int fd_flags = -1;
  };
  shared<seen_by_child> c;
  injected_run out;
  out.run = supervised(
      [&] {
        c->fd = ::syscall(SYS_getppid);
        if (c->fd < 0) return 1;
        c->fd_flags = ::fcntl(static_cast<int>(c->fd), F_GETFD);
        const ssize_t n = ::read(static_cast<int>(c->fd), c->text.data(), c->text.size() - 1);
        return n == 5 ? 0 : 2;
      },
      [&](const notify_listener& listener, const notification& n) { return answer(listener, n, p[0]); });
  ::close(p[0]);
  out.read = c->text.data();
  out.fd = static_cast<int>(c->fd);
  out.cloexec = c->fd_flags >= 0 && (c->fd_flags & FD_CLOEXEC) != 0;
  return out;
}

}  // namespace

TEST_CASE("add_fd: the parent injects a pipe's read end, the child reads from it") {
  int added = -2;
  const injected_run r = injected([&](const notify_listener& listener, const notification& n, int fd) {
    const added_fd a = add_fd(listener, n, fd);
    added = a.fd;
    return a ? notify_reply::value(a.fd) : notify_reply::error(EBADF);
  });
  REQUIRE(r.run.e.exited);
  CHECK(r.run.e.code == 0);
  CHECK(added >= 0);
  CHECK(r.fd == added);
  CHECK(r.read == "hello");
  CHECK_FALSE(r.cloexec);
}

TEST_CASE("add_fd_at: at a chosen number, close-on-exec") {
  const injected_run r = injected([&](const notify_listener& listener, const notification& n, int fd) {
    const added_fd a = add_fd_at(listener, n, fd, 100, true);
    return a ? notify_reply::value(a.fd) : notify_reply::error(EBADF);
  });
  REQUIRE(r.run.e.exited);
  CHECK(r.run.e.code == 0);
  CHECK(r.fd == 100);
  CHECK(r.read == "hello");
  CHECK(r.cloexec);
}

TEST_CASE("respond_with_fd: added and answered in one step") {
  const injected_run r = injected([&](const notify_listener& listener, const notification& n, int fd) {
    const added_fd a = respond_with_fd(listener, n, fd);
    return a ? notify_reply::answered() : notify_reply::error(EBADF);
  });
  REQUIRE(r.run.e.exited);
  CHECK(r.run.e.code == 0);
  CHECK(r.fd >= 0);
  CHECK(r.read == "hello");
}

namespace {

struct getppid_notified : rule_set_base {
  static constexpr std::string_view name = "getppid_notified";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::user_notif)};
};

}  // namespace

TEST_CASE("a typed policy's listener, taken by the parent with pidfd_getfd") {
  struct handoff {
    std::atomic<int> listener{-1};
    std::atomic<pid_t> pid{0};
    outcome call;
  };
  shared<handoff> h;
  notify_status supervised_status{notify_step::poll, -1};
  int taken_error = -1;
  std::thread supervisor([&] {
    while (h->listener.load() < 0) std::this_thread::yield();
    if (h->listener.load() == 0) return;  // the child failed to install
    received_listener r = take_listener(h->pid.load(), h->listener.load());
    taken_error = r.status.error;
    if (!r) {
      ::kill(h->pid.load(), SIGKILL);
      return;
    }
    supervised_status = supervise(r.listener, [](const notification&) { return notify_reply::value(7); });
  });
  const ending e = in_child([&] {
    h->pid = ::getpid();
    applied_listener a = try_apply_with_listener(safety_context{}.enable(getppid_notified{}),
                                                 install_flag::wait_killable_recv);
    h->listener = a ? a.listener.fd() : 0;  // shared memory: no syscall the policy would deny
    if (!a) return 10;
    h->call = record([] { return ::syscall(SYS_getppid); });
    return 0;
  });
  int never_sent = -1;
  h->listener.compare_exchange_strong(never_sent, 0);  // a child that died first: the thread stops
  supervisor.join();
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(taken_error == 0);
  CHECK(static_cast<bool>(supervised_status));
  CHECK(h->call.ret == 7);
}
