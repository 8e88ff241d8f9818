// SPDX-License-Identifier: MIT
// kernel_i386.cpp - kernel tests of a 32-bit program (g++ -m32): i386 filters installed and obeyed.
#include "sysfence/sysfence.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/report.hpp"

using namespace sysfence;
using namespace kernel_test;
namespace b = sysfence::builtins;

// Built with -m32, the program compiled for this process is i386's.
static_assert(std::is_same_v<arch::native, arch::x86>);
static_assert(sizeof(long) == 4 && sizeof(void*) == 4);

namespace {

// Writes to fd 100 only, on the parameter's 32 bits (arg<0>).
struct write_to_100 : rule_set_base {
  static constexpr std::string_view name = "write_to_100";
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 100}};
};

// 64-bit comparisons, which an i386 program makes on the low 32 bits its syscalls read: 5 is
// itself; 0x100000005 is above every such value (never equal, always less); -1 is all 64 bits
// set, as an x86_64 int argument would be, so never equal either. A 32-bit comparison's -1
// stands for its low 32 bits, 0xffffffff.
struct wide_comparisons : rule_set_base {
  static constexpr std::string_view name = "wide_comparisons";
  static constexpr std::array conditional_rules{
      rule{sys::write, arg64<0> == 5},
      rule{sys::dup, arg64<0> == 0x100000005ULL},
      rule{sys::dup2, arg64<1> < 0x100000000ULL},
      rule{sys::getsid, arg64<0> == -1},
      rule{sys::getpgid, arg32<0> == -1},
  };
};

// `pipe_at` is a pipe whose write end is also at each of `fds` (dup2), its own ends moved above them.
struct pipe_at {
  int r = -1, w = -1;
  std::vector<int> at;
  explicit pipe_at(std::vector<int> fds = {}) : at(std::move(fds)) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    r = ::fcntl(p[0], F_DUPFD, 200);
    w = ::fcntl(p[1], F_DUPFD, 200);
    ::close(p[0]);
    ::close(p[1]);
    for (int fd : at) REQUIRE(::dup2(w, fd) == fd);
  }
  ~pipe_at() {
    close_writers();
    ::close(r);
  }
  pipe_at(const pipe_at&) = delete;
  pipe_at& operator=(const pipe_at&) = delete;
  void close_writers() {
    for (int fd : at) ::close(fd);
    at.clear();
    if (w >= 0) ::close(w);
    w = -1;
  }
  // `drain` is what the pipe holds once the children have ended (its write ends closed here).
  std::string drain() {
    close_writers();
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(r, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

std::atomic<int> handled{0};
void on_usr1(int) { handled.store(1); }

}  // namespace

TEST_CASE("an i386 filter: allowed calls run, the others fail with EPERM") {
  shared<std::array<outcome, 6>> r;
  const ending e = in_child([&] {
    if (!safety_context{}.enable(sys::getppid).try_apply_to_current_thread()) return 10;
    (*r)[0] = record([] { return ::syscall(SYS_getppid); });         // 64 on i386 (110 on x86_64)
    (*r)[1] = record([] { return static_cast<long>(::getpid()); });  // basic_capabilities
    (*r)[2] = record([] { return ::syscall(SYS_getuid32); });        // getuid() (glibc sets no errno)
    (*r)[3] = record([] { return ::syscall(SYS_getuid); });          // the 16-bit getuid (24)
    (*r)[4] = record([] { return static_cast<long>(::open("/etc/hostname", O_RDONLY)); });  // openat
    (*r)[5] = record([] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM, 0)); });  // socket (359)
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == ::getpid());
  CHECK((*r)[1].ret > 0);
  CHECK((*r)[2].err == EPERM);
  CHECK((*r)[3].err == EPERM);
  CHECK((*r)[4].err == EPERM);
  CHECK((*r)[5].err == EPERM);
}

