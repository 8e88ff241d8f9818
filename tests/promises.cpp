// SPDX-License-Identifier: MIT
// promises.cpp - tests of promises.hpp: promise strings parsed, promises<"..."> and pledge's
// promise_policy giving the same program, and each promise's calls judged by the simulator.
#include "sysfence/promises.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;
using detail::parse_promises;
using detail::promise_problem;

constexpr bool parsed_case_insensitively() {
  const auto p = parse_promises("  STDIO\tRpath\r\nprot_EXEC ");
  return p.problem == promise_problem::none &&
         p.bits == (detail::p_stdio | detail::p_rpath | detail::p_prot_exec) && !p.error_penalty;
}
static_assert(parsed_case_insensitively());
TEST_CASE("promise strings: words split on spaces, tabs, CR and LF, any case") {
  CHECK(parsed_case_insensitively());
}

constexpr bool empty_string_is_no_promise() {
  const auto p = parse_promises("");
  return p.problem == promise_problem::none && p.bits == 0;
}
static_assert(empty_string_is_no_promise());

constexpr bool unknown_word_located() {
  const auto p = parse_promises("stdio rpth inet");
  return p.problem == promise_problem::unknown && p.begin == 6 && p.end == 10;
}
static_assert(unknown_word_located());
TEST_CASE("promise strings: the first unknown word is located") { CHECK(unknown_word_located()); }

constexpr bool openbsd_only_recognised() {
  return parse_promises("stdio audio").problem == promise_problem::openbsd_only &&
         parse_promises("getpw").problem == promise_problem::openbsd_only;
}
static_assert(openbsd_only_recognised());

constexpr bool error_word_sets_the_penalty() {
  const auto p = parse_promises("stdio error");
  return p.problem == promise_problem::none && p.error_penalty && p.bits == detail::p_stdio;
}
static_assert(error_word_sets_the_penalty());
static_assert(pledged<"stdio error">::default_action == action::error(ENOSYS));
static_assert(pledged<"stdio">::default_action == action::kill_process);

// Every promise name parses to its own bit, and no two share one.
constexpr bool names_have_distinct_bits() {
  std::uint32_t seen = 0;
  for (const auto& p : detail::promise_names) {
    if (parse_promises(p.name).bits != p.bit || (seen & p.bit) != 0) return false;
    seen |= p.bit;
  }
  return true;
}
static_assert(names_have_distinct_bits());

std::string error_of(std::string_view s) {
  try {
    (void)promise_policy(s);
  } catch (const policy_error& e) {
    return e.what();
  }
  return {};
}

TEST_CASE("promise_policy: a bad word throws policy_error naming it and its column") {
  CHECK(
      error_of("stdio rpth") ==
      "sysfence: promises \"stdio rpth\": unknown promise \"rpth\" at column 7; the promises are stdio rpath "
      "wpath cpath dpath flock fattr inet anet unix dns tty recvfd sendfd proc exec id chown settime "
      "prot_exec "
      "unveil vminfo tmppath mcast error");
  CHECK(error_of("stdio\taudio").find("OpenBSD promise \"audio\" at column 7 has no Linux counterpart") !=
        std::string::npos);
  CHECK(error_of("stdio rpath").empty());
  CHECK(error_of("").empty());
}

// The compile-time and run-time paths give the same program, byte for byte.
template <detail::promise_string S, action Penalty, class Arch>
void same_program() {
  const auto& typed = compile<pledged<S, Penalty>, Arch>();
  const runtime_policy rt = promise_policy(S.view(), Penalty, {Arch::value});
  REQUIRE(rt.program().size() == typed.size());
  for (std::size_t i = 0; i < typed.size(); ++i) {
    CHECK(rt.program()[i].code == typed[i].code);
    CHECK(rt.program()[i].jt == typed[i].jt);
    CHECK(rt.program()[i].jf == typed[i].jf);
    CHECK(rt.program()[i].k == typed[i].k);
  }
}

#define SYSFENCE_ALL_PROMISES                                                                          \
  "stdio rpath wpath cpath dpath flock fattr inet anet unix dns tty recvfd sendfd proc exec id chown " \
  "settime "                                                                                           \
  "prot_exec unveil vminfo tmppath mcast"

