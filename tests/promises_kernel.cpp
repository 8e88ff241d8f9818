// SPDX-License-Identifier: MIT
// promises_kernel.cpp - each promise pledged in a forked child: a representative call runs (or
// fails with the kernel's own error), a neighbour outside the promises is refused by the filter.
#include "sysfence/promises.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"

using namespace sysfence;
using namespace kernel_test;

namespace {

// `two_calls` is what a pledged child saw: the representative call and its neighbour.
struct two_calls {
  outcome allowed;
  outcome refused;
  bool pledged = false;
};

// `directory` is a fresh temporary directory with a file "f" in it, removed afterwards.
struct directory {
  std::string path;
  directory() {
    char name[] = "/tmp/sysfence_promises_XXXXXX";
    path = ::mkdtemp(name);
    const int fd = ::open((path + "/f").c_str(), O_CREAT | O_WRONLY, 0600);
    (void)::write(fd, "x", 1);
    ::close(fd);
  }
  ~directory() { (void)std::system(("rm -rf " + path).c_str()); }
  [[nodiscard]] std::string operator/(std::string_view name) const { return path + "/" + std::string(name); }
};

// `under` forks a child that runs `setup`, pledges `promises` (EPERM for the rest) and makes both
// calls; it checks the child ended normally and the neighbour was refused with EPERM.
template <class Setup, class Allowed, class Refused>
two_calls under(std::string_view promises, Setup setup, Allowed allowed, Refused refused) {
  shared<two_calls> r;
  const ending e = in_child([&] {
    setup();
    pledge(promises, action::error(EPERM));
    r->pledged = true;
    r->allowed = record(allowed);
    r->refused = record(refused);
    return 0;
  });
  CHECK_MESSAGE(e.exited, promises);
  CHECK_MESSAGE(r->pledged, promises);
  CHECK_MESSAGE(r->refused.ret == -1, promises);
  CHECK_MESSAGE(r->refused.err == EPERM, promises);
  return *r;
}
template <class Allowed, class Refused>
two_calls under(std::string_view promises, Allowed allowed, Refused refused) {
  return under(
      promises, [] {}, allowed, refused);
}

// Descriptors a setup opens before pledging, for the calls after it.
int fd_a = -1;
int fd_b = -1;

}  // namespace