TEST_CASE("a condition on the fd: writes to fd 100 run, to fd 101 fail with EPERM") {
  pipe_at pipe({100, 101});
  shared<std::array<outcome, 2>> r;
  const ending e = in_child([&] {
    safety_context{}.enable(write_to_100{}).apply_to_current_thread();
    (*r)[0] = record([] { return static_cast<long>(::write(100, "a", 1)); });
    (*r)[1] = record([] { return static_cast<long>(::write(101, "b", 1)); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EPERM);
  CHECK(pipe.drain() == "a");
}

TEST_CASE("64-bit comparisons compare the low 32 bits") {
  pipe_at pipe({5, 6});
  shared<std::array<outcome, 7>> r;
  const ending e = in_child([&] {
    safety_context{}.enable(wide_comparisons{}).apply_to_current_thread();
    (*r)[0] = record([] { return static_cast<long>(::write(5, "a", 1)); });
    (*r)[1] = record([] { return static_cast<long>(::write(6, "b", 1)); });
    (*r)[2] = record([] { return static_cast<long>(::dup(5)); });
    (*r)[3] = record([] { return static_cast<long>(::dup2(5, 7)); });
    (*r)[4] = record([] { return ::syscall(SYS_getsid, -1); });
    (*r)[5] = record([] { return ::syscall(SYS_getpgid, -1); });  // allowed: the kernel's ESRCH
    (*r)[6] = record([] { return ::syscall(SYS_getpgid, -2); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EPERM);
  CHECK((*r)[2].err == EPERM);
  CHECK((*r)[3].ret == 7);
  CHECK((*r)[4].err == EPERM);
  CHECK((*r)[5].err == ESRCH);
  CHECK((*r)[6].err == EPERM);
  CHECK(pipe.drain() == "a");
}

TEST_CASE("kill_process as the default: the child dies by SIGSYS") {
  const ending e = in_child([&] {
    safety_context{}.with_default<action::kill_process>().apply_to_current_thread();
    (void)::getuid();
    return 0;
  });
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
}

TEST_CASE("trap as the default: the violation report reads i386's argument registers") {
  pipe_at err;
  const ending e = in_child([&] {
    ::dup2(err.w, STDERR_FILENO);
    report_violations();
    safety_context{}
        .enable(b::system_io::nothing().allow_stderr())
        .with_default<action::trap()>()
        .apply_to_current_thread();
    ::syscall(SYS_dup3, 7, 8, O_CLOEXEC);  // reported, then made again: SIGSYS
    return 0;
  });
  const std::string report = err.drain();
  INFO("report: " << report);
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
  CHECK(report.starts_with("sysfence: blocked dup3 (330) args (0x7, 0x8, 0x80000, 0x"));
  CHECK(report.find(") at 0x00000000") != std::string::npos);  // a 32-bit address
}

// What glibc 2.36 on i386 (Debian 12) calls, strace'd: printf's buffer comes from brk; mmap() and
// a large malloc are mmap2; fstat is statx; lseek is _llseek; fcntl is fcntl64; clock_gettime (when
// the vDSO does not answer, as for CPU clocks) is clock_gettime64, clock_getres clock_getres_time64;
// nanosleep is clock_nanosleep; a handler without SA_SIGINFO returns through sigreturn; a thread is
// clone3 (ENOSYS from threads) then clone; every socket call (socket, bind, sendto, send, ...) is
// socketcall(op, args). The built-ins allow each i386 form where they allow the x86_64 call, and
// socketcall by op where the call is allowed whatever its arguments (docs/builtins.md, "On i386").
TEST_CASE("built-ins keep a 32-bit program working: stdio, malloc, mmap2") {
  pipe_at out;
  shared<std::array<outcome, 4>> r;
  std::fflush(nullptr);  // or the child's fflush writes the runner's buffered output too
  const ending e = in_child([&] {
    ::dup2(out.w, STDOUT_FILENO);
    safety_context{}.enable(b::system_io::nothing().allow_stdout()).apply_to_current_thread();
    std::printf("%s %d\n", "printf", 42);
    std::fflush(stdout);
    (*r)[0] = record([] {
      void* m = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      return m == MAP_FAILED ? -1L : ::munmap(m, 1 << 20);
    });
    (*r)[1] = record([] {
      void* volatile m = std::malloc(4 << 20);
      if (m == nullptr) return -1L;
      std::memset(m, 1, 4 << 20);
      std::free(m);
      return 0L;
    });
    (*r)[2] = record([] { return static_cast<long>(::write(2, "x", 1)); });
    (*r)[3] = record([] { return static_cast<long>(::open("/etc/hostname", O_RDONLY)); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(out.drain() == "printf 42\n");
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].ret == 0);
  CHECK((*r)[2].err == EPERM);
  CHECK((*r)[3].err == EPERM);
}

TEST_CASE("built-ins keep a 32-bit program working: a signal handler returns (sigreturn)") {
  struct state {
    std::atomic<int> stage{0};
  };
  shared<state> s;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGUSR1, on_usr1);  // no SA_SIGINFO: glibc's restorer calls sigreturn, not rt_sigreturn
    if (!safety_context{}.try_apply_to_current_thread()) ::_exit(10);
    s->stage.store(1);
    while (handled.load() == 0) {
    }
    s->stage.store(2);  // back from the handler
    ::_exit(0);
  }
  while (s->stage.load() == 0) {
  }
  ::kill(pid, SIGUSR1);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(s->stage.load() == 2);
}

TEST_CASE("built-ins keep a 32-bit program working: one fd read, sought, queried") {
  char name[] = "/tmp/sysfence_i386_XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::unlink(name);
  REQUIRE(::write(fd, "sysfence", 8) == 8);
  const int other = ::dup(fd);
  shared<std::array<outcome, 6>> r;
  const ending e = in_child([&] {
    safety_context{}
        .enable(b::system_io::nothing().allow_file_read(fd).allow_ioctl())
        .apply_to_current_thread();
    (*r)[0] = record([&] { return static_cast<long>(::lseek(fd, 3, SEEK_SET)); });  // _llseek
    (*r)[1] = record([&] {
      char buf[8] = {};
      return ::read(fd, buf, sizeof buf) == 5 && std::memcmp(buf, "fence", 5) == 0 ? 0L : -1L;
    });
    (*r)[2] = record([&] {
      struct stat st {};
      return ::fstat(fd, &st) == 0 ? static_cast<long>(st.st_size) : -1L;  // statx on fd
    });
    (*r)[3] = record([&] { return static_cast<long>(::fcntl(fd, F_GETFL)); });  // fcntl64
    (*r)[4] = record([&] { return static_cast<long>(::lseek(other, 0, SEEK_SET)); });
    (*r)[5] = record([&] {
      struct stat st {};
      return static_cast<long>(::fstat(other, &st));
    });
    return 0;
  });
  ::close(fd);
  ::close(other);
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 3);
  CHECK((*r)[1].ret == 0);
  CHECK((*r)[2].ret == 8);
  CHECK((*r)[3].ret >= 0);
  CHECK((*r)[4].err == EPERM);
  CHECK((*r)[5].err == EPERM);
}

TEST_CASE("built-ins keep a 32-bit program working: a thread, clocks, sleep") {
  shared<std::array<outcome, 4>> r;
  const ending e = in_child([&] {
    safety_context{}
        .enable(b::threads::nothing().allow_create().allow_sleep().yes_really())
        .enable(b::time::nothing().allow_gettime())
        .apply_to_current_thread();
    (*r)[0] = record([] {
      std::atomic<int> ran{0};
      std::thread t([&] { ran.store(1); });  // clone3 gets ENOSYS, glibc falls back to clone
      t.join();
      return static_cast<long>(ran.load());
    });
    (*r)[1] = record([] {
      timespec ts{};
      return static_cast<long>(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));  // clock_gettime64
    });
    (*r)[2] = record([] {
      timespec ts{};
      return static_cast<long>(::clock_getres(CLOCK_MONOTONIC, &ts));  // clock_getres_time64
    });
    (*r)[3] = record([] {
      const timespec ts{0, 1000};
      return static_cast<long>(::nanosleep(&ts, nullptr));  // clock_nanosleep
    });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].ret == 0);
  CHECK((*r)[2].ret == 0);
  CHECK((*r)[3].ret == 0);
}

TEST_CASE("networking on i386: socket calls through socketcall run by operation, socket() does not") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) == 0);
  shared<std::array<outcome, 7>> r;
  const ending e = in_child([&] {
    safety_context{}
        .enable(b::networking::nothing().allow_start_udp_servers().yes_really())
        .apply_to_current_thread();
    char c = 0;
    (*r)[0] = record([&] { return static_cast<long>(::sendto(sp[0], "a", 1, 0, nullptr, 0)); });
    (*r)[1] =
        record([&] { return ::recvfrom(sp[1], &c, 1, 0, nullptr, nullptr) == 1 && c == 'a' ? 0L : -1L; });
    (*r)[2] = record([&] { return static_cast<long>(::send(sp[0], "b", 1, 0)); });
    (*r)[3] = record([&] { return ::recv(sp[1], &c, 1, 0) == 1 && c == 'b' ? 0L : -1L; });
    // socket() is socketcall(SYS_SOCKET, args): its domain and type are in memory, so refused;
    // the direct socket syscall has them in registers, checked as on x86_64.
    (*r)[4] = record([] { return static_cast<long>(::socket(AF_INET, SOCK_DGRAM, 0)); });
    (*r)[5] = record([] { return ::syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0); });
    (*r)[6] = record([] { return ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); });
    return 0;
  });
  ::close(sp[0]);
  ::close(sp[1]);
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].ret == 0);
  CHECK((*r)[2].ret == 1);
  CHECK((*r)[3].ret == 0);
  CHECK((*r)[4].err == EPERM);
  CHECK((*r)[5].ret >= 0);
  CHECK((*r)[6].err == EPERM);
}
