// SPDX-License-Identifier: MIT
// bpf.hpp - classic BPF instructions and the seccomp_data layout they read.
#pragma once

#include <cstddef>
#include <cstdint>

#include <linux/filter.h>
#include <linux/seccomp.h>

namespace sysfence::bpf {

// `insn` is the kernel's `struct sock_filter`: the program sysfence emits is an array of it.
using insn = ::sock_filter;

// Offsets of the 32-bit words a filter may load from `struct seccomp_data` (little-endian halves).
inline constexpr std::uint32_t off_nr = offsetof(seccomp_data, nr);
inline constexpr std::uint32_t off_arch = offsetof(seccomp_data, arch);
inline constexpr std::uint32_t off_ip_lo = offsetof(seccomp_data, instruction_pointer);
inline constexpr std::uint32_t off_ip_hi = off_ip_lo + 4;
constexpr std::uint32_t off_arg_lo(unsigned i) noexcept {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * i);
}
constexpr std::uint32_t off_arg_hi(unsigned i) noexcept { return off_arg_lo(i) + 4; }

// Constructors for the instructions sysfence emits; each shows the BPF it stands for.
constexpr insn stmt(std::uint16_t code, std::uint32_t k) noexcept { return {code, 0, 0, k}; }
constexpr insn jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
  return {code, jt, jf, k};
}
// LD [k]: A = 32-bit word of seccomp_data at offset k.
constexpr insn load(std::uint32_t offset) noexcept { return stmt(BPF_LD | BPF_W | BPF_ABS, offset); }
// RET k
constexpr insn ret(std::uint32_t k) noexcept { return stmt(BPF_RET | BPF_K, k); }
// JA k: unconditional jump over k instructions.
constexpr insn ja(std::uint32_t k) noexcept { return stmt(BPF_JMP | BPF_JA, k); }
// AND k
constexpr insn and_k(std::uint32_t k) noexcept { return stmt(BPF_ALU | BPF_AND | BPF_K, k); }
constexpr insn jeq(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
  return jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}
constexpr insn jge(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
  return jump(BPF_JMP | BPF_JGE | BPF_K, k, jt, jf);
}
constexpr insn jgt(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) noexcept {
  return jump(BPF_JMP | BPF_JGT | BPF_K, k, jt, jf);
}

// The kernel's limit on one filter's length (BPF_MAXINSNS).
inline constexpr std::size_t max_insns = 4096;

// `same` compares two instructions field by field (sock_filter has no operator==).
constexpr bool same(const insn& a, const insn& b) noexcept {
  return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
}

}  // namespace sysfence::bpf
