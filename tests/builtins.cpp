// SPDX-License-Identifier: MIT
// builtins.cpp - every built-in method, compiled bare and swept in the simulator against extrasafe 0.5.1.
#include "sysfence/builtins.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/landlock.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/simulate.hpp"
#include "sysfence/syscall.hpp"

using namespace sysfence;
namespace b = sysfence::builtins;

namespace {

using u64 = std::uint64_t;
using ids = std::span<const sys::id>;
using program_view = std::span<const bpf::insn>;
constexpr action eperm = action::error(EPERM);
constexpr u64 high_bit = u64{1} << 32;
// What glibc passes for an `int` argument of -100 (AT_FDCWD): sign-extended to 64 bits.
constexpr u64 at_fdcwd = static_cast<u64>(std::int64_t{AT_FDCWD});

// ---------------------------------------------------------------------------------------------
// The expected lists, written out from /work/shared/reference/extrasafe-builtins.md (extrasafe
// 0.5.1, src/builtins/*.rs), not taken from the headers under test.

template <std::size_t... N>
constexpr auto join(const std::array<sys::id, N>&... lists) {
  std::array<sys::id, (std::size_t{0} + ... + N)> out{};
  std::size_t k = 0;
  auto append = [&](const auto& list) {
    for (auto s : list) out[k++] = s;
  };
  (append(lists), ...);
  return out;
}

// BasicCapabilities (basic.rs).
constexpr auto basic_list =
    syscalls(sys::brk, sys::mmap, sys::munmap, sys::madvise, sys::mlock, sys::mlock2, sys::mlockall,
             sys::mprotect, sys::munlock, sys::munlockall, sys::sigaltstack, sys::rt_sigaction,
             sys::rt_sigprocmask, sys::rt_sigreturn, sys::futex, sys::get_robust_list, sys::set_robust_list,
             sys::readlink, sys::getpid, sys::gettid, sys::uname, sys::getrandom, sys::sched_getaffinity,
             sys::sched_setaffinity, sys::sched_yield, sys::rseq, sys::exit, sys::exit_group);
static_assert(basic_list.size() == 28);
// sysfence adds readlinkat: readlink() on aarch64 and riscv64, which have no readlink syscall.
constexpr auto basic_sysfence_list = join(basic_list, syscalls(sys::readlinkat));

// systemio.rs
constexpr auto io_read = syscalls(sys::read, sys::readv, sys::preadv, sys::preadv2, sys::pread64, sys::lseek);
constexpr auto io_write = syscalls(sys::write, sys::writev, sys::pwritev, sys::pwritev2, sys::pwrite64,
                                   sys::fsync, sys::fdatasync, sys::lseek);
constexpr auto io_open = syscalls(sys::open, sys::openat, sys::openat2);
constexpr auto io_ioctl = syscalls(sys::ioctl, sys::fcntl);
// sysfence: fcntl whatever its arguments, ioctl for every request but TIOCSTI and TIOCLINUX.
constexpr auto io_ioctl_plain = syscalls(sys::fcntl);
constexpr auto only_ioctl = syscalls(sys::ioctl);
static_assert(io_ioctl.size() == io_ioctl_plain.size() + only_ioctl.size());
constexpr auto io_metadata = syscalls(sys::stat, sys::fstat, sys::newfstatat, sys::lstat, sys::statx,
                                      sys::getdents, sys::getdents64, sys::getcwd);
constexpr auto io_close = syscalls(sys::close, sys::close_range);
constexpr auto io_unlink = syscalls(sys::unlink, sys::unlinkat);
constexpr auto io_everything = join(io_read, io_write, io_open, io_metadata, io_unlink, io_close);
// allow_file_read(fd): extrasafe's IO_READ + IO_METADATA minus the three whose first argument is a
// pointer (stat, lstat, getcwd), which sysfence leaves denied instead of comparing a pointer to fd.
constexpr auto fd_first_read =
    syscalls(sys::read, sys::readv, sys::preadv, sys::preadv2, sys::pread64, sys::lseek, sys::fstat,
             sys::newfstatat, sys::statx, sys::getdents, sys::getdents64);

// network.rs
constexpr auto net_io =
    syscalls(sys::epoll_create, sys::epoll_create1, sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait,
             sys::epoll_pwait2, sys::select, sys::pselect6, sys::poll, sys::ppoll, sys::accept, sys::accept4,
             sys::eventfd, sys::eventfd2, sys::fcntl, sys::ioctl, sys::getsockopt, sys::setsockopt,
             sys::getpeername, sys::getsockname);
constexpr auto net_read = syscalls(sys::listen, sys::recvfrom, sys::recvmsg, sys::recvmmsg, sys::read,
                                   sys::readv, sys::preadv, sys::preadv2);
constexpr auto net_write = syscalls(sys::sendto, sys::sendmsg, sys::sendmmsg, sys::sendfile, sys::write,
                                    sys::writev, sys::pwritev, sys::pwritev2);
constexpr auto net_running = join(net_io, net_read, net_write);
constexpr auto net_bind_running = join(syscalls(sys::bind), net_running);
constexpr auto net_connect_running = join(syscalls(sys::connect), net_running);
static_assert(net_running.size() == 36);
// sysfence: the same, but ioctl only for the socket requests (a conditional rule).
constexpr auto net_io_plain =
    syscalls(sys::epoll_create, sys::epoll_create1, sys::epoll_ctl, sys::epoll_wait, sys::epoll_pwait,
             sys::epoll_pwait2, sys::select, sys::pselect6, sys::poll, sys::ppoll, sys::accept, sys::accept4,
             sys::eventfd, sys::eventfd2, sys::fcntl, sys::getsockopt, sys::setsockopt, sys::getpeername,
             sys::getsockname);
constexpr auto net_running_plain = join(net_io_plain, net_read, net_write);
constexpr auto net_bind_running_plain = join(syscalls(sys::bind), net_running_plain);
constexpr auto net_connect_running_plain = join(syscalls(sys::connect), net_running_plain);
static_assert(net_bind_running.size() == net_bind_running_plain.size() + only_ioctl.size());
static_assert(net_connect_running.size() == net_connect_running_plain.size() + only_ioctl.size());

// time.rs, pipes.rs, danger_zone.rs
constexpr auto time_list = syscalls(sys::clock_gettime, sys::clock_getres);
constexpr auto pipes_list = syscalls(sys::pipe, sys::pipe2);
constexpr auto thread_create_list = syscalls(sys::clone, sys::clone3);
constexpr auto thread_sleep_list = syscalls(sys::clock_nanosleep, sys::nanosleep);
constexpr auto fork_exec_list = syscalls(sys::fork, sys::vfork, sys::execve, sys::execveat, sys::wait4,
                                         sys::waitid, sys::clone, sys::clone3);  // + pipe, pipe2 on musl only
// sysfence: clone only without namespace flags (threads: only with the thread flags), clone3 ENOSYS.
constexpr auto fork_exec_plain =
    syscalls(sys::fork, sys::vfork, sys::execve, sys::execveat, sys::wait4, sys::waitid);
static_assert(fork_exec_list.size() == fork_exec_plain.size() + thread_create_list.size());

constexpr std::array<sys::id, 0> none{};
constexpr auto only_read = syscalls(sys::read);
constexpr auto only_write = syscalls(sys::write);
constexpr auto open_openat = syscalls(sys::open, sys::openat);
constexpr auto only_socket = syscalls(sys::socket);
constexpr auto socket_and_ioctl = join(only_socket, only_ioctl);

// ---------------------------------------------------------------------------------------------
// The machinery: a rule set compiled bare, its run-time values patched in, every number swept.

// `bare<S>` is the policy of exactly `S`: no basic_capabilities.
template <class S>
using bare = policy<std::remove_cvref_t<S>>;

// `program_of(set)` is the x86_64 program of `bare<Set>` with the set's run-time values patched in
// as apply() does (the constant program itself for sets without values).
template <class Set>
constexpr auto program_of(const Set& set) {
  using compiled = program<bare<Set>, arch::x86_64>;
  auto copy = compiled::insns;
  if constexpr (bare<Set>::slot_count > 0) {
    const auto values = set.values();
    if (!detail::patch_values(copy, compiled::patches, values))
      throw std::logic_error("a built-in's run-time value does not fit its condition");
  }
  return copy;
}

constexpr bool contains(ids list, sys::id s) {
  for (auto x : list)
    if (x == s) return true;
  return false;
}

// Arguments every syscall outside the conditional rules is tried with: nothing; an fd, a pointer,
// write flags, a value above 32 bits, all bits set. (Only conditional blocks load arguments, so
// two vectors are enough to see a rule that should not be there.)
constexpr std::array<std::array<u64, 6>, 2> sweep_args{{
    {0, 0, 0, 0, 0, 0},
    {3, 0x00007ffc12345678, O_RDWR | O_TRUNC, high_bit | 1, ~u64{0}, ~u64{0}},
}};

// `expected` is what a sweep wants for each syscall id: a plain array indexed by id (clang 14
// counts constexpr steps inside std::array's operator[] and in linear searches).
enum class want : std::uint8_t { denied, allowed, conditional };
constexpr std::size_t id_count = arch::x86_64::numbers.size();
struct expected {
  want of[id_count];
};
constexpr expected expect(ids unconditional, ids conditional) {
  expected e{};  // value-initialised: denied
  for (auto s : unconditional) e.of[static_cast<std::size_t>(s)] = want::allowed;
  for (auto s : conditional) e.of[static_cast<std::size_t>(s)] = want::conditional;
  return e;
}

// `allows_exactly` checks that the kernel would accept `p` and sweeps every x86_64 syscall number
// through it: those in `unconditional` are allowed whatever the arguments and the kernel's action
// cache proves it; those in `conditional` are never proved always-allowed (their arguments are
// checked below, fact by fact); every other number gets EPERM.
constexpr bool allows_exactly(program_view p, ids unconditional, ids conditional = none) {
  for (auto s : unconditional)
    if (contains(conditional, s)) return false;   // a mistake in the test itself
  if (check(p) != bpf_error::none) return false;  // the kernel would refuse it
  const expected e = expect(unconditional, conditional);
  const std::int32_t* const numbers = arch::x86_64::numbers.data();
  for (std::size_t i = 0; i < id_count; ++i) {
    if (numbers[i] < 0) continue;
    const auto s = static_cast<sys::id>(i);
    const bool allowed = e.of[i] == want::allowed;
    if (const_allow(p, AUDIT_ARCH_X86_64, static_cast<std::uint32_t>(numbers[i])).allowed != allowed)
      return false;
    if (e.of[i] == want::conditional) continue;
    for (const auto& args : sweep_args)
      if (!(evaluate(p, call<arch::x86_64>(s, args)) == (allowed ? action::allow : eperm))) return false;
  }
  return true;
}

template <class Set>
constexpr bool set_allows_exactly(const Set& set, ids unconditional, ids conditional = none) {
  const auto p = program_of(set);
  return allows_exactly(p, unconditional, conditional);
}

constexpr bool allowed(program_view p, sys::id s, std::array<u64, 6> args) {
  return evaluate(p, call<arch::x86_64>(s, args)) == action::allow;
}
constexpr bool denied(program_view p, sys::id s, std::array<u64, 6> args) {
  return evaluate(p, call<arch::x86_64>(s, args)) == eperm;
}

// The built-ins under test, as values.
constexpr auto io = b::system_io::nothing();
constexpr auto net = b::networking::nothing();

// ---------------------------------------------------------------------------------------------
// basic_capabilities, and a single syscall as a rule set

constexpr bool basic_capabilities_exactly() {
  return set_allows_exactly(b::basic_capabilities{}, basic_sysfence_list);
}
constexpr bool single_syscall_exactly() { return set_allows_exactly(sys::getppid, syscalls(sys::getppid)); }

// ---------------------------------------------------------------------------------------------
// system_io: the unconditional methods

constexpr bool io_nothing_exactly() { return set_allows_exactly(io, none); }
constexpr bool io_everything_exactly() {
  return set_allows_exactly(b::system_io::everything(), io_everything);
}
constexpr bool io_read_exactly() { return set_allows_exactly(io.allow_read(), io_read); }
constexpr bool io_write_exactly() { return set_allows_exactly(io.allow_write(), io_write); }
constexpr bool io_unlink_exactly() { return set_allows_exactly(io.allow_unlink(), io_unlink); }
constexpr bool io_open_exactly() { return set_allows_exactly(io.allow_open().yes_really(), io_open); }
constexpr bool io_metadata_exactly() { return set_allows_exactly(io.allow_metadata(), io_metadata); }
constexpr bool io_ioctl_exactly() { return set_allows_exactly(io.allow_ioctl(), io_ioctl_plain, only_ioctl); }
constexpr bool io_close_exactly() { return set_allows_exactly(io.allow_close(), io_close); }
// Methods add up: a chain allows the union.
constexpr bool io_chain_exactly() {
  return set_allows_exactly(io.allow_read().allow_write().allow_close().allow_ioctl(),
                            join(io_read, io_write, io_close, io_ioctl_plain), only_ioctl);
}

// ---------------------------------------------------------------------------------------------
// system_io: the conditional methods, swept, then their arguments

constexpr bool io_open_readonly_exactly() {
  return set_allows_exactly(io.allow_open_readonly(), none, open_openat);
}
constexpr bool io_stdin_exactly() { return set_allows_exactly(io.allow_stdin(), none, only_read); }
constexpr bool io_stdout_exactly() { return set_allows_exactly(io.allow_stdout(), none, only_write); }
constexpr bool io_stderr_exactly() { return set_allows_exactly(io.allow_stderr(), none, only_write); }
constexpr bool io_file_read_exactly() {
  return set_allows_exactly(io.allow_file_read(3), none, fd_first_read);
}
constexpr bool io_file_write_exactly() {
  return set_allows_exactly(io.allow_file_write(3), none, only_write);
}

// Candidate fds for the stream and file rules: both halves, -1 as int and as long.
constexpr std::array<u64, 12> fds{
    0, 1, 2, 3, 4, 5, high_bit, high_bit | 1, high_bit | 2, high_bit | 3, 0xffffffff, ~u64{0}};

// `only_fds_allowed` checks syscall `s` with every candidate fd in argument 0: allowed exactly for
// those whose low 32 bits are in `want` (fd parameters are 32 bits: the kernel reads only those).
template <std::size_t N>
constexpr bool only_fds_allowed(program_view p, sys::id s, const std::array<u64, N>& want) {
  for (u64 fd : fds) {
    bool wanted = false;
    for (u64 w : want) wanted = wanted || w == (fd & 0xffffffffU);
    const std::array<u64, 6> args{fd, 0x00007ffc12345678, 64, 0, 0, 0};
    if (wanted ? !allowed(p, s, args) : !denied(p, s, args)) return false;
  }
  return true;
}

constexpr bool stdin_reads_fd_0_only() {
  return only_fds_allowed(program_of(io.allow_stdin()), sys::id::read, std::array<u64, 1>{0});
}
constexpr bool stdout_writes_fd_1_only() {
  return only_fds_allowed(program_of(io.allow_stdout()), sys::id::write, std::array<u64, 1>{1});
}
constexpr bool stderr_writes_fd_2_only() {
  return only_fds_allowed(program_of(io.allow_stderr()), sys::id::write, std::array<u64, 1>{2});
}
constexpr bool stdout_and_stderr_write_fds_1_and_2() {
  const auto p = program_of(io.allow_stdout().allow_stderr());
  return allows_exactly(p, none, only_write) && only_fds_allowed(p, sys::id::write, std::array<u64, 2>{1, 2});
}
constexpr bool stdio_together() {
  const auto p = program_of(io.allow_stdin().allow_stdout().allow_stderr());
  return allows_exactly(p, none, syscalls(sys::read, sys::write)) &&
         only_fds_allowed(p, sys::id::read, std::array<u64, 1>{0}) &&
         only_fds_allowed(p, sys::id::write, std::array<u64, 2>{1, 2});
}

// allow_file_read(3): every fd-first read and metadata syscall on fd 3 only (the low 32 bits compared);
// stat, lstat and getcwd stay denied even when their first argument happens to equal 3.
constexpr bool file_read_fd_3_only() {
  const auto p = program_of(io.allow_file_read(3));
  for (auto s : fd_first_read)
    if (!only_fds_allowed(p, s, std::array<u64, 1>{3})) return false;
  for (auto s : {sys::id::stat, sys::id::lstat, sys::id::getcwd})
    if (!only_fds_allowed(p, s, std::array<u64, 0>{})) return false;
  return true;
}
// Two files at once: each of fds 3 and 5 (whatever the upper half), not 4.
constexpr bool file_read_two_files() {
  const auto p = program_of(io.allow_file_read(3).allow_file_read(5));
  if (!allows_exactly(p, none, fd_first_read)) return false;
  for (auto s : fd_first_read) {
    for (u64 fd : {u64{3}, u64{5}, high_bit | 5})
      if (!allowed(p, s, {fd, 0, 0, 0, 0, 0})) return false;
    for (u64 fd : {u64{4}, u64{6}, high_bit | 4})
      if (!denied(p, s, {fd, 0, 0, 0, 0, 0})) return false;
  }
  return true;
}
// allow_file_write(3): write(3) only; not writev or pwrite64 (extrasafe's list is write alone).
constexpr bool file_write_fd_3_only() {
  const auto p = program_of(io.allow_file_write(3));
  return only_fds_allowed(p, sys::id::write, std::array<u64, 1>{3}) &&
         only_fds_allowed(p, sys::id::writev, std::array<u64, 0>{}) &&
         only_fds_allowed(p, sys::id::pwrite64, std::array<u64, 0>{});
}
// Reads and writes mixed, in either order of the calls: the values land in the right slots.
template <class Set>
constexpr bool reads_3_writes_4(const Set& set) {
  const auto p = program_of(set);
  return allows_exactly(p, none, fd_first_read) &&
         only_fds_allowed(p, sys::id::read, std::array<u64, 1>{3}) &&
         only_fds_allowed(p, sys::id::fstat, std::array<u64, 1>{3}) &&
         only_fds_allowed(p, sys::id::write, std::array<u64, 1>{4});
}
constexpr bool file_read_then_write() { return reads_3_writes_4(io.allow_file_read(3).allow_file_write(4)); }
constexpr bool file_write_then_read() { return reads_3_writes_4(io.allow_file_write(4).allow_file_read(3)); }
// Run-time fds: the value is whatever the program is given, the program the same constant.
constexpr bool file_read_large_fd() {
  const auto p = program_of(io.allow_file_read(1000));
  return allowed(p, sys::id::read, {1000, 0, 0, 0, 0, 0}) && denied(p, sys::id::read, {3, 0, 0, 0, 0, 0}) &&
         allowed(p, sys::id::read, {high_bit | 1000, 0, 0, 0, 0, 0}) &&  // the kernel reads fd 1000
         denied(p, sys::id::read, {high_bit | 3, 0, 0, 0, 0, 0});
}
static_assert(std::is_same_v<decltype(io.allow_file_read(3)), decltype(io.allow_file_read(1000))>);

// allow_open_readonly: open's flags are argument 1, openat's argument 2; the other arguments
// (path pointer, mode, dirfd) do not matter.
constexpr std::array<u64, 7> readonly_flags{O_RDONLY,
                                            O_RDONLY | O_CLOEXEC | O_DIRECTORY,
                                            O_RDONLY | O_NONBLOCK,
                                            O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
                                            O_PATH,
                                            O_RDONLY | O_NOCTTY,
                                            O_DIRECTORY | O_CLOEXEC | O_NONBLOCK};
constexpr std::array<u64, 10> writing_flags{O_WRONLY,
                                            O_RDWR,
                                            O_CREAT,
                                            O_APPEND,
                                            O_EXCL,
                                            O_TRUNC,
                                            O_RDONLY | O_TRUNC,
                                            O_WRONLY | O_CREAT | O_TRUNC,
                                            O_RDWR | O_TMPFILE,
                                            O_RDONLY | O_CLOEXEC | O_APPEND};
constexpr bool open_readonly_flags() {
  const auto p = program_of(io.allow_open_readonly());
  constexpr u64 path = 0x00007ffc12345678;
  for (u64 f : readonly_flags) {
    if (!allowed(p, sys::id::open, {path, f, 0644, 0, 0, 0})) return false;
    if (!allowed(p, sys::id::openat, {at_fdcwd, path, f, 0, 0, 0})) return false;
    if (!allowed(p, sys::id::openat, {3, path, f, 0777, 0, 0})) return false;
  }
  for (u64 f : writing_flags) {
    if (!denied(p, sys::id::open, {path, f, 0, 0, 0, 0})) return false;
    if (!denied(p, sys::id::openat, {at_fdcwd, path, f, 0, 0, 0})) return false;
  }
  // The flags are looked for in the right argument only: a write flag elsewhere is no flag.
  return allowed(p, sys::id::open, {O_WRONLY, O_RDONLY, O_WRONLY, 0, 0, 0}) &&
         allowed(p, sys::id::openat, {O_WRONLY, O_RDWR, O_RDONLY, O_TRUNC, 0, 0}) &&
         denied(p, sys::id::openat, {at_fdcwd, O_RDONLY, O_WRONLY, 0, 0, 0}) &&
         denied(p, sys::id::open, {path, O_RDWR, O_RDONLY, 0, 0, 0});
}
// Every built-in condition is on a 32-bit parameter (fds, open flags, socket domain and type), so
// each compares the low 32 bits, what the kernel reads.
template <class Set>
constexpr bool conditions_on_32_bits(const Set&) {
  for (const rule& r : Set::conditional_rules)
    for (std::size_t i = 0; i < r.count; ++i)
      if (r.conditions[i].size != width::dword) return false;
  return Set::conditional_rules.size() > 0;
}
static_assert(conditions_on_32_bits(
    io.allow_open_readonly().allow_stdin().allow_stdout().allow_stderr().allow_file_read(3).allow_file_write(4)));
static_assert(conditions_on_32_bits(net.allow_start_tcp_servers().yes_really()));
static_assert(conditions_on_32_bits(net.allow_start_udp_servers().yes_really()));
static_assert(conditions_on_32_bits(net.allow_start_unix_servers().yes_really()));
// A write flag is refused whatever the upper half (the kernel ignores it); a read-only open is
// allowed whatever the upper half.
static_assert(denied(program_of(io.allow_open_readonly()), sys::id::open,
                     {0x00007ffc12345678, high_bit | O_WRONLY, 0, 0, 0, 0}));
static_assert(allowed(program_of(io.allow_open_readonly()), sys::id::openat,
                      {at_fdcwd, 0x00007ffc12345678, high_bit | O_RDONLY, 0, 0, 0}));

// The difference from extrasafe, by itself: O_TRUNC (which truncates even a read-only open).
constexpr bool open_readonly_denies_truncate() {
  const auto p = program_of(io.allow_open_readonly());
  return denied(p, sys::id::open, {0, O_RDONLY | O_TRUNC, 0, 0, 0, 0}) &&
         denied(p, sys::id::openat, {at_fdcwd, 0, O_RDONLY | O_TRUNC, 0, 0, 0});
}

// ---------------------------------------------------------------------------------------------
// networking

constexpr bool net_running_tcp_servers_exactly() {
  return set_allows_exactly(net.allow_running_tcp_servers(), net_running_plain, only_ioctl);
}
constexpr bool net_running_udp_sockets_exactly() {
  return set_allows_exactly(net.allow_running_udp_sockets(), net_running_plain, only_ioctl);
}
constexpr bool net_running_tcp_clients_exactly() {
  return set_allows_exactly(net.allow_running_tcp_clients(), net_running_plain, only_ioctl);
}
constexpr bool net_running_unix_servers_exactly() {
  return set_allows_exactly(net.allow_running_unix_servers(), net_running_plain, only_ioctl);
}
constexpr bool net_running_unix_clients_exactly() {
  return set_allows_exactly(net.allow_running_unix_clients(), net_running_plain, only_ioctl);
}
constexpr bool net_connect_exactly() {
  return set_allows_exactly(net.allow_connect().yes_really(), syscalls(sys::connect));
}
constexpr bool net_start_tcp_servers_exactly() {
  return set_allows_exactly(net.allow_start_tcp_servers().yes_really(), net_bind_running_plain, socket_and_ioctl);
}
constexpr bool net_start_udp_servers_exactly() {
  return set_allows_exactly(net.allow_start_udp_servers().yes_really(), net_bind_running_plain, socket_and_ioctl);
}
constexpr bool net_start_unix_servers_exactly() {
  return set_allows_exactly(net.allow_start_unix_servers().yes_really(), net_bind_running_plain, socket_and_ioctl);
}
constexpr bool net_start_tcp_clients_exactly() {
  return set_allows_exactly(net.allow_start_tcp_clients(), net_connect_running_plain, socket_and_ioctl);
}
constexpr bool net_nothing_exactly() { return set_allows_exactly(net, none); }

// `socket_meaning` is which socket(domain, type) calls a rule set should allow, with `type`
// already stripped of SOCK_NONBLOCK and SOCK_CLOEXEC.
using socket_meaning = bool (*)(u64 domain, u64 type);
constexpr socket_meaning tcp_meaning = [](u64 d, u64 t) {
  return (d == AF_INET || d == AF_INET6) && t == SOCK_STREAM;
};
constexpr socket_meaning udp_meaning = [](u64 d, u64 t) {
  return (d == AF_INET || d == AF_INET6) && t == SOCK_DGRAM;
};
constexpr socket_meaning unix_meaning = [](u64 d, u64 t) {
  return d == AF_UNIX && (t == SOCK_STREAM || t == SOCK_DGRAM);
};

// `sockets_as_meant` sweeps socket(domain, type | extra, 0) over every address family and the
// socket types, `extra` being SOCK_NONBLOCK|SOCK_CLOEXEC (ignored by the rules) or an unknown
// type flag (never allowed): domain and type are compared exactly, unlike extrasafe's "bits set".
// One sweep per fact: clang 14's constexpr step limit counts per static_assert.
template <class Set>
constexpr bool sockets_as_meant(const Set& set, socket_meaning meant, u64 extra) {
  const auto p = program_of(set);
  constexpr u64 creation_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  for (u64 domain = 0; domain <= AF_MAX; ++domain) {
    for (u64 type : {0, 1, 2, 3, 4, 5, 6, 10}) {
      const bool want = (extra & ~creation_flags) == 0 && meant(domain, type);
      const auto d = call<arch::x86_64>(sys::id::socket, domain, type | extra, 0);
      if (!(evaluate(p, d) == (want ? action::allow : eperm))) return false;
    }
  }
  return true;
}
constexpr u64 nonblock_cloexec = SOCK_NONBLOCK | SOCK_CLOEXEC;
constexpr u64 unknown_type_flag = 0x1000;
constexpr bool tcp_server_sockets(u64 extra) {
  return sockets_as_meant(net.allow_start_tcp_servers().yes_really(), tcp_meaning, extra);
}
constexpr bool tcp_client_sockets(u64 extra) {
  return sockets_as_meant(net.allow_start_tcp_clients(), tcp_meaning, extra);
}
constexpr bool udp_server_sockets(u64 extra) {
  return sockets_as_meant(net.allow_start_udp_servers().yes_really(), udp_meaning, extra);
}
constexpr bool unix_server_sockets(u64 extra) {
  return sockets_as_meant(net.allow_start_unix_servers().yes_really(), unix_meaning, extra);
}
// TCP and UDP servers together: the rules add up.
constexpr socket_meaning tcp_or_udp_meaning = [](u64 d, u64 t) {
  return tcp_meaning(d, t) || udp_meaning(d, t);
};
constexpr auto tcp_and_udp =
    net.allow_start_tcp_servers().yes_really().allow_start_udp_servers().yes_really();
constexpr bool tcp_and_udp_servers_exactly() {
  return set_allows_exactly(tcp_and_udp, net_bind_running_plain, socket_and_ioctl);
}
constexpr bool tcp_and_udp_server_sockets(u64 extra) {
  return sockets_as_meant(tcp_and_udp, tcp_or_udp_meaning, extra);
}

// Named cases: what extrasafe's masked comparisons ("bits set") let through and sysfence does not,
// and the everyday calls that must work.
enum class server : std::uint8_t { tcp, udp, unix_ };
struct socket_case {
  server set;
  u64 domain, type, protocol;
  bool allow;
};
constexpr std::array<socket_case, 18> socket_cases{{
    {server::tcp, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, true},
    {server::tcp, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0, true},
    {server::tcp, AF_INET, SOCK_RAW, 1, false},  // extrasafe: SOCK_RAW (3) has SOCK_STREAM's bit
    {server::tcp, AF_INET6, SOCK_RAW, 58, false},
    {server::tcp, AF_PACKET, SOCK_RAW, 0x0300, false},
    {server::tcp, AF_NETLINK, SOCK_RAW, 0, false},
    {server::tcp, AF_INET, SOCK_DGRAM, 0, false},
    {server::tcp, AF_UNIX, SOCK_STREAM, 0, false},
    {server::tcp, AF_ALG, SOCK_SEQPACKET, 0, false},  // extrasafe: 38 has AF_INET's bit, 5 SOCK_STREAM's
    {server::udp, AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0, true},
    {server::udp, AF_INET, SOCK_STREAM, 0, false},
    {server::udp, AF_INET, SOCK_RAW, 17, false},  // extrasafe: SOCK_RAW (3) has SOCK_DGRAM's bit
    {server::unix_, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, true},
    {server::unix_, AF_UNIX, SOCK_DGRAM, 0, true},
    {server::unix_, AF_UNIX, SOCK_SEQPACKET, 0, false},  // extrasafe: 5 has SOCK_STREAM's bit
    {server::unix_, AF_INET, SOCK_STREAM, 0, false},
    {server::unix_, AF_PACKET, SOCK_DGRAM, 0, false},  // extrasafe: 17 has AF_UNIX's bit
    {server::unix_, AF_NETLINK, SOCK_DGRAM, 0, false},
}};
constexpr bool socket_named_cases() {
  const auto tcp = program_of(net.allow_start_tcp_servers().yes_really());
  const auto udp = program_of(net.allow_start_udp_servers().yes_really());
  const auto unix_ = program_of(net.allow_start_unix_servers().yes_really());
  for (const socket_case& c : socket_cases) {
    const program_view p = c.set == server::tcp   ? program_view{tcp}
                           : c.set == server::udp ? program_view{udp}
                                                  : program_view{unix_};
    const std::array<u64, 6> args{c.domain, c.type, c.protocol, 0, 0, 0};
    if (c.allow ? !allowed(p, sys::id::socket, args) : !denied(p, sys::id::socket, args)) return false;
  }
  return true;
}
// Domain and type are `int`s: the kernel ignores their upper 32 bits, and so do the rules.
constexpr bool socket_upper_halves_ignored() {
  const auto tcp = program_of(net.allow_start_tcp_servers().yes_really());
  return allowed(tcp, sys::id::socket, {high_bit | AF_INET, high_bit | SOCK_STREAM, 0, 0, 0, 0}) &&
         denied(tcp, sys::id::socket, {high_bit | AF_UNIX, SOCK_STREAM, 0, 0, 0, 0});
}

// ---------------------------------------------------------------------------------------------
// threads, fork_and_exec, time, pipes

constexpr bool threads_nothing_exactly() { return set_allows_exactly(b::threads::nothing(), none); }
constexpr bool threads_create_exactly() {
  return set_allows_exactly(b::threads::nothing().allow_create(), none, thread_create_list);
}
constexpr bool threads_sleep_exactly() {
  return set_allows_exactly(b::threads::nothing().allow_sleep().yes_really(), thread_sleep_list);
}
constexpr bool threads_both_exactly() {
  return set_allows_exactly(b::threads::nothing().allow_create().allow_sleep().yes_really(), thread_sleep_list,
                            thread_create_list);
}
constexpr bool fork_and_exec_exactly() {
  return set_allows_exactly(b::fork_and_exec{}, fork_exec_plain, thread_create_list);
}

// clone's flags, as glibc passes them: pthread_create, fork, posix_spawn.
constexpr u64 pthread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
constexpr u64 fork_flags = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;
constexpr u64 spawn_flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
constexpr std::array<u64, 7> namespace_flags{CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};
constexpr action enosys = action::error(ENOSYS);

// `clone_as_meant` checks clone with glibc's flags, each with every namespace flag added (and
// garbage in the upper half, which the kernel ignores), and clone3, which gets ENOSYS.
constexpr bool clone_as_meant(program_view p, bool threads_only) {
  auto clone = [&](u64 flags) { return evaluate(p, call<arch::x86_64>(sys::clone, {flags, 0, 0, 0, 0, 0})); };
  for (const u64 flags : {pthread_flags, fork_flags, spawn_flags, pthread_flags | (u64{0xdead} << 32)}) {
    const bool process = flags == fork_flags || flags == spawn_flags;
    if (!(clone(flags) == (threads_only && process ? eperm : action::allow))) return false;
    for (const u64 ns : namespace_flags)
      if (!(clone(flags | ns) == eperm)) return false;
  }
  // Thread flags with what would make the thread escape its parent: refused for threads.
  for (const u64 extra : {u64{CLONE_PTRACE}, u64{CLONE_VFORK}, u64{CLONE_PARENT}, u64{CLONE_UNTRACED}})
    if (!(clone(pthread_flags | extra) == (threads_only ? eperm : action::allow))) return false;
  // A thread needs all of its flags: CLONE_THREAD without CLONE_VM is a process for threads.
  if (!(clone(pthread_flags & ~u64{CLONE_VM}) == (threads_only ? eperm : action::allow))) return false;
  for (const auto& args : sweep_args)
    if (!(evaluate(p, call<arch::x86_64>(sys::clone3, args)) == enosys)) return false;
  return true;
}
constexpr bool threads_clone_as_meant() {
  return clone_as_meant(program_of(b::threads::nothing().allow_create()), true);
}
constexpr bool fork_and_exec_clone_as_meant() { return clone_as_meant(program_of(b::fork_and_exec{}), false); }
// Both together: fork_and_exec's wider rule, the same clone3 answer (no conflict).
constexpr bool threads_and_fork_clone_as_meant() {
  constexpr auto both = policy<std::remove_cvref_t<decltype(b::threads::nothing().allow_create())>, b::fork_and_exec>{};
  return clone_as_meant(compile<decltype(both), arch::x86_64>(), false);
}

// `ioctl_as_meant` checks ioctl's request (argument 1, an unsigned int: the upper half ignored).
constexpr bool ioctl_as_meant(program_view p, bool sockets_only) {
  auto ioctl = [&](u64 request) { return evaluate(p, call<arch::x86_64>(sys::ioctl, {3, request, 0, 0, 0, 0})); };
  for (const u64 upper : {u64{0}, high_bit, ~u64{0} << 32}) {
    if (!(ioctl(upper | TIOCSTI) == eperm) || !(ioctl(upper | TIOCLINUX) == eperm)) return false;
    for (const u64 request : {u64{FIONBIO}, u64{FIONREAD}, u64{FIOCLEX}, u64{SIOCGIFINDEX}, u64{SIOCATMARK}})
      if (!(ioctl(upper | request) == action::allow)) return false;
    for (const u64 request : {u64{TCGETS}, u64{TIOCGWINSZ}, u64{0}, u64{TIOCSTI + 1}})
      if (!(ioctl(upper | request) == (sockets_only ? eperm : action::allow))) return false;
  }
  return true;
}
constexpr bool io_ioctl_as_meant() { return ioctl_as_meant(program_of(io.allow_ioctl()), false); }
constexpr bool list_dir_ioctl_as_meant() { return ioctl_as_meant(program_of(io.allow_list_dir("/tmp")), false); }
constexpr bool net_ioctl_as_meant() { return ioctl_as_meant(program_of(net.allow_start_tcp_clients()), true); }
// Every socket request the networking rules name is allowed.
constexpr bool net_socket_ioctls_allowed() {
  const auto p = program_of(net.allow_running_tcp_servers());
  for (const std::uint32_t request : b::net::socket_ioctls)
    if (!(evaluate(p, call<arch::x86_64>(sys::ioctl, {3, request, 0, 0, 0, 0})) == action::allow)) return false;
  return b::net::socket_ioctls.size() == 13;
}
// Networking and allow_ioctl together: the wider rule wins, nothing conflicts.
constexpr bool net_and_io_ioctl_as_meant() {
  constexpr auto both = policy<std::remove_cvref_t<decltype(net.allow_running_tcp_clients())>,
                               std::remove_cvref_t<decltype(io.allow_ioctl())>>{};
  return ioctl_as_meant(compile<decltype(both), arch::x86_64>(), false);
}
constexpr bool time_nothing_exactly() { return set_allows_exactly(b::time::nothing(), none); }
constexpr bool time_gettime_exactly() {
  return set_allows_exactly(b::time::nothing().allow_gettime(), time_list);
}
constexpr bool pipes_exactly() { return set_allows_exactly(b::pipes{}, pipes_list); }

// ---------------------------------------------------------------------------------------------
// In a safety_context, basic_capabilities comes along.

constexpr bool context_adds_basic_capabilities() {
  using P = std::remove_cvref_t<decltype(safety_context{}.enable(io.allow_read()))>;
  return allows_exactly(compile<P, arch::x86_64>(), join(basic_sysfence_list, io_read));
}
constexpr bool union_adds_basic_capabilities() {
  using P = std::remove_cvref_t<decltype(b::pipes{} | b::time::nothing().allow_gettime())>;
  return allows_exactly(compile<P, arch::x86_64>(), join(basic_sysfence_list, pipes_list, time_list));
}

// Dangerous methods are not rule sets until `.yes_really()`.
static_assert(!rule_set<decltype(io.allow_open())>);
static_assert(!rule_set<decltype(net.allow_start_tcp_servers())>);
static_assert(!rule_set<decltype(net.allow_start_udp_servers())>);
static_assert(!rule_set<decltype(net.allow_start_unix_servers())>);
static_assert(!rule_set<decltype(net.allow_connect())>);
static_assert(!rule_set<decltype(b::threads::nothing().allow_sleep())>);
static_assert(rule_set<decltype(io.allow_open().yes_really())>);
static_assert(rule_set<decltype(b::threads::nothing().allow_sleep().yes_really())>);

}  // namespace

