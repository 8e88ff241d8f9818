// SPDX-License-Identifier: MIT
// differential_kernel.cpp - random policies installed in the kernel: each call's real outcome
// against evaluate() of the program and against the rules' meaning.
//
// The policies come from fuzz/policy_generator.hpp (as in tests/differential.cpp), their syscalls
// remapped onto ones harmless with any arguments (getpid, getuid, sched_yield, ...), exit and
// rt_sigreturn added as plain allows, then compiled by the run-time compiler core. A worker
// process (forked once, and again after each kill_process) runs each policy in a new thread made
// by a raw clone: the thread installs the program on itself alone (no TSYNC), calls through raw
// `syscall` or `int $0x80` with all six argument registers, writes each result to shared memory
// without a syscall and leaves with a raw exit of the thread. What the kernel can show:
//   allow, log           the call runs: it returns what it returned before the filter
//   errno n              -n (-4095 above MAX_ERRNO; 0 for errno 0)
//   trap n               SIGSYS, si_errno n, si_syscall nr, si_arch; the handler makes the call
//                        return a marker (x86_64), or ends the thread (i386: rt_sigreturn would be
//                        a foreign call under an i386 filter)
//   kill thread          the thread dies, the worker lives on
//   kill process         the worker dies by SIGSYS
//   trace, user_notif    -ENOSYS (no tracer, no listener)
// A call that ends the thread leaves the rest to a new thread (or worker). Calls the program
// and the meaning say end the thread are run a few per policy, and one that kills the process
// in a third of the policies (a fork costs about 1 ms here; one in twenty under ASan); the others
// are only simulated.
//
// SYSFENCE_KDIFF_SEED=<n> picks the seed, SYSFENCE_KDIFF_POLICIES=<n> the number of accepted
// policies (default 3,000; 1,000 under ASan), SYSFENCE_KDIFF_POLICY=<i> reruns policy i alone, and
// SYSFENCE_KDIFF_MUTATE=<name> installs a broken copy of each program (see `mutations`) to show
// what a disagreement looks like.
#include "../fuzz/policy_generator.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "kernel.hpp"

