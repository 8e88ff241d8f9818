// SPDX-License-Identifier: MIT
// landlock.hpp - the Landlock rules that go with seccomp: paths and their rights, TCP ports, scopes.
//
// seccomp cannot see paths (they are pointers) nor the address a socket binds or connects to,
// Landlock can: the system_io methods that name a path (allow_read_path, allow_list_dir, ...)
// allow the syscalls with seccomp and restrict which files they reach with Landlock; the
// networking methods that name a port (allow_bind_tcp, allow_connect_tcp) do the same for TCP
// ports, and builtins::landlock_scope confines signals and abstract UNIX sockets to the sandbox.
// This header is data only; apply.hpp talks to the kernel.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <linux/landlock.h>

// Everything Landlock has that Debian 12's kernel headers (linux-libc-dev 6.1) lack, in one place,
// with the values of the kernel's include/uapi/linux/landlock.h (linux-source-6.12). The macros
// are the kernel's very tokens, defined only where the headers lack them.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // Linux 6.2, Landlock ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // Linux 6.10, Landlock ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // Linux 6.7, Landlock ABI 4
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)  // Linux 6.7, Landlock ABI 4
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // Linux 6.12, Landlock ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // Linux 6.12, Landlock ABI 6
#endif

namespace sysfence::landlock {

// The kernel's enum landlock_rule_type member LANDLOCK_RULE_NET_PORT (an enumerator, so no
// #ifndef can tell whether the headers have it): the rule type of a net_port_attr.
inline constexpr int rule_net_port = 2;

// `ruleset_attr` is the kernel's struct landlock_ruleset_attr as of ABI 6: Debian 12's has only
// handled_access_fs. apply passes the kernel the prefix it needs (8, 16 or 24 bytes), so a
// kernel older than the fields it does not use accepts it.
struct ruleset_attr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;  // ABI 4
  std::uint64_t scoped = 0;              // ABI 6
};
static_assert(sizeof(ruleset_attr) == 24);

// `net_port_attr` is the kernel's struct landlock_net_port_attr (ABI 4): the rights granted on a
// port, in host byte order.
struct net_port_attr {
  std::uint64_t allowed_access = 0;
  std::uint64_t port = 0;
};
static_assert(sizeof(net_port_attr) == 16);


// The filesystem rights of Landlock ABI 1 (Linux 5.13): execute, read, write, and making or
// removing each kind of file.
inline constexpr std::uint64_t abi1_rights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

// `handled_rights` is every filesystem right Landlock ABI `abi` knows: apply handles all of them,
// so each is denied unless a rule grants it. ABI 2 (5.19) adds REFER (linking or renaming into
// another directory; on ABI 1 that is always denied), ABI 3 (6.2) TRUNCATE, ABI 5 (6.10)
// IOCTL_DEV; ABIs 4, 6 and 7 add no filesystem right. Rights of ABIs newer than this header
// are not handled (allowed), as on any kernel that predates them.
constexpr std::uint64_t handled_rights(long abi) noexcept {
  std::uint64_t rights = 0;
  if (abi >= 1) rights |= abi1_rights;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

// `net_abi` is the first Landlock ABI with TCP port rules (Linux 6.7), `scope_abi` the first
// with scopes (Linux 6.12).
inline constexpr long net_abi = 4;
inline constexpr long scope_abi = 6;

// `bind_tcp` and `connect_tcp` are the network rights (ABI 4): binding a TCP socket to a port,
// and connecting one to a remote port.
inline constexpr std::uint64_t bind_tcp = LANDLOCK_ACCESS_NET_BIND_TCP;
inline constexpr std::uint64_t connect_tcp = LANDLOCK_ACCESS_NET_CONNECT_TCP;
// `net_rights` is every network right sysfence knows.
inline constexpr std::uint64_t net_rights = bind_tcp | connect_tcp;

// `scope_abstract_unix_socket` refuses connecting (or sending) to an abstract UNIX socket
// created outside the sandbox; `scope_signal` refuses sending a signal to a process outside it
// (ABI 6). A process is inside when it runs in the same Landlock domain or a nested one.
inline constexpr std::uint64_t scope_abstract_unix_socket = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
inline constexpr std::uint64_t scope_signal = LANDLOCK_SCOPE_SIGNAL;
// `scopes` is every scope sysfence knows.
inline constexpr std::uint64_t scopes = scope_abstract_unix_socket | scope_signal;

// `available_net_rights` is the network rights Landlock ABI `abi` knows, `available_scopes` its
// scopes. Unlike a filesystem right, a network right or a scope the policy asks for and the
// kernel lacks is not dropped: apply refuses (apply_step::landlock_abi), since dropping it would
// leave bind and connect unrestricted, or signals free.
constexpr std::uint64_t available_net_rights(long abi) noexcept { return abi >= net_abi ? net_rights : 0; }
constexpr std::uint64_t available_scopes(long abi) noexcept { return abi >= scope_abi ? scopes : 0; }

// `port_rule` grants `rights` (bind_tcp, connect_tcp) on the TCP port `port`, in host byte order.
// The kernel refuses a port above 65535 (EINVAL): apply fails at that rule.
struct port_rule {
  std::uint64_t port = 0;
  std::uint64_t rights = 0;
};

// The rights each path method grants. A kernel whose ABI lacks a right does not handle it, so
// apply drops it from every rule (the kernel refuses a rule granting an unhandled right) and the
// right is not restricted at all. No method grants REFER, EXECUTE or IOCTL_DEV.
inline constexpr std::uint64_t read_path = LANDLOCK_ACCESS_FS_READ_FILE;
inline constexpr std::uint64_t write_file = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
inline constexpr std::uint64_t list_dir = LANDLOCK_ACCESS_FS_READ_DIR;
inline constexpr std::uint64_t create_file = LANDLOCK_ACCESS_FS_MAKE_REG;
inline constexpr std::uint64_t create_dir = LANDLOCK_ACCESS_FS_MAKE_DIR;
inline constexpr std::uint64_t delete_file = LANDLOCK_ACCESS_FS_REMOVE_FILE;
inline constexpr std::uint64_t delete_dir = LANDLOCK_ACCESS_FS_REMOVE_DIR;

// `path_rule` grants `rights` on `path` and everything beneath it. The rule does not own the
// path: a rule set hands out rules pointing at string literals or at strings it holds itself,
// alive until apply returns. A missing `optional` path is skipped (the SSL and DNS file lists
// name files a system may not have); a missing required path fails apply.
struct path_rule {
  const char* path = nullptr;
  std::uint64_t rights = 0;
  bool optional = false;
};

// `literal` is what a path method stores as a pointer, free and usable in constant
// expressions: an array of const char, which is what a string literal is. Such an array must
// outlive apply (a literal does; a local `const char p[]` does not).
template <class C>
concept literal = std::same_as<C, const char>;

// `path_copy` is a path a rule set copies and owns (a std::string, a std::string_view, a
// `const char*`, a `char` buffer): it may die or change right after the method call. A null
// `const char*` becomes "", which fails apply (ENOENT) as the null pointer did (EFAULT).
struct path_copy {
  std::string text;
  template <class S>
    requires std::convertible_to<const S&, std::string_view>
  path_copy(const S& s) : text(view(s)) {}  // NOLINT: implicit, as the methods take it

 private:
  template <class S>
  static std::string_view view(const S& s) noexcept {
    if constexpr (std::is_convertible_v<const S&, const char*>) {
      const char* p = s;
      return p != nullptr ? std::string_view(p) : std::string_view();
    } else {
      return s;
    }
  }
};

}  // namespace sysfence::landlock