// Each fact is checked twice: by the compiler here, and at run time below.
static_assert(basic_capabilities_exactly());
static_assert(single_syscall_exactly());
static_assert(io_nothing_exactly());
static_assert(io_everything_exactly());
static_assert(io_read_exactly());
static_assert(io_write_exactly());
static_assert(io_unlink_exactly());
static_assert(io_open_exactly());
static_assert(io_metadata_exactly());
static_assert(io_ioctl_exactly());
static_assert(io_close_exactly());
static_assert(io_chain_exactly());
static_assert(io_open_readonly_exactly());
static_assert(io_stdin_exactly());
static_assert(io_stdout_exactly());
static_assert(io_stderr_exactly());
static_assert(io_file_read_exactly());
static_assert(io_file_write_exactly());
static_assert(stdin_reads_fd_0_only());
static_assert(stdout_writes_fd_1_only());
static_assert(stderr_writes_fd_2_only());
static_assert(stdout_and_stderr_write_fds_1_and_2());
static_assert(stdio_together());
static_assert(file_read_fd_3_only());
static_assert(file_read_two_files());
static_assert(file_write_fd_3_only());
static_assert(file_read_then_write());
static_assert(file_write_then_read());
static_assert(file_read_large_fd());
static_assert(open_readonly_flags());
static_assert(open_readonly_denies_truncate());
static_assert(net_nothing_exactly());
static_assert(net_running_tcp_servers_exactly());
static_assert(net_running_udp_sockets_exactly());
static_assert(net_running_tcp_clients_exactly());
static_assert(net_running_unix_servers_exactly());
static_assert(net_running_unix_clients_exactly());
static_assert(net_connect_exactly());
static_assert(net_start_tcp_servers_exactly());
static_assert(net_start_udp_servers_exactly());
static_assert(net_start_unix_servers_exactly());
static_assert(net_start_tcp_clients_exactly());
static_assert(tcp_server_sockets(0));
static_assert(tcp_server_sockets(nonblock_cloexec));
static_assert(tcp_server_sockets(unknown_type_flag));
static_assert(tcp_client_sockets(0));
static_assert(tcp_client_sockets(nonblock_cloexec));
static_assert(tcp_client_sockets(unknown_type_flag));
static_assert(udp_server_sockets(0));
static_assert(udp_server_sockets(nonblock_cloexec));
static_assert(udp_server_sockets(unknown_type_flag));
static_assert(unix_server_sockets(0));
static_assert(unix_server_sockets(nonblock_cloexec));
static_assert(unix_server_sockets(unknown_type_flag));
static_assert(tcp_and_udp_servers_exactly());
static_assert(tcp_and_udp_server_sockets(0));
static_assert(tcp_and_udp_server_sockets(nonblock_cloexec));
static_assert(socket_named_cases());
static_assert(socket_upper_halves_ignored());
static_assert(threads_nothing_exactly());
static_assert(threads_create_exactly());
static_assert(threads_sleep_exactly());
static_assert(threads_both_exactly());
static_assert(fork_and_exec_exactly());
static_assert(threads_clone_as_meant());
static_assert(fork_and_exec_clone_as_meant());
static_assert(threads_and_fork_clone_as_meant());
static_assert(io_ioctl_as_meant());
static_assert(list_dir_ioctl_as_meant());
static_assert(net_ioctl_as_meant());
static_assert(net_socket_ioctls_allowed());
static_assert(net_and_io_ioctl_as_meant());
static_assert(time_nothing_exactly());
static_assert(time_gettime_exactly());
static_assert(pipes_exactly());
static_assert(context_adds_basic_capabilities());
static_assert(union_adds_basic_capabilities());

