// SPDX-License-Identifier: MIT
// detail/promise_table.hpp - the pledge promises as data: each promise's name and bit, and one
// table of rows "these promises allow this rule", shared by promises<"..."> and pledge("...").
//
// The promises and most argument checks follow Cosmopolitan's Linux pledge (libc/calls/
// pledge-linux.c); where a check is tightened or a call moved, the row says why and
// docs/promises.md lists it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

#include "sysfence/action.hpp"
#include "sysfence/builtins/detail.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/syscall_table.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::detail {

// `promise_bit` is one promise as a bit of a promise set, in Cosmopolitan's order (its
// libc/intrin/promises.h), then OpenBSD's mcast, which Cosmopolitan lacks.
enum promise_bit : std::uint32_t {
  p_stdio = 1U << 0,
  p_rpath = 1U << 1,
  p_wpath = 1U << 2,
  p_cpath = 1U << 3,
  p_dpath = 1U << 4,
  p_flock = 1U << 5,
  p_fattr = 1U << 6,
  p_inet = 1U << 7,
  p_unix = 1U << 8,
  p_dns = 1U << 9,
  p_tty = 1U << 10,
  p_recvfd = 1U << 11,
  p_proc = 1U << 12,
  p_exec = 1U << 13,
  p_id = 1U << 14,
  p_unveil = 1U << 15,
  p_sendfd = 1U << 16,
  p_settime = 1U << 17,
  p_prot_exec = 1U << 18,
  p_vminfo = 1U << 19,
  p_tmppath = 1U << 20,
  p_chown = 1U << 21,
  p_anet = 1U << 22,
  p_mcast = 1U << 23,
  // Not a promise (no name): what a dynamically linked program's start-up needs beyond stdio,
  // rpath and prot_exec, for the filter a command runs under until its promises apply.
  p_loader = 1U << 24,
};

// `promise_name` is a promise as spelled in a promise string.
struct promise_name {
  std::string_view name;
  std::uint32_t bit;
};

inline constexpr std::array<promise_name, 24> promise_names{{
    {"stdio", p_stdio},
    {"rpath", p_rpath},
    {"wpath", p_wpath},
    {"cpath", p_cpath},
    {"dpath", p_dpath},
    {"flock", p_flock},
    {"fattr", p_fattr},
    {"inet", p_inet},
    {"unix", p_unix},
    {"dns", p_dns},
    {"tty", p_tty},
    {"recvfd", p_recvfd},
    {"proc", p_proc},
    {"exec", p_exec},
    {"id", p_id},
    {"unveil", p_unveil},
    {"sendfd", p_sendfd},
    {"settime", p_settime},
    {"prot_exec", p_prot_exec},
    {"vminfo", p_vminfo},
    {"tmppath", p_tmppath},
    {"chown", p_chown},
    {"anet", p_anet},
    {"mcast", p_mcast},
}};

// OpenBSD's promises that name no Linux facility sysfence can confine with seccomp (pledge.2):
// a promise string naming one is refused with this explanation rather than silently ignored.
inline constexpr std::array<std::string_view, 9> openbsd_only_promises{
    "getpw", "tape", "ps", "pf", "route", "wroute", "audio", "video", "bpf"};

// `promise_row` says: a promise set with any of `any` and all of `all` allows rule `r`. Most rows
// have one promise in `any`; opening with O_CREAT needs cpath and the access mode's promise
// (rpath or wpath) together, as on OpenBSD, so those rows name both in `all`. A row with both
// zero is part of every promise set.
struct promise_row {
  std::uint32_t any = 0;
  std::uint32_t all = 0;
  rule r{};
};

constexpr bool row_selected(const promise_row& row, std::uint32_t promises) noexcept {
  if (row.any == 0 && row.all == 0) return true;
  return (row.any == 0 || (promises & row.any) != 0) && (promises & row.all) == row.all;
}