TEST_CASE("no promise: only exiting") {
  const auto r = under(
      "", [] { return 0L; }, [] { return ::syscall(SYS_getpid); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("stdio: write, memory and threads run; open, PROT_EXEC and fork are refused") {
  auto r = under(
      "stdio", [] { return ::write(STDOUT_FILENO, "", 0); },
      [] { return static_cast<long>(::openat(AT_FDCWD, "/etc/hostname", O_RDONLY)); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio",
      [] {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? -1L : 0L;
      },
      [] {
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? -1L : 0L;
      });
  CHECK(r.allowed.ret == 0);
  // A thread starts (glibc's clone3 gets ENOSYS, then clone with a thread's flags); fork's clone is refused.
  r = under(
      "stdio",
      [] {
        int ran = 0;
        std::thread t([&] { ran = 1; });
        t.join();
        return ran == 1 ? 0L : -2L;
      },
      [] { return static_cast<long>(::fork()); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("rpath: read-only open runs; open for writing is refused") {
  const directory d;
  const std::string f = d / "f";
  const auto r = under(
      "stdio rpath", [&] { return static_cast<long>(::openat(AT_FDCWD, f.c_str(), O_RDONLY)); },
      [&] { return static_cast<long>(::openat(AT_FDCWD, f.c_str(), O_WRONLY)); });
  CHECK(r.allowed.ret >= 0);
}

TEST_CASE("wpath: open for writing runs; creating is refused") {
  const directory d;
  const std::string f = d / "f", g = d / "g";
  const auto r = under(
      "stdio wpath", [&] { return static_cast<long>(::openat(AT_FDCWD, f.c_str(), O_WRONLY)); },
      [&] { return static_cast<long>(::openat(AT_FDCWD, g.c_str(), O_WRONLY | O_CREAT, 0600)); });
  CHECK(r.allowed.ret >= 0);
}

TEST_CASE("cpath: with wpath creating runs; alone it makes directories but opens nothing") {
  const directory d;
  const std::string g = d / "g", sub = d / "sub", h = d / "h";
  auto r = under(
      "stdio wpath cpath",
      [&] { return static_cast<long>(::openat(AT_FDCWD, g.c_str(), O_WRONLY | O_CREAT, 0600)); },
      [&] { return static_cast<long>(::openat(AT_FDCWD, h.c_str(), O_WRONLY | O_CREAT, 04755)); });
  CHECK(r.allowed.ret >= 0);
  r = under(
      "stdio cpath", [&] { return static_cast<long>(::mkdirat(AT_FDCWD, sub.c_str(), 0700)); },
      [&] { return static_cast<long>(::openat(AT_FDCWD, h.c_str(), O_WRONLY | O_CREAT, 0600)); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("dpath: a FIFO is made; a regular file by mknod is refused") {
  const directory d;
  const std::string p = d / "p", q = d / "q";
  const auto r = under(
      "stdio dpath", [&] { return static_cast<long>(::mknodat(AT_FDCWD, p.c_str(), S_IFIFO | 0600, 0)); },
      [&] { return static_cast<long>(::mknodat(AT_FDCWD, q.c_str(), S_IFREG | 0600, 0)); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("flock: flock runs; without it, refused") {
  const directory d;
  const std::string f = d / "f";
  auto setup = [&] { fd_a = ::openat(AT_FDCWD, f.c_str(), O_RDWR); };
  auto r = under(
      "stdio flock", setup, [] { return static_cast<long>(::flock(fd_a, LOCK_EX)); },
      [] { return static_cast<long>(::fchmod(fd_a, 0600)); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio", setup, [] { return 0L; }, [] { return static_cast<long>(::flock(fd_a, LOCK_EX)); });
}

TEST_CASE("fattr: chmod runs; a set-id mode and chown are refused") {
  const directory d;
  const std::string f = d / "f";
  auto setup = [&] { fd_a = ::openat(AT_FDCWD, f.c_str(), O_RDWR); };
  auto r = under(
      "stdio fattr", setup, [] { return static_cast<long>(::fchmod(fd_a, 0640)); },
      [] { return static_cast<long>(::fchmod(fd_a, 04755)); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio fattr", setup, [] { return 0L; }, [] { return static_cast<long>(::fchown(fd_a, -1, -1)); });
  // chown: changing nothing is allowed to anyone by the kernel
  r = under(
      "stdio chown", setup, [] { return static_cast<long>(::fchown(fd_a, -1, -1)); },
      [] { return static_cast<long>(::fchmod(fd_a, 0600)); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("inet: TCP and UDP sockets; SOCK_SEQPACKET and AF_UNIX refused by the filter") {
  auto r = under(
      "stdio inet",
      [] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)); },
      [] { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM, 0)); });
  CHECK(r.allowed.ret >= 0);
  // (the kernel alone would answer ESOCKTNOSUPPORT or EPROTONOSUPPORT)
  r = under(
      "stdio inet", [] { return static_cast<long>(::socket(AF_INET6, SOCK_DGRAM, 0)); },
      [] { return static_cast<long>(::socket(AF_INET, SOCK_SEQPACKET, 0)); });
  CHECK(r.allowed.ret >= 0);
}

TEST_CASE("anet: TCP sockets, no connect") {
  auto setup = [] { fd_a = ::socket(AF_INET, SOCK_STREAM, 0); };
  const auto r = under(
      "stdio anet", setup, [] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM, 0)); },
      [] {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(1);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return static_cast<long>(::connect(fd_a, reinterpret_cast<sockaddr*>(&a), sizeof a));
      });
  CHECK(r.allowed.ret >= 0);
}

// sendto with MSG_FASTOPEN on an unconnected TCP socket connects (TCP Fast Open, on for clients
// by default: net.ipv4.tcp_fastopen = 1), so anet refuses that flag; Cosmopolitan's anet lets it.
namespace {
sockaddr_in listener_address{};

// `listen_on_loopback` makes a listener on a free loopback port (its address in
// listener_address) and an unconnected TCP socket fd_a, before pledging.
void listen_on_loopback() {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  listener_address.sin_family = AF_INET;
  listener_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof listener_address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&listener_address), size) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&listener_address), &size) != 0)
    std::_Exit(3);
  fd_a = ::socket(AF_INET, SOCK_STREAM, 0);
}

// One byte on fd_a to the listener, by sendto; on an unconnected socket the kernel answers EPIPE
// unless MSG_FASTOPEN connects it.
long sendto_listener(int flags) {
  return static_cast<long>(::sendto(fd_a, "x", 1, flags | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&listener_address),
                                    sizeof listener_address));
}

// The same by sendmsg, to the listener or (addressed false) with no address.
long sendmsg_byte(bool addressed, int flags) {
  char byte = 'x';
  iovec v{&byte, 1};
  msghdr m{};
  if (addressed) {
    m.msg_name = &listener_address;
    m.msg_namelen = sizeof listener_address;
  }
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  return static_cast<long>(::sendmsg(fd_a, &m, flags | MSG_NOSIGNAL));
}

long unix_socket() { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM, 0)); }
}  // namespace

TEST_CASE("anet: sendto runs, but not with MSG_FASTOPEN, which would connect") {
  const auto r = under(
      "stdio anet", listen_on_loopback, [] { return sendto_listener(0); },
      [] { return sendto_listener(MSG_FASTOPEN); });
  CHECK(r.allowed.ret == -1);
  CHECK(r.allowed.err == EPIPE);
  // With inet, connecting is promised: MSG_FASTOPEN connects and sends.
  const auto with_inet = under(
      "stdio inet", listen_on_loopback, [] { return sendto_listener(MSG_FASTOPEN); }, unix_socket);
  CHECK(with_inet.allowed.ret == 1);
  // sendfd's sendmsg: the same flag refused there (anet's socket, sendfd's call).
  const auto with_sendfd = under(
      "stdio anet sendfd", listen_on_loopback, [] { return sendmsg_byte(false, 0); },
      [] { return sendmsg_byte(true, MSG_FASTOPEN); });
  CHECK(with_sendfd.allowed.err == EPIPE);
  CHECK(under("stdio inet sendfd", listen_on_loopback, [] { return sendmsg_byte(true, MSG_FASTOPEN); },
              unix_socket)
            .allowed.ret == 1);
}

TEST_CASE("unix and dns") {
  auto r = under(
      "stdio unix", [] { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM, 0)); },
      [] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM, 0)); });
  CHECK(r.allowed.ret >= 0);
  r = under(
      "stdio dns", [] { return static_cast<long>(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); },
      [] { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM, 0)); });
  CHECK(r.allowed.ret >= 0);
}

