// SPDX-License-Identifier: MIT
// bypass.cpp - known ways around naive seccomp filters, each tried against sysfence in the kernel.
//
// What each group defends against:
//  1. i386 through `int $0x80`: a filter that reads the syscall number without checking the
//     architecture lets i386 execve (11) pass as x86_64 munmap, i386 mkdir (39) as getpid.
//     sysfence must kill the process; a hand-written arch-blind filter shows the way is open here.
//     The legacy vsyscall page, another way into the kernel without `syscall`, is filtered too.
//  2. x32 and out-of-range numbers: x32 shares AUDIT_ARCH_X86_64 and sets bit 30 of the number;
//     a filter that compares only known numbers, or masks bit 30, lets x32 calls run. They must
//     get the default action when it denies, and kill the process when the default lets calls run.
//  3. 64-bit arguments: classic BPF loads 32 bits; comparing only the low half lets
//     write(1<<32 | 1) through `arg64<0> == 1`. Every operator, edge value and upper half is
//     compared with its 64-bit meaning (and arg32's 32-bit one), in the simulator and in the kernel.
//     And the other way round: the kernel reads an `int` parameter's low 32 bits, so comparing all
//     64 would let socket((1<<32) | AF_PACKET) past a rule refusing AF_PACKET; arg<N> compares
//     what the kernel reads.
//  4. Threads that already run: apply_to_all_threads must reach them (TSYNC), not just the caller.
//  5. Stacking and self-modification: a later filter only tightens; prctl/seccomp calls that
//     would install or change a filter are denied unless allowed, and installing an allow-all
//     filter on top loosens nothing; no_new_privs cannot be cleared.
//  6. execve of a setuid binary: no_new_privs keeps the exec from gaining privileges, and the
//     filter survives the exec.
//  7. Children: a fork()ed, clone()d or clone3()d process and a clone()d thread inherit the filter.
//  8. Built-ins: none of them lets io_uring, ptrace, process_vm_writev, bpf or userfaultfd (or
//     other kernel-attack-surface syscalls) through, alone or all combined.
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "policies.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;
using test_policies::can_exit;
namespace b = sysfence::builtins;

namespace {

using u64 = std::uint64_t;
constexpr action eperm = action::error(EPERM);

// Rule sets that answer one syscall with another errno, for policies that allow by default.
struct getuid_eacces : rule_set_base {
  static constexpr std::string_view name = "getuid_eacces";
  static constexpr std::array conditional_rules{rule{sys::getuid}.then(action::error(EACCES))};
};
struct getppid_eacces : rule_set_base {
  static constexpr std::string_view name = "getppid_eacces";
  static constexpr std::array conditional_rules{rule{sys::getppid}.then(action::error(EACCES))};
};

// `allow_but_getuid` lets everything run but getuid (EACCES): the default lets calls run.
constexpr auto allow_but_getuid = safety_context{}.enable(getuid_eacces{}).with_default<action::allow>();

// `seccomp_data_of` is what the kernel passes for number `nr` on `arch`, for the simulator.
constexpr seccomp_data seccomp_data_of(std::uint32_t arch, std::int32_t nr) noexcept {
  return seccomp_data{nr, arch, 0, {}};
}

// `hex` spells a number in hexadecimal, for messages.
std::string hex(u64 v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
std::string hex(long v) { return hex(static_cast<u64>(v)); }

// `x86_64_call` is the seccomp_data of an x86_64 syscall number as the kernel passes it (an int).
constexpr seccomp_data x86_64_call(long nr) noexcept {
  return seccomp_data_of(AUDIT_ARCH_X86_64, static_cast<std::int32_t>(nr));
}

// `install_raw` installs a hand-written filter (no sysfence): the naive filters the bypasses beat.
long install_raw(std::span<const sock_filter> program) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) return -1;
  sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
}

// `may_stack` lets a later apply run under this filter: it sets no_new_privs, then seccomp().
struct may_stack : rule_set_base {
  static constexpr std::string_view name = "may_stack";
  static constexpr auto simple_rules = syscalls(sys::prctl, sys::seccomp);
};

// `allow_all` is the loosest filter there is.
constexpr std::array<sock_filter, 1> allow_all{{bpf::ret(SECCOMP_RET_ALLOW)}};

// ---------------------------------------------------------------------------------------------
// 1. i386 through int $0x80

