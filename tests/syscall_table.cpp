// SPDX-License-Identifier: MIT
// syscall_table.cpp - the generated syscall tables agree with the C library's and the kernel's headers.
//
// The tables come from the kernel's syscall tables (Linux 6.12, tools/gen_syscalls.cmake); the headers
// here are Debian 12's (Linux 6.1), so they are compared on the syscalls both know.
//
// Header order matters: <sys/syscall.h> defines __NR_<name> / SYS_<name> with the x86_64 numbers, and
// <asm/unistd_32.h> (included further down) silently redefines the shared __NR_<name> macros with the
// i386 numbers - no warning, because the redefinition happens in a system header. So every x86_64
// number is captured into a constant *before* that include, and every use of __NR_<name> after it
// means i386, until <asm/unistd_x32.h> redefines them again with the x32 numbers.
//
// Built for aarch64 (the cross build run under qemu-user), the target's C library has no x86
// headers: its own <sys/syscall.h> is compared with the aarch64 table instead, and the x86
// comparisons are reported skipped (the x86_64 builds make them).
#include <doctest/doctest.h>

#include <sys/syscall.h>  // the target's SYS_<name>, __NR_<name>: x86_64's on x86_64

// Some everyday libc headers first, so that a libc macro named like a syscall would show up below
// as an X-macro entry that no longer matches its enumerator.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sysfence/detail/syscall_table.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#if !(defined(__x86_64__) && !defined(__ILP32__)) && !defined(__aarch64__)
#error "syscall_table.cpp compares against the x86_64 or aarch64 <sys/syscall.h>; build it for one of them"
#endif

namespace {

using sysfence::sys::id;
using sysfence::detail::syscall_count;
using sysfence::detail::syscall_max_aarch64;
using sysfence::detail::syscall_max_i386;
using sysfence::detail::syscall_max_riscv64;
using sysfence::detail::syscall_max_x32;
using sysfence::detail::syscall_max_x86_64;
using sysfence::detail::syscall_names;
using sysfence::detail::syscall_numbers_aarch64;
using sysfence::detail::syscall_numbers_i386;
using sysfence::detail::syscall_numbers_riscv64;
using sysfence::detail::syscall_numbers_x32;
using sysfence::detail::syscall_numbers_x86_64;

constexpr std::size_t idx(id which) noexcept { return static_cast<std::size_t>(which); }
constexpr std::int32_t on_x86_64(id which) noexcept { return syscall_numbers_x86_64[idx(which)]; }
constexpr std::int32_t on_i386(id which) noexcept { return syscall_numbers_i386[idx(which)]; }
constexpr std::int32_t on_x32(id which) noexcept { return syscall_numbers_x32[idx(which)]; }
constexpr std::int32_t on_aarch64(id which) noexcept { return syscall_numbers_aarch64[idx(which)]; }
constexpr std::int32_t on_riscv64(id which) noexcept { return syscall_numbers_riscv64[idx(which)]; }

// The index of `name` in syscall_names (binary search: the names are sorted), or syscall_count.
constexpr std::size_t find_name(std::string_view name) noexcept {
  const auto it = std::lower_bound(syscall_names.begin(), syscall_names.end(), name);
  if (it == syscall_names.end() || *it != name) return syscall_count;
  return static_cast<std::size_t>(it - syscall_names.begin());
}

struct expected {
  id which;
  std::string_view name;
  long number;
};

// Each of `list` has its kernel name and, in `numbers`, the header's number.
void check_numbers(std::span<const expected> list, const std::array<std::int32_t, syscall_count>& numbers) {
  for (const expected& e : list) {
    CAPTURE(e.name);
    CHECK(syscall_names[idx(e.which)] == e.name);
    CHECK(numbers[idx(e.which)] == e.number);
  }
}

}  // namespace