TEST_CASE("mcast: multicast socket options, with inet") {
  auto setup = [] { fd_a = ::socket(AF_INET, SOCK_DGRAM, 0); };
  auto ttl = [] {
    const int v = 2;
    return static_cast<long>(::setsockopt(fd_a, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v));
  };
  auto r = under("stdio inet mcast", setup, ttl,
                 [] { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM, 0)); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio inet", setup, [] { return 0L; }, ttl);
}

TEST_CASE("tty: terminal ioctls reach the kernel (ENOTTY on a pipe); TIOCSTI is refused") {
  auto setup = [] {
    int p[2];
    (void)::pipe(p);
    fd_a = p[0];
  };
  const auto r = under(
      "stdio tty", setup,
      [] {
        winsize w{};
        return static_cast<long>(::ioctl(fd_a, TIOCGWINSZ, &w));
      },
      [] {
        char c = 'x';
        return static_cast<long>(::ioctl(fd_a, TIOCSTI, &c));
      });
  CHECK(r.allowed.err == ENOTTY);
}

TEST_CASE("recvfd and sendfd: recvmsg and sendmsg, each without the other") {
  auto setup = [] {
    int s[2];
    (void)::socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
    fd_a = s[0];
    fd_b = s[1];
  };
  auto send = [] {
    char c = 'x';
    iovec v{&c, 1};
    msghdr m{};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    return static_cast<long>(::sendmsg(fd_a, &m, 0));
  };
  auto receive = [] {
    char c = 0;
    iovec v{&c, 1};
    msghdr m{};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    return static_cast<long>(::recvmsg(fd_b, &m, MSG_DONTWAIT));
  };
  auto r = under("stdio sendfd", setup, send, receive);
  CHECK(r.allowed.ret == 1);
  r = under("stdio recvfd", setup, receive, send);
  CHECK(r.allowed.err == EAGAIN);
}

