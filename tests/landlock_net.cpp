// SPDX-License-Identifier: MIT
// landlock_net.cpp - Landlock beyond paths in the kernel: landlock_only() policies, TCP port rules
// (allow_bind_tcp, allow_connect_tcp) and scopes (landlock_scope), and kernels that lack them.
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "landlock_fixture.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;
using namespace landlock_test;
namespace builtins = sysfence::builtins;

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// `listening` is a TCP socket listening on a loopback port the kernel picked.
struct listening {
  int fd = -1;
  std::uint16_t port = 0;
  listening() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a = loopback(0);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~listening() { ::close(fd); }
  listening(const listening&) = delete;
  listening& operator=(const listening&) = delete;
};

// `free_port` is a loopback TCP port nothing is bound to right now.
std::uint16_t free_port() {
  const listening l;
  return l.port;  // closed on return: free again (no connection, so no TIME_WAIT)
}

outcome connect_tcp(std::uint16_t port) {
  return record([&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1L;
    const sockaddr_in a = loopback(port);
    const long r = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    const int err = errno;
    ::close(fd);
    errno = err;
    return r;
  });
}

outcome bind_tcp(std::uint16_t port) {
  return record([&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1L;
    const sockaddr_in a = loopback(port);
    const long r = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    const int err = errno;
    ::close(fd);
    errno = err;
    return r;
  });
}

// The seccomp side of the network policies below: TCP clients or servers, and close.
constexpr auto closing = builtins::system_io::nothing().allow_close();

}  // namespace

// ---------------------------------------------------------------------------------------------
// landlock_only(): the Landlock rules without the seccomp filter.

TEST_CASE("landlock_only: a path outside the grants is refused, and syscalls seccomp would deny run") {
  tree t;
  const auto p = safety_context{}.enable(builtins::system_io::nothing().allow_read_path(t / "granted"));
  shared<std::array<outcome, 4>> r;
  const apply_status s = applied(p.landlock_only(), [&] {
    (*r)[0] = open_read(t / "granted/file");
    (*r)[1] = open_read(t / "other/file");
    (*r)[2] = uid_call();
    (*r)[3] = record([] { return static_cast<long>(::getppid()); });
  });
  CHECK(s.landlock_applied);
  CHECK(s.landlock_abi == kernel_abi());
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);  // Landlock
  CHECK((*r)[2].ret >= 0);       // no seccomp filter
  CHECK((*r)[3].ret > 0);

  // The same policy applied whole: seccomp denies getuid.
  shared<outcome> whole;
  applied(p, [&] { *whole = uid_call(); });
  CHECK(whole->err == EPERM);
}

TEST_CASE("landlock_only without a path rule refuses every file (extrasafe's landlock_only), syscalls free") {
  shared<std::array<outcome, 2>> r;
  applied(safety_context{}.landlock_only(), [&] {
    (*r)[0] = open_read("/etc/passwd");
    (*r)[1] = uid_call();
  });
  CHECK((*r)[0].err == EACCES);
  CHECK((*r)[1].ret >= 0);
}

// `no_landlock`, installed first, plays a kernel without Landlock.
struct no_landlock : rule_set_base {
  static constexpr std::string_view name = "no_landlock";
  static constexpr auto simple_rules = syscalls_except<syscalls(sys::landlock_create_ruleset)>();
  static constexpr std::array conditional_rules{
      rule{sys::landlock_create_ruleset}.then(action::error(ENOSYS))};
};

