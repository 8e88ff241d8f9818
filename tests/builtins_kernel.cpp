// SPDX-License-Identifier: MIT
// builtins_kernel.cpp - each built-in method installed: one allowed call runs, a neighbour gets EPERM.
#include "sysfence/builtins.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "sysfence/apply.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/syscall.hpp"

using namespace sysfence;
using namespace kernel_test;
namespace b = sysfence::builtins;

namespace {

constexpr auto io = b::system_io::nothing();
constexpr auto net = b::networking::nothing();

// `lock_down` installs safety_context{}.enable(set) on this thread: the method under test plus
// basic_capabilities, which has exit_group for the child's _exit().
template <class Set>
bool lock_down(const Set& set) {
  return static_cast<bool>(safety_context{}.enable(set).try_apply_to_current_thread());
}

// `owned_fd` closes its descriptor.
struct owned_fd {
  int v = -1;
  owned_fd() = default;
  explicit owned_fd(int fd) : v(fd) {}
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  ~owned_fd() {
    if (v >= 0) ::close(v);
  }
};

// `moved_high` moves `fd` to the lowest free descriptor >= 50, out of the way of 0..5 (which the
// children dup2 onto), and closes the original.
int moved_high(int fd) {
  const int high = ::fcntl(fd, F_DUPFD, 50);
  ::close(fd);
  return high;
}

// `test_pipe` is a pipe, both ends >= 50, optionally with bytes already in it.
struct test_pipe {
  owned_fd r, w;
  explicit test_pipe(std::string_view content = {}) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    r.v = moved_high(p[0]);
    w.v = moved_high(p[1]);
    REQUIRE(r.v >= 50);
    REQUIRE(w.v >= 50);
    if (!content.empty())
      REQUIRE(::write(w.v, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  }
  // `drain` is what is in the pipe now (read without blocking).
  std::string drain() const {
    ::fcntl(r.v, F_SETFL, ::fcntl(r.v, F_GETFL) | O_NONBLOCK);
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(r.v, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

// `temp_file` is a file under /tmp with some content, removed at the end of the test.
struct temp_file {
  std::string path;
  explicit temp_file(std::string_view content = "sysfence\n") {
    char name[] = "/tmp/sysfence_builtins_XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    path = name;
  }
  ~temp_file() { ::unlink(path.c_str()); }
  const char* c_str() const { return path.c_str(); }
  bool exists() const { return ::access(path.c_str(), F_OK) == 0; }
  long size() const {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
  }
};

// `ipv4_loopback` is 127.0.0.1, port 0: bind() picks a free port.
sockaddr_in ipv4_loopback() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
const sockaddr* as_sockaddr(const void* a) { return static_cast<const sockaddr*>(a); }

// `tcp_listener` listens on 127.0.0.1 at a port the kernel picks.
struct tcp_listener {
  owned_fd fd;
  sockaddr_in addr{};
  tcp_listener() {
    fd.v = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd.v >= 0);
    addr = ipv4_loopback();
    REQUIRE(::bind(fd.v, as_sockaddr(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd.v, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(fd.v, 8) == 0);
  }
};

// `abstract_address` is a Unix socket address in the abstract namespace (no file), unique per
// process and tag.
struct abstract_address {
  sockaddr_un addr{};
  socklen_t len = 0;
  explicit abstract_address(std::string_view tag) {
    addr.sun_family = AF_UNIX;
    const std::string name = "sysfence-test-" + std::to_string(::getpid()) + "-" + std::string(tag);
    std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  }
};

// The child ran to the end: the filter was installed and exit_group allowed.
#define REQUIRE_CLEAN_EXIT(e) \
  do {                        \
    REQUIRE((e).exited);      \
    REQUIRE((e).code == 0);   \
  } while (0)

long as_long(int v) { return static_cast<long>(v); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// basic_capabilities and a single syscall

TEST_CASE("basic_capabilities: getpid and getrandom run, getppid and getuid fail with EPERM") {
  struct results {
    outcome getpid, getrandom, getppid, getuid;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!safety_context{}.try_apply_to_current_thread()) return 10;
    char buf[8];
    r->getpid = record([] { return ::syscall(SYS_getpid); });
    r->getrandom = record([&] { return ::syscall(SYS_getrandom, buf, sizeof buf, 0); });
    r->getppid = record([] { return ::syscall(SYS_getppid); });
    r->getuid = record([] { return ::syscall(SYS_getuid); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->getpid.ret > 0);
  CHECK(r->getrandom.ret == 8);
  CHECK(r->getppid.err == EPERM);
  CHECK(r->getuid.err == EPERM);
}

TEST_CASE("sys::getppid as a rule set: getppid runs, getuid fails with EPERM") {
  struct results {
    outcome getppid, getuid;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(sys::getppid)) return 10;
    r->getppid = record([] { return ::syscall(SYS_getppid); });
    r->getuid = record([] { return ::syscall(SYS_getuid); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->getppid.ret > 0);
  CHECK(r->getuid.err == EPERM);
}

// ---------------------------------------------------------------------------------------------
// system_io

TEST_CASE("system_io::nothing: reading a pipe fails with EPERM") {
  test_pipe p("x");
  shared<outcome> r;
  const ending e = in_child([&] {
    if (!lock_down(io)) return 10;
    char c;
    *r = record([&] { return ::read(p.r.v, &c, 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->err == EPERM);
}

TEST_CASE("system_io::everything: open, write, read, stat, close run; ioctl and creat fail with EPERM") {
  temp_file f;
  test_pipe p;
  struct results {
    outcome open, write, lseek, read, fstat, close, ioctl, creat;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::system_io::everything())) return 10;
    int fd = -1;
    char buf[4];
    struct stat st {};
    int n = 0;
    r->open = record([&] { return as_long(fd = ::open(f.c_str(), O_RDWR)); });
    r->write = record([&] { return ::write(fd, "abc", 3); });
    r->lseek = record([&] { return static_cast<long>(::lseek(fd, 0, SEEK_SET)); });
    r->read = record([&] { return ::read(fd, buf, 3); });
    r->fstat = record([&] { return as_long(::fstat(fd, &st)); });
    r->close = record([&] { return as_long(::close(fd)); });
    r->ioctl = record([&] { return as_long(::ioctl(p.r.v, FIONREAD, &n)); });
    r->creat = record([&] { return as_long(::creat(f.c_str(), 0600)); });  // glibc: the creat syscall
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->open.ret >= 0);
  CHECK(r->write.ret == 3);
  CHECK(r->lseek.ret == 0);
  CHECK(r->read.ret == 3);
  CHECK(r->fstat.ret == 0);
  CHECK(r->close.ret == 0);
  CHECK(r->ioctl.err == EPERM);
  CHECK(r->creat.err == EPERM);
}

TEST_CASE("system_io::allow_read: read runs on a pipe, write fails with EPERM") {
  test_pipe p("xy");
  struct results {
    outcome read, readv, pread, write;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_read())) return 10;
    char c = 0;
    iovec v{&c, 1};
    r->read = record([&] { return ::read(p.r.v, &c, 1); });
    r->readv = record([&] { return ::readv(p.r.v, &v, 1); });
    r->pread = record([&] { return ::pread(p.r.v, &c, 1, 0); });  // allowed; a pipe cannot seek
    r->write = record([&] { return ::write(p.w.v, &c, 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->read.ret == 1);
  CHECK(r->readv.ret == 1);
  CHECK(r->pread.err == ESPIPE);
  CHECK(r->write.err == EPERM);
}

TEST_CASE("system_io::allow_write: write runs on a pipe, read fails with EPERM") {
  test_pipe p("x");
  struct results {
    outcome write, writev, fsync, read;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_write())) return 10;
    char c = 'w';
    iovec v{&c, 1};
    r->write = record([&] { return ::write(p.w.v, &c, 1); });
    r->writev = record([&] { return ::writev(p.w.v, &v, 1); });
    r->fsync = record([&] { return as_long(::fsync(p.w.v)); });  // allowed; a pipe cannot sync
    r->read = record([&] { return ::read(p.r.v, &c, 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->write.ret == 1);
  CHECK(r->writev.ret == 1);
  CHECK(r->fsync.err == EINVAL);
  CHECK(r->read.err == EPERM);
  CHECK(p.drain() == "xww");
}

TEST_CASE("system_io::allow_unlink: unlink removes a file, rmdir fails with EPERM") {
  temp_file f;
  struct results {
    outcome unlink, rmdir;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_unlink())) return 10;
    r->unlink = record([&] { return as_long(::unlink(f.c_str())); });
    r->rmdir = record([] { return as_long(::rmdir("/tmp/sysfence-no-such-directory")); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->unlink.ret == 0);
  CHECK(r->rmdir.err == EPERM);
  CHECK_FALSE(f.exists());
}

TEST_CASE("system_io::allow_open().yes_really(): open in any mode runs, creat fails with EPERM") {
  temp_file f;
  struct results {
    outcome open_rdwr, open_trunc, open_syscall, creat, close;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_open().yes_really())) return 10;
    int fd = -1;
    r->open_rdwr = record([&] { return as_long(fd = ::open(f.c_str(), O_RDWR)); });
    r->open_trunc = record([&] { return as_long(::open(f.c_str(), O_WRONLY | O_TRUNC)); });  // glibc: openat
    r->open_syscall = record([&] { return ::syscall(SYS_open, f.c_str(), O_RDONLY); });
    r->creat = record([&] { return as_long(::creat(f.c_str(), 0600)); });  // not in extrasafe's list
    r->close = record([&] { return as_long(::close(fd)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->open_rdwr.ret >= 0);
  CHECK(r->open_trunc.ret >= 0);
  CHECK(r->open_syscall.ret >= 0);
  CHECK(r->creat.err == EPERM);
  CHECK(r->close.err == EPERM);
  CHECK(f.size() == 0);  // O_TRUNC went through
}

TEST_CASE("system_io::allow_open_readonly: O_RDONLY runs; write, create, append, truncate fail with EPERM") {
  temp_file f("keep me\n");
  const std::string missing = f.path + ".new";
  struct results {
    outcome rdonly, directory, rdonly_syscall, wronly, rdwr, trunc, append, create, wronly_syscall, openat2;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_open_readonly())) return 10;
    const char* path = f.c_str();
    r->rdonly = record([&] { return as_long(::open(path, O_RDONLY)); });
    r->directory = record([] { return as_long(::open("/tmp", O_RDONLY | O_CLOEXEC | O_DIRECTORY)); });
    r->rdonly_syscall = record([&] { return ::syscall(SYS_open, path, O_RDONLY); });
    r->wronly = record([&] { return as_long(::open(path, O_WRONLY)); });
    r->rdwr = record([&] { return as_long(::open(path, O_RDWR)); });
    r->trunc = record([&] { return as_long(::open(path, O_RDONLY | O_TRUNC)); });
    r->append = record([&] { return as_long(::open(path, O_RDONLY | O_APPEND)); });
    r->create = record([&] { return as_long(::open(missing.c_str(), O_RDONLY | O_CREAT, 0600)); });
    r->wronly_syscall = record([&] { return ::syscall(SYS_open, path, O_WRONLY); });
    r->openat2 = record([&] {
      std::uint64_t how[3] = {O_RDONLY, 0, 0};  // struct open_how: the flags are behind a pointer
      return ::syscall(SYS_openat2, AT_FDCWD, path, how, sizeof how);
    });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->rdonly.ret >= 0);
  CHECK(r->directory.ret >= 0);
  CHECK(r->rdonly_syscall.ret >= 0);
  CHECK(r->wronly.err == EPERM);
  CHECK(r->rdwr.err == EPERM);
  CHECK(r->trunc.err == EPERM);
  CHECK(r->append.err == EPERM);
  CHECK(r->create.err == EPERM);
  CHECK(r->wronly_syscall.err == EPERM);
  CHECK(r->openat2.err == EPERM);
  CHECK(f.size() == 8);  // not truncated
  CHECK(::access(missing.c_str(), F_OK) != 0);
}

TEST_CASE(
    "system_io::allow_metadata: stat, fstat, getdents64, getcwd run; access and statfs fail with EPERM") {
  temp_file f;
  owned_fd file(::open(f.c_str(), O_RDONLY));
  owned_fd dir(::open("/tmp", O_RDONLY | O_DIRECTORY));
  REQUIRE(file.v >= 0);
  REQUIRE(dir.v >= 0);
  struct results {
    outcome stat, lstat, fstat, stat_syscall, getdents64, getcwd, access, statfs;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_metadata())) return 10;
    struct stat st {};
    char buf[4096];
    r->stat = record([&] { return as_long(::stat(f.c_str(), &st)); });    // glibc: newfstatat(AT_FDCWD)
    r->lstat = record([&] { return as_long(::lstat(f.c_str(), &st)); });  // glibc: newfstatat(AT_FDCWD)
    r->fstat = record([&] { return as_long(::fstat(file.v, &st)); });     // glibc: newfstatat(fd, "")
    r->stat_syscall = record([&] { return ::syscall(SYS_stat, f.c_str(), &st); });
    r->getdents64 = record([&] { return ::syscall(SYS_getdents64, dir.v, buf, sizeof buf); });
    r->getcwd = record([&] { return ::getcwd(buf, sizeof buf) != nullptr ? 0L : -1L; });
    r->access = record([&] { return as_long(::access(f.c_str(), R_OK)); });
    r->statfs = record([&] { return ::syscall(SYS_statfs, "/tmp", buf); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->stat.ret == 0);
  CHECK(r->lstat.ret == 0);
  CHECK(r->fstat.ret == 0);
  CHECK(r->stat_syscall.ret == 0);
  CHECK(r->getdents64.ret > 0);
  CHECK(r->getcwd.ret == 0);
  CHECK(r->access.err == EPERM);
  CHECK(r->statfs.err == EPERM);
}

TEST_CASE("system_io::allow_ioctl: ioctl(FIONREAD) and fcntl run, dup fails with EPERM") {
  test_pipe p("abc");
  struct results {
    outcome ioctl, fcntl, dup;
    int available = -1;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_ioctl())) return 10;
    int n = -1;
    r->ioctl = record([&] { return as_long(::ioctl(p.r.v, FIONREAD, &n)); });
    r->available = n;
    r->fcntl = record([&] { return as_long(::fcntl(p.r.v, F_GETFL)); });
    r->dup = record([&] { return as_long(::dup(p.r.v)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->ioctl.ret == 0);
  CHECK(r->available == 3);
  CHECK(r->fcntl.ret >= 0);
  CHECK(r->dup.err == EPERM);
}

// `pty` is a pseudo-terminal pair: TIOCSTI on the slave pushes bytes into its input queue, as if
// typed at the terminal (what a shell reads next).
struct pty {
  owned_fd master, slave;
  pty() {
    master.v = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master.v >= 0);
    REQUIRE(::grantpt(master.v) == 0);
    REQUIRE(::unlockpt(master.v) == 0);
    slave.v = ::open(::ptsname(master.v), O_RDWR | O_NOCTTY);
    REQUIRE(slave.v >= 0);
  }
};

// `terminal_injection` is ioctl TIOCSTI and TIOCLINUX (selection paste) on a terminal, and a
// harmless terminal request (TCGETS) beside them.
struct terminal_injection {
  outcome tiocsti, tiocsti_upper_half, tioclinux, tcgets;
};
void try_terminal_injection(const pty& t, terminal_injection& r) {
  char c = 'x';
  r.tiocsti = record([&] { return as_long(::ioctl(t.slave.v, TIOCSTI, &c)); });
  // The request is an unsigned int: bits above 32 do not make it another request.
  r.tiocsti_upper_half = record([&] { return ::syscall(SYS_ioctl, t.slave.v, (1UL << 32) | TIOCSTI, &c); });
  char paste[2] = {2, 0};  // TIOCL_PASTESEL
  r.tioclinux = record([&] { return as_long(::ioctl(t.slave.v, TIOCLINUX, paste)); });
  termios attrs{};
  r.tcgets = record([&] { return as_long(::ioctl(t.slave.v, TCGETS, &attrs)); });
}

TEST_CASE("control: without a filter, TIOCSTI types into a terminal here") {
  const pty t;
  shared<terminal_injection> r;
  const ending e = in_child([&] {
    try_terminal_injection(t, *r);
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->tiocsti.ret == 0);
  CHECK(r->tiocsti_upper_half.ret == 0);
  CHECK(r->tioclinux.err != EPERM);  // ENOTTY on a pty: TIOCLINUX is for virtual consoles
  CHECK(r->tcgets.ret == 0);
}

TEST_CASE("system_io::allow_ioctl: TIOCSTI and TIOCLINUX fail with EPERM, TCGETS runs") {
  const pty t;
  shared<terminal_injection> r;
  const ending e = in_child([&] {
    if (!lock_down(io.allow_ioctl())) return 10;
    try_terminal_injection(t, *r);
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->tiocsti.err == EPERM);
  CHECK(r->tiocsti_upper_half.err == EPERM);
  CHECK(r->tioclinux.err == EPERM);
  CHECK(r->tcgets.ret == 0);
}

TEST_CASE("networking: socket ioctls run (FIONBIO, FIONREAD, SIOCGIFINDEX); terminal ones fail with EPERM") {
  const pty t;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  const owned_fd a(moved_high(sv[0])), other(moved_high(sv[1]));
  REQUIRE(::write(other.v, "abc", 3) == 3);
  const owned_fd inet(moved_high(::socket(AF_INET, SOCK_DGRAM, 0)));
  REQUIRE(inet.v >= 0);
  struct results {
    terminal_injection terminal;
    outcome fionbio, fionread, ifindex;
    int available = -1, loopback = -1;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_tcp_clients())) return 10;
    int one = 1, n = -1;
    r->fionbio = record([&] { return as_long(::ioctl(a.v, FIONBIO, &one)); });
    r->fionread = record([&] { return as_long(::ioctl(a.v, FIONREAD, &n)); });
    r->available = n;
    ifreq req{};
    std::strcpy(req.ifr_name, "lo");
    r->ifindex = record([&] { return as_long(::ioctl(inet.v, SIOCGIFINDEX, &req)); });  // if_nametoindex
    r->loopback = req.ifr_ifindex;
    try_terminal_injection(t, r->terminal);
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->fionbio.ret == 0);
  CHECK(r->fionread.ret == 0);
  CHECK(r->available == 3);
  CHECK(r->ifindex.ret == 0);
  CHECK(r->loopback > 0);
  CHECK(r->terminal.tiocsti.err == EPERM);
  CHECK(r->terminal.tiocsti_upper_half.err == EPERM);
  CHECK(r->terminal.tioclinux.err == EPERM);
  CHECK(r->terminal.tcgets.err == EPERM);
}

TEST_CASE("system_io::allow_close: close and close_range run, dup fails with EPERM") {
  test_pipe p;
  struct results {
    outcome close, close_range, dup;
  };
  shared<results> r;
  const ending e = in_child([&] {
    const int a = ::dup(p.r.v);
    const int c = ::dup(p.r.v);
    if (!lock_down(io.allow_close())) return 10;
    r->close = record([&] { return as_long(::close(a)); });
    r->close_range = record([&] { return ::syscall(SYS_close_range, c, c, 0); });
    r->dup = record([&] { return as_long(::dup(p.r.v)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->close.ret == 0);
  CHECK(r->close_range.ret == 0);
  CHECK(r->dup.err == EPERM);
}

TEST_CASE("system_io::allow_stdin: read(0) runs, reading another fd fails with EPERM") {
  test_pipe in("in");
  test_pipe other("other");
  struct results {
    outcome read0, read_other, write1;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (::dup2(in.r.v, 0) != 0) return 11;
    if (!lock_down(io.allow_stdin())) return 10;
    char buf[2];
    r->read0 = record([&] { return ::read(0, buf, 2); });
    r->read_other = record([&] { return ::read(other.r.v, buf, 2); });
    r->write1 = record([&] { return ::write(1, "", 0); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->read0.ret == 2);
  CHECK(r->read_other.err == EPERM);
  CHECK(r->write1.err == EPERM);
}

TEST_CASE("system_io::allow_stdout: write(1) runs; write(2) and write(3) fail with EPERM") {
  test_pipe out;
  struct results {
    outcome write1, write2, write3, read0;
  };
  shared<results> r;
  const ending e = in_child([&] {
    // Both streams into the pipe: the test's own output stays clean, and what got through shows.
    if (::dup2(out.w.v, 1) != 1 || ::dup2(out.w.v, 2) != 2 || ::dup2(out.w.v, 3) != 3) return 11;
    if (!lock_down(io.allow_stdout())) return 10;
    char c;
    r->write1 = record([] { return ::write(1, "1", 1); });
    r->write2 = record([] { return ::write(2, "2", 1); });
    r->write3 = record([] { return ::write(3, "3", 1); });
    r->read0 = record([&] { return ::read(0, &c, 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->write1.ret == 1);
  CHECK(r->write2.err == EPERM);
  CHECK(r->write3.err == EPERM);
  CHECK(r->read0.err == EPERM);
  CHECK(out.drain() == "1");
}

TEST_CASE("system_io::allow_stdout: printf works, though glibc's first-use fstat(1) probe fails with EPERM") {
  test_pipe out;
  struct results {
    outcome printf, fflush;
  };
  shared<results> r;
  std::fflush(nullptr);  // nothing of this process's buffers may reach the child's stdout
  const ending e = in_child([&] {
    if (::dup2(out.w.v, 1) != 1) return 11;
    if (!lock_down(io.allow_stdout())) return 10;
    r->printf = record([] { return as_long(std::printf("printf %d\n", 42)); });
    r->fflush = record([] { return as_long(std::fflush(stdout)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->printf.ret == 10);
  CHECK(r->fflush.ret == 0);
  CHECK(out.drain() == "printf 42\n");
}

TEST_CASE("system_io::allow_stderr: write(2) runs; write(1) and write(3) fail with EPERM") {
  test_pipe out;
  struct results {
    outcome write2, write1, write3;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (::dup2(out.w.v, 1) != 1 || ::dup2(out.w.v, 2) != 2 || ::dup2(out.w.v, 3) != 3) return 11;
    if (!lock_down(io.allow_stderr())) return 10;
    r->write2 = record([] { return ::write(2, "2", 1); });
    r->write1 = record([] { return ::write(1, "1", 1); });
    r->write3 = record([] { return ::write(3, "3", 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->write2.ret == 1);
  CHECK(r->write1.err == EPERM);
  CHECK(r->write3.err == EPERM);
  CHECK(out.drain() == "2");
}

TEST_CASE("system_io::allow_stdout().allow_stderr(): writes to 1 and 2 run, to 3 fails with EPERM") {
  test_pipe out;
  struct results {
    outcome write1, write2, write3;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (::dup2(out.w.v, 1) != 1 || ::dup2(out.w.v, 2) != 2 || ::dup2(out.w.v, 3) != 3) return 11;
    if (!lock_down(io.allow_stdout().allow_stderr())) return 10;
    r->write1 = record([] { return ::write(1, "1", 1); });
    r->write2 = record([] { return ::write(2, "2", 1); });
    r->write3 = record([] { return ::write(3, "3", 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->write1.ret == 1);
  CHECK(r->write2.ret == 1);
  CHECK(r->write3.err == EPERM);
  CHECK(out.drain() == "12");
}

TEST_CASE(
    "system_io::allow_file_read(3): read and fstat of fd 3 run, and fd 3 + 2^32 (the kernel reads fd 3); "
    "fd 4, stat fail with EPERM") {
  test_pipe three("abc");
  test_pipe four("def");
  temp_file f;
  struct results {
    outcome read3, fstat3, lseek3, read4, read3_high, fstat4, stat, stat_syscall, getcwd;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (::dup2(three.r.v, 3) != 3 || ::dup2(four.r.v, 4) != 4) return 11;
    if (!lock_down(io.allow_file_read(3))) return 10;
    char buf[64];
    struct stat st {};
    r->read3 = record([&] { return ::read(3, buf, 1); });
    r->fstat3 = record([&] { return as_long(::fstat(3, &st)); });  // glibc: newfstatat(3, "", AT_EMPTY_PATH)
    r->lseek3 =
        record([] { return static_cast<long>(::lseek(3, 0, SEEK_CUR)); });  // allowed; pipes cannot seek
    r->read4 = record([&] { return ::read(4, buf, 1); });
    r->read3_high = record([&] { return ::syscall(SYS_read, (std::uint64_t{1} << 32) | 3U, buf, 1); });
    r->fstat4 = record([&] { return as_long(::fstat(4, &st)); });
    r->stat = record([&] { return as_long(::stat(f.c_str(), &st)); });  // newfstatat(AT_FDCWD): not fd 3
    r->stat_syscall = record([&] { return ::syscall(SYS_stat, f.c_str(), &st); });  // pointer first: denied
    r->getcwd = record([&] { return ::syscall(SYS_getcwd, buf, sizeof buf); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->read3.ret == 1);
  CHECK(r->fstat3.ret == 0);
  CHECK(r->lseek3.err == ESPIPE);
  CHECK(r->read4.err == EPERM);
  CHECK(r->read3_high.ret == 1);  // read(unsigned int fd): the kernel reads fd 3
  CHECK(r->fstat4.err == EPERM);
  CHECK(r->stat.err == EPERM);
  CHECK(r->stat_syscall.err == EPERM);
  CHECK(r->getcwd.err == EPERM);
}

TEST_CASE(
    "system_io::allow_file_write(3): write to fd 3 runs, and fd 3 + 2^32 (the kernel writes to fd 3); "
    "fd 4, writev fail with EPERM") {
  test_pipe three;
  test_pipe four;
  struct results {
    outcome write3, write4, write3_high, writev3, read3;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (::dup2(three.w.v, 3) != 3 || ::dup2(four.w.v, 4) != 4) return 11;
    if (!lock_down(io.allow_file_write(3))) return 10;
    char c = 'x';
    iovec v{&c, 1};
    r->write3 = record([&] { return ::write(3, &c, 1); });
    r->write4 = record([&] { return ::write(4, &c, 1); });
    r->write3_high = record([&] { return ::syscall(SYS_write, (std::uint64_t{1} << 32) | 3U, &c, 1); });
    r->writev3 = record([&] { return ::writev(3, &v, 1); });  // extrasafe's allow_file_write is write alone
    r->read3 = record([&] { return ::read(3, &c, 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->write3.ret == 1);
  CHECK(r->write4.err == EPERM);
  CHECK(r->write3_high.ret == 1);  // write(unsigned int fd): the kernel writes to fd 3
  CHECK(r->writev3.err == EPERM);
  CHECK(r->read3.err == EPERM);
  CHECK(three.drain() == "xx");
  CHECK(four.drain().empty());
}

TEST_CASE("system_io::allow_file_read(3).allow_file_read(5): two files read, fd 4 fails with EPERM") {
  test_pipe three("33");
  test_pipe four("44");
  test_pipe five("55");
  struct results {
    outcome read3, read5, read4;
  };
  auto run = [&](const auto& policy) {
    shared<results> r;
    const ending e = in_child([&] {
      if (::dup2(three.r.v, 3) != 3 || ::dup2(four.r.v, 4) != 4 || ::dup2(five.r.v, 5) != 5) return 11;
      if (!policy.try_apply_to_current_thread()) return 10;
      char c;
      r->read3 = record([&] { return ::read(3, &c, 1); });
      r->read5 = record([&] { return ::read(5, &c, 1); });
      r->read4 = record([&] { return ::read(4, &c, 1); });
      return 0;
    });
    REQUIRE_CLEAN_EXIT(e);
    CHECK(r->read3.ret == 1);
    CHECK(r->read5.ret == 1);
    CHECK(r->read4.err == EPERM);
  };
  SUBCASE("one rule set") { run(safety_context{}.enable(io.allow_file_read(3).allow_file_read(5))); }
  SUBCASE("two rule sets") {
    run(safety_context{}.enable(io.allow_file_read(3)).enable(io.allow_file_read(5)));
  }
}

TEST_CASE("system_io: allow_file_read(3) with allow_file_write(4), in either order, keeps the fds apart") {
  test_pipe three("abc");
  test_pipe four;
  struct results {
    outcome read3, write4, write3, read4;
  };
  auto run = [&](const auto& set) {
    shared<results> r;
    const ending e = in_child([&] {
      if (::dup2(three.r.v, 3) != 3 || ::dup2(four.w.v, 4) != 4) return 11;
      if (!lock_down(set)) return 10;
      char c = 'w';
      r->read3 = record([&] { return ::read(3, &c, 1); });
      r->write4 = record([&] { return ::write(4, &c, 1); });
      r->write3 = record([&] { return ::write(3, &c, 1); });
      r->read4 = record([&] { return ::read(4, &c, 1); });
      return 0;
    });
    REQUIRE_CLEAN_EXIT(e);
    CHECK(r->read3.ret == 1);
    CHECK(r->write4.ret == 1);
    CHECK(r->write3.err == EPERM);
    CHECK(r->read4.err == EPERM);
  };
  SUBCASE("read first") { run(io.allow_file_read(3).allow_file_write(4)); }
  SUBCASE("write first") { run(io.allow_file_write(4).allow_file_read(3)); }
}

// ---------------------------------------------------------------------------------------------
// networking

TEST_CASE(
    "networking::allow_running_tcp_servers: accept runs on a listener; socket and bind fail with EPERM") {
  tcp_listener l;
  owned_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(::connect(client.v, as_sockaddr(&l.addr), sizeof l.addr) == 0);
  struct results {
    outcome accept, send, socket, bind;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_tcp_servers())) return 10;
    int conn = -1;
    const sockaddr_in any = ipv4_loopback();
    r->accept = record([&] { return as_long(conn = ::accept4(l.fd.v, nullptr, nullptr, SOCK_CLOEXEC)); });
    r->send = record([&] { return ::send(conn, "x", 1, MSG_NOSIGNAL); });
    r->socket = record([] { return as_long(::socket(AF_INET, SOCK_STREAM, 0)); });
    r->bind = record([&] { return as_long(::bind(l.fd.v, as_sockaddr(&any), sizeof any)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->accept.ret >= 0);
  CHECK(r->send.ret == 1);
  CHECK(r->socket.err == EPERM);
  CHECK(r->bind.err == EPERM);
}

TEST_CASE(
    "networking::allow_running_udp_sockets: sendto and recvfrom run; socket and connect fail with EPERM") {
  owned_fd u(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = ipv4_loopback();
  REQUIRE(::bind(u.v, as_sockaddr(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(u.v, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  struct results {
    outcome sendto, recvfrom, socket, connect;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_udp_sockets())) return 10;
    char c;
    r->sendto = record([&] { return ::sendto(u.v, "x", 1, 0, as_sockaddr(&addr), sizeof addr); });
    r->recvfrom = record([&] { return ::recvfrom(u.v, &c, 1, 0, nullptr, nullptr); });
    r->socket = record([] { return as_long(::socket(AF_INET, SOCK_DGRAM, 0)); });
    r->connect = record([&] { return as_long(::connect(u.v, as_sockaddr(&addr), sizeof addr)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->sendto.ret == 1);
  CHECK(r->recvfrom.ret == 1);
  CHECK(r->socket.err == EPERM);
  CHECK(r->connect.err == EPERM);
}

TEST_CASE("networking::allow_running_tcp_clients: send and recv run; connect and socket fail with EPERM") {
  tcp_listener l;
  owned_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(::connect(client.v, as_sockaddr(&l.addr), sizeof l.addr) == 0);
  owned_fd server(::accept4(l.fd.v, nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(server.v >= 0);
  REQUIRE(::send(server.v, "s", 1, MSG_NOSIGNAL) == 1);
  struct results {
    outcome send, recv, connect, socket;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_tcp_clients())) return 10;
    char c;
    r->send = record([&] { return ::send(client.v, "c", 1, MSG_NOSIGNAL); });
    r->recv = record([&] { return ::recv(client.v, &c, 1, 0); });
    r->connect = record([&] { return as_long(::connect(client.v, as_sockaddr(&l.addr), sizeof l.addr)); });
    r->socket = record([] { return as_long(::socket(AF_INET, SOCK_STREAM, 0)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->send.ret == 1);
  CHECK(r->recv.ret == 1);
  CHECK(r->connect.err == EPERM);
  CHECK(r->socket.err == EPERM);
}

TEST_CASE(
    "networking::allow_running_unix_servers: accept runs on a Unix listener; socket and bind fail with "
    "EPERM") {
  const abstract_address where("running-unix-server");
  owned_fd l(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(::bind(l.v, as_sockaddr(&where.addr), where.len) == 0);
  REQUIRE(::listen(l.v, 8) == 0);
  owned_fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(::connect(client.v, as_sockaddr(&where.addr), where.len) == 0);
  struct results {
    outcome accept, socket, bind;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_unix_servers())) return 10;
    r->accept = record([&] { return as_long(::accept4(l.v, nullptr, nullptr, SOCK_CLOEXEC)); });
    r->socket = record([] { return as_long(::socket(AF_UNIX, SOCK_STREAM, 0)); });
    r->bind = record([&] { return as_long(::bind(l.v, as_sockaddr(&where.addr), where.len)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->accept.ret >= 0);
  CHECK(r->socket.err == EPERM);
  CHECK(r->bind.err == EPERM);
}

TEST_CASE(
    "networking::allow_running_unix_clients: sendmsg, recvmsg, epoll run; socketpair and connect fail with "
    "EPERM") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  owned_fd a(sv[0]);
  owned_fd b_(sv[1]);
  const abstract_address where("running-unix-client");
  struct results {
    outcome sendmsg, recvmsg, epoll, socketpair, connect;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_running_unix_clients())) return 10;
    char c = 'm';
    iovec v{&c, 1};
    msghdr m{};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    int pair[2];
    r->sendmsg = record([&] { return ::sendmsg(a.v, &m, MSG_NOSIGNAL); });
    r->recvmsg = record([&] { return ::recvmsg(b_.v, &m, 0); });
    r->epoll = record([] { return as_long(::epoll_create1(EPOLL_CLOEXEC)); });
    r->socketpair = record([&] { return as_long(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair)); });
    r->connect = record([&] { return as_long(::connect(a.v, as_sockaddr(&where.addr), where.len)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->sendmsg.ret == 1);
  CHECK(r->recvmsg.ret == 1);
  CHECK(r->epoll.ret >= 0);
  CHECK(r->socketpair.err == EPERM);
  CHECK(r->connect.err == EPERM);
}

TEST_CASE(
    "networking::allow_start_tcp_servers: TCP socket, bind, listen run; raw, netlink, UDP, Unix sockets fail "
    "with EPERM") {
  struct results {
    outcome socket, bind, listen, socket6, raw, netlink, udp, unix_, connect;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_start_tcp_servers().yes_really())) return 10;
    int s = -1;
    const sockaddr_in addr = ipv4_loopback();
    r->socket = record([&] { return as_long(s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
    r->bind = record([&] { return as_long(::bind(s, as_sockaddr(&addr), sizeof addr)); });
    r->listen = record([&] { return as_long(::listen(s, 8)); });
    r->socket6 = record([] { return as_long(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)); });
    r->raw = record([] { return as_long(::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)); });
    r->netlink = record([] { return as_long(::socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)); });
    r->udp = record([] { return as_long(::socket(AF_INET, SOCK_DGRAM, 0)); });
    r->unix_ = record([] { return as_long(::socket(AF_UNIX, SOCK_STREAM, 0)); });
    r->connect = record([&] { return as_long(::connect(s, as_sockaddr(&addr), sizeof addr)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->socket.ret >= 0);
  CHECK(r->bind.ret == 0);
  CHECK(r->listen.ret == 0);
  CHECK(r->socket6.err != EPERM);  // allowed; EAFNOSUPPORT where IPv6 is off
  CHECK(r->raw.err == EPERM);
  CHECK(r->netlink.err == EPERM);
  CHECK(r->udp.err == EPERM);
  CHECK(r->unix_.err == EPERM);
  CHECK(r->connect.err == EPERM);
}

TEST_CASE(
    "networking::allow_start_udp_servers: UDP socket, bind, sendto, recvfrom run; TCP and packet sockets "
    "fail with EPERM") {
  struct results {
    outcome socket, bind, sendto, recvfrom, tcp, packet, connect;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_start_udp_servers().yes_really())) return 10;
    int s = -1;
    sockaddr_in addr = ipv4_loopback();
    socklen_t len = sizeof addr;
    char c;
    r->socket = record([&] { return as_long(s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); });
    r->bind = record([&] { return as_long(::bind(s, as_sockaddr(&addr), sizeof addr)); });
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    r->sendto = record([&] { return ::sendto(s, "u", 1, 0, as_sockaddr(&addr), sizeof addr); });
    r->recvfrom = record([&] { return ::recvfrom(s, &c, 1, 0, nullptr, nullptr); });
    r->tcp = record([] { return as_long(::socket(AF_INET, SOCK_STREAM, 0)); });
    r->packet = record([] { return as_long(::socket(AF_PACKET, SOCK_DGRAM, 0)); });
    r->connect = record([&] { return as_long(::connect(s, as_sockaddr(&addr), sizeof addr)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->socket.ret >= 0);
  CHECK(r->bind.ret == 0);
  CHECK(r->sendto.ret == 1);
  CHECK(r->recvfrom.ret == 1);
  CHECK(r->tcp.err == EPERM);
  CHECK(r->packet.err == EPERM);
  CHECK(r->connect.err == EPERM);
}

TEST_CASE("networking::allow_connect().yes_really(): connect runs; socket and send fail with EPERM") {
  tcp_listener l;
  owned_fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(client.v >= 0);
  struct results {
    outcome connect, socket, send;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_connect().yes_really())) return 10;
    r->connect = record([&] { return as_long(::connect(client.v, as_sockaddr(&l.addr), sizeof l.addr)); });
    r->socket = record([] { return as_long(::socket(AF_INET, SOCK_STREAM, 0)); });
    r->send = record([&] { return ::send(client.v, "x", 1, MSG_NOSIGNAL); });  // connect alone: no I/O
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->connect.ret == 0);
  CHECK(r->socket.err == EPERM);
  CHECK(r->send.err == EPERM);
}

TEST_CASE(
    "networking::allow_start_tcp_clients: TCP socket, connect, send run; bind and UDP sockets fail with "
    "EPERM") {
  tcp_listener l;
  struct results {
    outcome socket, connect, send, bind, udp;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_start_tcp_clients())) return 10;
    int s = -1;
    const sockaddr_in any = ipv4_loopback();
    r->socket = record([&] { return as_long(s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
    r->connect = record([&] { return as_long(::connect(s, as_sockaddr(&l.addr), sizeof l.addr)); });
    r->send = record([&] { return ::send(s, "x", 1, MSG_NOSIGNAL); });
    r->bind = record([&] { return as_long(::bind(s, as_sockaddr(&any), sizeof any)); });
    r->udp = record([] { return as_long(::socket(AF_INET, SOCK_DGRAM, 0)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->socket.ret >= 0);
  CHECK(r->connect.ret == 0);
  CHECK(r->send.ret == 1);
  CHECK(r->bind.err == EPERM);
  CHECK(r->udp.err == EPERM);
}

TEST_CASE(
    "networking::allow_start_unix_servers: Unix socket and bind run; SOCK_SEQPACKET and AF_INET fail with "
    "EPERM") {
  const abstract_address where("start-unix-server");
  struct results {
    outcome socket, bind, listen, dgram, seqpacket, inet, connect;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(net.allow_start_unix_servers().yes_really())) return 10;
    int s = -1;
    r->socket = record([&] { return as_long(s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
    r->bind = record([&] { return as_long(::bind(s, as_sockaddr(&where.addr), where.len)); });
    r->listen = record([&] { return as_long(::listen(s, 8)); });
    r->dgram = record([] { return as_long(::socket(AF_UNIX, SOCK_DGRAM, 0)); });
    r->seqpacket =
        record([] { return as_long(::socket(AF_UNIX, SOCK_SEQPACKET, 0)); });  // extrasafe: allowed
    r->inet = record([] { return as_long(::socket(AF_INET, SOCK_STREAM, 0)); });
    r->connect = record([&] { return as_long(::connect(s, as_sockaddr(&where.addr), where.len)); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->socket.ret >= 0);
  CHECK(r->bind.ret == 0);
  CHECK(r->listen.ret == 0);
  CHECK(r->dgram.ret >= 0);
  CHECK(r->seqpacket.err == EPERM);
  CHECK(r->inet.err == EPERM);
  CHECK(r->connect.err == EPERM);
}

// ---------------------------------------------------------------------------------------------
// threads, fork_and_exec, pipes, time

// The namespace flags clone takes (CLONE_NEWTIME only through clone3 and unshare).
constexpr std::array<unsigned long, 7> namespace_flags{CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                                       CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};

// `raw_clone` is clone(flags) as a process would call it, the child exiting at once; -1 and errno
// when refused, the child's pid (reaped) when not.
long raw_clone(unsigned long flags) {
  const long pid = ::syscall(SYS_clone, flags, 0L, 0L, 0L, 0L);
  if (pid == 0) ::syscall(SYS_exit_group, 0);
  if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, __WALL);
  return pid;
}

// `namespace_clones` is clone with each namespace flag, and with the three that extrasafe's
// unconditional clone let through together (user, mount and network: the usual escalation start).
struct namespace_clones {
  std::array<outcome, namespace_flags.size()> each;
  outcome together;
};
void try_namespace_clones(namespace_clones& r) {
  for (std::size_t i = 0; i < namespace_flags.size(); ++i)
    r.each[i] = record([&] { return raw_clone(namespace_flags[i] | SIGCHLD); });
  r.together = record([] { return raw_clone(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD); });
}
void check_namespace_clones_refused(const namespace_clones& r) {
  for (std::size_t i = 0; i < namespace_flags.size(); ++i) {
    INFO("clone with namespace flag " << std::hex << namespace_flags[i] << ": ret " << std::dec << r.each[i].ret);
    CHECK(r.each[i].err == EPERM);
  }
  CHECK(r.together.err == EPERM);
}

TEST_CASE("control: without a filter, this kernel creates every namespace clone asks for (as root)") {
  shared<namespace_clones> r;
  const ending e = in_child([&] {
    try_namespace_clones(*r);
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  for (const outcome& o : r->each) CHECK(o.ret > 0);
  CHECK(r->together.ret > 0);
}

TEST_CASE("threads::allow_create: a std::thread starts and joins; fork, clone3 and namespaces do not") {
  struct results {
    std::atomic<int> ran{0};
    outcome fork_syscall, glibc_fork, clone_sigchld, clone3;
    namespace_clones namespaces;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::threads::nothing().allow_create())) return 10;
    // glibc tries clone3 first, gets ENOSYS and falls back to clone with the thread flags.
    std::thread t([&] { r->ran.store(1); });
    t.join();
    r->fork_syscall = record([] {
      const long pid = ::syscall(SYS_fork);
      if (pid == 0) ::_exit(0);
      return pid;
    });
    // glibc's fork() is clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD): not a thread.
    r->glibc_fork = record([] {
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(0);
      return as_long(pid);
    });
    r->clone_sigchld = record([] { return raw_clone(SIGCHLD); });
    r->clone3 = record([] {
      std::uint64_t args[11] = {};  // struct clone_args, exit_signal SIGCHLD
      args[4] = SIGCHLD;
      const long pid = ::syscall(SYS_clone3, args, sizeof args);
      if (pid == 0) ::syscall(SYS_exit_group, 0);
      return pid;
    });
    try_namespace_clones(r->namespaces);
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->ran.load() == 1);
  CHECK(r->fork_syscall.err == EPERM);
  CHECK(r->glibc_fork.err == EPERM);
  CHECK(r->clone_sigchld.err == EPERM);
  CHECK(r->clone3.err == ENOSYS);
  check_namespace_clones_refused(r->namespaces);
}

TEST_CASE("threads::allow_sleep().yes_really(): nanosleep runs; clock_gettime fails with EPERM") {
  struct results {
    outcome nanosleep, nanosleep_syscall, clock_gettime;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::threads::nothing().allow_sleep().yes_really())) return 10;
    const timespec ms{0, 1000000};
    timespec now{};
    r->nanosleep = record([&] { return as_long(::nanosleep(&ms, nullptr)); });  // glibc: clock_nanosleep
    r->nanosleep_syscall = record([&] { return ::syscall(SYS_nanosleep, &ms, nullptr); });
    r->clock_gettime = record([&] { return ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->nanosleep.ret == 0);
  CHECK(r->nanosleep_syscall.ret == 0);
  CHECK(r->clock_gettime.err == EPERM);
}

TEST_CASE("fork_and_exec: fork and waitpid run, execve gets past the filter; kill and pipe fail with EPERM") {
  struct results {
    outcome fork, waitpid, fork_syscall, wait_syscall, execve, kill, pipe, clone3;
    int status = -1;
    std::atomic<int> thread_ran{0};
    namespace_clones namespaces;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::fork_and_exec{})) return 10;
    pid_t pid = -1;
    int status = 0;
    r->fork = record([&] {
      pid = ::fork();  // glibc: clone(SIGCHLD)
      if (pid == 0) ::_exit(7);
      return as_long(pid);
    });
    r->waitpid = record([&] { return as_long(::waitpid(pid, &status, 0)); });  // glibc: wait4
    r->status = status;
    r->fork_syscall = record([&] {
      const long child = ::syscall(SYS_fork);
      if (child == 0) ::_exit(0);
      return child;
    });
    r->wait_syscall = record([&] { return ::syscall(SYS_wait4, -1, nullptr, 0, nullptr); });
    r->execve = record([] {
      char* const argv[] = {nullptr};
      return as_long(::execve("/sysfence-no-such-program", argv, argv));
    });
    r->kill = record([] { return ::syscall(SYS_kill, ::getpid(), 0); });
    int p[2];
    r->pipe = record([&] { return as_long(::pipe(p)); });  // extrasafe adds pipes on musl only
    // clone without namespace flags is allowed (the thread below), with them it is not.
    std::thread t([&] { r->thread_ran.store(1); });
    t.join();
    try_namespace_clones(r->namespaces);
    r->clone3 = record([] {
      std::uint64_t args[11] = {};
      args[4] = SIGCHLD;
      const long pid = ::syscall(SYS_clone3, args, sizeof args);
      if (pid == 0) ::syscall(SYS_exit_group, 0);
      return pid;
    });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->thread_ran.load() == 1);
  check_namespace_clones_refused(r->namespaces);
  CHECK(r->clone3.err == ENOSYS);
  CHECK(r->fork.ret > 0);
  CHECK(r->waitpid.ret == r->fork.ret);
  CHECK(WIFEXITED(r->status));
  CHECK(WEXITSTATUS(r->status) == 7);
  CHECK(r->fork_syscall.ret > 0);
  CHECK(r->wait_syscall.ret == r->fork_syscall.ret);
  CHECK(r->execve.err == ENOENT);
  CHECK(r->kill.err == EPERM);
  CHECK(r->pipe.err == EPERM);
}

TEST_CASE("pipes: pipe and pipe2 run; socketpair and writing to the pipe fail with EPERM") {
  struct results {
    outcome pipe, pipe2, pipe_syscall, socketpair, write;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::pipes{})) return 10;
    int p[2] = {-1, -1};
    int q[2];
    r->pipe = record([&] { return as_long(::pipe(p)); });  // glibc: pipe2(p, 0)
    r->pipe2 = record([&] { return as_long(::pipe2(q, O_CLOEXEC)); });
    r->pipe_syscall = record([&] { return ::syscall(SYS_pipe, q); });
    r->socketpair = record([&] { return as_long(::socketpair(AF_UNIX, SOCK_STREAM, 0, q)); });
    r->write = record([&] { return ::write(p[1], "x", 1); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->pipe.ret == 0);
  CHECK(r->pipe2.ret == 0);
  CHECK(r->pipe_syscall.ret == 0);
  CHECK(r->socketpair.err == EPERM);
  CHECK(r->write.err == EPERM);
}

TEST_CASE(
    "time::allow_gettime: the clock_gettime and clock_getres syscalls run; gettimeofday fails with EPERM") {
  struct results {
    outcome clock_gettime, clock_getres, gettimeofday, clock_nanosleep;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!lock_down(b::time::nothing().allow_gettime())) return 10;
    timespec ts{};
    timeval tv{};
    r->clock_gettime = record([&] { return ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); });
    r->clock_getres = record([&] { return ::syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts); });
    r->gettimeofday = record([&] { return ::syscall(SYS_gettimeofday, &tv, nullptr); });
    r->clock_nanosleep = record([&] {
      ts = {0, 1000};
      return ::syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, nullptr);
    });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->clock_gettime.ret == 0);
  CHECK(r->clock_getres.ret == 0);
  CHECK(r->gettimeofday.err == EPERM);
  CHECK(r->clock_nanosleep.err == EPERM);
}

TEST_CASE("without time, glibc's clock_gettime still answers from the vDSO; the syscall fails with EPERM") {
  struct results {
    outcome glibc, syscall;
  };
  shared<results> r;
  const ending e = in_child([&] {
    if (!safety_context{}.try_apply_to_current_thread()) return 10;
    timespec ts{};
    r->glibc = record([&] { return as_long(::clock_gettime(CLOCK_MONOTONIC, &ts)); });
    r->syscall = record([&] { return ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); });
    return 0;
  });
  REQUIRE_CLEAN_EXIT(e);
  CHECK(r->glibc.ret == 0);
  CHECK(r->syscall.err == EPERM);
}