TEST_CASE("basic_capabilities allows exactly extrasafe's BasicCapabilities") {
  CHECK(basic_capabilities_exactly());
}
TEST_CASE("sys::getppid as a rule set allows getppid only") { CHECK(single_syscall_exactly()); }

TEST_CASE("system_io: each unconditional method allows exactly extrasafe's list") {
  CHECK(io_nothing_exactly());
  CHECK(io_everything_exactly());
  CHECK(io_read_exactly());
  CHECK(io_write_exactly());
  CHECK(io_unlink_exactly());
  CHECK(io_open_exactly());
  CHECK(io_metadata_exactly());
  CHECK(io_ioctl_exactly());
  CHECK(io_close_exactly());
  CHECK(io_chain_exactly());
}

TEST_CASE("system_io: conditional methods touch only their syscalls") {
  CHECK(io_open_readonly_exactly());
  CHECK(io_stdin_exactly());
  CHECK(io_stdout_exactly());
  CHECK(io_stderr_exactly());
  CHECK(io_file_read_exactly());
  CHECK(io_file_write_exactly());
}

TEST_CASE("system_io: stdin, stdout, stderr allow their fd only, on both halves") {
  CHECK(stdin_reads_fd_0_only());
  CHECK(stdout_writes_fd_1_only());
  CHECK(stderr_writes_fd_2_only());
  CHECK(stdout_and_stderr_write_fds_1_and_2());
  CHECK(stdio_together());
}