TEST_CASE("landlock_only throws apply_error when Landlock fails, restricting nothing") {
  tree t;
  struct result {
    bool earlier = false;
    bool threw = false;
    apply_status status;
    outcome outside;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->earlier = static_cast<bool>(policy<no_landlock>{}.try_apply_to_current_thread());
    try {
      safety_context{}
          .enable(builtins::system_io::nothing().allow_read_path(t / "granted"))
          .landlock_only()
          .apply_to_current_thread();
    } catch (const apply_error& err) {
      r->threw = true;
      r->status = err.status();
    }
    r->outside = open_read(t / "other/file");
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(r->earlier);
  CHECK(r->threw);
  CHECK(r->status.failed == apply_step::landlock);
  CHECK(r->status.error == ENOSYS);
  CHECK_FALSE(r->status.landlock_applied);
  CHECK(r->outside.ret == 1);
}

// ---------------------------------------------------------------------------------------------
// TCP ports (Landlock ABI 4).

TEST_CASE("allow_connect_tcp: the granted loopback port connects, another gets EACCES") {
  if (kernel_abi() < landlock::net_abi) {
    MESSAGE("Landlock ABI < 4: no TCP port rules, skipped");
    return;
  }
  const listening granted, other;
  shared<std::array<outcome, 3>> r;
  const auto net = builtins::networking::nothing().allow_connect_tcp(granted.port);
  applied(safety_context{}.enable(net).enable(closing), [&] {
    (*r)[0] = connect_tcp(granted.port);
    (*r)[1] = connect_tcp(other.port);
    (*r)[2] = uid_call();
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);  // Landlock, not seccomp's EPERM
  CHECK((*r)[2].err == EPERM);   // the seccomp filter is in force too

  // Without the port rule (allow_start_tcp_clients), both connect: the EACCES was Landlock's.
  shared<std::array<outcome, 2>> free;
  applied(safety_context{}.enable(builtins::networking::nothing().allow_start_tcp_clients()).enable(closing),
          [&] {
            (*free)[0] = connect_tcp(granted.port);
            (*free)[1] = connect_tcp(other.port);
          });
  CHECK((*free)[0].ret == 0);
  CHECK((*free)[1].ret == 0);
}

TEST_CASE("allow_connect_tcp limits allow_start_tcp_clients too: a port rule handles every TCP connect") {
  if (kernel_abi() < landlock::net_abi) return;
  const listening granted, other;
  shared<std::array<outcome, 2>> r;
  const auto net = builtins::networking::nothing().allow_start_tcp_clients().allow_connect_tcp(granted.port);
  applied(safety_context{}.enable(net).enable(closing), [&] {
    (*r)[0] = connect_tcp(granted.port);
    (*r)[1] = connect_tcp(other.port);
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);
}

TEST_CASE("allow_bind_tcp: the granted port binds, another (and port 0) gets EACCES; connect stays free") {
  if (kernel_abi() < landlock::net_abi) return;
  const std::uint16_t granted = free_port();
  std::uint16_t other = free_port();
  while (other == granted) other = free_port();
  const listening server;
  shared<std::array<outcome, 4>> r;
  const auto net = builtins::networking::nothing().allow_bind_tcp(granted).allow_connect().yes_really();
  applied(safety_context{}.enable(net).enable(closing), [&] {
    (*r)[0] = bind_tcp(granted);
    (*r)[1] = bind_tcp(other);
    (*r)[2] = bind_tcp(0);
    (*r)[3] = connect_tcp(server.port);  // only bind is handled: connect is not restricted
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].err == EACCES);
  CHECK((*r)[3].ret == 0);
}

TEST_CASE("landlock_only with port rules: ports restricted, every other syscall free") {
  if (kernel_abi() < landlock::net_abi) return;
  const listening granted, other;
  shared<std::array<outcome, 3>> r;
  const auto p = safety_context{}.enable(builtins::networking::nothing().allow_connect_tcp(granted.port));
  applied(p.landlock_only(), [&] {
    (*r)[0] = connect_tcp(granted.port);
    (*r)[1] = connect_tcp(other.port);
    (*r)[2] = uid_call();
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret >= 0);
}

TEST_CASE("a port above 65535 fails apply at its rule, installing nothing") {
  struct result {
    apply_status status;
    outcome uid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    const auto net = builtins::networking::nothing().allow_connect_tcp(80).allow_bind_tcp(70000);
    r->status = safety_context{}.enable(net).enable(closing).try_apply_to_current_thread();
    r->uid = uid_call();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->status.failed == apply_step::landlock_port);
  CHECK(r->status.error == EINVAL);
  CHECK(r->status.thread == 1);
  CHECK_FALSE(r->status.landlock_applied);
  CHECK(r->uid.ret >= 0);
}

// ---------------------------------------------------------------------------------------------
// Scopes (Landlock ABI 6).

TEST_CASE("confine_signals: a signal to a process outside the sandbox gets EPERM, inside it is delivered") {
  if (kernel_abi() < landlock::scope_abi) {
    MESSAGE("Landlock ABI < 6: no scopes, skipped");
    return;
  }
  struct result {
    outcome before, outside, inside;
    bool inside_killed = false;
  };
  shared<result> r;
  const pid_t outside = ::fork();  // a process outside the child's future domain
  REQUIRE(outside >= 0);
  if (outside == 0) {
    ::pause();
    ::_exit(0);
  }
  const auto scope = builtins::landlock_scope::nothing().confine_signals();
  const ending e = in_child([&] {
    r->before = record([&] { return static_cast<long>(::kill(outside, 0)); });
    if (!safety_context{}.enable(scope).landlock_only().try_apply_to_current_thread()) return 10;
    r->outside = record([&] { return static_cast<long>(::kill(outside, SIGKILL)); });
    const pid_t inside = ::fork();  // inherits the domain
    if (inside == 0) {
      ::pause();
      ::_exit(0);
    }
    r->inside = record([&] { return static_cast<long>(::kill(inside, SIGKILL)); });
    int status = 0;
    ::waitpid(inside, &status, 0);
    r->inside_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    return 0;
  });
  // Still alive after the refused SIGKILL: signal 0 finds it.
  const bool outside_alive = ::kill(outside, 0) == 0;
  ::kill(outside, SIGKILL);
  ::waitpid(outside, nullptr, 0);
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  CHECK(r->before.ret == 0);
  CHECK(r->outside.err == EPERM);
  CHECK(outside_alive);
  CHECK(r->inside.ret == 0);
  CHECK(r->inside_killed);
}

TEST_CASE("confine_signals with a seccomp policy that allows kill") {
  if (kernel_abi() < landlock::scope_abi) return;
  shared<std::array<outcome, 2>> r;
  const pid_t parent = ::getpid();
  const auto p =
      safety_context{}.enable(sys::kill).enable(builtins::landlock_scope::nothing().confine_signals());
  applied(p, [&] {
    (*r)[0] = record([&] { return static_cast<long>(::kill(parent, 0)); });
    (*r)[1] = uid_call();
  });
  CHECK((*r)[0].err == EPERM);
  CHECK((*r)[1].err == EPERM);  // seccomp
}

namespace {
// `abstract_server` listens on the abstract UNIX address "\0sysfence-<tag>-<pid>".
struct abstract_server {
  int fd = -1;
  sockaddr_un addr{};
  socklen_t len = 0;
  explicit abstract_server(const char* tag) {
    addr.sun_family = AF_UNIX;
    const std::string name = std::string("sysfence-") + tag + "-" + std::to_string(::getpid());
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(fd, 8) == 0);
  }
  ~abstract_server() { ::close(fd); }
  abstract_server(const abstract_server&) = delete;
  abstract_server& operator=(const abstract_server&) = delete;
  [[nodiscard]] outcome connect() const {
    return record([&] {
      const int c = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (c < 0) return -1L;
      const long r = ::connect(c, reinterpret_cast<const sockaddr*>(&addr), len);
      const int err = errno;
      ::close(c);
      errno = err;
      return r;
    });
  }
};
}  // namespace

TEST_CASE("confine_abstract_unix_sockets: a socket bound outside gets EPERM, one bound inside connects") {
  if (kernel_abi() < landlock::scope_abi) return;
  shared<std::array<outcome, 3>> r;
  const ending e = in_child([&] {
    const abstract_server outside("outside");
    (*r)[0] = outside.connect();
    if (!safety_context{}
             .enable(builtins::landlock_scope::nothing().confine_abstract_unix_sockets())
             .landlock_only()
             .try_apply_to_current_thread())
      return 10;
    (*r)[1] = outside.connect();
    const abstract_server inside("inside");  // bound by this domain
    (*r)[2] = inside.connect();
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EPERM);
  CHECK((*r)[2].ret == 0);
}

// ---------------------------------------------------------------------------------------------
// Older kernels, played on this one: a supervisor (seccomp user notification) answers the ABI
// query with an older version and lets the other Landlock calls through, noting the size of the
// ruleset attribute and what it handles.

struct landlock_supervised : rule_set_base {
  static constexpr std::string_view name = "landlock_supervised";
  static constexpr auto simple_rules = syscalls_except<syscalls(sys::landlock_create_ruleset)>();
  static constexpr std::array conditional_rules{rule{sys::landlock_create_ruleset}.then(action::user_notif)};
};

struct older_kernel {
  bool supervised = false;
  std::uint64_t size = 0;  // the ruleset attribute's size argument
  landlock::ruleset_attr handled;
  apply_status status;
  outcome connect_other, uid;
};

// `play_older_kernel` applies `p` with Landlock ABI `abi` played, then connects to `other`.
template <class Policy>
void play_older_kernel(long abi, const Policy& p, older_kernel& r, std::uint16_t other) {
  r.supervised = landlock_test::play_landlock_abi<landlock_supervised>(abi, [&r](const seccomp_notif& req) {
    r.size = req.data.args[1];
    std::memcpy(&r.handled, reinterpret_cast<const void*>(req.data.args[0]),
                r.size < sizeof r.handled ? r.size : sizeof r.handled);
  });
  if (!r.supervised) return;
  r.status = p.try_apply_to_current_thread();
  r.connect_other = connect_tcp(other);
  r.uid = uid_call();
}

TEST_CASE("a kernel without TCP port rules (ABI 3) fails apply: never a silent no-op") {
  if (kernel_abi() < landlock::net_abi) return;
  const listening granted, other;
  for (const bool only : {false, true}) {
    CAPTURE(only);
    shared<older_kernel> r;
    const auto p = safety_context{}
                       .enable(builtins::networking::nothing().allow_connect_tcp(granted.port))
                       .enable(closing);
    const ending e = in_child([&] {
      if (only)
        play_older_kernel(3, p.landlock_only(), *r, other.port);
      else
        play_older_kernel(3, p, *r, other.port);
      return 0;
    });
    REQUIRE(e.exited);
    REQUIRE(r->supervised);
    CHECK(r->status.failed == apply_step::landlock_abi);
    CHECK(r->status.error == EOPNOTSUPP);
    CHECK(r->status.landlock_abi == 3);
    CHECK_FALSE(r->status.landlock_applied);
    CHECK(r->size == 0);               // no ruleset was created
    CHECK(r->connect_other.ret == 0);  // nothing installed: neither Landlock
    CHECK(r->uid.ret >= 0);            // nor seccomp
  }
}

TEST_CASE("ABI 4 and 5: TCP port rules apply, scopes are refused") {
  if (kernel_abi() < landlock::scope_abi) return;
  const listening granted, other;
  for (const long abi : {4L, 5L}) {
    CAPTURE(abi);
    shared<older_kernel> ports, scoped;
    const auto net = safety_context{}
                         .enable(builtins::networking::nothing().allow_connect_tcp(granted.port))
                         .enable(closing);
    ending e = in_child([&] {
      play_older_kernel(abi, net, *ports, other.port);
      return 0;
    });
    REQUIRE(e.exited);
    REQUIRE(ports->supervised);
    CHECK(static_cast<bool>(ports->status));
    CHECK(ports->status.landlock_abi == abi);
    CHECK(ports->size == 16);  // handled_access_fs and handled_access_net: an ABI 4 kernel's size
    CHECK(ports->handled.handled_access_fs == 0);  // no path rule: files are not restricted
    CHECK(ports->handled.handled_access_net == LANDLOCK_ACCESS_NET_CONNECT_TCP);
    CHECK(ports->connect_other.err == EACCES);

    const auto scope = safety_context{}.enable(builtins::landlock_scope::nothing().confine_signals());
    e = in_child([&] {
      play_older_kernel(abi, scope, *scoped, other.port);
      return 0;
    });
    REQUIRE(e.exited);
    REQUIRE(scoped->supervised);
    CHECK(scoped->status.failed == apply_step::landlock_abi);
    CHECK(scoped->status.landlock_abi == abi);
    CHECK(scoped->size == 0);
    CHECK(scoped->uid.ret >= 0);
  }
}

TEST_CASE("the ruleset attribute: 8 bytes for paths alone, 24 with scopes; landlock_only handles files") {
  if (kernel_abi() < landlock::scope_abi) return;
  tree t;
  const listening other;
  shared<older_kernel> paths, scoped, only;
  const auto io = builtins::system_io::nothing().allow_read_path(t / "granted");
  ending e = in_child([&] {
    play_older_kernel(6, safety_context{}.enable(io), *paths, other.port);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(paths->status));
  CHECK(paths->size == 8);
  CHECK(paths->handled.handled_access_fs == landlock::handled_rights(6));

  const auto scope = builtins::landlock_scope::nothing().confine_signals().confine_abstract_unix_sockets();
  e = in_child([&] {
    play_older_kernel(6, safety_context{}.enable(scope), *scoped, other.port);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(scoped->status));
  CHECK(scoped->size == 24);
  CHECK(scoped->handled.handled_access_fs == 0);
  CHECK(scoped->handled.scoped == (LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET));

  e = in_child([&] {
    play_older_kernel(6, safety_context{}.enable(scope).landlock_only(), *only, other.port);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(only->status));
  CHECK(only->handled.handled_access_fs == landlock::handled_rights(6));
  CHECK(only->handled.scoped == (LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET));
  CHECK(only->uid.ret >= 0);
}
