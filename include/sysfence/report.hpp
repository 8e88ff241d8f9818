// SPDX-License-Identifier: MIT
// report.hpp - readable violations: a SIGSYS handler for the trap action that names the
// blocked syscall, then ends the process by SIGSYS as an untrapped violation would.
#pragma once

#include <array>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <span>

#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "sysfence/arch.hpp"
#include "sysfence/dump.hpp"

namespace sysfence {
namespace detail {

// `format_violation` writes the report line; pure, so tests can check it without a signal. The
// syscall is named for whichever of `abis` (the process's own first) made it:
//   sysfence: blocked openat (257) args (0xffffff9c, 0x5566..., 0x0, 0x0, 0x0, 0x0) at 0x7f...
//   sysfence: blocked mkdir (39, i386) args (...) at ...      an int $0x80 call of a 64-bit process
constexpr void format_violation(text& out, std::span<const arch::target> abis, std::uint32_t audit,
                                std::uint32_t nr, const std::array<std::uint64_t, 6>& args,
                                std::uint64_t address) noexcept {
  out.put("sysfence: blocked ");
  const std::string_view name = syscall_name_for(abis, audit, nr);
  out.put(name.empty() ? std::string_view{"syscall"} : name);
  out.put(" (");
  out.number(nr);
  if (audit != abis[0].audit) {
    out.put(", ");
    if (const std::string_view arch = arch_name_for(audit); !arch.empty()) {
      out.put(arch);
    } else {
      out.put("arch ");
      out.hex(audit, 8);
    }
  }
  out.put(") args (");
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != 0) out.put(", ");
    out.put("0x");
    bool started = false;
    for (unsigned k = 16; k-- > 0;) {
      const auto digit = (args[i] >> (4 * k)) & 0xf;
      started = started || digit != 0 || k == 0;
      if (started) out.put("0123456789abcdef"[digit]);
    }
  }
  out.put(") at ");
  out.hex(static_cast<std::uint32_t>(address >> 32), 8);
  for (unsigned k = 8; k-- > 0;) out.put("0123456789abcdef"[(address >> (4 * k)) & 0xf]);
  out.put('\n');
}

// The ABIs a process can make syscalls in, its own first: what a report names syscalls for.
#if defined(__x86_64__) && !defined(__ILP32__)
inline constexpr std::array<arch::target, 2> reported_abis{arch::x86_64::value, arch::x86::value};
#else
inline constexpr std::array<arch::target, 1> reported_abis{arch::native::value};
#endif