TEST_CASE("system_io: allow_file_read/allow_file_write restrict fd-first syscalls to their fds") {
  CHECK(file_read_fd_3_only());
  CHECK(file_read_two_files());
  CHECK(file_write_fd_3_only());
  CHECK(file_read_then_write());
  CHECK(file_write_then_read());
  CHECK(file_read_large_fd());
}

TEST_CASE("system_io: allow_open_readonly checks open's arg 1 and openat's arg 2, O_TRUNC included") {
  CHECK(open_readonly_flags());
  CHECK(open_readonly_denies_truncate());
}

TEST_CASE("networking: each method allows exactly extrasafe's list") {
  CHECK(net_nothing_exactly());
  CHECK(net_running_tcp_servers_exactly());
  CHECK(net_running_udp_sockets_exactly());
  CHECK(net_running_tcp_clients_exactly());
  CHECK(net_running_unix_servers_exactly());
  CHECK(net_running_unix_clients_exactly());
  CHECK(net_connect_exactly());
  CHECK(net_start_tcp_servers_exactly());
  CHECK(net_start_udp_servers_exactly());
  CHECK(net_start_unix_servers_exactly());
  CHECK(net_start_tcp_clients_exactly());
}

TEST_CASE("networking: socket rules compare domain and type exactly") {
  for (u64 extra : {u64{0}, u64{SOCK_NONBLOCK}, u64{SOCK_CLOEXEC}, nonblock_cloexec, unknown_type_flag}) {
    CAPTURE(extra);
    CHECK(tcp_server_sockets(extra));
    CHECK(tcp_client_sockets(extra));
    CHECK(udp_server_sockets(extra));
    CHECK(unix_server_sockets(extra));
    CHECK(tcp_and_udp_server_sockets(extra));
  }
  CHECK(tcp_and_udp_servers_exactly());
  CHECK(socket_named_cases());
  CHECK(socket_upper_halves_ignored());
}