namespace promise_values {
// __O_TMPFILE is O_TMPFILE without O_DIRECTORY: the bit that makes an unnamed temporary file.
inline constexpr std::uint64_t o_tmpfile_bit = O_TMPFILE & ~std::uint64_t{O_DIRECTORY};
inline constexpr std::uint64_t set_id_bits = S_ISUID | S_ISGID | S_ISVTX;
// The open flags a promise judges: access mode, creation and truncation.
inline constexpr std::uint64_t open_judged = O_ACCMODE | O_CREAT | O_TRUNC | o_tmpfile_bit;
// clone: a thread shares memory, files, fs and signal handlers and is in the same thread group;
// it may not be traced, nor make namespaces (Cosmopolitan forbids NEWNS, PTRACE and UNTRACED).
inline constexpr std::uint64_t thread_flags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
inline constexpr std::uint64_t clone_forbidden = CLONE_NEWNS | CLONE_PTRACE | CLONE_UNTRACED | CLONE_NEWUSER |
                                                 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                                                 CLONE_NEWCGROUP;
inline constexpr std::uint64_t socket_type_mask = 0xffffffffU & ~std::uint64_t{SOCK_NONBLOCK | SOCK_CLOEXEC};
}  // namespace promise_values

// `lowered_rule_count_max` bounds the table's rows, and so the rules of one promise set.
inline constexpr std::size_t lowered_rule_count_max = 560;