TEST_CASE("promises<> and promise_policy give byte-identical programs") {
  same_program<"stdio", action::kill_process, arch::x86_64>();
  same_program<"stdio rpath", action::error(EPERM), arch::x86_64>();
  same_program<"stdio rpath wpath cpath inet", action::trap(), arch::x86_64>();
  same_program<"", action::kill_process, arch::x86_64>();
  same_program<"stdio error", action::kill_process, arch::x86_64>();
  same_program<SYSFENCE_ALL_PROMISES, action::kill_process, arch::x86_64>();
  same_program<"stdio rpath inet", action::kill_process, arch::aarch64>();
  same_program<SYSFENCE_ALL_PROMISES, action::error(EPERM), arch::aarch64>();
  same_program<"STDIO Unix\tdns", action::kill_process, arch::riscv64>();
}

// `judged` is what promise set `promises` answers `data` with (x86_64's numbers).
action judged(std::string_view promises, const seccomp_data& data) {
  const runtime_policy p = promise_policy(promises, action::kill_process, {arch::x86_64::value});
  const evaluation e = evaluate(p.program(), data);
  REQUIRE(e.error == bpf_error::none);
  return e.result;
}
bool allowed(std::string_view promises, const seccomp_data& data) {
  return judged(promises, data) == action::allow;
}
template <class... A>
seccomp_data x64(sys::id s, A... a) {
  return call<arch::x86_64>(s, static_cast<std::uint64_t>(a)...);
}
constexpr std::uint64_t at_fdcwd = static_cast<std::uint32_t>(AT_FDCWD);

TEST_CASE("every promise set: exit, and clone3 answered ENOSYS so glibc falls back to clone") {
  CHECK(allowed("", x64(sys::id::exit_group, 0)));
  CHECK(allowed("", x64(sys::id::exit, 0)));
  CHECK_FALSE(allowed("", x64(sys::id::write, 1)));
  CHECK(judged("stdio proc", x64(sys::id::clone3)) == action::error(ENOSYS));
}

TEST_CASE("stdio: descriptors, memory without PROT_EXEC, threads; not files, sockets or processes") {
  CHECK(allowed("stdio", x64(sys::id::write, 1, 0, 0)));
  CHECK(allowed("stdio", x64(sys::id::read, 0, 0, 0)));
  CHECK(allowed("stdio", x64(sys::id::mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)));
  CHECK_FALSE(
      allowed("stdio", x64(sys::id::mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS)));
  CHECK_FALSE(
      allowed("stdio", x64(sys::id::mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED)));
  CHECK(allowed("stdio", x64(sys::id::mprotect, 0, 4096, PROT_READ)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::mprotect, 0, 4096, PROT_READ | PROT_EXEC)));
  // the upper half of prot is read by the kernel (unsigned long): not ignored
  CHECK_FALSE(allowed("stdio", x64(sys::id::mprotect, 0, 4096, (std::uint64_t{1} << 32) | PROT_READ)));
  CHECK(allowed("stdio", x64(sys::id::fcntl, 3, F_GETFL)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::fcntl, 3, F_SETLK)));
  CHECK(allowed("stdio", x64(sys::id::ioctl, 1, TCGETS)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::ioctl, 1, TIOCSTI)));
  CHECK(allowed("stdio", x64(sys::id::newfstatat, 1, 0, 0, AT_EMPTY_PATH)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::newfstatat, at_fdcwd, 0, 0, 0)));
  CHECK(allowed("stdio", x64(sys::id::sendto, 3, 0, 1, 0, 0, 0)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::sendto, 3, 0, 1, 0, 0x1000, 16)));
  constexpr std::uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                   CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  CHECK(allowed("stdio", x64(sys::id::clone, thread)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::clone, SIGCHLD)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::clone, thread | CLONE_PTRACE)));
  CHECK(allowed("stdio", x64(sys::id::prlimit64, 0, 7, 0, 0x1000)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::prlimit64, 0, 7, 0x1000, 0)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::prlimit64, 1, 7, 0, 0x1000)));
  CHECK(allowed("stdio", x64(sys::id::prctl, PR_SET_NO_NEW_PRIVS, 1)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::prctl, PR_SET_DUMPABLE, 1)));
  CHECK(allowed("stdio", x64(sys::id::seccomp, SECCOMP_SET_MODE_FILTER, 0, 0x1000)));
  CHECK(allowed("stdio", x64(sys::id::seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0x1000)));
  CHECK_FALSE(allowed(
      "stdio", x64(sys::id::seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0x1000)));
  CHECK_FALSE(allowed("stdio", x64(sys::id::seccomp, SECCOMP_SET_MODE_STRICT)));
  for (const sys::id s : {sys::id::openat, sys::id::open, sys::id::socket, sys::id::connect, sys::id::kill,
                          sys::id::tgkill, sys::id::execve, sys::id::fork, sys::id::unlink, sys::id::ptrace})
    CHECK_MESSAGE(!allowed("stdio", x64(s)), sys::name(s));
}