// Compile errors name a built-in by the methods called on it (issue 12), not by its flags.
namespace m = b::method;
static_assert(std::is_same_v<detail::shown<decltype(io.allow_stdout().allow_stderr())>,
                             b::system_io_with<m::allow_stdout, m::allow_stderr>>);
// A path method's syscalls (open, metadata, close) are not shown as methods of their own.
static_assert(std::is_same_v<detail::shown<decltype(io.allow_file_read(3).allow_read_path("/etc"))>,
                             b::system_io_with<m::allow_read, m::allow_file_read, m::path_methods>>);
static_assert(std::is_same_v<detail::shown<decltype(net.allow_start_tcp_clients())>,
                             b::networking_with<m::allow_running_sockets, m::allow_start_tcp_clients>>);
static_assert(std::is_same_v<detail::shown<decltype(b::threads::nothing().allow_create())>,
                             b::threads_with<m::allow_create>>);
static_assert(std::is_same_v<detail::shown<b::pipes>, b::pipes>);  // a plain type names itself

TEST_CASE("clone: threads only with the thread flags, fork_and_exec without namespaces; clone3 ENOSYS") {
  CHECK(threads_clone_as_meant());
  CHECK(fork_and_exec_clone_as_meant());
  CHECK(threads_and_fork_clone_as_meant());
}