// The SIGSYS handler: only async-signal-safe work (no allocation, no stdio, no locks).
inline void on_sigsys(int, siginfo_t* info, void* context) noexcept {
  std::array<std::uint64_t, 6> args{};
  std::uint64_t address = reinterpret_cast<std::uintptr_t>(info->si_call_addr);
#if defined(__x86_64__)
  const auto* uc = static_cast<const ucontext_t*>(context);
  const greg_t* r = uc->uc_mcontext.gregs;
  // An int $0x80 call (a program serving i386 too) passes i386's registers, read as 32 bits.
  const bool i386 = info->si_arch == AUDIT_ARCH_I386;
  args = i386 ? std::array<std::uint64_t, 6>{static_cast<std::uint32_t>(r[REG_RBX]), static_cast<std::uint32_t>(r[REG_RCX]),
                                             static_cast<std::uint32_t>(r[REG_RDX]), static_cast<std::uint32_t>(r[REG_RSI]),
                                             static_cast<std::uint32_t>(r[REG_RDI]), static_cast<std::uint32_t>(r[REG_RBP])}
              : std::array<std::uint64_t, 6>{static_cast<std::uint64_t>(r[REG_RDI]), static_cast<std::uint64_t>(r[REG_RSI]),
                                             static_cast<std::uint64_t>(r[REG_RDX]), static_cast<std::uint64_t>(r[REG_R10]),
                                             static_cast<std::uint64_t>(r[REG_R8]), static_cast<std::uint64_t>(r[REG_R9])};
#elif defined(__i386__)
  // i386 passes arguments in ebx, ecx, edx, esi, edi, ebp; seccomp shows them zero-extended.
  const auto* uc = static_cast<const ucontext_t*>(context);
  const greg_t* r = uc->uc_mcontext.gregs;
  args = {static_cast<std::uint32_t>(r[REG_EBX]), static_cast<std::uint32_t>(r[REG_ECX]),
          static_cast<std::uint32_t>(r[REG_EDX]), static_cast<std::uint32_t>(r[REG_ESI]),
          static_cast<std::uint32_t>(r[REG_EDI]), static_cast<std::uint32_t>(r[REG_EBP])};
#elif defined(__aarch64__)
  // aarch64 passes arguments in x0-x5; before the signal the kernel puts the first back in x0,
  // where the skipped call's return value would have gone.
  const auto* uc = static_cast<const ucontext_t*>(context);
  for (std::size_t i = 0; i < args.size(); ++i) args[i] = uc->uc_mcontext.regs[i];
#elif defined(__riscv)
  // riscv64 passes arguments in a0-a5 (glibc: __gregs[REG_A0 + i]); a0 is put back as on aarch64.
  const auto* uc = static_cast<const ucontext_t*>(context);
  for (std::size_t i = 0; i < args.size(); ++i) args[i] = uc->uc_mcontext.__gregs[REG_A0 + i];
#else
  (void)context;
#endif
  std::array<char, 512> buffer{};
  text line{buffer.data(), buffer.size()};
  format_violation(line, reported_abis, info->si_arch, static_cast<std::uint32_t>(info->si_syscall), args,
                   address);
  (void)::write(STDERR_FILENO, buffer.data(), line.size < buffer.size() ? line.size : buffer.size());

  // End as an untrapped violation would: SIGSYS's default action. Reset the handler, unblock the
  // signal and make the same call again; the filter traps it again and the kernel's SIGSYS, now
  // with its default action, ends the process (with a core dump where enabled).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGSYS, &dfl, nullptr);
  sigset_t sys;
  ::sigemptyset(&sys);
  ::sigaddset(&sys, SIGSYS);
  ::sigprocmask(SIG_UNBLOCK, &sys, nullptr);
#if defined(__x86_64__)
  // The same call through the same gate (syscall() would make the x86_64 call of that number),
  // its first five arguments (ebp, the sixth, is the frame pointer here).
  if (i386) {
    long ret = info->si_syscall;
    __asm__ __volatile__("int $0x80"
                         : "+a"(ret)
                         : "b"(args[0]), "c"(args[1]), "d"(args[2]), "S"(args[3]), "D"(args[4])
                         : "memory", "cc", "r8", "r9", "r10", "r11");
    ::_exit(128 + SIGSYS);
  }
#endif
  // syscall() reads its variadic arguments as long: 64-bit values would shift them on i386.
  ::syscall(info->si_syscall, static_cast<long>(args[0]), static_cast<long>(args[1]),
            static_cast<long>(args[2]), static_cast<long>(args[3]), static_cast<long>(args[4]),
            static_cast<long>(args[5]));
  ::_exit(128 + SIGSYS);  // only if the filter let the repeated call through
}

}  // namespace detail

// `report_violations` installs a SIGSYS handler for policies whose action is action::trap():
// each blocked call prints one line naming the syscall, its number, arguments and the
// instruction address to stderr, then the process ends by SIGSYS. Call it before applying;
// the policy must let the process write to fd 2 and use rt_sigaction and rt_sigprocmask (as
// basic_capabilities does) for the line to appear. Returns false if sigaction failed.
inline bool report_violations() noexcept {
  struct sigaction sa {};
  sa.sa_sigaction = detail::on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  ::sigemptyset(&sa.sa_mask);
  return ::sigaction(SIGSYS, &sa, nullptr) == 0;
}

}  // namespace sysfence