TEST_CASE("proc: fork runs; exec is refused. exec: execve reaches the kernel; fork is refused") {
  auto r = under(
      "stdio proc",
      [] {
        const pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        int status = 0;
        ::waitpid(pid, &status, 0);
        return pid > 0 && WIFEXITED(status) ? 0L : -2L;
      },
      [] {
        char* argv[] = {nullptr};
        return static_cast<long>(::execve("/nonexistent", argv, argv));
      });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio exec",
      [] {
        char* argv[] = {nullptr};
        return static_cast<long>(::execve("/nonexistent", argv, argv));
      },
      [] { return static_cast<long>(::fork()); });
  CHECK(r.allowed.err == ENOENT);
}

TEST_CASE("id, settime, unveil, vminfo, tmppath: each call runs, a call outside is refused") {
  auto r = under(
      "id", [] { return static_cast<long>(::setresuid(-1, -1, -1)); }, [] { return ::syscall(SYS_getuid); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "settime",
      [] {
        timex t{};  // modes 0: reads the clock's state, allowed to anyone
        return static_cast<long>(::clock_adjtime(CLOCK_REALTIME, &t));
      },
      [] {
        timespec t{};
        return ::syscall(SYS_clock_gettime, CLOCK_REALTIME, &t);
      });
  CHECK(r.allowed.ret >= 0);
  r = under(
      "unveil",
      [] { return ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION); },
      [] { return ::syscall(SYS_getpid); });
  CHECK(r.allowed.err != EPERM);
  r = under(
      "vminfo",
      [] {
        struct sysinfo i {};
        return static_cast<long>(::sysinfo(&i));
      },
      [] { return static_cast<long>(::openat(AT_FDCWD, "/proc/meminfo", O_RDONLY)); });
  CHECK(r.allowed.ret == 0);
  const directory d;
  const std::string f = d / "f", sub = d / "sub";
  r = under(
      "tmppath", [&] { return static_cast<long>(::unlinkat(AT_FDCWD, f.c_str(), 0)); },
      [&] { return static_cast<long>(::mkdirat(AT_FDCWD, sub.c_str(), 0700)); });
  CHECK(r.allowed.ret == 0);
}

TEST_CASE("prot_exec: executable mappings run; without it, refused") {
  auto exec_map = [] {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? -1L : 0L;
  };
  auto r = under("stdio prot_exec", exec_map,
                 [] { return static_cast<long>(::openat(AT_FDCWD, "/etc/hostname", O_RDONLY)); });
  CHECK(r.allowed.ret == 0);
  r = under(
      "stdio", [] { return 0L; }, exec_map);
}

TEST_CASE("pledge confines every thread, also one started before it") {
  shared<outcome> o;
  const ending e = in_child([&] {
    std::atomic<int> stage{0};
    std::thread t([&] {
      while (stage.load() == 0) {
      }
      *o = record([] { return static_cast<long>(::openat(AT_FDCWD, "/etc/hostname", O_RDONLY)); });
      stage = 2;
    });
    pledge("stdio", action::error(EPERM));
    stage = 1;
    t.join();
    return stage.load() == 2 ? 0 : 1;
  });
  CHECK(e.exited);
  CHECK(e.code == 0);
  CHECK(o->err == EPERM);
}

TEST_CASE("pledging again only narrows") {
  const auto r = under(
      "stdio rpath", [] { return 0L; },
      [] {
        pledge("stdio", action::error(EPERM));
        pledge("stdio rpath", action::error(EPERM));  // cannot widen
        return static_cast<long>(::openat(AT_FDCWD, "/etc/hostname", O_RDONLY));
      });
  (void)r;
}

TEST_CASE("the default penalty kills the process with SIGSYS; \"error\" gives ENOSYS") {
  const ending e = in_child([] {
    pledge("stdio");
    (void)::openat(AT_FDCWD, "/etc/hostname", O_RDONLY);
    return 0;
  });
  CHECK_FALSE(e.exited);
  CHECK(e.signal == SIGSYS);
  shared<outcome> o;
  const ending f = in_child([&] {
    pledge("stdio error");
    *o = record([] { return static_cast<long>(::openat(AT_FDCWD, "/etc/hostname", O_RDONLY)); });
    return 0;
  });
  CHECK(f.exited);
  CHECK(o->err == ENOSYS);
}