TEST_CASE("ioctl: networking only the socket requests, allow_ioctl all but TIOCSTI and TIOCLINUX") {
  CHECK(io_ioctl_as_meant());
  CHECK(list_dir_ioctl_as_meant());
  CHECK(net_ioctl_as_meant());
  CHECK(net_socket_ioctls_allowed());
  CHECK(net_and_io_ioctl_as_meant());
}

TEST_CASE("threads, fork_and_exec, time, pipes allow exactly extrasafe's lists") {
  CHECK(threads_nothing_exactly());
  CHECK(threads_create_exactly());
  CHECK(threads_sleep_exactly());
  CHECK(threads_both_exactly());
  CHECK(fork_and_exec_exactly());
  CHECK(time_nothing_exactly());
  CHECK(time_gettime_exactly());
  CHECK(pipes_exactly());
}

TEST_CASE("safety_context and | add basic_capabilities") {
  CHECK(context_adds_basic_capabilities());
  CHECK(union_adds_basic_capabilities());
}

// ---------------------------------------------------------------------------------------------
// The Landlock methods (extrasafe's `landlock` feature): the seccomp side of each, as systemio.rs
// writes it; the Landlock side is tested in the kernel (tests/landlock.cpp).

constexpr auto read_path_list = join(io_close, io_read, io_metadata, io_open);
constexpr auto write_file_list = join(io_close, io_write, io_metadata, io_open);
constexpr auto create_in_dir_list = join(syscalls(sys::creat), io_open);
constexpr auto list_dir_list = join(io_metadata, io_close, io_ioctl_plain, io_open);