TEST_CASE("rpath: read-only opens; wpath: opens for writing; cpath: creating with one of them") {
  CHECK(allowed("rpath", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY | O_CLOEXEC)));
  CHECK(allowed("rpath", x64(sys::id::open, 0, O_RDONLY | O_DIRECTORY)));
  CHECK_FALSE(allowed("rpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY)));
  CHECK_FALSE(allowed("rpath", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY | O_CREAT, 0644)));
  CHECK_FALSE(allowed("rpath", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY | O_TRUNC)));
  CHECK(allowed("rpath", x64(sys::id::newfstatat, at_fdcwd, 0, 0, 0)));
  CHECK(allowed("rpath", x64(sys::id::getdents64, 3)));
  CHECK(allowed("rpath", x64(sys::id::lgetxattr, 0, 0, 0, 0)));
  CHECK_FALSE(allowed("rpath", x64(sys::id::lsetxattr, 0, 0, 0, 0)));
  CHECK(allowed("wpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_TRUNC)));
  CHECK(allowed("wpath", x64(sys::id::openat, at_fdcwd, 0, O_RDWR)));
  CHECK_FALSE(allowed("wpath", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY)));
  CHECK_FALSE(allowed("wpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_CREAT, 0644)));
  CHECK(allowed("wpath", x64(sys::id::fchmodat, at_fdcwd, 0, 0644)));
  CHECK_FALSE(allowed("wpath", x64(sys::id::fchmodat, at_fdcwd, 0, 04755)));
  CHECK(allowed("cpath", x64(sys::id::mkdirat, at_fdcwd, 0, 0755)));
  CHECK(allowed("cpath", x64(sys::id::unlinkat, at_fdcwd, 0, 0)));
  // Cosmopolitan's cpath alone opens for writing with O_CREAT; here it takes wpath too.
  CHECK_FALSE(allowed("cpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_CREAT, 0644)));
  CHECK(allowed("wpath cpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_CREAT | O_TRUNC, 0644)));
  CHECK_FALSE(allowed("wpath cpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_CREAT, 04755)));
  CHECK_FALSE(allowed("rpath cpath", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY | O_CREAT, 0644)));
  CHECK(allowed("rpath cpath", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY | O_CREAT, 0644)));
  CHECK(allowed("wpath cpath", x64(sys::id::creat, 0, 0644)));
  CHECK_FALSE(allowed("cpath", x64(sys::id::creat, 0, 0644)));
}

TEST_CASE("dpath, flock, fattr, chown, tmppath") {
  CHECK(allowed("dpath", x64(sys::id::mknodat, at_fdcwd, 0, S_IFIFO | 0644, 0)));
  CHECK_FALSE(allowed("dpath", x64(sys::id::mknodat, at_fdcwd, 0, S_IFCHR | 0644, 0x0103)));
  CHECK(allowed("flock", x64(sys::id::flock, 3, 2)));
  CHECK(allowed("flock", x64(sys::id::fcntl, 3, F_OFD_SETLK)));
  CHECK_FALSE(allowed("flock", x64(sys::id::fcntl, 3, F_GETFL)));
  CHECK(allowed("fattr", x64(sys::id::utimensat, at_fdcwd, 0, 0, 0)));
  CHECK(allowed("fattr", x64(sys::id::fchmod, 3, 0600)));
  CHECK_FALSE(allowed("fattr", x64(sys::id::fchmod, 3, 02755)));
  CHECK_FALSE(allowed("fattr", x64(sys::id::fchown, 3, 0, 0)));
  CHECK(allowed("chown", x64(sys::id::fchownat, at_fdcwd, 0, 0, 0, 0)));
  CHECK(allowed("tmppath", x64(sys::id::unlinkat, at_fdcwd, 0, 0)));
  CHECK_FALSE(allowed("tmppath", x64(sys::id::mkdirat, at_fdcwd, 0, 0755)));
}

TEST_CASE("inet, anet, unix, dns: socket domain and type exact after masking the flags") {
  CHECK(allowed("inet", x64(sys::id::socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)));
  CHECK(allowed("inet", x64(sys::id::socket, AF_INET6, SOCK_DGRAM, IPPROTO_UDP)));
  CHECK(allowed("inet", x64(sys::id::socket, AF_INET, SOCK_DGRAM, IPPROTO_ICMP)));
  // SOCK_RAW (3) has both SOCK_STREAM's and SOCK_DGRAM's bit: refused
  CHECK_FALSE(allowed("inet", x64(sys::id::socket, AF_INET, SOCK_RAW, IPPROTO_ICMP)));
  CHECK_FALSE(allowed("inet", x64(sys::id::socket, AF_PACKET, SOCK_DGRAM, 0)));
  CHECK_FALSE(allowed("inet", x64(sys::id::socket, AF_UNIX, SOCK_STREAM, 0)));
  CHECK_FALSE(allowed("inet", x64(sys::id::socket, AF_INET, SOCK_STREAM, IPPROTO_UDP)));
  CHECK(allowed("inet", x64(sys::id::connect, 3)));
  CHECK(allowed("inet", x64(sys::id::setsockopt, 3, SOL_SOCKET, SO_REUSEADDR)));
  CHECK_FALSE(allowed("inet", x64(sys::id::setsockopt, 3, SOL_SOCKET, SO_BINDTODEVICE)));
  CHECK_FALSE(allowed("inet", x64(sys::id::setsockopt, 3, IPPROTO_IP, IP_ADD_MEMBERSHIP)));
  CHECK(allowed("inet mcast", x64(sys::id::setsockopt, 3, IPPROTO_IP, IP_ADD_MEMBERSHIP)));
  CHECK(allowed("anet", x64(sys::id::socket, AF_INET6, SOCK_STREAM, 0)));
  CHECK(allowed("anet", x64(sys::id::accept4, 3)));
  CHECK_FALSE(allowed("anet", x64(sys::id::socket, AF_INET, SOCK_DGRAM, 0)));
  CHECK_FALSE(allowed("anet", x64(sys::id::connect, 3)));
  // MSG_FASTOPEN makes sendto connect: refused under anet, allowed with inet's connect.
  CHECK(allowed("anet", x64(sys::id::sendto, 3, 0, 1, MSG_NOSIGNAL, 0x1000, 16)));
  CHECK_FALSE(allowed("anet", x64(sys::id::sendto, 3, 0, 1, MSG_FASTOPEN, 0x1000, 16)));
  CHECK(allowed("anet inet", x64(sys::id::sendto, 3, 0, 1, MSG_FASTOPEN, 0x1000, 16)));
  CHECK(allowed("unix", x64(sys::id::socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
  CHECK_FALSE(allowed("unix", x64(sys::id::socket, AF_UNIX, SOCK_SEQPACKET, 0)));
  CHECK_FALSE(allowed("unix", x64(sys::id::socket, AF_INET, SOCK_STREAM, 0)));
  CHECK(allowed("dns", x64(sys::id::socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)));
  CHECK(allowed("dns", x64(sys::id::openat, at_fdcwd, 0, O_RDONLY | O_CLOEXEC)));
  CHECK_FALSE(allowed("dns", x64(sys::id::openat, at_fdcwd, 0, O_WRONLY)));
  CHECK_FALSE(allowed("dns", x64(sys::id::socket, AF_UNIX, SOCK_STREAM, 0)));
}

TEST_CASE("tty, recvfd, sendfd, proc, exec, id, settime, prot_exec, unveil, vminfo") {
  CHECK(allowed("tty", x64(sys::id::ioctl, 0, TIOCGWINSZ)));
  CHECK_FALSE(allowed("tty", x64(sys::id::ioctl, 0, TIOCSTI)));
  CHECK(allowed("recvfd", x64(sys::id::recvmsg, 3)));
  CHECK_FALSE(allowed("recvfd", x64(sys::id::sendmsg, 3)));
  CHECK(allowed("sendfd", x64(sys::id::sendmsg, 3)));
  CHECK_FALSE(allowed("sendfd", x64(sys::id::recvmsg, 3)));
  CHECK_FALSE(allowed("sendfd", x64(sys::id::sendmsg, 3, 0x1000, MSG_FASTOPEN)));
  CHECK_FALSE(allowed("sendfd", x64(sys::id::sendmmsg, 3, 0x1000, 1, MSG_FASTOPEN)));
  CHECK(allowed("sendfd", x64(sys::id::sendmmsg, 3, 0x1000, 1, MSG_DONTWAIT)));
  CHECK(allowed("sendfd inet", x64(sys::id::sendmsg, 3, 0x1000, MSG_FASTOPEN)));
  CHECK(allowed("proc", x64(sys::id::clone, SIGCHLD)));
  CHECK(allowed("proc", x64(sys::id::kill, 1, 15)));
  CHECK_FALSE(allowed("proc", x64(sys::id::clone, SIGCHLD | CLONE_NEWUSER)));
  CHECK_FALSE(allowed("proc", x64(sys::id::execve)));
  CHECK(allowed("exec", x64(sys::id::execve)));
  CHECK(allowed("id", x64(sys::id::setresuid, 1, 1, 1)));
  CHECK_FALSE(allowed("id", x64(sys::id::capset)));
  CHECK(allowed("settime", x64(sys::id::clock_settime, 0)));
  CHECK(allowed("prot_exec", x64(sys::id::mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 3, 0)));
  CHECK_FALSE(
      allowed("prot_exec", x64(sys::id::mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_HUGETLB)));
  CHECK(allowed("prot_exec", x64(sys::id::mprotect, 0, 4096, PROT_READ | PROT_EXEC)));
  CHECK(allowed("unveil", x64(sys::id::landlock_restrict_self, 3, 0)));
  CHECK(allowed("vminfo", x64(sys::id::sysinfo, 0)));
  CHECK_FALSE(allowed("vminfo", x64(sys::id::openat)));
}

TEST_CASE("the penalty is the default action; \"error\" makes it ENOSYS") {
  CHECK(judged("stdio", x64(sys::id::openat)) == action::kill_process);
  const runtime_policy eperm = promise_policy("stdio", action::error(EPERM), {arch::x86_64::value});
  CHECK(evaluate(eperm.program(), x64(sys::id::openat)) == action::error(EPERM));
  const runtime_policy enosys = promise_policy("stdio error", action::kill_process, {arch::x86_64::value});
  CHECK(evaluate(enosys.program(), x64(sys::id::openat)) == action::error(ENOSYS));
}

}  // namespace

namespace {
// `promise_exec_policy` (sysfence run --promises' start-up filter) allows all the exact promises
// allow, plus what the loader needs: checked for each promise alone over every x86_64 syscall.
TEST_CASE("promise_exec_policy: the start-up filter allows what the promises allow, and the loader's calls") {
  for (const auto& p : detail::promise_names) {
    const runtime_policy exact = promise_policy(p.name, action::kill_process, {arch::x86_64::value});
    const runtime_policy wide = promise_exec_policy(p.name, action::kill_process, {arch::x86_64::value});
    for (std::size_t s = 0; s < detail::syscall_names.size(); ++s) {
      const seccomp_data d = call<arch::x86_64>(static_cast<sys::id>(s));
      if (d.nr < 0 || !(evaluate(exact.program(), d) == action::allow)) continue;
      CHECK_MESSAGE(evaluate(wide.program(), d) == action::allow, p.name, " ", detail::syscall_names[s]);
    }
  }
  const runtime_policy wide = promise_exec_policy("stdio", action::kill_process, {arch::x86_64::value});
  CHECK(evaluate(wide.program(), x64(sys::id::arch_prctl, 0x1002)) == action::allow);         // ARCH_SET_FS
  CHECK(evaluate(wide.program(), x64(sys::id::arch_prctl, 0x1001)) == action::kill_process);  // ARCH_SET_GS
  CHECK(evaluate(wide.program(), x64(sys::id::execve)) == action::allow);
  CHECK(evaluate(wide.program(), x64(sys::id::openat, at_fdcwd, 0, O_RDONLY)) == action::allow);
  CHECK(evaluate(wide.program(), x64(sys::id::openat, at_fdcwd, 0, O_WRONLY)) == action::kill_process);
  CHECK_FALSE(allowed("stdio", x64(sys::id::arch_prctl, 0x1002)));
}

TEST_CASE("promise_policy refuses i386, whose mmap reads its arguments from memory") {
  CHECK_THROWS_AS(promise_policy("stdio", action::kill_process, {arch::x86::value}), policy_error);
}
}  // namespace

namespace {
// The stdio program and its rules as text, for a reader: tests/golden/promises_stdio.*
// (SYSFENCE_UPDATE_GOLDEN=1 rewrites them).
TEST_CASE("golden: \"stdio\" explained and disassembled (x86_64)") {
  const runtime_policy p = promise_policy("stdio", action::kill_process, {arch::x86_64::value});
  for (const auto& [file, text] : {std::pair{std::string("promises_stdio.explain.txt"), p.explain()},
                                   std::pair{std::string("promises_stdio.x86_64.txt"), p.dump()}}) {
    const std::string path = std::string(SYSFENCE_GOLDEN_DIR) + "/" + file;
    if (std::getenv("SYSFENCE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << text;
    std::stringstream golden;
    golden << std::ifstream(path).rdbuf();
    INFO(path);
    CHECK(golden.str() == text);
  }
}
}  // namespace