#if defined(__x86_64__)
namespace {

// ---- x86_64, against <sys/syscall.h>: captured here, before <asm/unistd_32.h> redefines __NR_*. ----
#define SYSFENCE_X86_64(name) expected{id::name, #name, SYS_##name}
constexpr std::array x86_64_expected{
    SYSFENCE_X86_64(read),           SYSFENCE_X86_64(write),          SYSFENCE_X86_64(openat),
    SYSFENCE_X86_64(close),          SYSFENCE_X86_64(exit_group),     SYSFENCE_X86_64(getppid),
    SYSFENCE_X86_64(socket),         SYSFENCE_X86_64(accept),         SYSFENCE_X86_64(clone3),
    SYSFENCE_X86_64(io_uring_setup), SYSFENCE_X86_64(seccomp),        SYSFENCE_X86_64(mmap),
    SYSFENCE_X86_64(rt_sigreturn),   SYSFENCE_X86_64(execve),         SYSFENCE_X86_64(arch_prctl),
    SYSFENCE_X86_64(newfstatat),     SYSFENCE_X86_64(_sysctl),        SYSFENCE_X86_64(close_range),
    SYSFENCE_X86_64(futex),          SYSFENCE_X86_64(process_madvise),
};
#undef SYSFENCE_X86_64
constexpr long x86_64_getppid_nr = __NR_getppid;
constexpr long x86_64_seccomp_nr = __NR_seccomp;

static_assert(on_x86_64(id::openat) == SYS_openat);
static_assert(on_x86_64(id::read) == SYS_read);
static_assert(on_x86_64(id::write) == SYS_write);
static_assert(on_x86_64(id::exit_group) == SYS_exit_group);
static_assert(on_x86_64(id::getppid) == __NR_getppid);
static_assert(on_x86_64(id::socket) == SYS_socket);
static_assert(on_x86_64(id::clone3) == SYS_clone3);
static_assert(on_x86_64(id::io_uring_setup) == SYS_io_uring_setup);
static_assert(on_x86_64(id::seccomp) == __NR_seccomp);
static_assert(on_x86_64(id::tuxcall) == SYS_tuxcall);
static_assert(on_x86_64(id::tuxcall) >= 0 && on_i386(id::tuxcall) == -1);  // x86_64 only

// The i386-only syscalls really are absent from x86_64's <sys/syscall.h>.
#if defined(SYS_socketcall) || defined(SYS_waitpid) || defined(SYS_break) || defined(SYS__llseek)
#error "<sys/syscall.h> unexpectedly defines an i386-only syscall on x86_64"
#endif

}  // namespace

// ---- from here on, __NR_<name> are the i386 numbers. ----
#include <asm/unistd_32.h>

namespace {

#define SYSFENCE_I386(name) expected{id::name, #name, __NR_##name}
constexpr std::array i386_expected{
    SYSFENCE_I386(read),       SYSFENCE_I386(write),     SYSFENCE_I386(openat),     SYSFENCE_I386(exit_group),
    SYSFENCE_I386(getppid),    SYSFENCE_I386(socket),    SYSFENCE_I386(clone3),     SYSFENCE_I386(seccomp),
    SYSFENCE_I386(socketcall), SYSFENCE_I386(waitpid),   SYSFENCE_I386(_llseek),    SYSFENCE_I386(mmap2),
    SYSFENCE_I386(ipc),        SYSFENCE_I386(sigreturn), SYSFENCE_I386(_newselect), expected{id::break_, "break", __NR_break},
};
#undef SYSFENCE_I386

static_assert(on_i386(id::socketcall) == __NR_socketcall);
static_assert(on_x86_64(id::socketcall) == -1);
static_assert(on_i386(id::waitpid) == __NR_waitpid);
static_assert(on_x86_64(id::waitpid) == -1);
static_assert(on_i386(id::break_) == __NR_break);
static_assert(on_x86_64(id::break_) == -1);
static_assert(on_i386(id::read) == __NR_read);
static_assert(on_i386(id::accept) == -1 && on_i386(id::accept4) == __NR_accept4);  // i386 has no plain accept
static_assert(syscall_names[idx(id::break_)] == "break");
static_assert(syscall_names[idx(id::_llseek)] == "_llseek");

}  // namespace