// `int80` makes an i386 syscall from this 64-bit process: the int $0x80 gate takes the compat
// entry, so seccomp sees AUDIT_ARCH_I386 and a number of the i386 table. Arguments go in ebx,
// ecx, edx; the kernel returns -errno in eax and does not preserve r8-r11.
long int80(long nr, long a = 0, long b = 0, long c = 0) {
  long ret = nr;
  __asm__ __volatile__("int $0x80"
                       : "+a"(ret)
                       : "b"(a), "c"(b), "d"(c)
                       : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret;
}

// An i386 number, what it means there, and the x86_64 syscall with the same number, which the
// policy below allows: an arch-blind filter would let the i386 call through as its twin.
struct i386_twin {
  std::int32_t nr;
  sys::id i386_meaning;
  sys::id x86_64_twin;
};
constexpr std::array i386_twins{
    i386_twin{3, sys::id::read, sys::id::close},           // read(0, NULL, 0)
    i386_twin{5, sys::id::open, sys::id::fstat},           // open(NULL): EFAULT if it ran
    i386_twin{11, sys::id::execve, sys::id::munmap},       // execve(NULL): EFAULT if it ran
    i386_twin{20, sys::id::getpid, sys::id::writev},       //
    i386_twin{24, sys::id::getuid, sys::id::sched_yield},  //
    i386_twin{39, sys::id::mkdir, sys::id::getpid},        // mkdir(NULL): EFAULT if it ran
    i386_twin{102, sys::id::socketcall, sys::id::getuid},  // socketcall(0): EINVAL if it ran
};
constexpr bool i386_twins_are_twins() {
  for (const auto& t : i386_twins)
    if (arch::x86::numbers[static_cast<std::size_t>(t.i386_meaning)] != t.nr ||
        arch::x86_64::numbers[static_cast<std::size_t>(t.x86_64_twin)] != t.nr)
      return false;
  return true;
}
static_assert(i386_twins_are_twins());

// basic_capabilities has munmap, sched_yield and getpid; the others are added.
constexpr auto twins_allowed =
    safety_context{}.enable(sys::close).enable(sys::fstat).enable(sys::writev).enable(sys::getuid);

// Each twin is allowed on x86_64, and the same number from i386 kills the process.
constexpr bool i386_twins_killed() {
  const auto& p = compile(twins_allowed);
  for (const auto& t : i386_twins) {
    if (!(evaluate(p, seccomp_data_of(AUDIT_ARCH_X86_64, t.nr)) == action::allow)) return false;
    if (!(evaluate(p, seccomp_data_of(AUDIT_ARCH_I386, t.nr)) == action::kill_process)) return false;
  }
  // A default that lets calls run changes nothing for a foreign architecture.
  return evaluate(compile(allow_but_getuid), seccomp_data_of(AUDIT_ARCH_I386, 20)) == action::kill_process;
}
static_assert(i386_twins_killed());

// The arch-blind filter: allows x86_64 getpid (39), exit_group and exit by number alone.
constexpr std::array<sock_filter, 6> arch_blind{{
    bpf::load(bpf::off_nr),
    bpf::jeq(39, 3, 0),   // getpid: allow
    bpf::jeq(231, 2, 0),  // exit_group: allow
    bpf::jeq(60, 1, 0),   // exit: allow
    bpf::ret(SECCOMP_RET_ERRNO | EPERM),
    bpf::ret(SECCOMP_RET_ALLOW),
}};

// `has_vsyscall_page` is true when the legacy vsyscall page is mapped (not vsyscall=none).
bool has_vsyscall_page() {
  std::FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return false;
  bool found = false;
  char line[512];
  while (!found && std::fgets(line, sizeof line, f) != nullptr)
    found = std::strstr(line, "[vsyscall]") != nullptr;
  std::fclose(f);
  return found;
}

// `vsyscall_time` is time(NULL) through the legacy vsyscall page: no syscall instruction in user
// space; the kernel emulates the call on the page fault, asking seccomp first (x86_64 `time`).
long vsyscall_time() {
  using time_fn = long (*)(long*);
  return reinterpret_cast<time_fn>(0xffffffffff600400UL)(nullptr);
}

// ---------------------------------------------------------------------------------------------
// 2. x32 and out-of-range numbers

constexpr long x32_bit = 0x40000000;  // __X32_SYSCALL_BIT
constexpr long x32_read = x32_bit | 0, x32_write = x32_bit | 1, x32_getpid = x32_bit | 39;
constexpr long x32_getppid = x32_bit | 110, x32_getuid = x32_bit | 102;
constexpr long x32_rt_sigaction = x32_bit | 512, x32_execve = x32_bit | 520;  // x32's own numbers
// The numbers past the table below bit 30: syscalls newer than sysfence's tables (463, setxattrat
// since Linux 6.13, runs on 6.18), then numbers no kernel has. They get ENOSYS, glibc's cue to fall back.
constexpr long past_table = arch::x86_64::value.table_size;
constexpr std::array<long, 4> newer_numbers{past_table, past_table + 1, 1000, 0x3fffffff};
// The numbers from bit 30 up that are not x32 twins: -1, bit 30 and 31 set, bit 31.
constexpr std::array<long, 4> strange_numbers{-1, 0x7fffffff, 0x80000000L, 0xffffffffL};
constexpr std::array<long, 6> x32_numbers{x32_read,    x32_write,        x32_getpid,
                                          x32_getppid, x32_rt_sigaction, x32_execve};

// Plain read, write, getpid and getppid are allowed (their x32 twins must not be).
constexpr auto x32_twins_allowed = safety_context{}.enable(sys::getppid).enable(sys::read).enable(sys::write);

constexpr bool x32_and_strange_numbers_denied() {
  const auto& p = compile(x32_twins_allowed);
  for (long nr : {long{SYS_read}, long{SYS_write}, long{SYS_getpid}, long{SYS_getppid}})
    if (!(evaluate(p, x86_64_call(nr)) == action::allow)) return false;
  for (long nr : x32_numbers)
    if (!(evaluate(p, x86_64_call(nr)) == eperm)) return false;
  for (long nr : strange_numbers)
    if (!(evaluate(p, x86_64_call(nr)) == eperm)) return false;
  for (long nr : newer_numbers)
    if (!(evaluate(p, x86_64_call(nr)) == action::error(ENOSYS))) return false;
  return true;
}
static_assert(x32_and_strange_numbers_denied());

constexpr bool x32_killed_when_the_default_allows() {
  const auto& p = compile(allow_but_getuid);
  for (long nr : x32_numbers)
    if (!(evaluate(p, x86_64_call(nr)) == action::kill_process)) return false;
  return evaluate(p, x86_64_call(x32_getuid)) == action::kill_process &&
         evaluate(p, x86_64_call(SYS_getuid)) == action::error(EACCES);
}
static_assert(x32_killed_when_the_default_allows());

// `call_number` calls syscall `nr` with (-1, 0, 0): harmless whatever it turns out to be.
outcome call_number(long nr) {
  return record([nr] { return ::syscall(nr, -1L, 0L, 0L); });
}

// ---------------------------------------------------------------------------------------------
// 3. 64-bit arguments

// The carriers: syscalls without arguments, so the kernel ignores what seccomp compares. Each
// carries one operator; allowed, it succeeds (ids are >= 0), denied it fails with EPERM.
constexpr std::array carriers{sys::id::getppid, sys::id::getpid,  sys::id::gettid,  sys::id::getuid,
                              sys::id::getgid,  sys::id::geteuid, sys::id::getegid, sys::id::getpgrp};
constexpr std::array<std::string_view, 8> operator_names{
    "==", "!=", "<", "<=", ">", ">=", "(& mask_a) ==", "(& mask_b) =="};

// Masks that mix both halves (64-bit) or split the low half (32-bit).
template <width W>
constexpr u64 mask_a = W == width::qword ? 0x00000001ffffffffULL : 0x8000ffffULL;
template <width W>
constexpr u64 mask_b = W == width::qword ? 0xffffffff0000ffffULL : 0x7fff0001ULL;

// `every_operator<V, A, W>` puts each operator, with value V, on argument A of its own carrier.
template <u64 V, unsigned A, width W>
struct every_operator : rule_set_base {
  static constexpr std::string_view name = "every_operator";
  static constexpr arg_t<A, W> x{};
  static constexpr std::array conditional_rules{
      rule{sys::getppid, x == V},
      rule{sys::getpid, x != V},
      rule{sys::gettid, x < V},
      rule{sys::getuid, x <= V},
      rule{sys::getgid, x > V},
      rule{sys::geteuid, x >= V},
      rule{sys::getegid, (x & mask_a<W>) == (V & mask_a<W>)},
      rule{sys::getpgrp, (x & mask_b<W>) == (V & mask_b<W>)},
  };
};
template <u64 V, unsigned A, width W>
using operator_policy = policy<can_exit, every_operator<V, A, W>>;  // bare: getpid, gettid are carriers

// `holds` is operator `op` of every_operator as plain C++ on the argument as the rule sees it.
template <width W>
constexpr bool holds(std::size_t op, u64 argument, u64 v) {
  const u64 x = W == width::qword ? argument : argument & 0xffffffffU;
  // clang-format off
  switch (op) {
    case 0: return x == v;
    case 1: return x != v;
    case 2: return x < v;
    case 3: return x <= v;
    case 4: return x > v;
    case 5: return x >= v;
    case 6: return (x & mask_a<W>) == (v & mask_a<W>);
    default: return (x & mask_b<W>) == (v & mask_b<W>);
  }
  // clang-format on
}

// `probes(v)` is v and its neighbours, each low half with upper halves it does not have.
constexpr std::size_t probe_count = 40;
constexpr std::array<u64, probe_count> probes(u64 v) {
  const auto hi = static_cast<std::uint32_t>(v >> 32);
  const auto lo = static_cast<std::uint32_t>(v);
  const std::array<std::uint32_t, 8> his{hi, hi + 1U, hi - 1U, 0U, 1U, 0x7fffffffU, 0x80000000U, 0xffffffffU};
  const std::array<std::uint32_t, 5> los{lo, lo + 1U, lo - 1U, 0U, 0xffffffffU};
  std::array<u64, probe_count> out{};
  std::size_t k = 0;
  for (auto h : his)
    for (auto l : los) out[k++] = (u64{h} << 32) | l;
  return out;
}

// The last two are INT64_MIN and UINT64_MAX, as the unsigned argument.
constexpr std::array<u64, 8> edge_values{
    0, 1, 0x7fffffff, 0x80000000, 0xffffffff, u64{1} << 32, u64{1} << 63, ~u64{0}};
constexpr std::array<u64, 5> edge_values_32{0, 1, 0x7fffffff, 0x80000000, 0xffffffff};

// The simulator's verdict for every probe on every carrier equals the plain C++ expression.
template <u64 V, unsigned A, width W>
constexpr bool simulated_operators_agree() {
  const auto& p = compile<operator_policy<V, A, W>>();
  for (u64 x : probes(V)) {
    std::array<u64, 6> args{};
    args[A] = x;
    for (std::size_t c = 0; c < carriers.size(); ++c) {
      const action want = holds<W>(c, x, V) ? action::allow : eperm;
      if (!(evaluate(p, call(carriers[c], args)) == want)) return false;
    }
  }
  return true;
}

// Totals over the whole sweep, so the test can show both verdicts were seen.
struct sweep_totals {
  std::size_t calls = 0, allowed = 0, denied = 0;
};

// `sweep_in_kernel` installs operator_policy<V, A, W> in a child, makes every probe call on every
// carrier, and compares each outcome with the 64-bit (or 32-bit) meaning.
template <u64 V, unsigned A, width W>
void sweep_in_kernel(sweep_totals& totals) {
  static_assert(simulated_operators_agree<V, A, W>());
  CHECK(simulated_operators_agree<V, A, W>());
  constexpr auto xs = probes(V);
  shared<std::array<std::array<outcome, carriers.size()>, probe_count>> r;
  const ending e = in_child([&] {
    operator_policy<V, A, W>{}.apply_to_current_thread();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      std::array<long, 6> a{};
      a[A] = static_cast<long>(xs[i]);
      for (std::size_t c = 0; c < carriers.size(); ++c) {
        const long nr = arch::x86_64::numbers[static_cast<std::size_t>(carriers[c])];
        (*r)[i][c] = record([&] { return ::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]); });
      }
    }
    return 0;
  });
  INFO("value " << hex(V) << " on argument " << A << " as "
                << std::string_view(W == width::qword ? "arg64<N>" : "arg32<N>"));
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  std::string wrong;
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    for (std::size_t c = 0; c < carriers.size(); ++c) {
      const outcome o = (*r)[i][c];
      const bool want = holds<W>(c, xs[i], V);
      const bool ok = want ? (o.ret >= 0 && o.err == 0) : (o.ret == -1 && o.err == EPERM);
      ++totals.calls;
      (want ? totals.allowed : totals.denied) += 1;
      if (ok) continue;
      if (++mismatches <= 8) {
        char line[160];
        std::snprintf(line, sizeof line, "  arg %s 0x%llx with arg = 0x%llx: want %s, got ret %ld errno %d\n",
                      std::string(operator_names[c]).c_str(), static_cast<unsigned long long>(V),
                      static_cast<unsigned long long>(xs[i]), want ? "allowed" : "EPERM", o.ret, o.err);
        wrong += line;
      }
    }
  }
  CHECK_MESSAGE(mismatches == 0, mismatches << " calls disagree with the condition's meaning:\n" << wrong);
}