constexpr bool landlock_read_path_exactly() { return set_allows_exactly(io.allow_read_path("/etc"), read_path_list); }
constexpr bool landlock_write_file_exactly() {
  return set_allows_exactly(io.allow_write_file("/tmp/f"), write_file_list);
}
constexpr bool landlock_create_in_dir_exactly() {
  return set_allows_exactly(io.allow_create_in_dir("/tmp"), create_in_dir_list);
}
constexpr bool landlock_list_dir_exactly() {
  return set_allows_exactly(io.allow_list_dir("/tmp"), list_dir_list, only_ioctl);
}
constexpr bool landlock_create_dir_exactly() {
  return set_allows_exactly(io.allow_create_dir("/tmp"), syscalls(sys::mkdir, sys::mkdirat));
}
constexpr bool landlock_remove_file_exactly() {
  return set_allows_exactly(io.allow_remove_file("/tmp"), syscalls(sys::unlink, sys::unlinkat));
}
constexpr bool landlock_remove_dir_exactly() {
  return set_allows_exactly(io.allow_remove_dir("/tmp"), syscalls(sys::rmdir, sys::unlinkat));
}
constexpr bool landlock_ssl_files_exactly() { return set_allows_exactly(io.allow_ssl_files(), read_path_list); }
constexpr bool landlock_dns_files_exactly() { return set_allows_exactly(io.allow_dns_files(), read_path_list); }
static_assert(landlock_read_path_exactly());
static_assert(landlock_write_file_exactly());
static_assert(landlock_create_in_dir_exactly());
static_assert(landlock_list_dir_exactly());
static_assert(landlock_create_dir_exactly());
static_assert(landlock_remove_file_exactly());
static_assert(landlock_remove_dir_exactly());
static_assert(landlock_ssl_files_exactly());
static_assert(landlock_dns_files_exactly());

// The paths and rights each method records (extrasafe's landlock::access helpers).
constexpr bool landlock_paths_recorded() {
  const auto rules = io.allow_read_path("/a").allow_create_in_dir("/b").allow_dns_files().landlock_rules();
  return rules.size() == 7 && rules[0].rights == LANDLOCK_ACCESS_FS_READ_FILE && !rules[0].optional &&
         rules[1].rights == (LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE) &&
         rules[2].optional && std::string_view(rules[2].path) == "/etc/resolv.conf";
}
static_assert(landlock_paths_recorded());
// The path methods allow open unconditionally: with allow_open_readonly that is a conflict, as in
// extrasafe ("applying the SafetyContext will fail"), here a compile error.
static_assert(decltype(io.allow_read_path("/a"))::landlock_count == 1);

TEST_CASE("system_io: the Landlock methods allow exactly extrasafe's syscalls and record their paths") {
  CHECK(landlock_read_path_exactly());
  CHECK(landlock_write_file_exactly());
  CHECK(landlock_create_in_dir_exactly());
  CHECK(landlock_list_dir_exactly());
  CHECK(landlock_create_dir_exactly());
  CHECK(landlock_remove_file_exactly());
  CHECK(landlock_remove_dir_exactly());
  CHECK(landlock_ssl_files_exactly());
  CHECK(landlock_dns_files_exactly());
  CHECK(landlock_paths_recorded());
}

// --- Landlock TCP ports and scopes ----------------------------------------------------------------

// allow_bind_tcp allows what allow_start_tcp_servers does, allow_connect_tcp what
// allow_start_tcp_clients does (seccomp), and each records its port and right (Landlock).
constexpr bool net_bind_tcp_exactly() {
  return set_allows_exactly(net.allow_bind_tcp(8080), net_bind_running_plain, socket_and_ioctl);
}
constexpr bool net_connect_tcp_exactly() {
  return set_allows_exactly(net.allow_connect_tcp(443), net_connect_running_plain, socket_and_ioctl);
}
static_assert(net_bind_tcp_exactly());
static_assert(net_connect_tcp_exactly());

constexpr bool ports_recorded() {
  // Ports survive the other methods, dangerous ones included, in call order.
  const auto set = net.allow_connect_tcp(443).allow_running_udp_sockets().allow_bind_tcp(0).allow_connect().yes_really();
  const auto ports = set.landlock_port_rules();
  return ports.size() == 2 && ports[0].port == 443 && ports[0].rights == LANDLOCK_ACCESS_NET_CONNECT_TCP &&
         ports[1].port == 0 && ports[1].rights == LANDLOCK_ACCESS_NET_BIND_TCP;
}
static_assert(ports_recorded());
// A networking rule set without ports stays an empty type (enabled twice, it counts once).
static_assert(std::is_empty_v<decltype(net.allow_start_tcp_clients())>);
static_assert(!std::is_empty_v<decltype(net.allow_connect_tcp(1))>);
static_assert(decltype(net.allow_connect_tcp(1).allow_bind_tcp(2))::landlock_port_count == 2);
// The port methods need no `.yes_really()`, and after a dangerous method they ask for it first.
static_assert(rule_set<decltype(net.allow_bind_tcp(80))>);
static_assert(std::is_same_v<detail::shown<decltype(net.allow_connect_tcp(443))>,
                             b::networking_with<m::allow_running_sockets, m::allow_start_tcp_clients, m::port_methods>>);

// Scopes: a rule set without syscalls; the policy ORs what its rule sets ask.
constexpr bool scopes_recorded() {
  using P = std::remove_cvref_t<decltype(safety_context{}
                                             .enable(b::landlock_scope::nothing().confine_signals())
                                             .enable(b::landlock_scope::nothing().confine_abstract_unix_sockets())
                                             .enable(net.allow_connect_tcp(22)))>;
  return P::landlock_scopes == (LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET) &&
         P::landlock_port_count == 1 && P::landlock_count == 0 && P::uses_landlock &&
         !policy<b::landlock_scope>::uses_landlock && set_allows_exactly(b::landlock_scope::nothing().confine_signals(), none);
}
static_assert(scopes_recorded());

// What each Landlock ABI offers: network rights from ABI 4, scopes from ABI 6, with the kernel's
// uapi values (include/uapi/linux/landlock.h).
constexpr bool net_and_scopes_by_abi() {
  using namespace sysfence::landlock;
  return bind_tcp == 1 && connect_tcp == 2 && scope_abstract_unix_socket == 1 && scope_signal == 2 &&
         rule_net_port == 2 && available_net_rights(3) == 0 && available_net_rights(4) == 3 &&
         available_net_rights(7) == 3 && available_scopes(5) == 0 && available_scopes(6) == 3 &&
         available_scopes(7) == 3;
}
static_assert(net_and_scopes_by_abi());

TEST_CASE("networking: the Landlock port methods allow the TCP syscalls and record their ports; scopes by ABI") {
  CHECK(net_bind_tcp_exactly());
  CHECK(net_connect_tcp_exactly());
  CHECK(ports_recorded());
  CHECK(scopes_recorded());
  CHECK(net_and_scopes_by_abi());
}

// --- other targets: what a built-in leaves out there, it allows in its newer form ---------------

