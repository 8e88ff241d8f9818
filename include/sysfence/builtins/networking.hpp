// SPDX-License-Identifier: MIT
// networking.hpp - sockets: extrasafe's Networking, with exact socket domain and type checks,
// and Landlock TCP port rules.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <linux/net.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sysfence/builtins/detail.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/landlock.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

namespace net {
// The syscall groups of extrasafe's network.rs, each with the i386 forms of its syscalls (select's
// _newselect, the time64 and 64-bit-offset variants, fcntl64; only i386 has them).
inline constexpr auto io_syscalls = syscalls(
    sys::epoll_create, sys::epoll_create1, sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait, sys::epoll_pwait2,
    sys::select, sys::pselect6, sys::poll, sys::ppoll, sys::accept, sys::accept4, sys::eventfd, sys::eventfd2,
    sys::fcntl, sys::getsockopt, sys::setsockopt, sys::getpeername, sys::getsockname, sys::_newselect,
    sys::pselect6_time64, sys::ppoll_time64, sys::fcntl64);
inline constexpr auto read_syscalls = syscalls(sys::listen, sys::recvfrom, sys::recvmsg, sys::recvmmsg, sys::read,
                                               sys::readv, sys::preadv, sys::preadv2, sys::recvmmsg_time64);
inline constexpr auto write_syscalls = syscalls(sys::sendto, sys::sendmsg, sys::sendmmsg, sys::sendfile, sys::write,
                                                sys::writev, sys::pwritev, sys::pwritev2, sys::sendfile64);

// The socketcall operations (linux/net.h's SYS_*) that are the syscalls above. i386's glibc makes
// every socket call through socketcall(op, args), the arguments in memory the filter cannot
// read: an operation allowed whatever its arguments can be allowed by op (send and recv are
// sendto and recvfrom without an address), socket() with its domain and type cannot.
inline constexpr std::array<std::uint32_t, 15> running_socketcalls{
    SYS_LISTEN,  SYS_ACCEPT,     SYS_GETSOCKNAME, SYS_GETPEERNAME, SYS_SEND,    SYS_RECV,
    SYS_SENDTO,  SYS_RECVFROM,   SYS_SETSOCKOPT,  SYS_GETSOCKOPT,  SYS_SENDMSG, SYS_RECVMSG,
    SYS_ACCEPT4, SYS_RECVMMSG,   SYS_SENDMMSG};

// The ioctl requests network code makes on sockets: non-blocking mode, close-on-exec, bytes
// queued, the out-of-band mark, and the interface lookups behind if_nametoindex and
// if_indextoname. extrasafe allows every ioctl, TIOCSTI (typing into the terminal) among them.
inline constexpr std::array<std::uint32_t, 13> socket_ioctls{
    FIONBIO,      FIONREAD,     FIOCLEX,      FIONCLEX,     SIOCATMARK,   SIOCOUTQ,    SIOCOUTQNSD,
    SIOCGIFINDEX, SIOCGIFNAME,  SIOCGIFCONF,  SIOCGIFFLAGS, SIOCGIFMTU,  SIOCGIFHWADDR};

// `socket_rule` allows socket(domain, type, ...) for exactly this domain and this type, whatever
// SOCK_NONBLOCK and SOCK_CLOEXEC. extrasafe tests "bits set" (arg & AF_INET == AF_INET), which also
// admits AF_INET6 (10 has AF_INET's bit), and SOCK_STREAM's bit, which SOCK_RAW (3) also has.
constexpr rule socket_rule(int domain, int type) noexcept {
  constexpr std::uint64_t type_mask = 0xffffffffU & ~std::uint64_t{SOCK_NONBLOCK | SOCK_CLOEXEC};
  return rule{sys::socket, arg32<0> == domain, (arg32<1> & type_mask) == type};
}

enum flag : std::uint32_t {
  running = 1U << 0,  // the read, write and I/O groups, for sockets that exist
  bind = 1U << 1,
  connect = 1U << 2,
  tcp_socket = 1U << 3,   // socket(AF_INET/AF_INET6, SOCK_STREAM)
  udp_socket = 1U << 4,   // socket(AF_INET/AF_INET6, SOCK_DGRAM)
  unix_socket = 1U << 5,  // socket(AF_UNIX, SOCK_STREAM/SOCK_DGRAM)
};
}  // namespace net