template <unsigned A, width W, std::size_t N, const std::array<u64, N>& Values, std::size_t... I>
void sweep_values(sweep_totals& totals, std::index_sequence<I...>) {
  (sweep_in_kernel<Values[I], A, W>(totals), ...);
}

// ---------------------------------------------------------------------------------------------
// 7. children

// `raw_syscall0` makes a syscall without glibc (no errno, no TLS): for a clone()d thread that
// shares this thread's TLS. Returns -errno on failure.
long raw_syscall0(long nr) {
  long ret = nr;
  __asm__ __volatile__("syscall" : "+a"(ret) : : "rcx", "r11", "memory");
  return ret;
}

struct clone_thread_result {
  std::atomic<int> done{0};
  long getuid = 0;
  long tid = 0;
};
int clone_thread_main(void* arg) {
  auto* r = static_cast<clone_thread_result*>(arg);
  r->getuid = raw_syscall0(SYS_getuid);
  r->tid = raw_syscall0(SYS_gettid);
  r->done.store(1);
  return 0;  // glibc's clone() then calls exit(0) itself
}
alignas(16) char clone_stack[64 * 1024];

// The start of struct clone_args (CLONE_ARGS_SIZE_VER0), spelled here to keep <linux/sched.h>
// and glibc's <sched.h> apart.
struct clone3_args {
  u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// ---------------------------------------------------------------------------------------------
// 8. built-ins

// Kernel attack surface no built-in is about: the five the suite names first, then more.
constexpr auto dangerous_syscalls = syscalls(
    sys::io_uring_setup, sys::ptrace, sys::process_vm_writev, sys::bpf, sys::userfaultfd, sys::io_uring_enter,
    sys::io_uring_register, sys::process_vm_readv, sys::kexec_load, sys::kexec_file_load, sys::init_module,
    sys::finit_module, sys::delete_module, sys::perf_event_open, sys::keyctl, sys::add_key, sys::request_key,
    sys::mount, sys::umount2, sys::pivot_root, sys::unshare, sys::setns, sys::pidfd_getfd,
    sys::open_by_handle_at, sys::personality, sys::iopl, sys::ioperm, sys::fanotify_init, sys::swapon,
    sys::reboot, sys::chroot, sys::setuid, sys::capset, sys::fsopen, sys::open_tree, sys::move_mount,
    sys::seccomp, sys::prctl);

// clone's namespace flags: no built-in lets clone create a namespace.
constexpr std::array<u64, 7> namespace_flags{CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};
// The flags glibc's pthread_create and fork pass.
constexpr u64 thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |
                             CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
constexpr u64 fork_flags = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;

// Arguments the dangerous syscalls are tried with: none, and everything set.
constexpr std::array<std::array<u64, 6>, 3> dangerous_args{{
    {0, 0, 0, 0, 0, 0},
    {1, 0x00007ffc12345678, 2, 3, 4, 5},
    {~u64{0}, ~u64{0}, ~u64{0}, ~u64{0}, ~u64{0}, ~u64{0}},
}};

// `denies_dangerous(p)`: every dangerous syscall gets EPERM whatever its arguments, the action
// cache never proves it allowed, its x32 twin is denied and its i386 twin kills.
constexpr bool denies_dangerous(std::span<const bpf::insn> p) {
  for (auto s : dangerous_syscalls) {
    const auto i = static_cast<std::size_t>(s);
    const std::int32_t nr = arch::x86_64::numbers[i];
    if (const_allow(p, AUDIT_ARCH_X86_64, static_cast<std::uint32_t>(nr)).allowed) return false;
    for (const auto& args : dangerous_args)
      if (!(evaluate(p, call<arch::x86_64>(s, args)) == eperm)) return false;
    if (!(evaluate(p, seccomp_data_of(AUDIT_ARCH_X86_64, nr | 0x40000000)) == eperm)) return false;
    if (const std::int32_t nr32 = arch::x86::numbers[i]; nr32 >= 0)
      if (!(evaluate(p, seccomp_data_of(AUDIT_ARCH_I386, nr32)) == action::kill_process)) return false;
  }
  // No namespace through clone, whatever else the flags say; clone3 (flags out of sight) never
  // runs; no keystrokes into a terminal through ioctl, whatever the upper half.
  for (const u64 base : {u64{0}, u64{SIGCHLD}, fork_flags, thread_flags})
    for (const u64 ns : namespace_flags)
      if (!(evaluate(p, call<arch::x86_64>(sys::clone, {base | ns, 0, 0, 0, 0, 0})) == eperm)) return false;
  for (const auto& args : dangerous_args)
    if (evaluate(p, call<arch::x86_64>(sys::clone3, args)).result.lets_syscall_run()) return false;
  for (const u64 request : {u64{TIOCSTI}, u64{TIOCLINUX}, (u64{1} << 32) | TIOCSTI, ~u64{0xffffffff} | TIOCLINUX})
    for (const u64 fd : {u64{0}, u64{1}, u64{2}, u64{255}})
      if (!(evaluate(p, call<arch::x86_64>(sys::ioctl, {fd, request, 0, 0, 0, 0})) == eperm)) return false;
  return true;
}
// `bare_denies<Set>` checks the rule set compiled alone (no basic_capabilities); one constant
// per set, as clang 14 limits the constexpr steps of each constant evaluation.
template <class Set>
constexpr bool bare_denies = denies_dangerous(compile<policy<Set>, arch::x86_64>());
template <class... Sets>
constexpr bool each_denies(const Sets&...) {
  return (bare_denies<Sets> && ...);
}

constexpr auto io = b::system_io::nothing();
constexpr auto net = b::networking::nothing();
// Every networking method at once (they differ only in flags; conditions are on socket only).
constexpr auto net_all = [] {
  const auto tcp = net.allow_start_tcp_servers().yes_really();
  const auto udp = tcp.allow_start_udp_servers().yes_really();
  const auto unix_ = udp.allow_start_unix_servers().yes_really();
  return unix_.allow_connect().yes_really();
}();
constexpr auto threads_all = b::threads::nothing().allow_create().allow_sleep().yes_really();
constexpr auto gettime = b::time::nothing().allow_gettime();

// Every built-in that combines with the others: system_io::everything() (which allows write and
// read unconditionally, so no stdout/stdin conditions), ioctl, all networking, threads, fork and
// exec, time, pipes.
constexpr auto all_builtins = safety_context{}
                                  .enable(b::system_io::everything())
                                  .enable(io.allow_ioctl())
                                  .enable(net_all)
                                  .enable(threads_all)
                                  .enable(b::fork_and_exec{})
                                  .enable(gettime)
                                  .enable(b::pipes{});

constexpr bool builtins_deny_dangerous() {
  return each_denies(
             b::basic_capabilities{}, b::system_io::everything(), io.allow_read(), io.allow_write(),
             io.allow_unlink(), io.allow_open().yes_really(), io.allow_open_readonly(), io.allow_metadata(),
             io.allow_ioctl(), io.allow_close(), io.allow_stdin().allow_stdout().allow_stderr(),
             io.allow_file_read(3).allow_file_write(4), io.allow_read_path("/"), io.allow_ssl_files()) &&
         each_denies(net.allow_running_tcp_servers(), net.allow_start_tcp_servers().yes_really(),
                     net.allow_running_udp_sockets(), net.allow_start_udp_servers().yes_really(),
                     net.allow_connect().yes_really(), net.allow_start_tcp_clients(),
                     net.allow_running_tcp_clients(), net.allow_start_unix_servers().yes_really(),
                     net.allow_running_unix_servers(), net.allow_running_unix_clients(), net_all) &&
         each_denies(threads_all, b::fork_and_exec{}, gettime, b::pipes{});
}
static_assert(builtins_deny_dangerous());
constexpr bool all_builtins_deny_dangerous() { return denies_dangerous(compile(all_builtins)); }
static_assert(all_builtins_deny_dangerous());

// `try_dangerous` calls each of the five with arguments that would fail harmlessly if it ran.
std::array<outcome, 5> try_dangerous() {
  return {
      record([] { return ::syscall(SYS_io_uring_setup, 0, nullptr); }),  // EINVAL if run
      record([] { return ::syscall(SYS_ptrace, -1L, 0, 0, 0); }),        // EIO/ESRCH if run
      record([] { return ::syscall(SYS_process_vm_writev, ::getpid(), nullptr, 0, nullptr, 0, 0); }),  // 0
      record([] { return ::syscall(SYS_bpf, -1, nullptr, 0); }),  // EINVAL if run
      record([] { return ::syscall(SYS_userfaultfd, ~0); }),      // EINVAL if run
  };
}
constexpr std::array<std::string_view, 5> dangerous_names{"io_uring_setup", "ptrace", "process_vm_writev",
                                                          "bpf", "userfaultfd"};

}  // namespace

