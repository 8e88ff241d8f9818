// SPDX-License-Identifier: MIT
// apply.cpp - kernel tests: fork, install the real filter, make real syscalls, check errno.
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <thread>

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "policies.hpp"

using namespace sysfence;
using namespace kernel_test;
using namespace test_policies;

namespace {

// Pipes dup'ed to the fds stdio_like allows writes to (100..102), plus 103 which it does not.
struct pipe_fds {
  int read_end = -1;
  pipe_fds() {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    read_end = p[0];
    for (int fd : {100, 101, 102, 103}) REQUIRE(::dup2(p[1], fd) == fd);
    ::close(p[1]);
  }
  ~pipe_fds() {
    for (int fd : {100, 101, 102, 103}) ::close(fd);
    ::close(read_end);
  }
};


}  // namespace

TEST_CASE("allowed syscalls run, denied ones fail with EPERM") {
  shared<std::array<outcome, 4>> r;
  const ending e = in_child([&] {
    if (!stdio_context.try_apply_to_current_thread()) return 10;
    (*r)[0] = record([] { return ::syscall(SYS_getppid); });
    (*r)[1] = record([] { return ::syscall(SYS_getuid); });
    (*r)[2] = record([] { return static_cast<long>(::open("/etc/hostname", O_RDONLY)); });
    (*r)[3] = record([] { return ::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret > 0);
  CHECK((*r)[1].err == EPERM);
  CHECK((*r)[2].err == EPERM);
  CHECK((*r)[3].err == EPERM);
}

TEST_CASE("argument conditions are enforced on both 32-bit halves") {
  pipe_fds pipes;
  shared<std::array<outcome, 6>> r;
  const ending e = in_child([&] {
    stdio_context.apply_to_current_thread();
    const char c = 'x';
    (*r)[0] = record([&] { return ::write(100, &c, 1); });
    (*r)[1] = record([&] { return ::write(101, &c, 1); });
    (*r)[2] = record([&] { return ::write(102, &c, 1); });
    (*r)[3] = record([&] { return ::write(103, &c, 1); });
    // The kernel truncates the fd to int: 1<<32 | 100 would write to fd 100 if only the low
    // half were compared.
    (*r)[4] = record([&] { return ::syscall(SYS_write, (std::uint64_t{1} << 32) | 100U, &c, 1); });
    (*r)[5] = record([&] { return ::syscall(SYS_write, (std::uint64_t{1} << 32) | 101U, &c, 1); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].ret == 1);
  CHECK((*r)[2].ret == 1);
  CHECK((*r)[3].err == EPERM);
  CHECK((*r)[4].err == EPERM);
  CHECK((*r)[5].err == EPERM);
}

TEST_CASE("run-time values are patched in: fd 3 allowed, fd 4 and fd 3 + 2^32 denied") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  for (int& end : p) {  // out of the way of fds 3 and 4
    const int high = ::fcntl(end, F_DUPFD, 50);
    ::close(end);
    end = high;
  }
  REQUIRE(::dup2(p[1], 3) == 3);
  REQUIRE(::dup2(p[1], 4) == 4);
  shared<std::array<outcome, 3>> r;
  const ending e = in_child([&] {
    const auto policy = can_exit{} | write_to{3};
    policy.apply_to_current_thread();
    const char c = 'x';
    (*r)[0] = record([&] { return ::write(3, &c, 1); });
    (*r)[1] = record([&] { return ::write(4, &c, 1); });
    (*r)[2] = record([&] { return ::syscall(SYS_write, (std::uint64_t{1} << 32) | 3U, &c, 1); });
    return 0;
  });
  ::close(3);
  ::close(4);
  ::close(p[0]);
  ::close(p[1]);
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EPERM);
  CHECK((*r)[2].err == EPERM);
}

TEST_CASE("a denied exit_group leaves the child no way out but a signal") {
  const ending e = in_child([&] {
    policy<sys::syscall<sys::id::getpid>>{}.apply_to_current_thread();  // bare: no basics
    return 0;  // _exit -> exit_group and exit denied -> glibc's last resort: hlt -> SIGSEGV
  });
  CHECK_FALSE(e.exited);
  CHECK(e.signal != 0);
}

TEST_CASE("apply_to_all_threads filters threads that already run") {
  shared<std::array<outcome, 2>> r;
  const ending e = in_child([&] {
    std::atomic<int> stage{0};
    std::thread worker([&] {
      while (stage.load() != 1) {
      }
      (*r)[0] = record([] { return ::syscall(SYS_getuid); });
      stage.store(2);
    });
    const auto policy = can_exit{} | sys::getppid | sys::futex | sys::madvise | sys::munmap |
                        sys::exit | sys::rt_sigprocmask | sys::rseq | sys::set_robust_list;
    const apply_status s = policy.try_apply_to_all_threads();
    (*r)[1] = record([] { return ::syscall(SYS_getuid); });
    stage.store(1);
    while (stage.load() != 2) {
    }
    worker.detach();  // joining needs syscalls the policy does not allow; _exit ends all
    return s ? 0 : 20;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].err == EPERM);  // the worker was filtered
  CHECK((*r)[1].err == EPERM);
}

TEST_CASE("apply_to_current_thread leaves other threads alone") {
  shared<std::array<outcome, 2>> r;
  const ending e = in_child([&] {
    std::atomic<int> stage{0};
    std::thread worker([&] {
      while (stage.load() != 1) {
      }
      (*r)[0] = record([] { return ::syscall(SYS_getuid); });
      stage.store(2);
    });
    const apply_status s = (can_exit{} | sys::getppid).try_apply_to_current_thread();
    (*r)[1] = record([] { return ::syscall(SYS_getuid); });
    stage.store(1);
    while (stage.load() != 2) {
    }
    worker.detach();
    return s ? 0 : 20;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret >= 0);      // the other thread is unfiltered
  CHECK((*r)[1].err == EPERM);  // this one is
}

TEST_CASE("TSYNC failure names the thread that could not be synchronised") {
  struct result {
    apply_status status;
    pid_t worker = 0;
    bool threw = false;
    int code = 0;
  };
  shared<result> r;
  const ending e = in_child([&] {
    std::atomic<int> stage{0};
    std::thread worker([&] {
      r->worker = static_cast<pid_t>(::syscall(SYS_gettid));
      // A filter of its own: not an ancestor of the main thread's, so TSYNC must fail.
      (void)(can_exit{} | sys::getppid | sys::futex | sys::gettid).try_apply_to_current_thread();
      stage.store(1);
      while (stage.load() != 2) {
      }
    });
    while (stage.load() != 1) {
    }
    r->status = (can_exit{} | sys::getpid).try_apply_to_all_threads();
    try {
      (can_exit{} | sys::getpid).apply_to_all_threads();
    } catch (const apply_error& err) {
      r->threw = true;
      r->code = err.code().value();
    }
    stage.store(2);
    worker.join();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->status.failed == apply_step::synchronise_threads);
  CHECK(r->status.thread == r->worker);
  CHECK(r->threw);
  CHECK(r->code == ESRCH);
}

TEST_CASE("a run-time value that cannot match is refused before anything is installed") {
  shared<std::array<outcome, 1>> r;
  shared<apply_status> s;
  const ending e = in_child([&] {
    *s = (can_exit{} | write_to_narrow{std::uint64_t{1} << 40}).try_apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getuid); });  // still unfiltered
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(s->failed == apply_step::check_values);
  CHECK(s->error == EINVAL);
  CHECK((*r)[0].ret >= 0);
}