namespace detail {
// `no_ports` is the storage of a networking_rules without port rules: none, so it stays empty.
struct no_ports {};
}  // namespace detail

// `networking_rules` allows sockets, method by method, like extrasafe's Networking. Every method also
// allows read and write unconditionally (sockets use them), so it conflicts with
// system_io::allow_stdout() and friends: split network and file work across processes. ioctl is
// allowed only for the socket requests in net::socket_ioctls. `Ports` is how many Landlock TCP port
// rules (allow_bind_tcp, allow_connect_tcp) it holds.
template <std::uint32_t Flags = 0, std::size_t Ports = 0>
class networking_rules : public rule_set_base {
  using port_storage = std::conditional_t<Ports == 0, detail::no_ports, std::array<landlock::port_rule, Ports>>;

 public:
  static constexpr std::string_view name = "networking";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr std::size_t landlock_port_count = Ports;

  constexpr networking_rules() noexcept = default;
  constexpr explicit networking_rules(port_storage ports) noexcept : ports_(ports) {}

  static constexpr networking_rules<> nothing() noexcept { return {}; }

  [[nodiscard]] constexpr auto allow_running_tcp_servers() const noexcept { return with<net::running>(); }
  // `allow_start_tcp_servers` also allows creating TCP sockets and binding: needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_start_tcp_servers() const noexcept {
    return dangerous<decltype(with<net::running | net::bind | net::tcp_socket>()), method::allow_start_tcp_servers>{
        with<net::running | net::bind | net::tcp_socket>()};
  }
  [[nodiscard]] constexpr auto allow_running_udp_sockets() const noexcept { return with<net::running>(); }
  // `allow_start_udp_servers` also allows creating UDP sockets and binding: needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_start_udp_servers() const noexcept {
    return dangerous<decltype(with<net::running | net::bind | net::udp_socket>()), method::allow_start_udp_servers>{
        with<net::running | net::bind | net::udp_socket>()};
  }
  // `allow_connect` allows connect(2) on any socket: needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_connect() const noexcept {
    return dangerous<decltype(with<net::connect>()), method::allow_connect>{with<net::connect>()};
  }
  [[nodiscard]] constexpr auto allow_start_tcp_clients() const noexcept {
    return with<net::running | net::connect | net::tcp_socket>();
  }
  [[nodiscard]] constexpr auto allow_running_tcp_clients() const noexcept { return with<net::running>(); }
  // `allow_start_unix_servers` also allows creating Unix sockets and binding: needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_start_unix_servers() const noexcept {
    return dangerous<decltype(with<net::running | net::bind | net::unix_socket>()), method::allow_start_unix_servers>{
        with<net::running | net::bind | net::unix_socket>()};
  }
  [[nodiscard]] constexpr auto allow_running_unix_servers() const noexcept { return with<net::running>(); }
  [[nodiscard]] constexpr auto allow_running_unix_clients() const noexcept { return with<net::running>(); }

  // Landlock port methods (Landlock ABI 4, Linux 6.7): seccomp allows the syscalls, Landlock
  // limits the TCP ports they reach. The first bind (connect) port rule makes Landlock handle
  // TCP bind (connect): every other port is refused with EACCES, also where another method allows
  // the syscall for any port. A kernel without them fails apply (apply_step::landlock_abi). Only
  // TCP is restricted: bind and connect on UDP and UNIX sockets are not. Call a method once per port.

  // `allow_bind_tcp` allows TCP servers (allow_start_tcp_servers's syscalls: TCP sockets, bind,
  // listen, accept) and binds to TCP port `port` only (0: a port the kernel picks).
  [[nodiscard]] constexpr auto allow_bind_tcp(std::uint64_t port) const noexcept {
    return with_port<net::running | net::bind | net::tcp_socket>({port, landlock::bind_tcp});
  }
  // `allow_connect_tcp` allows TCP clients (allow_start_tcp_clients's syscalls) and connecting to
  // the remote TCP port `port` only.
  [[nodiscard]] constexpr auto allow_connect_tcp(std::uint64_t port) const noexcept {
    return with_port<net::running | net::connect | net::tcp_socket>({port, landlock::connect_tcp});
  }

  // `landlock_port_rules` are the ports and rights of the port methods, in call order.
  [[nodiscard]] constexpr std::array<landlock::port_rule, Ports> landlock_port_rules() const noexcept {
    if constexpr (Ports == 0)
      return {};
    else
      return ports_;
  }

  static constexpr auto simple_rules = [] {
    detail::bounded_list<sys::id, 48> out;
    if (Flags & net::bind) out.add(syscalls(sys::bind));
    if (Flags & net::connect) out.add(syscalls(sys::connect));
    if (Flags & net::running) {
      out.add(net::io_syscalls);
      out.add(net::read_syscalls);
      out.add(net::write_syscalls);
    }
    return out;
  }();

  static constexpr auto conditional_rules = [] {
    detail::bounded_list<rule, 8 + net::socket_ioctls.size() + net::running_socketcalls.size()> out;
    if (Flags & net::running) {
      for (const std::uint32_t request : net::socket_ioctls) out.add(rule{sys::ioctl, arg32<1> == request});
      for (const std::uint32_t op : net::running_socketcalls) out.add(rule{sys::socketcall, arg32<0> == op});
    }
    if (Flags & net::bind) out.add(rule{sys::socketcall, arg32<0> == SYS_BIND});
    if (Flags & net::connect) out.add(rule{sys::socketcall, arg32<0> == SYS_CONNECT});
    if (Flags & net::tcp_socket) {
      out.add(net::socket_rule(AF_INET, SOCK_STREAM));
      out.add(net::socket_rule(AF_INET6, SOCK_STREAM));
    }
    if (Flags & net::udp_socket) {
      out.add(net::socket_rule(AF_INET, SOCK_DGRAM));
      out.add(net::socket_rule(AF_INET6, SOCK_DGRAM));
    }
    if (Flags & net::unix_socket) {
      out.add(net::socket_rule(AF_UNIX, SOCK_STREAM));
      out.add(net::socket_rule(AF_UNIX, SOCK_DGRAM));
    }
    return out;
  }();

 private:
  template <std::uint32_t F>
  constexpr networking_rules<Flags | F, Ports> with() const noexcept {
    return networking_rules<Flags | F, Ports>{ports_};
  }
  template <std::uint32_t F>
  constexpr networking_rules<Flags | F, Ports + 1> with_port(landlock::port_rule rule) const noexcept {
    std::array<landlock::port_rule, Ports + 1> ports{};
    if constexpr (Ports > 0)
      for (std::size_t i = 0; i < Ports; ++i) ports[i] = ports_[i];
    ports[Ports] = rule;
    return networking_rules<Flags | F, Ports + 1>{ports};
  }

  [[no_unique_address]] port_storage ports_{};
};