// =============================================================================================
// 1. i386 through int $0x80

TEST_CASE("control: int $0x80 reaches the i386 table here, and gets past an arch-blind filter") {
  struct result {
    long pid = 0, int80_getpid = 0, uid = -1, int80_getuid = -2;
    long blind_installed = -1, int80_mkdir = 0;
    outcome x86_64_getuid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->pid = ::getpid();
    r->int80_getpid = int80(20);  // i386 getpid
    r->uid = static_cast<long>(::getuid());
    r->int80_getuid = int80(24);  // i386 getuid
    r->blind_installed = install_raw(arch_blind);
    r->int80_mkdir = int80(39);  // i386 mkdir(NULL, 0), seen as x86_64 getpid by the blind filter
    r->x86_64_getuid = record([] { return ::syscall(SYS_getuid); });
    return 0;
  });
  REQUIRE_MESSAGE(e.exited,
                  "int $0x80 killed the process (signal "
                      << e.signal
                      << "): this kernel has no IA32 emulation (ia32_emulation=0 or "
                         "CONFIG_IA32_EMULATION off), so the i386 bypass tests cannot show anything");
  REQUIRE_MESSAGE(r->int80_getpid == r->pid,
                  "int $0x80 getpid returned "
                      << r->int80_getpid << ", not the pid " << r->pid
                      << ": i386 syscalls do not work here, the i386 tests would be vacuous");
  CHECK(r->int80_getuid == r->uid);
  REQUIRE(r->blind_installed == 0);
  CHECK(r->x86_64_getuid.err == EPERM);  // the blind filter is in force for x86_64
  CHECK(r->int80_mkdir == -EFAULT);      // ... yet i386 mkdir ran: the bypass is real on this kernel
}

TEST_CASE("i386 syscalls whose numbers are allowed x86_64 syscalls kill the process") {
  CHECK(i386_twins_killed());
  for (const auto& t : i386_twins) {
    struct result {
      bool installed = false;
      bool returned = false;
      long ret = 0;
    };
    shared<result> r;
    const ending e = in_child([&] {
      r->installed = static_cast<bool>(twins_allowed.try_apply_to_current_thread());
      r->ret = int80(t.nr);
      r->returned = true;
      return 0;
    });
    INFO("i386 " << sys::name(t.i386_meaning) << " (" << t.nr << "), x86_64 " << sys::name(t.x86_64_twin)
                 << " allowed; int $0x80 returned " << r->ret);
    CHECK(r->installed);
    CHECK_FALSE(r->returned);
    CHECK_FALSE(e.exited);
    CHECK(e.signal == SIGSYS);
  }
}

TEST_CASE("an i386 syscall kills the process even when the default lets calls run") {
  shared<bool> returned;
  const ending e = in_child([&] {
    allow_but_getuid.apply_to_current_thread();
    int80(20);  // i386 getpid
    *returned = true;
    return 0;
  });
  CHECK_FALSE(*returned);
  CHECK(e.signal == SIGSYS);
}