// ---- from here on, __NR_<name> are the x32 numbers: __X32_SYSCALL_BIT (<asm/unistd.h>) + the table's. ----
#include <asm/unistd_x32.h>

namespace {

#define SYSFENCE_X32(name) expected{id::name, #name, __NR_##name - __X32_SYSCALL_BIT}
constexpr std::array x32_expected{
    SYSFENCE_X32(read),         SYSFENCE_X32(write),   SYSFENCE_X32(openat),         SYSFENCE_X32(getppid),
    SYSFENCE_X32(rt_sigaction), SYSFENCE_X32(execve),  SYSFENCE_X32(ioctl),          SYSFENCE_X32(readv),
    SYSFENCE_X32(recvmsg),      SYSFENCE_X32(preadv2), SYSFENCE_X32(io_uring_setup),
};
#undef SYSFENCE_X32

// x32 takes the table's `common` and `x32` lines: its own rt_sigaction (512), not x86_64's 64-bit one (13).
static_assert(on_x32(id::rt_sigaction) == __NR_rt_sigaction - __X32_SYSCALL_BIT);
static_assert(on_x32(id::rt_sigaction) == 512 && on_x86_64(id::rt_sigaction) == 13);
static_assert(on_x32(id::read) == on_x86_64(id::read));
static_assert(on_x32(id::uselib) == -1 && on_x32(id::create_module) == -1);  // `64` lines only
static_assert(syscall_max_x32 < 0x40000000);  // the table's numbers, without the bit

}  // namespace

TEST_CASE("syscall numbers on x86_64 match <sys/syscall.h>") {
  check_numbers(x86_64_expected, syscall_numbers_x86_64);
  CHECK(on_x86_64(id::getppid) == x86_64_getppid_nr);
  CHECK(on_x86_64(id::seccomp) == x86_64_seccomp_nr);
}

TEST_CASE("syscall numbers on i386 match <asm/unistd_32.h>") {
  check_numbers(i386_expected, syscall_numbers_i386);
}

TEST_CASE("syscall numbers on x32 match <asm/unistd_x32.h>, without __X32_SYSCALL_BIT") {
  check_numbers(x32_expected, syscall_numbers_x32);
}

#else  // __aarch64__
namespace {

// ---- aarch64, against <sys/syscall.h>: its <asm/unistd.h> is asm-generic/unistd.h with arm64's
// __ARCH_WANT_* macros (Debian's linux-libc-dev-arm64-cross, Linux 6.1). ----
#define SYSFENCE_AARCH64(name) expected{id::name, #name, __NR_##name}
constexpr std::array aarch64_expected{
    SYSFENCE_AARCH64(read),           SYSFENCE_AARCH64(write),           SYSFENCE_AARCH64(openat),
    SYSFENCE_AARCH64(close),          SYSFENCE_AARCH64(exit_group),      SYSFENCE_AARCH64(getppid),
    SYSFENCE_AARCH64(socket),         SYSFENCE_AARCH64(accept),          SYSFENCE_AARCH64(clone3),
    SYSFENCE_AARCH64(io_uring_setup), SYSFENCE_AARCH64(seccomp),         SYSFENCE_AARCH64(mmap),
    SYSFENCE_AARCH64(rt_sigreturn),   SYSFENCE_AARCH64(execve),          SYSFENCE_AARCH64(newfstatat),
    SYSFENCE_AARCH64(fstat),          SYSFENCE_AARCH64(close_range),     SYSFENCE_AARCH64(futex),
    SYSFENCE_AARCH64(renameat),       SYSFENCE_AARCH64(getrlimit),       SYSFENCE_AARCH64(memfd_secret),
    SYSFENCE_AARCH64(io_getevents),   SYSFENCE_AARCH64(process_madvise),
};
#undef SYSFENCE_AARCH64

static_assert(on_aarch64(id::openat) == SYS_openat);
static_assert(on_aarch64(id::getppid) == __NR_getppid);
static_assert(on_aarch64(id::renameat) == __NR_renameat);

// The legacy syscalls the table leaves out really are absent from aarch64's headers.
#if defined(__NR_open) || defined(__NR_stat) || defined(__NR_fork) || defined(__NR_socketcall)
#error "<sys/syscall.h> unexpectedly defines a legacy syscall on aarch64"
#endif

}  // namespace

