// SPDX-License-Identifier: MIT
// policies.hpp - the benchmark policies (S, M, M64, P, L) as sysfence rule data, each defined once:
// the libseccomp peer is built from the same `Policy::rules` at run time (libseccomp_peer.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "sysfence/sysfence.hpp"

namespace sysfence_bench {
using namespace sysfence;

// --- (S) the headline example ---------------------------------------------------------------

// `policy_s` is README's shortest example: basic_capabilities' 28 syscalls plus write to fd 1 or 2.
inline constexpr auto policy_s =
    safety_context{}.enable(builtins::system_io::nothing().allow_stdout().allow_stderr());

// --- (M) an extrasafe-style TCP server ------------------------------------------------------

// `server_rules` is what a small threaded TCP server needs beyond basic_capabilities: 40 plain
// allows (68 with basic_capabilities) and 9 argument rules on write, fcntl, socket and ioctl.
// Written out rather than built from builtins::networking, which allows write unconditionally.
struct server_rules : rule_set_base {
  static constexpr std::string_view name = "server";
  static constexpr bool portable = true;  // compiled for aarch64 and riscv64 too (issue 13)
  static constexpr auto simple_rules = syscalls(
      // threads
      sys::clone, sys::clone3, sys::nanosleep, sys::clock_nanosleep,
      // accepting TCP connections
      sys::bind, sys::listen, sys::accept, sys::accept4, sys::shutdown, sys::getsockopt, sys::setsockopt,
      sys::getpeername, sys::getsockname,
      // event loop
      sys::epoll_create, sys::epoll_create1, sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait,
      sys::epoll_pwait2, sys::poll, sys::ppoll, sys::eventfd2, sys::timerfd_create, sys::timerfd_settime,
      // moving bytes on sockets and descriptors
      sys::recvfrom, sys::recvmsg, sys::recvmmsg, sys::sendto, sys::sendmsg, sys::sendmmsg, sys::sendfile,
      sys::read, sys::readv, sys::close, sys::dup, sys::pipe2, sys::fstat,
      // time and the parent (clock_gettime is vDSO, but its fallback is a syscall)
      sys::clock_gettime, sys::gettimeofday, sys::getppid);
  static constexpr std::array conditional_rules{
      // arg64: the programs benchmarks/README.md measured (arg<0> would now compare write's 32-bit fd).
      rule{sys::write, arg64<0> == 1},
      rule{sys::write, arg64<0> == 2},
      rule{sys::fcntl, arg32<1> == F_GETFD},
      rule{sys::fcntl, arg32<1> == F_SETFD},
      rule{sys::fcntl, arg32<1> == F_GETFL},
      rule{sys::fcntl, arg32<1> == F_SETFL},
      // Exact domain, exact type once SOCK_NONBLOCK and SOCK_CLOEXEC are masked off.
      rule{sys::socket, arg32<0> == AF_INET,
           (arg32<1> & ~std::uint32_t{SOCK_NONBLOCK | SOCK_CLOEXEC}) == SOCK_STREAM},
      rule{sys::socket, arg32<0> == AF_INET6,
           (arg32<1> & ~std::uint32_t{SOCK_NONBLOCK | SOCK_CLOEXEC}) == SOCK_STREAM},
      rule{sys::ioctl, arg32<1> == FIONBIO},
  };
};

inline constexpr auto policy_m = safety_context{}.enable(server_rules{});

// --- (M64) the TCP server as libseccomp users write it: every condition 64 bits ----------------
// `server64_rules` is issue 12's policy M64: 68 plain allows with basic_capabilities, and the
// argument rules all 64-bit (`arg64`), as policies from seccompiler JSON and OCI profiles are.
// The socket rules test "bits set", as extrasafe and libseccomp users write them.
struct server64_rules : rule_set_base {
  static constexpr std::string_view name = "server64";
  static constexpr bool portable = true;  // compiled for aarch64 and riscv64 too (issue 13)
  static constexpr auto simple_rules = syscalls(
      sys::clone, sys::clone3, sys::clock_nanosleep, sys::nanosleep, sys::bind, sys::epoll_create,
      sys::epoll_create1, sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait, sys::epoll_pwait2, sys::select,
      sys::pselect6, sys::poll, sys::ppoll, sys::accept, sys::accept4, sys::eventfd, sys::eventfd2,
      sys::getsockopt, sys::setsockopt, sys::getpeername, sys::getsockname, sys::listen, sys::recvfrom,
      sys::recvmsg, sys::recvmmsg, sys::read, sys::readv, sys::preadv, sys::preadv2, sys::sendto, sys::sendmsg,
      sys::sendmmsg, sys::sendfile, sys::writev, sys::pwritev, sys::pwritev2, sys::close, sys::getppid);
  static constexpr std::array conditional_rules{
      rule{sys::write, arg64<0> == 1},
      rule{sys::write, arg64<0> == 2},
      rule{sys::socket, (arg64<0> & AF_INET) == AF_INET, (arg64<1> & SOCK_STREAM) == SOCK_STREAM},
      rule{sys::socket, (arg64<0> & AF_INET6) == AF_INET6, (arg64<1> & SOCK_STREAM) == SOCK_STREAM},
      rule{sys::fcntl, arg64<1> == F_GETFD},
      rule{sys::fcntl, arg64<1> == F_SETFD},
      rule{sys::fcntl, arg64<1> == F_GETFL},
      rule{sys::fcntl, arg64<1> == F_SETFL},
      rule{sys::ioctl, arg64<1> == FIONBIO},
  };
};
inline constexpr auto policy_m64 = safety_context{}.enable(server64_rules{});

// --- (P) personality as Docker's default profile allows it ----------------------------------
// `personality_rules` allows personality for the five values of Docker's default seccomp profile
// (PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, and 0xffffffff: query), 64-bit.
struct personality_rules : rule_set_base {
  static constexpr std::string_view name = "personality";
  static constexpr bool portable = true;  // compiled for aarch64 and riscv64 too (issue 13)
  static constexpr std::array conditional_rules{
      rule{sys::personality, arg64<0> == 0},          rule{sys::personality, arg64<0> == 8},
      rule{sys::personality, arg64<0> == 0x20000},    rule{sys::personality, arg64<0> == 0x20008},
      rule{sys::personality, arg64<0> == 0xffffffff},
  };
};
inline constexpr auto policy_p = safety_context{}.enable(personality_rules{});

// --- (L) a container-sized allow-list ------------------------------------------------------

// `container_denied` is what the container leaves out of its plain allow-list: Docker's default
// profile's refusals (modules, mounts, namespaces, kernel keyring, tracing, clock setting,
// obsolete calls), the syscalls its argument rules restrict, and getuid, denied only so that the
// per-call benchmark has the same denied probe as (M).
inline constexpr auto container_denied = syscalls(
    // argument-filtered below
    sys::clone, sys::socket, sys::ioctl, sys::prctl, sys::fcntl,
    // namespaces, mounts, new mount API
    sys::clone3, sys::unshare, sys::setns, sys::mount, sys::umount2, sys::pivot_root, sys::fsopen,
    sys::fsmount, sys::fsconfig, sys::fspick, sys::move_mount, sys::open_tree, sys::mount_setattr,
    // kernel: modules, kexec, reboot, swap, BPF, perf, keyring, accounting, quotas, syslog
    sys::init_module, sys::finit_module, sys::delete_module, sys::kexec_load, sys::kexec_file_load,
    sys::reboot, sys::swapon, sys::swapoff, sys::bpf, sys::perf_event_open, sys::keyctl, sys::add_key,
    sys::request_key, sys::acct, sys::quotactl, sys::quotactl_fd, sys::syslog, sys::lookup_dcookie,
    sys::sysfs, sys::ustat,
    // other processes' memory and tracing
    sys::ptrace, sys::process_vm_readv, sys::process_vm_writev, sys::kcmp, sys::userfaultfd,
    // clocks, host identity, I/O ports, NUMA policy, handles
    sys::settimeofday, sys::clock_settime, sys::clock_adjtime, sys::adjtimex, sys::sethostname,
    sys::setdomainname, sys::vhangup, sys::iopl, sys::ioperm, sys::mbind, sys::set_mempolicy,
    sys::get_mempolicy, sys::move_pages, sys::migrate_pages, sys::open_by_handle_at, sys::name_to_handle_at,
    // io_uring, seccomp itself, personality
    sys::io_uring_setup, sys::io_uring_enter, sys::io_uring_register, sys::seccomp, sys::personality,
    // obsolete or never implemented on x86_64
    sys::_sysctl, sys::uselib, sys::create_module, sys::get_kernel_syms, sys::query_module, sys::nfsservctl,
    sys::afs_syscall, sys::tuxcall, sys::security, sys::vserver, sys::putpmsg, sys::getpmsg,
    // the denied probe of the per-call benchmark
    sys::getuid);

// `container_rules` allows every other x86_64 syscall, plus 10 argument rules.
struct container_rules : rule_set_base {
  static constexpr std::string_view name = "container";
  static constexpr bool portable = true;  // compiled for aarch64 and riscv64 too (issue 13)
  static constexpr auto simple_rules = syscalls_except<container_denied, arch::x86_64>();
  static constexpr std::array conditional_rules{
      rule{sys::clone, (arg<0> & 0x7E020000ULL) == 0},  // threads and forks, no new namespaces
      rule{sys::socket, arg32<0> == AF_UNIX},           // Unix sockets, any type
      rule{sys::socket, arg32<0> == AF_INET},           // IPv4 sockets, any type
      rule{sys::socket, arg32<0> == AF_INET6},          // IPv6 sockets, any type
      rule{sys::ioctl, arg32<1> == TCGETS},             // is it a terminal
      rule{sys::ioctl, arg32<1> == FIONREAD},           // bytes waiting
      rule{sys::prctl, arg32<0> == PR_SET_NAME},        // name the thread
      rule{sys::prctl, arg32<0> == PR_GET_NAME},        // read the thread's name
      rule{sys::fcntl, arg32<1> == F_GETFD},            // read the descriptor flags
      rule{sys::fcntl, arg32<1> == F_GETFL},            // read the status flags
  };
};

// basic_capabilities is a subset of the container's list: enabling it changes nothing.
inline constexpr auto policy_l = policy<container_rules>{};

// --- typical calls ------------------------------------------------------------------------

// `typical_call` is a call a program makes, with the arguments glibc passes; the benchmarks run
// each policy's argument-filtered syscalls with the first of these the policy allows.
struct typical_call {
  std::string_view label;
  sys::id syscall;
  std::array<std::uint64_t, 6> args;
};

inline constexpr std::uint64_t some_pointer = 0x00007ffc1234a000ULL;
inline constexpr std::uint64_t thread_clone_flags = 0x3d0f00;  // glibc pthread_create's clone flags

inline constexpr std::array typical_calls{
    typical_call{"write(1, buf, 8)", sys::id::write, {1, some_pointer, 8}},
    typical_call{"fcntl(3, F_GETFD)", sys::id::fcntl, {3, F_GETFD}},
    typical_call{"socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC)",
                 sys::id::socket,
                 {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0}},
    typical_call{"ioctl(3, FIONBIO, &on)", sys::id::ioctl, {3, FIONBIO, some_pointer}},
    typical_call{"ioctl(0, TCGETS, &t)", sys::id::ioctl, {0, TCGETS, some_pointer}},
    typical_call{"clone(thread flags)", sys::id::clone, {thread_clone_flags, some_pointer, some_pointer}},
    typical_call{"prctl(PR_SET_NAME, name)", sys::id::prctl, {PR_SET_NAME, some_pointer}},
    typical_call{"personality(0xffffffff) (query)", sys::id::personality, {0xffffffff}},
    typical_call{"personality(PER_LINUX)", sys::id::personality, {0}},
};

// `argument_vectors` are the calls issue 12 measures on every policy whose syscall has argument
// rules: values the policies allow, values they refuse, and values that differ from an allowed
// one only in the upper half of a 64-bit register.
inline constexpr std::uint64_t high = std::uint64_t{1} << 32;
inline constexpr std::array argument_vectors{
    typical_call{"write(1, buf, 8)", sys::id::write, {1, some_pointer, 8}},
    typical_call{"write(2, buf, 8)", sys::id::write, {2, some_pointer, 8}},
    typical_call{"write(5, buf, 8)", sys::id::write, {5, some_pointer, 8}},
    typical_call{"write(1 + 2^32, buf, 8)", sys::id::write, {1 + high, some_pointer, 8}},
    typical_call{"fcntl(3, F_GETFD)", sys::id::fcntl, {3, F_GETFD}},
    typical_call{"fcntl(3, F_SETFD, FD_CLOEXEC)", sys::id::fcntl, {3, F_SETFD, FD_CLOEXEC}},
    typical_call{"fcntl(3, F_GETFL)", sys::id::fcntl, {3, F_GETFL}},
    typical_call{"fcntl(3, F_SETFL, O_NONBLOCK)", sys::id::fcntl, {3, F_SETFL, O_NONBLOCK}},
    typical_call{"fcntl(3, F_DUPFD, 10)", sys::id::fcntl, {3, F_DUPFD, 10}},
    typical_call{"fcntl(3, F_SETLK, &lock)", sys::id::fcntl, {3, F_SETLK, some_pointer}},
    typical_call{"fcntl(3, F_GETFD + 2^32)", sys::id::fcntl, {3, F_GETFD + high}},
    typical_call{"socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC)", sys::id::socket, {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0}},
    typical_call{"socket(AF_INET6, SOCK_STREAM)", sys::id::socket, {AF_INET6, SOCK_STREAM, 0}},
    typical_call{"socket(AF_UNIX, SOCK_STREAM)", sys::id::socket, {AF_UNIX, SOCK_STREAM, 0}},
    typical_call{"socket(AF_INET, SOCK_DGRAM)", sys::id::socket, {AF_INET, SOCK_DGRAM, 0}},
    typical_call{"socket(AF_NETLINK, SOCK_RAW)", sys::id::socket, {AF_NETLINK, SOCK_RAW, 0}},
    typical_call{"socket(AF_INET + 2^32, SOCK_STREAM)", sys::id::socket, {AF_INET + high, SOCK_STREAM, 0}},
    typical_call{"ioctl(3, FIONBIO, &on)", sys::id::ioctl, {3, FIONBIO, some_pointer}},
    typical_call{"ioctl(0, TCGETS, &t)", sys::id::ioctl, {0, TCGETS, some_pointer}},
    typical_call{"ioctl(3, FIONREAD, &n)", sys::id::ioctl, {3, FIONREAD, some_pointer}},
    typical_call{"ioctl(0, TIOCSTI, &c)", sys::id::ioctl, {0, TIOCSTI, some_pointer}},
    typical_call{"ioctl(3, FIONBIO + 2^32, &on)", sys::id::ioctl, {3, FIONBIO + high, some_pointer}},
    typical_call{"clone(thread flags)", sys::id::clone, {thread_clone_flags, some_pointer, some_pointer}},
    typical_call{"clone(SIGCHLD) (fork)", sys::id::clone, {17}},
    typical_call{"clone(CLONE_NEWUSER|SIGCHLD)", sys::id::clone, {0x10000000 | 17}},
    typical_call{"clone(thread flags + 2^32)", sys::id::clone, {thread_clone_flags + high, some_pointer, some_pointer}},
    typical_call{"prctl(PR_SET_NAME, name)", sys::id::prctl, {PR_SET_NAME, some_pointer}},
    typical_call{"prctl(PR_GET_NAME, name)", sys::id::prctl, {PR_GET_NAME, some_pointer}},
    typical_call{"prctl(PR_SET_SECCOMP, ...)", sys::id::prctl, {PR_SET_SECCOMP, 2, some_pointer}},
    typical_call{"prctl(PR_SET_NAME + 2^32, name)", sys::id::prctl, {PR_SET_NAME + high, some_pointer}},
    typical_call{"personality(PER_LINUX)", sys::id::personality, {0}},
    typical_call{"personality(PER_LINUX32)", sys::id::personality, {8}},
    typical_call{"personality(UNAME26)", sys::id::personality, {0x20000}},
    typical_call{"personality(UNAME26|PER_LINUX32)", sys::id::personality, {0x20008}},
    typical_call{"personality(0xffffffff) (query)", sys::id::personality, {0xffffffff}},
    typical_call{"personality(READ_IMPLIES_EXEC)", sys::id::personality, {0x0400000}},
    typical_call{"personality(2^32)", sys::id::personality, {high}},
};

}  // namespace sysfence_bench