// A program that serves i386 too (issue 13: multi-arch) judges int $0x80 calls by the rules,
// with i386's numbers: the twins above mean what i386 says, not what x86_64 does.
TEST_CASE("a program serving x86_64 and i386 judges int $0x80 calls by the rules, in i386's numbers") {
  constexpr auto p = safety_context{}.enable(sys::getuid);
  struct result {
    long pid = 0, uid = -1;
    bool installed = false;
    long getpid = 0, getuid = 0, mkdir = 0, open = 0, execve = 0;  // through int $0x80
    outcome x86_64_getpid, x86_64_mkdir;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->pid = ::getpid();
    r->uid = static_cast<long>(::getuid());
    r->installed = static_cast<bool>(p.try_apply_to_current_thread<arch::x86_64, arch::x86>());
    r->getpid = int80(20);  // i386 getpid: basic_capabilities
    r->getuid = int80(24);  // i386 getuid: enabled
    r->mkdir = int80(39);   // i386 mkdir(NULL): x86_64's 39 (getpid) is allowed, i386's is not
    r->open = int80(5);     // i386 open(NULL): x86_64's 5 (fstat) is allowed, i386's is not
    r->execve = int80(11);  // i386 execve(NULL): x86_64's 11 (munmap) is allowed, i386's is not
    r->x86_64_getpid = record([] { return ::syscall(SYS_getpid); });
    r->x86_64_mkdir = record([] { return ::syscall(SYS_mkdir, "/nonexistent/sysfence", 0700); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->installed);
  CHECK(r->getpid == r->pid);
  CHECK(r->getuid == r->uid);
  CHECK(r->mkdir == -EPERM);
  CHECK(r->open == -EPERM);
  CHECK(r->execve == -EPERM);
  CHECK(r->x86_64_getpid.ret == r->pid);
  CHECK(r->x86_64_mkdir.err == EPERM);
}

TEST_CASE("the legacy vsyscall page goes through the filter too") {
  if (!has_vsyscall_page()) {
    MESSAGE("skipped: this kernel maps no vsyscall page (vsyscall=none)");
    return;
  }
  shared<std::array<long, 3>> r;
  const ending denied = in_child([&] {
    (*r)[0] = vsyscall_time();
    safety_context{}.apply_to_current_thread();
    (*r)[1] = vsyscall_time();
    return 0;
  });
  const ending allowed = in_child([&] {
    safety_context{}.enable(sys::time).apply_to_current_thread();
    (*r)[2] = vsyscall_time();
    return 0;
  });
  REQUIRE(denied.exited);
  REQUIRE(allowed.exited);
  CHECK((*r)[0] > 0);        // unfiltered: the time
  CHECK((*r)[1] == -EPERM);  // filtered: the emulation returns the filter's answer
  CHECK((*r)[2] > 0);        // allowed by the policy: the time again
}

// =============================================================================================
// 2. x32 and out-of-range numbers

TEST_CASE("control: unfiltered, x32 and out-of-range numbers are not EPERM") {
  shared<std::array<outcome, x32_numbers.size() + strange_numbers.size() + 1>> r;
  const ending e = in_child([&] {
    std::size_t k = 0;
    for (long nr : x32_numbers) (*r)[k++] = call_number(nr);
    for (long nr : strange_numbers) (*r)[k++] = call_number(nr);
    (*r)[k++] = call_number(past_table);
    return 0;
  });
  REQUIRE(e.exited);
  std::size_t k = 0;
  for (long nr : x32_numbers) {
    INFO("x32 number " << hex(nr) << ": ret " << (*r)[k].ret << " errno " << (*r)[k].err);
    CHECK((*r)[k++].err != EPERM);
  }
  for (long nr : strange_numbers) {
    INFO("number " << nr << ": ret " << (*r)[k].ret << " errno " << (*r)[k].err);
    CHECK((*r)[k++].err != EPERM);
  }
  // The first number past sysfence's tables is a syscall this kernel has (cachestat on 6.18):
  // ENOSYS under a filter comes from the filter.
  INFO("number " << past_table << ": ret " << (*r)[k].ret << " errno " << (*r)[k].err);
  CHECK((*r)[k].err != ENOSYS);
}

TEST_CASE("x32 twins of allowed syscalls and out-of-range numbers get EPERM, newer syscalls ENOSYS") {
  CHECK(x32_and_strange_numbers_denied());
  struct result {
    std::array<outcome, 4> plain;
    std::array<outcome, x32_numbers.size()> x32;
    std::array<outcome, strange_numbers.size()> strange;
    std::array<outcome, newer_numbers.size()> newer;
    outcome high_getpid, high_getuid;
    long pid = 0;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->pid = ::getpid();
    x32_twins_allowed.apply_to_current_thread();
    r->plain[0] = call_number(SYS_read);  // read(-1, NULL, 0): EBADF, so it ran
    r->plain[1] = call_number(SYS_write);
    r->plain[2] = record([] { return ::syscall(SYS_getpid); });
    r->plain[3] = record([] { return ::syscall(SYS_getppid); });
    for (std::size_t i = 0; i < x32_numbers.size(); ++i) r->x32[i] = call_number(x32_numbers[i]);
    for (std::size_t i = 0; i < strange_numbers.size(); ++i) r->strange[i] = call_number(strange_numbers[i]);
    for (std::size_t i = 0; i < newer_numbers.size(); ++i) r->newer[i] = call_number(newer_numbers[i]);
    // Bits above 32 in rax: the kernel takes the number as an int, and so does seccomp, so the
    // call that runs is the call the filter judged.
    r->high_getpid = record([] { return ::syscall((1L << 32) | SYS_getpid); });
    r->high_getuid = record([] { return ::syscall((1L << 32) | SYS_getuid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->plain[0].err == EBADF);
  CHECK(r->plain[1].err == EBADF);
  CHECK(r->plain[2].ret == r->pid);
  CHECK(r->plain[3].ret > 0);
  for (std::size_t i = 0; i < x32_numbers.size(); ++i) {
    INFO("x32 number " << hex(x32_numbers[i]));
    CHECK(r->x32[i].ret == -1);
    CHECK(r->x32[i].err == EPERM);
  }
  for (std::size_t i = 0; i < strange_numbers.size(); ++i) {
    INFO("number " << strange_numbers[i]);
    CHECK(r->strange[i].ret == -1);
    CHECK(r->strange[i].err == EPERM);
  }
  for (std::size_t i = 0; i < newer_numbers.size(); ++i) {
    INFO("number " << newer_numbers[i]);
    CHECK(r->newer[i].ret == -1);
    CHECK(r->newer[i].err == ENOSYS);
  }
  CHECK(r->high_getpid.ret == r->pid);
  CHECK(r->high_getuid.err == EPERM);
}

// A program serving x32 too (issue 13) judges x32's numbers by the rules, in x32's table. This
// kernel may run x32 calls or not (CONFIG_X86_X32_ABI, syscall.x32=): the filter runs first
// either way, so an allowed call ends in the kernel (its result, or ENOSYS without x32) and a
// refused one with the filter's EPERM.
TEST_CASE("a program serving x86_64 and x32 judges x32 calls by the rules, in x32's numbers") {
  struct result {
    bool installed = false;
    outcome getppid, write, rt_sigaction_own, rt_sigaction_x86_64, ioctl_own, mkdir, x86_64_getppid, x86_64_mkdir;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->installed = static_cast<bool>(x32_twins_allowed.try_apply_to_current_thread<arch::x86_64, arch::x32>());
    r->getppid = record([] { return ::syscall(x32_getppid); });              // allowed
    r->write = call_number(x32_write);                                        // allowed: write(-1)
    r->rt_sigaction_own = call_number(x32_rt_sigaction);                      // x32's 512: allowed
    r->rt_sigaction_x86_64 = call_number(x32_bit | 13);                       // 13 is not x32's
    r->ioctl_own = call_number(x32_bit | 514);                                // not allowed
    r->mkdir = record([] { return ::syscall(x32_bit | 83, "/nonexistent/sysfence", 0700); });  // not allowed
    r->x86_64_getppid = record([] { return ::syscall(SYS_getppid); });
    r->x86_64_mkdir = record([] { return ::syscall(SYS_mkdir, "/nonexistent/sysfence", 0700); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->installed);
  auto ran = [](const outcome& o) { return o.ret >= 0 || o.err != EPERM; };  // the kernel's answer
  INFO("x32 getppid: " << r->getppid.ret << " errno " << r->getppid.err);
  CHECK(ran(r->getppid));
  CHECK(ran(r->write));
  CHECK(ran(r->rt_sigaction_own));
  CHECK(r->rt_sigaction_x86_64.err == EPERM);
  CHECK(r->ioctl_own.err == EPERM);
  CHECK(r->mkdir.err == EPERM);
  CHECK(r->x86_64_getppid.ret > 0);
  CHECK(r->x86_64_mkdir.err == EPERM);
}

TEST_CASE("x32 numbers kill the process when the default lets calls run") {
  CHECK(x32_killed_when_the_default_allows());
  // Every number from bit 30 up is refused this way; -1 and bit 31 are among them.
  std::vector<long> numbers(x32_numbers.begin(), x32_numbers.end());
  numbers.insert(numbers.end(), {x32_getuid, -1L, 0x7fffffffL, 0x80000000L});
  for (long nr : numbers) {
    struct result {
      outcome getuid, getppid, call;
      bool returned = false;
    };
    shared<result> r;
    const ending e = in_child([&] {
      allow_but_getuid.apply_to_current_thread();
      r->getuid = record([] { return ::syscall(SYS_getuid); });
      r->getppid = record([] { return ::syscall(SYS_getppid); });
      r->call = call_number(nr);
      r->returned = true;
      return 0;
    });
    INFO("number " << hex(nr) << " returned " << r->call.ret << " errno " << r->call.err);
    CHECK(r->getuid.err == EACCES);  // the policy is in force
    CHECK(r->getppid.ret > 0);       // and lets other calls run
    CHECK_FALSE(r->returned);
    CHECK(e.signal == SIGSYS);
  }
  // So does a logging default (log also lets calls run).
  shared<bool> returned;
  const ending e = in_child([&] {
    safety_context{}.with_default<action::log>().apply_to_current_thread();
    call_number(x32_getpid);
    *returned = true;
    return 0;
  });
  CHECK_FALSE(*returned);
  CHECK(e.signal == SIGSYS);
}

TEST_CASE("newer syscalls: with_newer_syscalls chooses their answer; a kill default still gives ENOSYS") {
  struct result {
    outcome eperm, newer_under_kill, known_under_kill_ran;
  };
  shared<result> r;
  const ending e = in_child([&] {
    x32_twins_allowed.with_newer_syscalls<action::error(EXDEV)>().apply_to_current_thread();
    r->eperm = call_number(past_table);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->eperm.err == EXDEV);
  // A process killed for every unknown syscall would die on glibc's probes: ENOSYS instead.
  const ending killed = in_child([&] {
    x32_twins_allowed.with_default<action::kill_process>().apply_to_current_thread();
    r->newer_under_kill = call_number(past_table);
    r->known_under_kill_ran = call_number(SYS_read);
    ::syscall(SYS_getuid);  // known, refused: the default kills
    return 0;
  });
  CHECK(r->newer_under_kill.err == ENOSYS);
  CHECK(r->known_under_kill_ran.err == EBADF);
  CHECK(killed.signal == SIGSYS);
}

TEST_CASE("below bit 30, numbers no syscall has reach the kernel when the default allows: ENOSYS") {
  shared<std::array<outcome, 2>> r;
  const ending e = in_child([&] {
    allow_but_getuid.apply_to_current_thread();
    (*r)[0] = call_number(1000);
    (*r)[1] = call_number(0x3fffffff);
    return 0;
  });
  REQUIRE(e.exited);
  CHECK((*r)[0].err == ENOSYS);
  CHECK((*r)[1].err == ENOSYS);
  // A syscall newer than the tables runs: cachestat(-1, ...) fails with EBADF, not ENOSYS.
  shared<outcome> newer;
  const ending ran = in_child([&] {
    allow_but_getuid.apply_to_current_thread();
    *newer = call_number(past_table);
    return 0;
  });
  REQUIRE(ran.exited);
  CHECK(newer->err != ENOSYS);
}

// =============================================================================================
// 3. 64-bit arguments

TEST_CASE("every operator on 64-bit arguments: the kernel's verdict is the 64-bit meaning") {
  sweep_totals totals;
  // Arguments 0 (rdi), 3 (r10, not rcx as in function calls) and 5 (r9).
  sweep_values<0, width::qword, edge_values.size(), edge_values>(
      totals, std::make_index_sequence<edge_values.size()>{});
  sweep_values<3, width::qword, edge_values.size(), edge_values>(
      totals, std::make_index_sequence<edge_values.size()>{});
  sweep_values<5, width::qword, edge_values.size(), edge_values>(
      totals, std::make_index_sequence<edge_values.size()>{});
  MESSAGE(totals.calls << " calls compared: " << totals.allowed << " allowed, " << totals.denied
                       << " denied");
  CHECK(totals.calls == 3 * edge_values.size() * probe_count * carriers.size());
  CHECK(totals.allowed > 0);
  CHECK(totals.denied > 0);
}

TEST_CASE("every operator on arg32: the upper half is ignored, the low half compared") {
  sweep_totals totals;
  sweep_values<1, width::dword, edge_values_32.size(), edge_values_32>(
      totals, std::make_index_sequence<edge_values_32.size()>{});
  CHECK(totals.allowed > 0);
  CHECK(totals.denied > 0);
}

// arg<N> compares the parameter as the kernel reads it: socket's domain is an `int`, write's fd
// an `unsigned int`, so garbage in the upper half neither escapes a refusing rule nor is refused
// by an allowing one (libseccomp issue 383: musl leaves upper halves unset).
struct packet_sockets_refused : rule_set_base {
  static constexpr std::string_view name = "packet_sockets_refused";
  static constexpr std::array conditional_rules{
      rule{sys::socket, arg<0> == AF_PACKET}.then(action::error(EXDEV))};  // EXDEV: not the kernel's
};
constexpr auto allow_but_packet_sockets = policy<packet_sockets_refused>{}.with_default<action::allow>();
static_assert(allow_but_packet_sockets.rules[0].r.conditions[0].size == width::dword);

struct stdout_only : rule_set_base {
  static constexpr std::string_view name = "stdout_only";
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1}};
};
constexpr auto write_stdout_only = policy<can_exit, stdout_only>{};
static_assert(write_stdout_only.rules[2].r.conditions[0].size == width::dword);

TEST_CASE("a refusing arg<0> == AF_PACKET rule also refuses socket((1 << 32) | AF_PACKET)") {
  shared<std::array<outcome, 3>> r;
  const ending e = in_child([&] {
    allow_but_packet_sockets.apply_to_current_thread();
    const u64 high = u64{1} << 32;
    (*r)[0] = record([&] { return ::syscall(SYS_socket, high | AF_PACKET, SOCK_RAW, 0); });
    (*r)[1] = record([&] { return ::syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0); });
    // The kernel reads AF_UNIX: the default lets it run.
    (*r)[2] = record([&] { return ::syscall(SYS_socket, high | AF_UNIX, SOCK_STREAM, 0); });
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  CHECK((*r)[0].err == EXDEV);  // with a 64-bit comparison, the kernel would have made the socket
  CHECK((*r)[1].err == EXDEV);
  CHECK((*r)[2].ret >= 0);
}

TEST_CASE("an allowing arg<0> == 1 rule on write allows write((1 << 32) | 1): the kernel writes to fd 1") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  shared<std::array<outcome, 3>> r;
  const ending e = in_child([&] {
    if (::dup2(fds[1], 1) != 1) return 11;
    write_stdout_only.apply_to_current_thread();
    const char c = 'x';
    (*r)[0] = record([&] { return ::syscall(SYS_write, (u64{1} << 32) | 1U, &c, 1); });
    (*r)[1] = record([&] { return ::syscall(SYS_write, 1, &c, 1); });
    (*r)[2] = record([&] { return ::syscall(SYS_write, (u64{1} << 32) | 2U, &c, 1); });  // fd 2: refused
    return 0;
  });
  ::close(fds[1]);
  char got[8] = {};
  const ssize_t n = ::read(fds[0], got, sizeof got);
  ::close(fds[0]);
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  CHECK((*r)[0].ret == 1);  // with a 64-bit comparison, EPERM
  CHECK((*r)[1].ret == 1);
  CHECK((*r)[2].err == EPERM);
  CHECK(std::string_view(got, n > 0 ? static_cast<std::size_t>(n) : 0) == "xx");
}

// =============================================================================================
// 4. apply_to_all_threads with 64 running threads

TEST_CASE("apply_to_all_threads filters 64 threads that already run") {
  constexpr std::size_t n = 64;
  struct result {
    std::array<outcome, n> calls;
    std::array<long, n> tids{};
    outcome main_call;
    long main_tid = 0;
    apply_status status;
  };
  shared<result> r;
  const ending e = in_child([&] {
    std::atomic<std::size_t> started{0};
    std::barrier go(n + 1), done(n + 1);
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        started.fetch_add(1);
        go.arrive_and_wait();  // the filter is installed while every thread waits here
        r->calls[i] = record([] { return ::syscall(SYS_getuid); });
        r->tids[i] = ::syscall(SYS_gettid);
        done.arrive_and_wait();
      });
    while (started.load() != n) std::this_thread::yield();
    r->status = safety_context{}.try_apply_to_all_threads();
    r->main_call = record([] { return ::syscall(SYS_getuid); });
    r->main_tid = ::syscall(SYS_gettid);
    go.arrive_and_wait();
    done.arrive_and_wait();
    for (auto& t : threads) t.join();  // futex, exit, munmap: basic_capabilities
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  REQUIRE_MESSAGE(static_cast<bool>(r->status), r->status.what());
  CHECK(r->main_call.err == EPERM);
  std::size_t denied = 0;
  std::set<long> tids;
  for (std::size_t i = 0; i < n; ++i) {
    denied += r->calls[i].ret == -1 && r->calls[i].err == EPERM;
    if (r->tids[i] > 0 && r->tids[i] != r->main_tid) tids.insert(r->tids[i]);
  }
  CHECK(denied == n);
  CHECK(tids.size() == n);  // 64 distinct threads, none of them the main one
}

// =============================================================================================
// 5. stacking and self-modification

TEST_CASE("a second filter tightens: what it denies is denied, with the newest filter's errno") {
  struct result {
    outcome before, getuid, getgid, getegid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    // The first filter must let the second be installed: prctl(NO_NEW_PRIVS) and seccomp().
    (safety_context{}.enable(sys::getuid).enable(sys::getgid).enable(may_stack{}))
        .with_errno<EACCES>()
        .apply_to_current_thread();
    r->before = record([] { return ::syscall(SYS_getuid); });
    (safety_context{}.enable(sys::getgid)).with_errno<EXDEV>().apply_to_current_thread();
    r->getuid = record([] { return ::syscall(SYS_getuid); });    // the second denies
    r->getgid = record([] { return ::syscall(SYS_getgid); });    // both allow
    r->getegid = record([] { return ::syscall(SYS_getegid); });  // both deny: the newest's errno
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->before.ret >= 0);
  CHECK(r->getuid.err == EXDEV);
  CHECK(r->getgid.ret >= 0);
  CHECK(r->getegid.err == EXDEV);
}

TEST_CASE("a second filter cannot loosen: what the first denies stays denied") {
  struct result {
    outcome getuid, getppid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    safety_context{}.enable(may_stack{}).with_errno<EACCES>().apply_to_current_thread();
    (safety_context{}.enable(sys::getuid).enable(sys::getppid)).apply_to_current_thread();
    r->getuid = record([] { return ::syscall(SYS_getuid); });
    r->getppid = record([] { return ::syscall(SYS_getppid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->getuid.err == EACCES);  // the first filter's answer
  CHECK(r->getppid.err == EACCES);
}

TEST_CASE("prctl and seccomp cannot touch the filter unless the policy allows them") {
  struct result {
    outcome prctl_filter, prctl_strict, seccomp_filter, seccomp_strict, clear_nnp, get_nnp, getuid;
    apply_status second;
  };
  shared<result> r;
  const ending e = in_child([&] {
    safety_context{}.apply_to_current_thread();
    const sock_fprog loose{1, const_cast<sock_filter*>(allow_all.data())};
    r->prctl_filter =
        record([&] { return ::syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &loose, 0, 0); });
    r->prctl_strict =
        record([] { return ::syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0); });
    r->seccomp_filter = record([&] { return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &loose); });
    r->seccomp_strict = record([] { return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr); });
    r->clear_nnp = record([] { return ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0); });
    r->get_nnp = record([] { return ::syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); });
    r->second = (safety_context{}.enable(sys::getuid)).try_apply_to_current_thread();  // sysfence itself
    r->getuid = record([] { return ::syscall(SYS_getuid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK_FALSE(static_cast<bool>(r->second));  // its first syscall is seccomp() or prctl(): denied
  CHECK(r->second.failed == apply_step::install_filter);  // not "the kernel lacks an action"
  CHECK(r->second.error == EPERM);
  CHECK(r->prctl_filter.err == EPERM);
  CHECK(r->prctl_strict.err == EPERM);
  CHECK(r->seccomp_filter.err == EPERM);
  CHECK(r->seccomp_strict.err == EPERM);
  CHECK(r->clear_nnp.err == EPERM);
  CHECK(r->get_nnp.err == EPERM);
  CHECK(r->getuid.err == EPERM);
}

TEST_CASE("allowed prctl and seccomp: an allow-all filter on top loosens nothing, NNP stays set") {
  struct result {
    outcome prctl_filter, seccomp_filter, prctl_strict, clear_nnp, get_nnp, getuid, getppid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    (safety_context{}.enable(sys::prctl).enable(sys::seccomp).enable(sys::getppid)).apply_to_current_thread();
    const sock_fprog loose{1, const_cast<sock_filter*>(allow_all.data())};
    r->prctl_filter =
        record([&] { return ::syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &loose, 0, 0); });
    r->seccomp_filter = record([&] { return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &loose); });
    r->prctl_strict =
        record([] { return ::syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0); });
    r->clear_nnp = record([] { return ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0); });
    r->get_nnp = record([] { return ::syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); });
    r->getuid = record([] { return ::syscall(SYS_getuid); });
    r->getppid = record([] { return ::syscall(SYS_getppid); });
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  CHECK(r->prctl_filter.ret == 0);       // installed on top ...
  CHECK(r->seccomp_filter.ret == 0);     // ... twice
  CHECK(r->prctl_strict.err == EINVAL);  // filter mode cannot become strict mode
  CHECK(r->clear_nnp.err == EINVAL);     // PR_SET_NO_NEW_PRIVS takes only 1
  CHECK(r->get_nnp.ret == 1);
  CHECK(r->getuid.err == EPERM);  // ... and sysfence's filter still decides
  CHECK(r->getppid.ret > 0);
}

// =============================================================================================
// 6. execve of a setuid binary

namespace {

// `helper_path` is bypass_helper's path: from CMake, or next to this test program.
std::string helper_path() {
#ifdef SYSFENCE_BYPASS_HELPER
  return SYSFENCE_BYPASS_HELPER;
#else
  char buf[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string self(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  return self.substr(0, self.rfind('/') + 1) + "bypass_helper";
#endif
}

// `helper_report` is bypass_helper's line, parsed, and how the child that exec'ed it ended.
struct helper_report {
  bool parsed = false;
  long getppid = 0;
  int err = -1, euid = -1, ruid = -1, nnp = -1, seccomp = -1;
  ending end;
  std::string line;
};

// `run_helper` forks, runs `before` in the child (false: give up), then execs `path` with its
// stdout on a pipe and parses what it prints.
template <class Before>
helper_report run_helper(const std::string& path, Before before) {
  helper_report h;
  int p[2];
  if (::pipe(p) != 0) return h;
  h.end = in_child([&] {
    ::dup2(p[1], STDOUT_FILENO);
    ::close(p[0]);
    ::close(p[1]);
    if (!before()) return 40;
    std::string arg0 = path;
    char* argv[] = {arg0.data(), nullptr};
    ::execv(path.c_str(), argv);
    return 41;
  });
  ::close(p[1]);
  char buf[512] = {};
  std::size_t used = 0;
  for (ssize_t n; used < sizeof buf - 1 && (n = ::read(p[0], buf + used, sizeof buf - 1 - used)) > 0;)
    used += static_cast<std::size_t>(n);
  ::close(p[0]);
  h.line.assign(buf, used);
  h.parsed = std::sscanf(buf, "getppid=%ld errno=%d euid=%d ruid=%d nnp=%d seccomp=%d", &h.getppid, &h.err,
                         &h.euid, &h.ruid, &h.nnp, &h.seccomp) == 6;
  return h;
}

// `copy_file` copies `from` to a new file `to` (mode 0700).
bool copy_file(const std::string& from, const std::string& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  bool ok = out >= 0;
  char buf[65536];
  for (ssize_t n; ok && (n = ::read(in, buf, sizeof buf)) > 0;)
    ok = ::write(out, buf, static_cast<std::size_t>(n)) == n;
  ::close(in);
  if (out >= 0) ok = ::close(out) == 0 && ok;
  return ok;
}

constexpr uid_t nobody = 65534;

// `setuid_copy` is bypass_helper copied into a fresh directory, owned by nobody, setuid.
struct setuid_copy {
  std::string dir, file;
  bool made = false;
  explicit setuid_copy(const std::string& parent, const std::string& helper) {
    std::string tmpl = parent + "/sysfence-bypass-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    dir = tmpl;
    file = dir + "/bypass_helper";
    made = ::chmod(dir.c_str(), 0755) == 0 && copy_file(helper, file) &&
           ::chown(file.c_str(), nobody, nobody) == 0 &&
           ::chmod(file.c_str(), 04755) == 0;  // after chown, which clears the setuid bit
  }
  ~setuid_copy() {
    if (!file.empty()) ::unlink(file.c_str());
    if (!dir.empty()) ::rmdir(dir.c_str());
  }
  setuid_copy(const setuid_copy&) = delete;
  setuid_copy& operator=(const setuid_copy&) = delete;
};

constexpr auto allow_but_getppid = safety_context{}.enable(getppid_eacces{}).with_default<action::allow>();

}  // namespace

TEST_CASE("execve of a setuid binary: no privileges gained, the filter kept") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: making a setuid-nobody copy of bypass_helper needs root");
    return;
  }
  const std::string helper = helper_path();
  REQUIRE_MESSAGE(
      ::access(helper.c_str(), X_OK) == 0,
      "bypass_helper not found at " << helper << " (build tests/bypass_helper.cpp next to this program)");
  REQUIRE_MESSAGE(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0,
                  "this test runs with no_new_privs already set, so a setuid transition cannot be shown");
  // Find a directory where setuid works (not mounted nosuid): the control, without a filter,
  // must run as nobody.
  const std::string self_dir = helper.substr(0, helper.rfind('/'));
  bool found = false;
  for (const std::string& parent :
       {self_dir, std::string("/var/tmp"), std::string("/tmp"), std::string("/dev/shm")}) {
    setuid_copy copy(parent, helper);
    if (!copy.made) continue;
    const helper_report control = run_helper(copy.file, [] { return true; });
    if (!control.parsed || control.euid != static_cast<int>(nobody)) continue;
    found = true;
    INFO("setuid-nobody copy in " << copy.dir << "; unfiltered it printed: " << control.line);
    CHECK(control.err == 0);
    CHECK(control.nnp == 0);
    CHECK(control.seccomp == 0);

    const helper_report filtered = run_helper(
        copy.file, [] { return static_cast<bool>(allow_but_getppid.try_apply_to_current_thread()); });
    INFO("filtered it printed: " << filtered.line);
    REQUIRE(filtered.end.exited);
    REQUIRE(filtered.end.code == 0);
    REQUIRE(filtered.parsed);
    CHECK(filtered.euid == 0);  // not nobody: no_new_privs ignored the setuid bit
    CHECK(filtered.ruid == 0);
    CHECK(filtered.nnp == 1);
    CHECK(filtered.seccomp == 2);
    CHECK(filtered.getppid == -1);  // the filter survived the exec
    CHECK(filtered.err == EACCES);
    break;
  }
  CHECK_MESSAGE(found,
                "no directory among the test's, /var/tmp, /tmp, /dev/shm lets a setuid-nobody binary run as "
                "nobody (nosuid mounts?), so the no_new_privs check could not be made");
}

// =============================================================================================
// 7. children inherit the filter

// `process_creation` allows clone and clone3 whatever their flags (fork_and_exec gives clone3
// ENOSYS): the children of every kind of clone must inherit the filter.
struct process_creation : rule_set_base {
  static constexpr std::string_view name = "process_creation";
  static constexpr auto simple_rules = syscalls(sys::clone, sys::clone3, sys::wait4);
};

TEST_CASE("fork, clone and clone3 children and a clone()d thread inherit the filter") {
  struct result {
    outcome forked, cloned, cloned3, std_thread;
    std::array<int, 3> statuses{-1, -1, -1};
    clone_thread_result thread;
    long thread_clone = 0;
    long main_pid = 0;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->main_pid = ::getpid();
    safety_context{}.enable(process_creation{}).apply_to_current_thread();
    // fork() (glibc: clone with SIGCHLD)
    if (const pid_t pid = ::fork(); pid == 0) {
      r->forked = record([] { return ::syscall(SYS_getuid); });
      ::_exit(0);
    } else if (pid > 0) {
      ::waitpid(pid, &r->statuses[0], 0);
    }
    // raw clone(SIGCHLD): a new process returning 0 here, like fork
    if (const long pid = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); pid == 0) {
      r->cloned = record([] { return ::syscall(SYS_getuid); });
      ::syscall(SYS_exit_group, 0);
    } else if (pid > 0) {
      ::waitpid(static_cast<pid_t>(pid), &r->statuses[1], 0);
    }
    // raw clone3 with exit_signal SIGCHLD
    clone3_args args{};
    args.exit_signal = SIGCHLD;
    if (const long pid = ::syscall(SYS_clone3, &args, sizeof args); pid == 0) {
      r->cloned3 = record([] { return ::syscall(SYS_getuid); });
      ::syscall(SYS_exit_group, 0);
    } else if (pid > 0) {
      ::waitpid(static_cast<pid_t>(pid), &r->statuses[2], 0);
    }
    // clone() of a thread: same address space, same thread group
    r->thread_clone =
        ::clone(clone_thread_main, clone_stack + sizeof clone_stack,
                CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, &r->thread);
    if (r->thread_clone > 0)
      while (r->thread.done.load() == 0) std::this_thread::yield();
    // and a std::thread started after the filter
    std::thread t([&] { r->std_thread = record([] { return ::syscall(SYS_getuid); }); });
    t.join();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  for (int s : r->statuses) CHECK((WIFEXITED(s) && WEXITSTATUS(s) == 0));
  CHECK(r->forked.err == EPERM);
  CHECK(r->cloned.err == EPERM);
  CHECK(r->cloned3.err == EPERM);
  REQUIRE(r->thread_clone > 0);
  CHECK(r->thread.getuid == -EPERM);
  CHECK(r->thread.tid != r->main_pid);  // a thread of its own
  CHECK(r->std_thread.err == EPERM);
}

// =============================================================================================
// 8. built-ins and dangerous syscalls

TEST_CASE(
    "no built-in, compiled bare, allows io_uring, ptrace, process_vm_writev, bpf, userfaultfd and the like") {
  CHECK(builtins_deny_dangerous());
  CHECK(all_builtins_deny_dangerous());
}

TEST_CASE("with every built-in combined, the five dangerous syscalls get EPERM") {
  shared<std::array<outcome, 5>> r;
  const ending e = in_child([&] {
    all_builtins.apply_to_current_thread();
    *r = try_dangerous();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(e.code == 0);
  for (std::size_t i = 0; i < r->size(); ++i) {
    INFO(dangerous_names[i] << ": ret " << (*r)[i].ret << " errno " << (*r)[i].err);
    CHECK((*r)[i].err == EPERM);
  }
}

TEST_CASE("... and the filter is what refuses them: with errno EXDEV as the default, EXDEV") {
  // EPERM could also come from the kernel (io_uring_disabled, Yama); EXDEV only from the filter.
  shared<std::array<outcome, 5>> r;
  const ending e = in_child([&] {
    all_builtins.with_errno<EXDEV>().apply_to_current_thread();
    *r = try_dangerous();
    return 0;
  });
  REQUIRE(e.exited);
  for (std::size_t i = 0; i < r->size(); ++i) {
    INFO(dangerous_names[i] << ": ret " << (*r)[i].ret << " errno " << (*r)[i].err);
    CHECK((*r)[i].err == EXDEV);
  }
}