TEST_CASE("syscall numbers on aarch64 match <sys/syscall.h>") {
  check_numbers(aarch64_expected, syscall_numbers_aarch64);
  MESSAGE(
      "x86_64, i386 and x32 are not compared with their headers here (skipped: aarch64's C library "
      "has no x86 headers); the x86_64 builds compare them");
}

// Reported skipped (doctest counts it): the x86_64 builds compare these.
TEST_CASE("syscall numbers on x86_64, i386 and x32 match their headers (not on aarch64: no x86 headers)" *
          doctest::skip()) {}
#endif

namespace {

// ---- aarch64 and riscv64: scripts/syscall.tbl, whose numbers asm-generic/unistd.h also gives. ----
// Each takes the `common` and `64` lines and its own ABIs (arch/*/kernel/Makefile.syscalls).
static_assert(on_aarch64(id::read) == 63 && on_riscv64(id::read) == 63);
static_assert(on_aarch64(id::openat) == 56 && on_riscv64(id::openat) == 56);
static_assert(on_aarch64(id::fstat) == 80 && on_aarch64(id::fstat64) == -1);          // `64`, not `stat64`
static_assert(on_aarch64(id::renameat) == 38 && on_riscv64(id::renameat) == -1);      // arm64's `renameat`
static_assert(on_aarch64(id::getrlimit) == 163 && on_riscv64(id::getrlimit) == 163);  // `rlimit`
static_assert(on_aarch64(id::memfd_secret) == 447 && on_riscv64(id::memfd_secret) == 447);
static_assert(on_riscv64(id::riscv_flush_icache) == 259 && on_aarch64(id::riscv_flush_icache) == -1);
static_assert(on_aarch64(id::open) == -1 && on_riscv64(id::open) == -1);  // no legacy calls
static_assert(on_aarch64(id::io_getevents) == 4);                         // `64`, not `time32`

// ---- the tables themselves ----
constexpr bool names_strictly_sorted() noexcept {
  for (std::size_t i = 1; i < syscall_count; ++i) {
    if (!(syscall_names[i - 1] < syscall_names[i])) return false;
  }
  return true;
}
static_assert(names_strictly_sorted());

constexpr bool names_round_trip() noexcept {
  for (std::size_t i = 0; i < syscall_count; ++i) {
    if (find_name(syscall_names[i]) != i) return false;
  }
  return true;
}
static_assert(names_round_trip());

// Every number of `numbers` is -1 or in [0, max], max is attained, and no number appears twice.
constexpr bool numbers_valid(const std::array<std::int32_t, syscall_count>& numbers, std::int32_t max) {
  std::array<std::int32_t, syscall_count> sorted = numbers;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front() < -1) return false;
  const auto first = std::upper_bound(sorted.begin(), sorted.end(), -1);
  if (first == sorted.end() || sorted.back() != max) return false;
  return std::adjacent_find(first, sorted.end()) == sorted.end();
}
static_assert(numbers_valid(syscall_numbers_x86_64, syscall_max_x86_64));
static_assert(numbers_valid(syscall_numbers_i386, syscall_max_i386));
static_assert(numbers_valid(syscall_numbers_x32, syscall_max_x32));
static_assert(numbers_valid(syscall_numbers_aarch64, syscall_max_aarch64));
static_assert(numbers_valid(syscall_numbers_riscv64, syscall_max_riscv64));

