// SPDX-License-Identifier: MIT
// arch.hpp - the target architectures: audit value, syscall numbers, ABI quirks.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <linux/audit.h>

#include "sysfence/detail/syscall_signatures.hpp"
#include "sysfence/detail/syscall_table.hpp"

namespace sysfence::arch {

// `target` is what the compiler core needs to know of an architecture, as plain data.
struct target {
  std::string_view name;
  std::uint32_t audit;                                        // seccomp_data.arch (AUDIT_ARCH_*)
  const std::array<std::int32_t, detail::syscall_count>* numbers;  // by sys::id, -1 = missing
  // The bit of nr that tells apart two ABIs sharing `audit` (x86_64's numbers are below it, x32's
  // have it), or 0.
  std::uint32_t abi_bit;
  std::uint32_t table_size;  // the table's highest number + 1 (without nr_base)
  // What the syscalls read of each argument register: 32 on i386, where seccomp still shows the
  // upper halves a 64-bit process may set before `int $0x80`, so conditions compare low halves.
  std::uint8_t argument_bits = 64;
  // seccomp_data.nr is nr_base + the table's number: x32's __X32_SYSCALL_BIT, else 0.
  std::uint32_t nr_base = 0;
  // x32: from this number on, the table's syscalls are x32's own entry points (512, and newer
  // syscalls are numbered below it); `compat_narrow` says which of their arguments they read as 32
  // bits where x86_64's read 64 (bit N: argument N), by sys::id. 0 and null elsewhere.
  std::uint32_t compat_first = 0;
  const std::array<std::uint8_t, detail::syscall_count>* compat_narrow = nullptr;

  // The arguments of syscall `id` (numbered `nr` in the table) the kernel reads as 32 bits.
  [[nodiscard]] constexpr std::uint8_t narrow_arguments(std::size_t id, std::uint32_t nr) const noexcept {
    if (argument_bits == 32) return 0x3f;
    return compat_narrow != nullptr && compat_first != 0 && nr >= compat_first ? (*compat_narrow)[id] : 0;
  }
  // The first number past the ABI's common syscalls: newer syscalls get numbers from here (x32:
  // below compat_first; elsewhere the table's end).
  [[nodiscard]] constexpr std::uint32_t common_end() const noexcept {
    if (compat_first == 0) return table_size;
    std::uint32_t end = 0;
    for (const std::int32_t n : *numbers)
      if (n >= 0 && static_cast<std::uint32_t>(n) < compat_first && static_cast<std::uint32_t>(n) >= end)
        end = static_cast<std::uint32_t>(n) + 1;
    return end;
  }
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

// `x32` is the x86_64 ABI with 32-bit pointers: x86_64's audit value, its own numbers with bit 30
// set (seccomp_data.nr = __X32_SYSCALL_BIT + the table's number). Its common syscalls are x86_64's
// entry points; its own (512 to 547) mostly compat ones, some of whose arguments are read as 32
// bits (detail::syscall_x32_narrow, generated): conditions on those compare the low halves.
struct x32 {
  static constexpr std::string_view name = "x32";
  static constexpr std::uint32_t audit = AUDIT_ARCH_X86_64;
  static constexpr const auto& numbers = detail::syscall_numbers_x32;
  static constexpr std::uint32_t abi_bit = 0x40000000U;  // __X32_SYSCALL_BIT
  static constexpr target value{name,
                                audit,
                                &numbers,
                                abi_bit,
                                detail::syscall_max_x32 + 1,
                                64,
                                abi_bit,
                                detail::syscall_x32_own_first,
                                &detail::syscall_x32_narrow};
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
#elif defined(__x86_64__)  // -mx32
using native = x32;
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