// `networking` is the rule set that allows nothing yet: `networking::nothing().allow_...()`.
using networking = networking_rules<>;

// `networking_with<Methods...>` is how compile errors name a networking rule set: by its methods.
template <class... Methods>
struct networking_with {};

}  // namespace sysfence::builtins

namespace sysfence::detail {
template <std::uint32_t F, std::size_t P>
struct shown_as<builtins::networking_rules<F, P>> {
  static constexpr bool tcp = (F & builtins::net::tcp_socket) != 0, bind = (F & builtins::net::bind) != 0;
  using type = list_as<builtins::networking_with,  //
                       kept_if<(F & builtins::net::running) != 0, builtins::method::allow_running_sockets>,
                       kept_if<tcp && bind, builtins::method::allow_start_tcp_servers>,
                       kept_if<tcp && !bind, builtins::method::allow_start_tcp_clients>,
                       kept_if<(F & builtins::net::udp_socket) != 0, builtins::method::allow_start_udp_servers>,
                       kept_if<(F & builtins::net::unix_socket) != 0, builtins::method::allow_start_unix_servers>,
                       kept_if<(F & builtins::net::connect) != 0 && !tcp, builtins::method::allow_connect>,
                       kept_if<(P > 0), builtins::method::port_methods>>;
};
}  // namespace sysfence::detail

namespace sysfence::builtins {

}  // namespace sysfence::builtins
