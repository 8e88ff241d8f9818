// SPDX-License-Identifier: MIT
// rule.cpp - a rule gives each arg<N> the width of the syscall's parameter N (syscall_signatures.hpp).
#include "sysfence/rule.hpp"

#include <cstddef>
#include <cstdint>

#include <fcntl.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "sysfence/syscall.hpp"

using namespace sysfence;
using sysfence::detail::syscall_signatures;

namespace {

constexpr width width_of(sys::id s, condition c) { return rule{s, c}.conditions[0].size; }
constexpr std::uint64_t value_of(sys::id s, condition c) { return rule{s, c}.conditions[0].value; }

// Every syscall, every argument: arg<N> resolves as the table says (above 32 bits: qword; 32 and
// 16: dword), stays unresolved past the last parameter (check() names it), and arg32/arg64 stay.
template <unsigned N>
constexpr bool resolves_as_the_table_says() {
  for (std::size_t i = 0; i < detail::syscall_count; ++i) {
    const auto s = static_cast<sys::id>(i);
    const detail::signature& sig = syscall_signatures[i];
    const width w = width_of(s, arg<N> == 0);
    if (N < sig.count) {
      if (w != (sig.bits[N] > 32 ? width::qword : width::dword)) return false;
    } else if (w != width::natural ||
               check(rule{s, arg<N> == 0}.conditions[0]) != condition_problem::not_a_parameter) {
      return false;
    }
    if (width_of(s, arg32<N> == 0) != width::dword || width_of(s, arg64<N> == 0) != width::qword)
      return false;
  }
  return true;
}
static_assert(resolves_as_the_table_says<0>());
static_assert(resolves_as_the_table_says<1>());
static_assert(resolves_as_the_table_says<2>());
static_assert(resolves_as_the_table_says<3>());
static_assert(resolves_as_the_table_says<4>());
static_assert(resolves_as_the_table_says<5>());

// Spot checks against the kernel's prototypes (x86_64).
constexpr bool known_widths() {
  return width_of(sys::write, arg<0> == 1) == width::dword &&         // unsigned int fd
         width_of(sys::write, arg<2> == 1) == width::qword &&         // size_t count
         width_of(sys::readv, arg<0> == 1) == width::dword &&         // unsigned long fd: fdget(unsigned int)
         width_of(sys::readv, arg<2> == 1) == width::qword &&         // unsigned long vlen
         width_of(sys::mmap, arg<4> == 3) == width::dword &&          // unsigned long fd: fget(unsigned int)
         width_of(sys::mmap, arg<3> == 0) == width::qword &&          // unsigned long flags
         width_of(sys::socket, arg<0> == AF_INET) == width::dword &&  // int family
         width_of(sys::openat, arg<2> == O_RDONLY) == width::dword &&  // int flags
         width_of(sys::openat, arg<3> == 0600) == width::dword &&      // umode_t (16 bits): 32 compared
         width_of(sys::clone, arg<0> == 0) == width::qword &&          // unsigned long flags
         width_of(sys::fcntl, arg<2> == 0) == width::qword &&          // unsigned long arg
         width_of(sys::lseek, arg<1> == 0) == width::qword &&          // off_t offset
         width_of(sys::arch_prctl, arg<5> == 0) == width::qword &&     // no prototype: all six, 64 bits
         syscall_signatures[static_cast<std::size_t>(sys::id::rt_sigreturn)].count == 0 &&
         syscall_signatures[static_cast<std::size_t>(sys::id::clone)].count == 5 &&
         !syscall_signatures[static_cast<std::size_t>(sys::id::arch_prctl)].known;
}
static_assert(known_widths());

// The syscalls newer than Linux 6.1 (x86_64 numbers 451..462, cachestat to mseal, and uretprobe,
// 335) have their prototypes: the signatures come from linux-source-6.12, like the numbers. From
// Debian 12's Linux 6.1 headers they were unknown, and arg<N> compared all 64 bits of a 32-bit
// parameter, so garbage in the upper half passed a rule refusing a value.
constexpr const detail::signature& signature_of(sys::id s) {
  return syscall_signatures[static_cast<std::size_t>(s)];
}
constexpr bool newer_than_linux_6_1() {
  std::size_t newer = 0;
  for (std::size_t i = 0; i < detail::syscall_count; ++i) {
    if (detail::syscall_numbers_x86_64[i] < 451) continue;
    if (!syscall_signatures[i].known) return false;
    ++newer;
  }
  return newer == 12 &&                                                   // cachestat .. mseal
         width_of(sys::fchmodat2, arg<0> == AT_FDCWD) == width::dword &&  // int dfd
         signature_of(sys::id::fchmodat2).bits[2] == 16 &&                // umode_t mode
         width_of(sys::fchmodat2, arg<2> == 0600) == width::dword &&
         width_of(sys::fchmodat2, arg<3> == 0) == width::dword &&   // unsigned int flags
         width_of(sys::futex_wake, arg<1> == 0) == width::qword &&  // unsigned long mask
         width_of(sys::futex_wake, arg<3> == 0) == width::dword &&  // unsigned int flags
         width_of(sys::futex_wait, arg<5> == 0) == width::dword &&  // clockid_t clockid
         width_of(sys::cachestat, arg<0> == 0) == width::dword &&   // unsigned int fd
         width_of(sys::mseal, arg<2> == 0) == width::qword &&       // unsigned long flags
         signature_of(sys::id::futex_wake).count == 4 && signature_of(sys::id::mseal).count == 3 &&
         signature_of(sys::id::uretprobe).known && signature_of(sys::id::uretprobe).count == 0;
}
static_assert(newer_than_linux_6_1());

// A negative int is the 32 bits the kernel reads, in arg<N> on an int and in arg32<N>; arg64 and a
// 64-bit parameter keep the sign extension; a value really above 32 bits stays one (check() refuses it).
constexpr bool negative_values() {
  return value_of(sys::openat, arg<0> == AT_FDCWD) == 0xffffff9cU &&
         value_of(sys::openat, arg32<0> == AT_FDCWD) == 0xffffff9cU &&
         value_of(sys::openat, arg64<0> == AT_FDCWD) == 0xffffffffffffff9cULL &&
         value_of(sys::lseek, arg<1> == -1) == ~std::uint64_t{0} &&
         check(rule{sys::openat, arg<0> == AT_FDCWD}.conditions[0]) == condition_problem::none &&
         check(rule{sys::write, arg<0> == 0x100000001ULL}.conditions[0]) ==
             condition_problem::value_above_32_bits &&
         check(rule{sys::write, arg<0> == 0xffffffff00000001ULL}.conditions[0]) ==
             condition_problem::value_above_32_bits &&
         rule{sys::openat, (arg<2> & ~O_ACCMODE) == 0}.conditions[0].mask ==
             (0xffffffffU & ~std::uint32_t{O_ACCMODE}) &&
         // An `int` mask through arg32 (issue 12: once "mask above 32 bits").
         rule{sys::socket, (arg32<1> & ~SOCK_NONBLOCK) == SOCK_STREAM}.conditions[0].mask ==
             (0xffffffffU & ~std::uint32_t{SOCK_NONBLOCK}) &&
         check(rule{sys::socket, (arg32<1> & ~SOCK_NONBLOCK) == SOCK_STREAM}.conditions[0]) ==
             condition_problem::none;
}
static_assert(negative_values());

// arg<6> is kept as index 6 for the policy to report (argument_index_above_5_for), not a static_assert.
static_assert(check(rule{sys::read, arg<6> == 0}.conditions[0]) == condition_problem::bad_index);

}  // namespace

TEST_CASE("arg<N> resolves to the width of parameter N, as the static_asserts above") {
  CHECK(resolves_as_the_table_says<0>());
  CHECK(resolves_as_the_table_says<5>());
  CHECK(known_widths());
  CHECK(newer_than_linux_6_1());
  CHECK(negative_values());
}
