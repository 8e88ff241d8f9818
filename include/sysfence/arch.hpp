// SPDX-License-Identifier: MIT
// arch.hpp - the target architectures: audit value, syscall numbers, ABI quirks.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <linux/audit.h>

#include "sysfence/detail/syscall_table.hpp"

namespace sysfence::arch {

// `target` is what the compiler core needs to know of an architecture, as plain data.
struct target {
  std::string_view name;
  std::uint32_t audit;                                        // seccomp_data.arch (AUDIT_ARCH_*)
  const std::array<std::int32_t, detail::syscall_count>* numbers;  // by sys::id, -1 = missing
  std::uint32_t abi_bit;  // a second ABI sharing `audit` that sets this bit in nr (x32), or 0
  std::uint32_t table_size;  // syscall numbers the kernel's action cache covers (highest + 1)
  // What the syscalls read of each argument register: 32 on i386, where seccomp still shows the
  // upper halves a 64-bit process may set before `int $0x80`, so conditions compare low halves.
  std::uint8_t argument_bits = 64;
};

// `x86_64` is the 64-bit x86 ABI; x32 shares its audit value and sets bit 30 of the number.
struct x86_64 {
  static constexpr std::string_view name = "x86_64";
  static constexpr std::uint32_t audit = AUDIT_ARCH_X86_64;
  static constexpr const auto& numbers = detail::syscall_numbers_x86_64;
  static constexpr std::uint32_t abi_bit = 0x40000000U;  // __X32_SYSCALL_BIT
  static constexpr target value{name, audit, &numbers, abi_bit, detail::syscall_max_x86_64 + 1};
};

// `x86` is the 32-bit x86 ABI, i386 (also reachable from 64-bit processes through int 0x80).
// Not spelled `i386`: GNU modes predefine that macro on 32-bit x86.
struct x86 {
  static constexpr std::string_view name = "x86";
  static constexpr std::uint32_t audit = AUDIT_ARCH_I386;
  static constexpr const auto& numbers = detail::syscall_numbers_i386;
  static constexpr std::uint32_t abi_bit = 0;
  static constexpr target value{name, audit, &numbers, abi_bit, detail::syscall_max_i386 + 1, 32};
};

// `aarch64` is the 64-bit Arm ABI. No other ABI shares its audit value (32-bit Arm has its own).
struct aarch64 {
  static constexpr std::string_view name = "aarch64";
  static constexpr std::uint32_t audit = AUDIT_ARCH_AARCH64;
  static constexpr const auto& numbers = detail::syscall_numbers_aarch64;
  static constexpr std::uint32_t abi_bit = 0;
  static constexpr target value{name, audit, &numbers, abi_bit, detail::syscall_max_aarch64 + 1};
};

// `riscv64` is the 64-bit RISC-V ABI. No other ABI shares its audit value.
struct riscv64 {
  static constexpr std::string_view name = "riscv64";
  static constexpr std::uint32_t audit = AUDIT_ARCH_RISCV64;
  static constexpr const auto& numbers = detail::syscall_numbers_riscv64;
  static constexpr std::uint32_t abi_bit = 0;
  static constexpr target value{name, audit, &numbers, abi_bit, detail::syscall_max_riscv64 + 1};
};

// `native` is the architecture the compiler targets: the same source builds on every one.
#if defined(__x86_64__) && !defined(__ILP32__)
using native = x86_64;
#elif defined(__i386__)
using native = x86;
#elif defined(__aarch64__)
using native = aarch64;
#elif defined(__riscv) && __riscv_xlen == 64
using native = riscv64;
#else
#error "sysfence: this architecture has no syscall table yet (see tools/README.md to add one)"
#endif

}  // namespace sysfence::arch