// Every syscall exists on at least one architecture.
constexpr bool each_exists_somewhere() noexcept {
  for (std::size_t i = 0; i < syscall_count; ++i) {
    if (syscall_numbers_x86_64[i] < 0 && syscall_numbers_i386[i] < 0 && syscall_numbers_x32[i] < 0 &&
        syscall_numbers_aarch64[i] < 0 && syscall_numbers_riscv64[i] < 0)
      return false;
  }
  return true;
}
static_assert(each_exists_somewhere());

// The X-macro lists every syscall, in enumerator order, with its kernel name.
#define SYSFENCE_ID_OF(ident, name) id::ident,
#define SYSFENCE_NAME_OF(ident, name) std::string_view{#name},
// (C arrays: clang 14 rejects std::array CTAD from more than 256 initializers.)
constexpr id xmacro_ids[] = {SYSFENCE_SYSCALL_CONSTANTS(SYSFENCE_ID_OF)};
constexpr std::string_view xmacro_names[] = {SYSFENCE_SYSCALL_CONSTANTS(SYSFENCE_NAME_OF)};
#undef SYSFENCE_ID_OF
#undef SYSFENCE_NAME_OF
static_assert(std::size(xmacro_ids) == syscall_count && std::size(xmacro_names) == syscall_count);

constexpr bool xmacro_matches() noexcept {
  for (std::size_t i = 0; i < syscall_count; ++i) {
    if (idx(xmacro_ids[i]) != i || xmacro_names[i] != syscall_names[i]) return false;
  }
  return true;
}
static_assert(xmacro_matches());

}  // namespace

TEST_CASE("i386-only syscalls do not exist on x86_64") {
  for (const id which :
       {id::socketcall, id::waitpid, id::break_, id::_llseek, id::mmap2, id::ipc, id::sigreturn}) {
    CAPTURE(syscall_names[idx(which)]);
    CHECK(on_x86_64(which) == -1);
    CHECK(on_i386(which) > 0);
  }
}

TEST_CASE("a syscall named like a C++ keyword keeps its kernel name") {
  CHECK(syscall_names[idx(id::break_)] == "break");
  CHECK(find_name("break") == idx(id::break_));
  CHECK(find_name("break_") == syscall_count);
}

TEST_CASE("syscall names are strictly sorted and round-trip") {
  CHECK(names_strictly_sorted());
  for (std::size_t i = 0; i < syscall_count; ++i) {
    CAPTURE(syscall_names[i]);
    CHECK(find_name(syscall_names[i]) == i);
    const auto linear = std::find(syscall_names.begin(), syscall_names.end(), syscall_names[i]);
    CHECK(linear - syscall_names.begin() == static_cast<std::ptrdiff_t>(i));
  }
  CHECK(find_name("not_a_syscall") == syscall_count);
}

TEST_CASE("every x86_64 syscall number is unique") {
  std::array<bool, static_cast<std::size_t>(syscall_max_x86_64) + 1> seen{};
  for (std::size_t i = 0; i < syscall_count; ++i) {
    const std::int32_t nr = syscall_numbers_x86_64[i];
    if (nr < 0) continue;
    CAPTURE(syscall_names[i]);
    REQUIRE(nr <= syscall_max_x86_64);
    CHECK_FALSE(seen[static_cast<std::size_t>(nr)]);
    seen[static_cast<std::size_t>(nr)] = true;
  }
  CHECK(numbers_valid(syscall_numbers_x86_64, syscall_max_x86_64));
  CHECK(numbers_valid(syscall_numbers_i386, syscall_max_i386));
  CHECK(numbers_valid(syscall_numbers_x32, syscall_max_x32));
  CHECK(numbers_valid(syscall_numbers_aarch64, syscall_max_aarch64));
  CHECK(numbers_valid(syscall_numbers_riscv64, syscall_max_riscv64));
}

TEST_CASE("the X-macro lists every syscall in order") {
  CHECK(xmacro_matches());
  CHECK(each_exists_somewhere());
}