// `promise_table<>` is every row, grouped by promise. Syscalls a target lacks (open on aarch64,
// the i386 forms elsewhere) are left out when compiling (the rule set is portable). A variable
// template: computed only by a translation unit that uses promises (0.6 s of g++ 12 otherwise).
template <int = 0>
inline constexpr auto promise_table = [] {
  using namespace promise_values;
  builtins::detail::bounded_list<promise_row, lowered_rule_count_max> t;
  auto allow = [&](std::uint32_t p, auto... s) { (t.add({p, 0, rule{s}}), ...); };
  auto when = [&](std::uint32_t p, rule r) { t.add({p, 0, r}); };
  auto when_all = [&](std::uint32_t all, rule r) { t.add({0, all, r}); };
  auto ioctls = [&](std::uint32_t p, auto... request) {
    (when(p, rule{sys::ioctl, arg<1> == request}), ...);
  };
  auto fcntls = [&](std::uint32_t p, auto... cmd) {
    (when(p, rule{sys::fcntl, arg<1> == cmd}), ...);
    (when(p, rule{sys::fcntl64, arg<1> == cmd}), ...);
  };
  auto sockopts = [&](std::uint32_t p, sys::id s, int level, auto... name) {
    (when(p, rule{s, arg<1> == level, arg<2> == name}), ...);
  };
  // socket(domain, type, protocol): this domain, this type exactly once SOCK_NONBLOCK and
  // SOCK_CLOEXEC are masked off (Cosmopolitan tests the type's bits, which SOCK_RAW shares with
  // SOCK_STREAM and SOCK_DGRAM), this protocol.
  auto socket = [&](std::uint32_t p, int domain, int type, auto... protocol) {
    (when(p, rule{sys::socket, arg<0> == domain, (arg<1> & socket_type_mask) == type, arg<2> == protocol}),
     ...);
  };

  // Every promise set: exiting. clone3 gets ENOSYS, as in Cosmopolitan, so glibc falls back to
  // clone, whose flags a filter can read (clone3's are in memory).
  allow(0, sys::exit, sys::exit_group);
  when(0, rule{sys::clone3}.then(action::error(ENOSYS)));

  // stdio: I/O on descriptors the process has, memory, time, signals to itself, waiting.
  allow(p_stdio, sys::rt_sigreturn, sys::sigreturn, sys::restart_syscall, sys::sched_yield,
        sys::sched_getaffinity, sys::sched_setaffinity, sys::clock_getres, sys::clock_getres_time64,
        sys::clock_gettime, sys::clock_gettime64, sys::clock_nanosleep, sys::clock_nanosleep_time64,
        sys::close_range, sys::close, sys::write, sys::writev, sys::pwrite64, sys::pwritev, sys::pwritev2,
        sys::read, sys::readv, sys::pread64, sys::preadv, sys::preadv2, sys::dup, sys::dup2, sys::dup3,
        sys::fchdir, sys::fstat, sys::fstat64, sys::fsync, sys::fdatasync, sys::ftruncate, sys::ftruncate64,
        sys::sysinfo, sys::getrandom, sys::getgroups, sys::getgroups32, sys::getpgid, sys::getpgrp,
        sys::getpid, sys::gettid, sys::getuid, sys::getuid32, sys::getgid, sys::getgid32, sys::getsid,
        sys::getppid, sys::geteuid, sys::geteuid32, sys::getegid, sys::getegid32, sys::getrlimit,
        sys::ugetrlimit, sys::getresgid, sys::getresgid32, sys::getresuid, sys::getresuid32, sys::getitimer,
        sys::setitimer, sys::timerfd_create, sys::timerfd_settime, sys::timerfd_settime64,
        sys::timerfd_gettime, sys::timerfd_gettime64, sys::copy_file_range, sys::gettimeofday, sys::sendfile,
        sys::sendfile64, sys::vmsplice, sys::splice, sys::lseek, sys::_llseek, sys::tee, sys::brk, sys::msync,
        sys::mlock, sys::mlock2, sys::munlock, sys::mremap, sys::munmap, sys::mincore, sys::madvise,
        sys::fadvise64, sys::fadvise64_64, sys::sync_file_range, sys::set_tid_address, sys::membarrier,
        sys::nanosleep, sys::pipe, sys::pipe2, sys::poll, sys::ppoll, sys::ppoll_time64, sys::select,
        sys::_newselect, sys::pselect6, sys::pselect6_time64, sys::epoll_create, sys::epoll_create1,
        sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait, sys::epoll_pwait2, sys::recvfrom, sys::shutdown,
        sys::alarm, sys::pause, sys::eventfd, sys::eventfd2, sys::signalfd, sys::signalfd4, sys::rt_sigaction,
        sys::sigaction, sys::sigaltstack, sys::rt_sigprocmask, sys::sigprocmask, sys::rt_sigsuspend,
        sys::sigsuspend, sys::rt_sigpending, sys::sigpending, sys::rt_sigtimedwait,
        sys::rt_sigtimedwait_time64, sys::socketpair, sys::getrusage, sys::times, sys::umask, sys::wait4,
        sys::uname, sys::futex, sys::futex_time64, sys::set_robust_list, sys::get_robust_list, sys::getcpu,
        sys::rseq);
  fcntls(p_stdio, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL);
  // TCGETS is isatty(): glibc's stdio asks it of every character device it buffers (OpenBSD's
  // stdio allows it too); the rest of the terminal ioctls are tty's.
  ioctls(p_stdio, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS);
  // glibc's fstat() is fstatat(fd, "", buf, AT_EMPTY_PATH) (x86_64, aarch64) or statx (i386):
  // allowed with AT_EMPTY_PATH. The path is not readable by a filter: a non-empty one still
  // looks up a name's metadata, which rpath allows for any path.
  when(p_stdio, rule{sys::newfstatat, (arg<3> & AT_EMPTY_PATH) == AT_EMPTY_PATH});
  when(p_stdio, rule{sys::fstatat64, (arg<3> & AT_EMPTY_PATH) == AT_EMPTY_PATH});
  when(p_stdio, rule{sys::statx, (arg<2> & AT_EMPTY_PATH) == AT_EMPTY_PATH});
  // Memory: readable and writable, not executable (prot_exec), not locked.
  for (const sys::id s : {sys::id::mmap, sys::id::mmap2})
    when(p_stdio, rule{s, (arg<2> & ~std::uint64_t{PROT_READ | PROT_WRITE}) == 0,
                       (arg<3> & std::uint64_t{MAP_LOCKED | MAP_NONBLOCK}) == 0});
  when(p_stdio, rule{sys::mprotect, (arg<2> & ~std::uint64_t{PROT_READ | PROT_WRITE}) == 0});
  // sendto on a connected socket only (no address): a new destination is inet's or unix's.
  when(p_stdio, rule{sys::sendto, arg<4> == 0});
  // Threads, not processes (proc).
  when(p_stdio, rule{sys::clone, (arg<0> & (thread_flags | clone_forbidden)) == thread_flags});
  // getrlimit()'s form of prlimit: this process, no new limit (Cosmopolitan checks only the latter).
  when(p_stdio, rule{sys::prlimit64, arg<0> == 0, arg<2> == 0});
  for (const int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_SECCOMP, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS,
                           PR_CAPBSET_READ, PR_CAPBSET_DROP})
    when(p_stdio, rule{sys::prctl, arg<0> == option});
  // Pledging again (narrowing): a new filter is only ever stricter; apply() asks the kernel which
  // actions it has first. Not with SPEC_ALLOW, which would turn off the speculative store bypass
  // mitigation seccomp otherwise turns on.
  when(p_stdio, rule{sys::seccomp, arg<0> == SECCOMP_SET_MODE_FILTER,
                     (arg<1> & std::uint64_t{SECCOMP_FILTER_FLAG_SPEC_ALLOW}) == 0});
  when(p_stdio, rule{sys::seccomp, arg<0> == SECCOMP_GET_ACTION_AVAIL});

  // rpath: reading the file system.
  allow(p_rpath, sys::chdir, sys::getcwd, sys::stat, sys::stat64, sys::lstat, sys::lstat64, sys::fstat,
        sys::newfstatat, sys::fstatat64, sys::statx, sys::access, sys::faccessat, sys::faccessat2,
        sys::readlink, sys::readlinkat, sys::statfs, sys::statfs64, sys::fstatfs, sys::fstatfs64,
        sys::getdents, sys::getdents64);
  // Extended attributes are metadata too: ls -l reads ACLs and security labels (lgetxattr) and
  // reports EPERM as an error. Cosmopolitan's rpath lacks them.
  allow(p_rpath, sys::getxattr, sys::lgetxattr, sys::fgetxattr, sys::listxattr, sys::llistxattr, sys::flistxattr);
  when(p_rpath, rule{sys::open, (arg<1> & open_judged) == O_RDONLY});
  when(p_rpath, rule{sys::openat, (arg<2> & open_judged) == O_RDONLY});

  // wpath: writing existing files.
  allow(p_wpath, sys::getcwd, sys::stat, sys::stat64, sys::lstat, sys::lstat64, sys::fstat, sys::newfstatat,
        sys::fstatat64, sys::statx, sys::access, sys::faccessat, sys::faccessat2, sys::readlink,
        sys::readlinkat, sys::truncate, sys::truncate64);
  for (const int mode : {O_WRONLY, O_RDWR}) {
    when(p_wpath, rule{sys::open, (arg<1> & (O_ACCMODE | O_CREAT | o_tmpfile_bit)) == mode});
    when(p_wpath, rule{sys::openat, (arg<2> & (O_ACCMODE | O_CREAT | o_tmpfile_bit)) == mode});
  }
  // chmod without set-id or sticky bits: wpath and fattr.
  for (const std::uint32_t p : {p_wpath, p_fattr}) {
    when(p, rule{sys::chmod, (arg<1> & set_id_bits) == 0});
    when(p, rule{sys::fchmod, (arg<1> & set_id_bits) == 0});
    when(p, rule{sys::fchmodat, (arg<2> & set_id_bits) == 0});
    when(p, rule{sys::fchmodat2, (arg<2> & set_id_bits) == 0});
  }

  // cpath: creating and removing names.
  allow(p_cpath, sys::rename, sys::renameat, sys::renameat2, sys::link, sys::linkat, sys::symlink,
        sys::symlinkat, sys::rmdir, sys::unlink, sys::unlinkat, sys::mkdir, sys::mkdirat);
  // open with O_CREAT (or O_TMPFILE) creates: cpath, plus the promise of the access mode (rpath
  // for O_RDONLY, wpath otherwise), with no set-id or sticky bit in the mode. Cosmopolitan lets
  // cpath alone open any file for writing this way.
  for (const std::uint64_t creating : {std::uint64_t{O_CREAT}, o_tmpfile_bit})
    for (const auto& [promise, mode] :
         {std::pair{p_rpath, O_RDONLY}, std::pair{p_wpath, O_WRONLY}, std::pair{p_wpath, O_RDWR}}) {
      when_all(p_cpath | promise, rule{sys::open, (arg<1> & (O_ACCMODE | creating)) == (mode | creating),
                                       (arg<2> & set_id_bits) == 0});
      when_all(p_cpath | promise, rule{sys::openat, (arg<2> & (O_ACCMODE | creating)) == (mode | creating),
                                       (arg<3> & set_id_bits) == 0});
    }
  when_all(p_cpath | p_wpath, rule{sys::creat, (arg<1> & set_id_bits) == 0});

  // dpath: FIFOs (mkfifo). Device nodes need CAP_MKNOD, which a pledged process should not use.
  when(p_dpath, rule{sys::mknod, (arg<1> & (S_IFMT | set_id_bits)) == S_IFIFO});
  when(p_dpath, rule{sys::mknodat, (arg<2> & (S_IFMT | set_id_bits)) == S_IFIFO});

  // flock: advisory locks.
  allow(p_flock, sys::flock);
  fcntls(p_flock, F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW);

  // fattr: times and modes (chmod above).
  allow(p_fattr, sys::utime, sys::utimes, sys::futimesat, sys::utimensat, sys::utimensat_time64);

  // inet and anet: IPv4 and IPv6 TCP and UDP sockets; anet cannot connect and has TCP only.
  for (const int domain : {AF_INET, AF_INET6}) {
    socket(p_inet | p_anet, domain, SOCK_STREAM, 0, IPPROTO_TCP);
    socket(p_inet, domain, SOCK_DGRAM, 0, IPPROTO_UDP);
  }
  socket(p_inet, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);  // ping sockets
  socket(p_inet, AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  allow(p_inet | p_anet | p_unix, sys::listen, sys::bind, sys::accept, sys::accept4, sys::getpeername,
        sys::getsockname);
  allow(p_inet | p_unix, sys::connect, sys::sendto);
  // anet's sendto without MSG_FASTOPEN: on an unconnected TCP socket that flag connects (TCP Fast
  // Open, on for clients by default), which anet does not promise. Cosmopolitan allows it.
  when(p_anet, rule{sys::sendto, (arg<3> & std::uint64_t{MSG_FASTOPEN}) == 0});
  ioctls(p_inet | p_anet, SIOCATMARK);
  const std::uint32_t sockets = p_inet | p_anet | p_unix | p_dns;
  sockopts(sockets, sys::setsockopt, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_RCVBUF,
           SO_SNDBUF, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO, SO_BROADCAST, SO_RCVLOWAT, SO_SNDLOWAT);
  sockopts(sockets, sys::getsockopt, SOL_SOCKET, SO_TYPE, SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR,
           SO_KEEPALIVE, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL);
  const std::uint32_t ip = p_inet | p_anet | p_dns;
  sockopts(ip, sys::setsockopt, IPPROTO_TCP, TCP_NODELAY, TCP_CORK, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
           TCP_QUICKACK, TCP_FASTOPEN, TCP_FASTOPEN_CONNECT, TCP_DEFER_ACCEPT);
  sockopts(ip, sys::getsockopt, IPPROTO_TCP, TCP_NODELAY, TCP_INFO, TCP_MAXSEG);
  sockopts(ip, sys::setsockopt, IPPROTO_IP, IP_TOS, IP_TTL, IP_RECVERR, IP_MTU_DISCOVER);
  sockopts(ip, sys::setsockopt, IPPROTO_IPV6, IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_RECVERR);

  // mcast (OpenBSD): joining and sending to multicast groups, with inet's sockets.
  sockopts(p_mcast, sys::setsockopt, IPPROTO_IP, IP_MULTICAST_IF, IP_MULTICAST_TTL, IP_MULTICAST_LOOP,
           IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP);
  sockopts(p_mcast, sys::setsockopt, IPPROTO_IPV6, IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS,
           IPV6_MULTICAST_LOOP, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP);

  // unix: local sockets.
  socket(p_unix, AF_UNIX, SOCK_STREAM, 0);
  socket(p_unix, AF_UNIX, SOCK_DGRAM, 0);

  // dns: a resolver's UDP and TCP queries (glibc sends them with sendmmsg), the netlink query
  // behind AI_ADDRCONFIG, and reading /etc/resolv.conf and /etc/hosts (any file: a filter cannot
  // read paths).
  for (const int domain : {AF_INET, AF_INET6}) {
    socket(p_dns, domain, SOCK_DGRAM, 0, IPPROTO_UDP);
    socket(p_dns, domain, SOCK_STREAM, 0, IPPROTO_TCP);
  }
  socket(p_dns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  allow(p_dns, sys::bind, sys::sendto, sys::connect, sys::recvfrom, sys::recvmsg, sys::sendmsg, sys::sendmmsg,
        sys::getsockname, sys::read, sys::close, sys::fstat, sys::newfstatat, sys::fstatat64, sys::statx);
  when(p_dns, rule{sys::open, (arg<1> & open_judged) == O_RDONLY});
  when(p_dns, rule{sys::openat, (arg<2> & open_judged) == O_RDONLY});
  ioctls(p_dns, FIONREAD);

  // tty: terminal settings, window size, foreground process group.
  ioctls(p_tty, TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSPGRP, TIOCGPGRP, TIOCSWINSZ, TCFLSH,
         TCXONC, TCSBRK, TIOCSBRK, TIOCCBRK);

  // recvfd and sendfd: the calls that carry SCM_RIGHTS (and any other message).
  allow(p_recvfd, sys::recvmsg, sys::recvmmsg, sys::recvmmsg_time64);
  // sendfd's sendmsg without MSG_FASTOPEN, which would connect a TCP socket (see anet); with
  // inet (which connects anyway) any flags.
  when(p_sendfd, rule{sys::sendmsg, (arg<2> & std::uint64_t{MSG_FASTOPEN}) == 0});
  when(p_sendfd, rule{sys::sendmmsg, (arg<3> & std::uint64_t{MSG_FASTOPEN}) == 0});
  when_all(p_sendfd | p_inet, rule{sys::sendmsg});
  when_all(p_sendfd | p_inet, rule{sys::sendmmsg});

  // proc: processes, signals to any process, scheduling.
  allow(p_proc, sys::fork, sys::vfork, sys::kill, sys::tkill, sys::tgkill, sys::setsid, sys::setpgid,
        sys::prlimit64, sys::setrlimit, sys::getpriority, sys::setpriority, sys::ioprio_get, sys::ioprio_set,
        sys::sched_getscheduler, sys::sched_setscheduler, sys::sched_get_priority_min,
        sys::sched_get_priority_max, sys::sched_getparam, sys::sched_setparam, sys::waitid);
  when(p_proc, rule{sys::clone, (arg<0> & clone_forbidden) == 0});

  // exec: running programs (the filter stays: exec the program under the same promises).
  allow(p_exec, sys::execve, sys::execveat);

  // id: changing user and group ids, limits and priorities.
  allow(p_id, sys::setuid, sys::setuid32, sys::setreuid, sys::setreuid32, sys::setresuid, sys::setresuid32,
        sys::setgid, sys::setgid32, sys::setregid, sys::setregid32, sys::setresgid, sys::setresgid32,
        sys::setgroups, sys::setgroups32, sys::prlimit64, sys::setrlimit, sys::getpriority, sys::setpriority,
        sys::setfsuid, sys::setfsuid32, sys::setfsgid, sys::setfsgid32);

  // chown: file owners.
  allow(p_chown, sys::chown, sys::chown32, sys::fchown, sys::fchown32, sys::lchown, sys::lchown32,
        sys::fchownat);

  // settime: the system clock.
  allow(p_settime, sys::settimeofday, sys::clock_adjtime, sys::clock_adjtime64, sys::clock_settime,
        sys::clock_settime64, sys::adjtimex);

  // prot_exec: executable memory (mapping code, the dynamic loader), not locked nor huge pages.
  for (const sys::id s : {sys::id::mmap, sys::id::mmap2})
    when(p_prot_exec, rule{s, (arg<3> & std::uint64_t{MAP_LOCKED | MAP_NONBLOCK | MAP_HUGETLB}) == 0});
  allow(p_prot_exec, sys::mprotect);

  // unveil: Landlock, Linux's unveil.
  allow(p_unveil, sys::landlock_create_ruleset, sys::landlock_add_rule, sys::landlock_restrict_self);

  // vminfo: memory statistics (OpenBSD's sysctl vm.*; /proc/meminfo is rpath's).
  allow(p_vminfo, sys::sysinfo);

  // The loader: glibc's x86_64 start-up sets the thread pointer with arch_prctl (Cosmopolitan
  // allows it in every promise set).
  when(p_loader, rule{sys::arch_prctl, arg<0> == 0x1002});  // ARCH_SET_FS (x86's asm/prctl.h)

  // tmppath: Cosmopolitan's, for pledge.com to unveil /tmp; without Landlock it is any path.
  allow(p_tmppath, sys::lstat, sys::lstat64, sys::unlink, sys::unlinkat);
  return t;
}();

// `lower_promises` writes the rules of a promise set into `out` (capacity lowered_rule_count_max)
// and returns how many: the selected rows in table order, a syscall's conditional rules dropped
// where another selected row allows it whatever its arguments, and repeated rules dropped (two
// promises sharing a call). The compile-time and run-time paths both call it. Linear in the
// table (with chains of one syscall's rules), so a compile-time promises<> stays within clang's
// constexpr step limit.
template <int I = 0>
constexpr std::size_t lower_promises(std::uint32_t promises, rule* out) noexcept {
  constexpr auto& table = promise_table<I>;
  constexpr std::size_t syscall_count = syscall_names.size();
  std::array<bool, syscall_count> simple{};
  for (std::size_t i = 0; i < table.count; ++i)
    if (table.items[i].r.is_simple() && row_selected(table.items[i], promises))
      simple[static_cast<std::size_t>(table.items[i].r.syscall)] = true;
  // last[s]: the last rule written for syscall s, plus one (0: none); previous[k]: the rule for
  // the same syscall written before rule k, plus one.
  std::array<std::uint16_t, syscall_count> last{};
  std::array<std::uint16_t, lowered_rule_count_max> previous{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < table.count; ++i) {
    const promise_row& row = table.items[i];
    if (!row_selected(row, promises)) continue;
    const auto s = static_cast<std::size_t>(row.r.syscall);
    if (simple[s] && !row.r.is_simple()) continue;
    bool seen = false;
    for (std::size_t k = last[s]; k != 0 && !seen; k = previous[k - 1]) seen = out[k - 1].same_match(row.r);
    if (seen) continue;
    out[n] = row.r;
    previous[n] = last[s];
    last[s] = static_cast<std::uint16_t>(++n);
  }
  return n;
}

}  // namespace sysfence::detail