// `sysfence_kdiff_syscall(nr, a0..a5)` is a raw x86_64 syscall with all six argument registers;
// `sysfence_kdiff_int80(nr, a0..a5)` the same through the i386 gate (ebx, ecx, edx, esi, edi,
// ebp: the full 64-bit registers, which seccomp sees; int $0x80 does not preserve r8-r11).
// Neither touches errno or the stack beyond the call, so a filtered thread can use them freely.
extern "C" long sysfence_kdiff_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern "C" long sysfence_kdiff_int80(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
// `sysfence_kdiff_spawn(flags, stack_top, child_tid, fn, arg)` is a raw clone: the new thread
// runs fn(arg) on `stack_top`, then a raw exit (x86_64 60) of itself alone.
extern "C" long sysfence_kdiff_spawn(unsigned long flags, void* stack_top, void* child_tid, void (*fn)(void*),
                                     void* arg);
asm(R"(
    .text
    .globl sysfence_kdiff_syscall
    .type sysfence_kdiff_syscall, @function
sysfence_kdiff_syscall:
    movq %rdi, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    movq %rcx, %rdx
    movq %r8, %r10
    movq %r9, %r8
    movq 8(%rsp), %r9
    syscall
    ret
    .size sysfence_kdiff_syscall, .-sysfence_kdiff_syscall

    .globl sysfence_kdiff_int80
    .type sysfence_kdiff_int80, @function
sysfence_kdiff_int80:
    pushq %rbp
    pushq %rbx
    movq %rdi, %rax
    movq %rsi, %rbx
    movq 24(%rsp), %rbp
    movq %rcx, %r10
    movq %rdx, %rcx
    movq %r10, %rdx
    movq %r8, %rsi
    movq %r9, %rdi
    int $0x80
    popq %rbx
    popq %rbp
    ret
    .size sysfence_kdiff_int80, .-sysfence_kdiff_int80

    .globl sysfence_kdiff_spawn
    .type sysfence_kdiff_spawn, @function
sysfence_kdiff_spawn:
    subq $16, %rsi
    movq %rcx, 0(%rsi)
    movq %r8, 8(%rsi)
    movq %rdx, %r10
    xorl %edx, %edx
    xorl %r8d, %r8d
    movl $56, %eax
    syscall
    testq %rax, %rax
    jnz 1f
    popq %rax
    popq %rdi
    xorl %ebp, %ebp
    call *%rax
    movl $60, %eax
    xorl %edi, %edi
    syscall
    hlt
1:  ret
    .size sysfence_kdiff_spawn, .-sysfence_kdiff_spawn
)");

namespace {

namespace fz = sysfence_fuzz;
namespace bpf = sysfence::bpf;
using sysfence::action;
using sysfence::sys::id;

constexpr std::uint64_t default_seed = 0x6b3e7a11d1ffULL;
constexpr std::size_t random_calls_per_policy = 12;
constexpr std::size_t max_calls = 512;         // per policy
constexpr std::size_t max_thread_endings = 3;  // calls that end the caller thread, per policy
#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
constexpr bool under_asan = __has_feature(address_sanitizer);
#else
constexpr bool under_asan = false;
#endif
// A killed process is a new worker: a fork, about 1 ms here, 70 ms under ASan (its shadow).
constexpr std::uint64_t process_kill_percent = under_asan ? 5 : 34;
constexpr std::size_t default_policies = under_asan ? 1000 : 3000;
constexpr long trap_marker = 0x5ea7c0de5ea7c0deL;

// --- harmless syscalls -------------------------------------------------------------------------

// Syscalls that take no arguments, so ignore whatever the registers hold, change nothing, and
// return a value the child knows (its ids; uids and gids are made distinct and non-zero below,
// so that an allowed call is told apart from errno 0). sched_yield returns 0 like errno 0.
constexpr std::array<id, 9> harmless_x86_64{id::getppid, id::getpid,  id::gettid,
                                            id::getuid,  id::geteuid, id::getgid,
                                            id::getegid, id::getpgrp, id::sched_yield};
constexpr std::array<id, 13> harmless_i386{
    id::getppid, id::getpid,      id::gettid,   id::getuid,    id::geteuid,  id::getgid,   id::getegid,
    id::getpgrp, id::sched_yield, id::getuid32, id::geteuid32, id::getgid32, id::getegid32};

std::int32_t number_on(bool i386, id s) {
  const auto& n = i386 ? sysfence::arch::x86::numbers : sysfence::arch::x86_64::numbers;
  return n[static_cast<std::size_t>(s)];
}

std::vector<std::uint32_t> harmless_numbers(bool i386) {
  std::vector<std::uint32_t> out;
  if (i386)
    for (const id s : harmless_i386) out.push_back(static_cast<std::uint32_t>(number_on(true, s)));
  else
    for (const id s : harmless_x86_64) out.push_back(static_cast<std::uint32_t>(number_on(false, s)));
  return out;
}

// `safe` is whether calling `nr` through the i386 gate or `syscall` is harmless whatever the
// arguments: a harmless number (on x86_64 also as x32: these are common to both tables), a
// number no table has (>= 1000, negative), or -1.
bool safe(bool i386_gate, std::uint32_t nr) {
  if (nr >= 0x80000000U) return true;
  const std::uint32_t low = i386_gate ? nr : nr & 0x3fffffffU;
  if (low >= 1000) return true;
  const auto h = harmless_numbers(i386_gate);
  return std::find(h.begin(), h.end(), low) != h.end();
}

// --- the policy ---------------------------------------------------------------------------------

// `remap` puts the policy's syscalls onto harmless ones (the first nine or thirteen distinct
// syscalls, in a random order; further ones keep their own, or another, number: they shape the
// program but are never called) and adds plain allows for what the caller thread needs: exit
// (of the thread: the worker process lives on), and rt_sigreturn to come back from its SIGSYS
// handler (x86_64). Done before compiling, so the policy the analysis checks is the one installed.
void remap(fz::generated_policy& p, fz::prng_source& s) {
  std::vector<id> targets;
  if (p.i386)
    targets.assign(harmless_i386.begin(), harmless_i386.end());
  else
    targets.assign(harmless_x86_64.begin(), harmless_x86_64.end());
  std::shuffle(targets.begin(), targets.end(), s.rng);
  const std::array<id, 4> reserved{id::exit, id::exit_group, id::rt_sigreturn, id::sigreturn};
  auto taken = [&](id x) {
    return std::find(targets.begin(), targets.end(), x) != targets.end() ||
           std::find(reserved.begin(), reserved.end(), x) != reserved.end();
  };
  std::vector<id> from = p.syscalls;
  for (const auto& e : p.rules)
    if (std::find(from.begin(), from.end(), e.r.syscall) == from.end()) from.push_back(e.r.syscall);
  std::vector<id> to;
  const fz::syscall_table& table = fz::table_of(p.kind);
  std::size_t next_free = s.below(table.ids.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (i < targets.size()) {
      to.push_back(targets[i]);
      continue;
    }
    id x = from[i];
    while (taken(x) || std::find(to.begin(), to.end(), x) != to.end() ||
           (x != from[i] && std::find(from.begin(), from.end(), x) != from.end()))
      x = table.ids[next_free++ % table.ids.size()];
    to.push_back(x);
  }
  auto mapped = [&](id x) {
    return to[static_cast<std::size_t>(std::find(from.begin(), from.end(), x) - from.begin())];
  };
  for (auto& e : p.rules) e.r.syscall = mapped(e.r.syscall);
  for (auto& x : p.syscalls) x = mapped(x);
  for (const id need : {id::exit, id::rt_sigreturn}) {
    if (p.i386 && need == id::rt_sigreturn) continue;  // the i386 caller never returns from SIGSYS
    fz::entry e;
    e.r = sysfence::rule{need};
    e.origin = static_cast<std::uint16_t>(p.rules.size());
    e.slot_base = static_cast<std::uint16_t>(p.slot_count);
    p.rules.push_back(e);
  }
}

// --- calls --------------------------------------------------------------------------------------

// `kcall` is one call as made: through the i386 gate or `syscall`, and what seccomp sees.
struct kcall {
  bool i386_gate = false;
  seccomp_data d{};
};

long make(const kcall& c) {
  const auto a = [&](std::size_t i) { return static_cast<long>(c.d.args[i]); };
  const long nr = static_cast<long>(static_cast<std::uint32_t>(c.d.nr));
  if (c.i386_gate) return sysfence_kdiff_int80(nr, a(0), a(1), a(2), a(3), a(4), a(5));
  return sysfence_kdiff_syscall(static_cast<int>(c.d.nr), a(0), a(1), a(2), a(3), a(4), a(5));
}

// `to_kernel` makes a generated call one the child can make: a foreign or nonsense architecture
// goes through the other gate (x86_64 <-> i386), and a number not safe there becomes a harmless
// one (a syscall the policy names, mostly), keeping x32's bit. The instruction pointer is not
// compared: sysfence never loads it.
kcall to_kernel(const seccomp_data& g, const fz::generated_policy& p, fz::prng_source& s) {
  kcall c;
  c.d = g;
  c.d.instruction_pointer = 0;
  const bool native = g.arch == p.target().audit;
  c.i386_gate = native ? p.i386 : !p.i386;
  c.d.arch = c.i386_gate ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
  auto nr = static_cast<std::uint32_t>(g.nr);
  if (!safe(c.i386_gate, nr)) {
    const std::uint32_t x32 = !c.i386_gate && nr < 0x80000000U ? nr & 0x40000000U : 0;
    std::vector<std::uint32_t> named;
    if (c.i386_gate == p.i386)
      for (const auto& e : p.rules) {
        const auto n = static_cast<std::uint32_t>(number_on(c.i386_gate, e.r.syscall));
        if (safe(c.i386_gate, n)) named.push_back(n);
      }
    nr = x32 | (!named.empty() && fz::percent(s, 80) ? fz::pick(s, named)
                                                     : fz::pick(s, harmless_numbers(c.i386_gate)));
  }
  c.d.nr = static_cast<int>(nr);
  // Through the i386 gate the number is 32 bits (eax), and so are the values the syscall uses;
  // seccomp still sees the registers' 64 bits (checked on Linux 6.18), so they stay 64-bit.
  return c;
}

// --- what the kernel shows ------------------------------------------------------------------------

enum class ending : std::uint8_t { returned, trapped, thread_killed, process_killed };

// `observation` is what a call did, as seen from user space.
struct observation {
  ending how = ending::returned;
  long ret = 0;  // returned (x86_64 trap: the marker)
  int trap_errno = 0, trap_nr = 0;
  std::uint32_t trap_arch = 0;
  friend bool operator==(const observation&, const observation&) = default;
};

// `expected` is what the kernel shows for action `a` on call `c`, which returns `unfiltered`
// when it runs.
observation expected(action a, const kcall& c, long unfiltered, bool i386_policy) {
  observation o;
  switch (a.what()) {
    case action::kind::allow:
    case action::kind::log:
      o.ret = unfiltered;
      break;
    case action::kind::error:
      o.ret = -static_cast<long>(std::min<std::uint16_t>(a.data(), 4095));  // MAX_ERRNO
      break;
    case action::kind::trace:       // no tracer
    case action::kind::user_notif:  // no listener
      o.ret = -ENOSYS;
      break;
    case action::kind::trap:
      o.how = ending::trapped;
      o.ret = i386_policy ? 0 : trap_marker;
      o.trap_errno = a.data();
      o.trap_nr = c.d.nr;
      o.trap_arch = c.d.arch;
      break;
    case action::kind::kill_thread:
      o.how = ending::thread_killed;
      break;
    default:  // kill process, and whatever the kernel does not know
      o.how = ending::process_killed;
      break;
  }
  if (c.i386_gate && o.how == ending::returned) o.ret = static_cast<int>(o.ret);  // eax
  return o;
}

std::string describe(const observation& o) {
  switch (o.how) {
    case ending::returned:
      return "returned " + std::to_string(o.ret);
    case ending::trapped:
      return "SIGSYS (trap), si_errno " + std::to_string(o.trap_errno) + ", si_syscall " +
             std::to_string(o.trap_nr) + ", si_arch " + fz::hex(o.trap_arch) +
             (o.ret == trap_marker ? ", returned the marker" : ", returned " + std::to_string(o.ret));
    case ending::thread_killed:
      return "the thread was killed";
    case ending::process_killed:
      return "the process was killed by SIGSYS";
  }
  return "?";
}

// `ends_caller` is whether the caller thread ends with the call (a kill, or a trap on i386).
bool ends_caller(const observation& o, bool i386_policy) {
  return o.how == ending::thread_killed || o.how == ending::process_killed ||
         (o.how == ending::trapped && i386_policy);
}

// --- the worker --------------------------------------------------------------------------------

struct call_record {
  long unfiltered = 0;
  long ret = 0;
  int traps = 0, trap_errno = 0, trap_nr = 0;
  std::uint32_t trap_arch = 0;
};

// `job` is one policy's calls, shared with the worker process: the program to install, the calls
// from `begin` on, and what they did.
struct job {
  std::size_t begin = 0, count = 0;
  bool i386_policy = false;
  std::size_t program_size = 0;
  std::array<bpf::insn, bpf::max_insns> program;
  std::array<kcall, max_calls> calls;
  volatile std::size_t current = 0;  // the call under way
  volatile int finished = 0;         // the caller made every call and left by itself
  volatile int install_error = 0;
  std::array<call_record, max_calls> records;
};

job* shared_job = nullptr;
std::atomic<int> caller_alive{0};  // in the worker: cleared by the kernel when the caller ends

const long exit_i386 =
    number_on(true, id::exit);  // the caller thread's exit (x86_64: 60, in the spawn thunk)

// `on_sigsys` records a trap; on x86_64 the call then returns the marker, on i386 (where
// rt_sigreturn would be a foreign call) the caller thread ends.
void on_sigsys(int, siginfo_t* info, void* context) {
  job& j = *shared_job;
  call_record& r = j.records[j.current];
  ++r.traps;
  r.trap_errno = info->si_errno;
  r.trap_nr = info->si_syscall;
  r.trap_arch = info->si_arch;
  if (j.i386_policy) sysfence_kdiff_int80(exit_i386, 0, 0, 0, 0, 0, 0);
  static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RAX] = trap_marker;
}

// `caller` runs in a thread of the worker made by a raw clone (no libc, no sanitizer runtime: it
// shares the worker's TLS): it records what each call returns before the filter, installs the
// filter on itself alone (the worker set no_new_privs), makes the calls and leaves with a raw
// exit, so the worker lives on. Every syscall it makes is one of the asm thunks.
void caller(void*) {
  job& j = *shared_job;
  for (std::size_t i = j.begin; i < j.count; ++i) j.records[i].unfiltered = make(j.calls[i]);
  sock_fprog fprog{static_cast<unsigned short>(j.program_size), j.program.data()};
  const long r = sysfence_kdiff_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
                                        reinterpret_cast<long>(&fprog), 0, 0, 0);
  if (r != 0) {
    j.install_error = static_cast<int>(-r);
    return;
  }
  for (std::size_t i = j.begin; i < j.count; ++i) {
    j.current = i;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    j.records[i].ret = make(j.calls[i]);
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  j.finished = 1;
  if (j.i386_policy) sysfence_kdiff_int80(exit_i386, 0, 0, 0, 0, 0, 0);
  // x86_64: back to sysfence_kdiff_spawn, which calls exit.
}

// `worker` is a child process that runs jobs, one raw thread each, until a kill_process action
// kills it (the parent starts another) or the parent closes its pipe.
class worker {
 public:
  worker() = default;
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  ~worker() { stop(); }

  // `run` runs the shared job; false when the worker died (then `signal` says how).
  bool run(int& signal) {
    if (pid_ <= 0 && !start()) {
      signal = -1;
      return false;
    }
    char c = 'j';
    if (::write(to_, &c, 1) == 1 && ::read(from_, &c, 1) == 1) return true;
    signal = reap();
    return false;
  }
  std::size_t started = 0;

 private:
  bool start() {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0) return false;
    if (::pipe2(from, O_CLOEXEC) != 0) {
      ::close(to[0]), ::close(to[1]);
      return false;
    }
    ++started;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(to[1]);
      ::close(from[0]);
      serve(to[0], from[1]);
    }
    ::close(to[0]);
    ::close(from[1]);
    to_ = to[1];
    from_ = from[0];
    return pid_ > 0;
  }

  [[noreturn]] static void serve(int in, int out) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::geteuid() == 0) {  // distinct, non-zero ids: an allowed getuid() is not errno 0
      if (::setresgid(2001, 2002, 2003) != 0 || ::setresuid(1001, 1002, 1003) != 0) ::_exit(98);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) ::_exit(97);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSYS, &sa, nullptr);
    constexpr std::size_t stack_size = 256 * 1024;
    void* stack =
        ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) ::_exit(96);
    constexpr unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                    CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
    char c = 0;
    while (::read(in, &c, 1) == 1) {
      caller_alive.store(1);
      const long tid =
          sysfence_kdiff_spawn(flags, static_cast<char*>(stack) + stack_size, &caller_alive, caller, nullptr);
      if (tid < 0) ::_exit(95);
      // The kernel clears caller_alive and wakes it when the caller ends: by its own exit, or
      // killed by a kill_thread action, or through the SIGSYS handler (i386).
      while (caller_alive.load() != 0)
        ::syscall(SYS_futex, &caller_alive, FUTEX_WAIT, 1, nullptr, nullptr, 0);
      if (::write(out, &c, 1) != 1) ::_exit(94);
    }
    ::_exit(0);
  }

  // `reap` waits for a dead worker: the signal that killed it, or 1000 + its exit code.
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(to_);
    ::close(from_);
    pid_ = -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
  }
  void stop() {
    if (pid_ <= 0) return;
    ::close(to_);
    to_ = ::open("/dev/null", O_WRONLY | O_CLOEXEC);  // reap() closes it again
    reap();
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

// --- mutations: the test must notice a program other than the one compiled ------------------------

enum class mutation : std::uint8_t {
  none,
  no_arch_check,        // JEQ audit always taken: foreign calls reach the search
  no_x32_check,         // JGE bit 30 never taken: x32 calls get the search's answer
  flip_argument_jump,   // the first jump after an argument load has its targets swapped
  errno_plus_one,       // every RET ERRNO(n) returns ERRNO(n + 1)
  trap_data_changed,    // every RET TRAP(n) returns TRAP(n ^ 1)
  kill_process_thread,  // every RET KILL_PROCESS returns KILL_THREAD
  high_halves_ignored,  // every load of an argument's upper half loads its lower half
};
constexpr std::array<std::pair<mutation, const char*>, 7> mutations{{
    {mutation::no_arch_check, "no_arch_check"},
    {mutation::no_x32_check, "no_x32_check"},
    {mutation::flip_argument_jump, "flip_argument_jump"},
    {mutation::errno_plus_one, "errno_plus_one"},
    {mutation::trap_data_changed, "trap_data_changed"},
    {mutation::kill_process_thread, "kill_process_thread"},
    {mutation::high_halves_ignored, "high_halves_ignored"},
}};

bool loads_argument(const bpf::insn& i) {
  return i.code == (BPF_LD | BPF_W | BPF_ABS) && i.k >= offsetof(seccomp_data, args);
}

// `mutate` changes the copy to install; false when the mutation does not apply to it.
bool mutate(std::vector<bpf::insn>& prog, mutation m) {
  bool changed = false;
  switch (m) {
    case mutation::none:
      return true;
    case mutation::no_arch_check:
      if (prog.size() > 1 && prog[1].code == (BPF_JMP | BPF_JEQ | BPF_K))
        prog[1].jf = prog[1].jt, changed = true;
      break;
    case mutation::no_x32_check:
      for (auto& i : prog)
        if (i.code == (BPF_JMP | BPF_JGE | BPF_K) && i.k == 0x40000000U) i.jt = i.jf, changed = true;
      break;
    case mutation::flip_argument_jump:
      for (std::size_t i = 0; i + 1 < prog.size() && !changed; ++i)
        if (loads_argument(prog[i]) && BPF_CLASS(prog[i + 1].code) == BPF_JMP &&
            BPF_OP(prog[i + 1].code) != BPF_JA)
          std::swap(prog[i + 1].jt, prog[i + 1].jf), changed = true;
      break;
    case mutation::errno_plus_one:
    case mutation::trap_data_changed:
    case mutation::kill_process_thread:
      for (auto& i : prog) {
        if (i.code != (BPF_RET | BPF_K)) continue;
        const action a{i.k};
        if (m == mutation::errno_plus_one && a.what() == action::kind::error && a.data() < 4094)
          i.k += 1, changed = true;
        if (m == mutation::trap_data_changed && a.what() == action::kind::trap) i.k ^= 1, changed = true;
        if (m == mutation::kill_process_thread && a == action::kill_process)
          i.k = action::kill_thread.value, changed = true;
      }
      break;
    case mutation::high_halves_ignored:
      for (auto& i : prog)
        if (loads_argument(i) && (i.k - offsetof(seccomp_data, args)) % 8 == 4) i.k -= 4, changed = true;
      break;
  }
  return changed;
}

// --- the comparison ---------------------------------------------------------------------------------

struct counts {
  std::size_t generated = 0, accepted = 0, i386 = 0, refused = 0, unfit = 0;
  std::size_t calls = 0, not_run = 0, jobs = 0, workers = 0, foreign = 0, x32 = 0, out_of_table = 0;
  std::array<std::size_t, 4> endings{};  // by `ending`
  std::size_t returned_errno = 0, returned_enosys = 0, longest = 0;
  std::size_t disagreements = 0;
  std::vector<std::string> reports;  // the first few
};

struct options {
  std::uint64_t seed = default_seed;
  mutation m = mutation::none;
};

void disagree(counts& n, std::string text) {
  ++n.disagreements;
  if (n.reports.size() < 3) n.reports.push_back(std::move(text));
}

void run_policy(counts& n, worker& w, const options& o, std::size_t index) {
  fz::prng_source s(fz::policy_seed(o.seed, index));
  const std::uint64_t shape = s.below(1000);  // as in differential.cpp: 8% large, 0.5% huge
  fz::generated_policy p = fz::generate_policy(s, shape < 80   ? fz::large_policies
                                                  : shape < 85 ? fz::huge_policies
                                                               : fz::generator_options{});
  ++n.generated;
  remap(p, s);
  const fz::compiled c = fz::compile(p);
  if (!c.out.result.ok()) {
    ++n.refused;
    return;
  }
  if (!c.values_fit) {
    ++n.unfit;
    return;
  }
  ++n.accepted;
  n.i386 += p.i386 ? 1 : 0;
  n.longest = std::max(n.longest, c.program.size());
  std::vector<bpf::insn> installed = c.program;
  if (!mutate(installed, o.m)) return;

  // The calls: random ones, each rule's satisfying arguments, and a few the rules do not name.
  const auto satisfying = fz::satisfying_calls(s, p, 2);
  std::vector<kcall> calls;
  for (std::size_t i = 0; i < random_calls_per_policy; ++i)
    calls.push_back(to_kernel(fz::random_call(s, p, satisfying), p, s));
  for (std::size_t r = 0; r < p.rules.size() && calls.size() < max_calls - 8; ++r)
    for (const auto& args : satisfying[r]) {
      seccomp_data d{p.number(p.rules[r].r.syscall), p.target().audit, 0, {}};
      for (std::size_t a = 0; a < 6; ++a) d.args[a] = args[a];
      calls.push_back(to_kernel(d, p, s));
      break;
    }
  {
    seccomp_data d = fz::random_call(s, p, satisfying);
    d.arch = p.target().audit;
    for (const std::uint32_t nr : {1000U, static_cast<std::uint32_t>(d.nr) | 0x40000000U, 0xffffffffU}) {
      if (p.i386 && nr != 1000U) continue;
      d.nr = static_cast<int>(nr);
      calls.push_back(to_kernel(d, p, s));
    }
    d.arch = p.i386 ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_I386;
    if (fz::percent(s, 25)) calls.push_back(to_kernel(d, p, s));  // a foreign architecture
  }

  // What the program and the meaning answer, in the order to run: the calls that end the child
  // last, and only a few of them (each needs a child of its own).
  struct planned {
    kcall c;
    sysfence::evaluation program;
    fz::meant meant;
  };
  std::vector<planned> plan, ending_thread, ending_process;
  for (const kcall& k : calls) {
    planned x{k, sysfence::evaluate(c.program, k.d), fz::meaning(p, k.d)};
    const observation probe = expected(x.program.result, k, 1, p.i386);
    const bool evaluated = x.program.error == sysfence::bpf_error::none;
    if (evaluated && probe.how == ending::process_killed)
      ending_process.push_back(x);
    else if (evaluated && ends_caller(probe, p.i386))
      ending_thread.push_back(x);
    else
      plan.push_back(x);
  }
  std::shuffle(ending_thread.begin(), ending_thread.end(), s.rng);
  std::shuffle(ending_process.begin(), ending_process.end(), s.rng);
  if (ending_thread.size() > max_thread_endings) ending_thread.resize(max_thread_endings);
  // One in three policies (one in twenty under ASan) kills its worker.
  ending_process.resize(fz::percent(s, process_kill_percent) ? std::min<std::size_t>(ending_process.size(), 1)
                                                             : 0);
  n.not_run += calls.size() - plan.size() - ending_thread.size() - ending_process.size();
  plan.insert(plan.end(), ending_thread.begin(), ending_thread.end());
  plan.insert(plan.end(), ending_process.begin(), ending_process.end());

  auto report = [&](const planned& x, const observation& seen, const std::string& why) {
    return "seed " + fz::hex(o.seed) + ", policy " + std::to_string(index) +
           " (rerun: SYSFENCE_KDIFF_SEED=" + fz::hex(o.seed) +
           " SYSFENCE_KDIFF_POLICY=" + std::to_string(index) + ")\n" + fz::describe(p) + "call through " +
           (x.c.i386_gate ? "int $0x80" : "syscall") + ": " + fz::describe(x.c.d) + "\n" + why +
           "\n(a) kernel:   " + describe(seen) + "\n(b) evaluate: " +
           (x.program.error != sysfence::bpf_error::none ? std::string("error")
                                                         : fz::describe(x.program.result)) +
           "\n(c) meaning:  " + fz::describe(x.meant.result) +
           (x.meant.matched ? " (rule " + std::to_string(x.meant.first) + ")" : " (no rule matches)") +
           "\ninstalled program:\n" + fz::disassembly(p, installed);
  };

  job& j = *shared_job;
  j.count = plan.size();
  j.i386_policy = p.i386;
  j.program_size = installed.size();
  std::copy(installed.begin(), installed.end(), j.program.begin());
  for (std::size_t i = 0; i < plan.size(); ++i) j.calls[i] = plan[i].c;
  std::size_t begin = 0;
  while (begin < plan.size()) {
    j.begin = begin;
    j.current = begin;
    j.finished = 0;
    j.install_error = 0;
    for (std::size_t i = begin; i < plan.size(); ++i) j.records[i] = {};
    int signal = 0;
    const bool lived = w.run(signal);
    ++n.jobs;
    std::size_t stop = plan.size();  // the call that ended the caller, if one did
    observation last;
    if (!lived || j.finished == 0) {
      stop = j.current;
      if (lived && j.install_error == 0) {
        last.how = j.records[stop].traps > 0 ? ending::trapped : ending::thread_killed;
      } else if (!lived && signal == SIGSYS) {
        last.how = ending::process_killed;
      } else {
        const std::string why =
            lived ? "the kernel refused the program: errno " + std::to_string(j.install_error)
                  : "the worker ended unexpectedly: " + (signal >= 1000
                                                             ? "exit " + std::to_string(signal - 1000)
                                                             : "signal " + std::to_string(signal));
        disagree(n, report(plan[std::min(stop, plan.size() - 1)], last, why));
        return;
      }
    }
    for (std::size_t i = begin; i < plan.size() && i <= stop; ++i) {
      const call_record& r = j.records[i];
      const planned& x = plan[i];
      observation seen = last;
      if (i < stop) seen.how = r.traps > 0 ? ending::trapped : ending::returned;
      if (seen.how == ending::returned || seen.how == ending::trapped) {
        seen.ret = x.c.i386_gate ? static_cast<int>(r.ret) : r.ret;
        if (seen.how == ending::trapped && p.i386) seen.ret = 0;
      }
      if (r.traps > 0) seen.trap_errno = r.trap_errno, seen.trap_nr = r.trap_nr, seen.trap_arch = r.trap_arch;
      if (r.traps > 1 && seen.how == ending::trapped) seen.ret = -r.traps;  // two signals: never right
      ++n.calls;
      ++n.endings[static_cast<std::size_t>(seen.how)];
      n.foreign += x.c.d.arch != p.target().audit ? 1 : 0;
      const auto nr = static_cast<std::uint32_t>(x.c.d.nr);
      n.x32 += !x.c.i386_gate && (nr & 0x40000000U) != 0 ? 1 : 0;
      n.out_of_table += (nr & 0x3fffffffU) >= 1000 ? 1 : 0;
      if (seen.how == ending::returned && seen.ret < 0 && seen.ret > -4096) ++n.returned_errno;
      if (seen.how == ending::returned && seen.ret == -ENOSYS) ++n.returned_enosys;
      const long unfiltered = x.c.i386_gate ? static_cast<int>(r.unfiltered) : r.unfiltered;
      const bool evaluated = x.program.error == sysfence::bpf_error::none;
      const observation by_program = expected(x.program.result, x.c, unfiltered, p.i386);
      const observation by_meaning = expected(x.meant.result, x.c, unfiltered, p.i386);
      if (!evaluated || x.meant.disagreement || x.program.result != x.meant.result || seen != by_program ||
          seen != by_meaning)
        disagree(n,
                 report(x, seen,
                        "expected (evaluate): " + (evaluated ? describe(by_program) : std::string("error")) +
                            "; expected (meaning): " + describe(by_meaning)));
    }
    begin = stop + 1;
  }
}

counts run(const options& o, std::size_t policies, std::size_t stop_after_disagreements) {
  kernel_test::shared<job> area;
  shared_job = &*area;
  // A write to a worker that just died must not kill the test.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  // Parent, worker and caller take turns, never run at once: on one CPU each hands over with a
  // local context switch, instead of waking an idle CPU (about 1 ms each in a VM).
  cpu_set_t cpus, one;
  const bool pinned = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0;
  if (pinned) {
    CPU_ZERO(&one);
    CPU_SET(static_cast<unsigned>(::sched_getcpu()), &one);
    ::sched_setaffinity(0, sizeof one, &one);
  }
  counts n;
  {
    worker w;
    const char* only = std::getenv("SYSFENCE_KDIFF_POLICY");
    if (o.m == mutation::none && only != nullptr && *only != '\0') {
      run_policy(n, w, o, static_cast<std::size_t>(std::strtoull(only, nullptr, 0)));
    } else {
      for (std::size_t i = 0; n.accepted < policies && i < 20 * policies + 100; ++i) {
        run_policy(n, w, o, i);
        if (n.disagreements >= stop_after_disagreements) break;
      }
    }
    n.workers = w.started;
  }
  if (pinned) ::sched_setaffinity(0, sizeof cpus, &cpus);
  ::sigaction(SIGPIPE, &old, nullptr);
  shared_job = nullptr;
  return n;
}

TEST_CASE("differential, kernel: each call's real outcome matches evaluate() and the rules' meaning") {
  options o;
  o.seed = fz::env_number("SYSFENCE_KDIFF_SEED", default_seed);
  const std::size_t policies = fz::env_number("SYSFENCE_KDIFF_POLICIES", default_policies);
  if (const char* m = std::getenv("SYSFENCE_KDIFF_MUTATE"); m != nullptr)  // see the failure reports
    for (const auto& [which, name] : mutations)
      if (std::string_view(m) == name) o.m = which;
  const auto start = std::chrono::steady_clock::now();
  const counts n = run(o, policies, 5);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& r : n.reports) FAIL_CHECK(r);
  MESSAGE("seed " << fz::hex(o.seed) << ": " << n.accepted << " policies (" << n.i386 << " for i386; "
                  << n.generated << " generated, " << n.refused << " refused, " << n.unfit
                  << " with unfit run-time values; longest program " << n.longest << " instructions), "
                  << n.calls << " calls in " << n.jobs << " threads of " << n.workers << " worker processes ("
                  << n.endings[static_cast<std::size_t>(ending::returned)] << " returned, "
                  << n.returned_errno << " of them an errno, " << n.returned_enosys << " ENOSYS; "
                  << n.endings[static_cast<std::size_t>(ending::trapped)] << " trapped, "
                  << n.endings[static_cast<std::size_t>(ending::thread_killed)] << " thread kills, "
                  << n.endings[static_cast<std::size_t>(ending::process_killed)] << " process kills; "
                  << n.foreign << " from a foreign architecture, " << n.x32 << " x32, " << n.out_of_table
                  << " out of the table; " << n.not_run
                  << " more calls that would end the thread or process not run), " << n.disagreements
                  << " disagreements, " << seconds << " s");
  CHECK(n.disagreements == 0);
  if (std::getenv("SYSFENCE_KDIFF_POLICY") == nullptr && policies >= default_policies) {
    // The mix must keep reaching every kind of outcome, or the test silently weakens.
    CHECK(n.i386 > 0);
    CHECK(n.foreign > 0);
    CHECK(n.x32 > 0);
    CHECK(n.out_of_table > 0);
    CHECK(n.returned_enosys > 0);
    CHECK(n.longest > 256);
    for (const std::size_t k : n.endings) CHECK(k > 0);
  }
}

TEST_CASE("differential, kernel: a program other than the one compiled is noticed") {
  for (const auto& mutated : mutations) {
    const std::string name = mutated.second;  // clang 14: a structured binding cannot be captured
    CAPTURE(name);
    options o;
    o.seed = default_seed ^ 0x1234;
    o.m = mutated.first;
    const counts n = run(o, 400, 1);
    MESSAGE(name << ": " << n.disagreements << " disagreements after " << n.accepted << " policies, "
                 << n.calls << " calls");
    CHECK(n.disagreements > 0);
  }
}

}  // namespace