// Old syscalls aarch64 and riscv64 lack, and what glibc calls there instead (docs/builtins.md).
struct replacement {
  sys::id old_call, new_call;
};
constexpr std::array<replacement, 16> replacements{{
    {sys::id::open, sys::id::openat},          {sys::id::stat, sys::id::newfstatat},
    {sys::id::lstat, sys::id::newfstatat},     {sys::id::readlink, sys::id::readlinkat},
    {sys::id::unlink, sys::id::unlinkat},      {sys::id::getdents, sys::id::getdents64},
    {sys::id::epoll_create, sys::id::epoll_create1}, {sys::id::epoll_wait, sys::id::epoll_pwait},
    {sys::id::poll, sys::id::ppoll},           {sys::id::select, sys::id::pselect6},
    {sys::id::eventfd, sys::id::eventfd2},     {sys::id::fork, sys::id::clone},
    {sys::id::vfork, sys::id::clone},          {sys::id::pipe, sys::id::pipe2},
    {sys::id::rmdir, sys::id::unlinkat},       {sys::id::mkdir, sys::id::mkdirat},
}};

// Every built-in, with every method.
constexpr auto every_builtin = safety_context{}
                                   .enable(b::system_io::everything())
                                   .enable(net.allow_running_tcp_servers().allow_running_udp_sockets())
                                   .enable(b::threads::nothing().allow_create().allow_sleep().yes_really())
                                   .enable(b::fork_and_exec{})
                                   .enable(b::pipes{})
                                   .enable(b::time::nothing().allow_gettime());
using every_builtin_policy = std::remove_cvref_t<decltype(every_builtin)>;

template <class Arch>
constexpr bool replacements_allowed_on() {
  const auto& here = compile<every_builtin_policy, Arch>();
  const auto& x86_64 = compile<every_builtin_policy, arch::x86_64>();
  for (const replacement& r : replacements) {
    if (Arch::numbers[static_cast<std::size_t>(r.old_call)] >= 0) return false;  // (the table says it lacks it)
    const bool old_allowed = evaluate(x86_64, call<arch::x86_64>(r.old_call, {})) == action::allow;
    if (old_allowed && evaluate(here, call<Arch>(r.new_call, {})) != action::allow) return false;
  }
  // The architecture check is the target's: x86_64 calls are foreign there.
  return evaluate(here, call<arch::x86_64>(sys::id::getpid, {})) == action::kill_process &&
         evaluate(here, call<Arch>(sys::id::getpid, {})) == action::allow;
}
static_assert(replacements_allowed_on<arch::aarch64>());
static_assert(replacements_allowed_on<arch::riscv64>());

TEST_CASE("built-ins compile for aarch64 and riscv64, allowing what glibc calls there") {
  CHECK(replacements_allowed_on<arch::aarch64>());
  CHECK(replacements_allowed_on<arch::riscv64>());
}

// The i386 forms glibc calls for syscalls x86_64 has under another name, or with 64-bit time or
// offsets (docs/builtins.md, "On i386"). Only i386 has them, so other targets' programs are unchanged.
constexpr std::array<replacement, 17> i386_forms{{
    {sys::id::mmap, sys::id::mmap2},
    {sys::id::rt_sigreturn, sys::id::sigreturn},
    {sys::id::futex, sys::id::futex_time64},
    {sys::id::lseek, sys::id::_llseek},
    {sys::id::fcntl, sys::id::fcntl64},
    {sys::id::stat, sys::id::stat64},
    {sys::id::fstat, sys::id::fstat64},
    {sys::id::lstat, sys::id::lstat64},
    {sys::id::newfstatat, sys::id::fstatat64},
    {sys::id::clock_gettime, sys::id::clock_gettime64},
    {sys::id::clock_getres, sys::id::clock_getres_time64},
    {sys::id::clock_nanosleep, sys::id::clock_nanosleep_time64},
    {sys::id::select, sys::id::_newselect},
    {sys::id::pselect6, sys::id::pselect6_time64},
    {sys::id::ppoll, sys::id::ppoll_time64},
    {sys::id::recvmmsg, sys::id::recvmmsg_time64},
    {sys::id::sendfile, sys::id::sendfile64},
}};

// The socketcall operations (linux/net.h) and the syscalls they are.
struct socketcall_op {
  std::uint32_t op;
  sys::id same_as;
};
constexpr std::array<socketcall_op, 20> socketcall_ops{{
    {SYS_SOCKET, sys::id::socket},           {SYS_BIND, sys::id::bind},
    {SYS_CONNECT, sys::id::connect},         {SYS_LISTEN, sys::id::listen},
    {SYS_ACCEPT, sys::id::accept},           {SYS_GETSOCKNAME, sys::id::getsockname},
    {SYS_GETPEERNAME, sys::id::getpeername}, {SYS_SOCKETPAIR, sys::id::socketpair},
    {SYS_SEND, sys::id::sendto},             {SYS_RECV, sys::id::recvfrom},
    {SYS_SENDTO, sys::id::sendto},           {SYS_RECVFROM, sys::id::recvfrom},
    {SYS_SHUTDOWN, sys::id::shutdown},       {SYS_SETSOCKOPT, sys::id::setsockopt},
    {SYS_GETSOCKOPT, sys::id::getsockopt},   {SYS_SENDMSG, sys::id::sendmsg},
    {SYS_RECVMSG, sys::id::recvmsg},         {SYS_ACCEPT4, sys::id::accept4},
    {SYS_RECVMMSG, sys::id::recvmmsg},       {SYS_SENDMMSG, sys::id::sendmmsg},
}};

// On i386 a built-in allows the i386 form of every call it allows on x86_64, and socketcall for
// each operation it allows whatever the arguments (all the x86_64 call's arguments are then in
// memory); socket() is conditional on x86_64, so socketcall(SYS_SOCKET) stays refused.
template <class Set>
constexpr bool i386_forms_allowed_by(const Set& set) {
  using x86_program = program<bare<Set>, arch::x86>;
  auto here = x86_program::insns;
  if constexpr (bare<Set>::slot_count > 0)
    if (!detail::patch_values(here, x86_program::patches, set.values())) return false;
  const auto x86_64 = program_of(set);
  const std::array<u64, 6> fd3{3, 0, 0, 0, 0, 0}, fd4{4, 0, 0, 0, 0, 0};
  for (const replacement& r : i386_forms) {
    if (arch::x86_64::numbers[static_cast<std::size_t>(r.new_call)] >= 0) return false;
    for (const auto& args : {fd3, fd4}) {
      const bool old_allowed = evaluate(x86_64, call<arch::x86_64>(r.old_call, args)) == action::allow;
      if (old_allowed != (evaluate(here, call<arch::x86>(r.new_call, args)) == action::allow)) return false;
    }
  }
  for (const socketcall_op& s : socketcall_ops) {
    const auto nr = static_cast<std::uint32_t>(arch::x86_64::numbers[static_cast<std::size_t>(s.same_as)]);
    const bool unconditional = const_allow(x86_64, AUDIT_ARCH_X86_64, nr).allowed;
    const bool allowed = evaluate(here, call<arch::x86>(sys::id::socketcall, {s.op})) == action::allow;
    if (allowed != unconditional) return false;
  }
  return true;
}

constexpr bool i386_forms_allowed() {
  return i386_forms_allowed_by(b::basic_capabilities{}) &&
         i386_forms_allowed_by(b::system_io::everything()) &&
         i386_forms_allowed_by(io.allow_ioctl().allow_stdout()) &&
         i386_forms_allowed_by(io.allow_file_read(3)) &&
         i386_forms_allowed_by(net.allow_running_tcp_clients()) &&
         i386_forms_allowed_by(net.allow_start_tcp_servers().yes_really()) &&
         i386_forms_allowed_by(net.allow_start_tcp_clients()) &&
         i386_forms_allowed_by(b::threads::nothing().allow_sleep().yes_really()) &&
         i386_forms_allowed_by(b::time::nothing().allow_gettime());
}
static_assert(i386_forms_allowed());

TEST_CASE("built-ins on i386 allow the i386 forms of what they allow, socketcall by operation") {
  CHECK(i386_forms_allowed());
}
