// SPDX-License-Identifier: MIT
// fuzz_simulator.cpp - libFuzzer harness for simulate.hpp and dump.hpp: any bytes as a seccomp
// program (up to 4096 instructions) and a seccomp_data; check, evaluate, const_allow and dump
// must not crash or hit undefined behaviour, and must agree with each other:
//   - a program check() accepts evaluates without an error, in at most size() steps;
//   - a (arch, nr) const_allow() proves allowed is allowed by evaluate() whatever the arguments;
//   - dump_to() in a buffer writes what dump() returns.
//
// Input: byte 0 chooses repairs that make random bytes look like a program (so that most runs
// reach deep into evaluate rather than stopping at the first bad opcode), bytes 1..64 are the
// seccomp_data, the rest are 8-byte instructions as the kernel reads them.
#include "sysfence/dump.hpp"
#include "sysfence/simulate.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

namespace {

namespace bpf = sysfence::bpf;

// Every opcode seccomp accepts, for the "valid opcodes" repair.
constexpr std::array<std::uint16_t, 41> opcodes{
    BPF_LD | BPF_W | BPF_ABS,
    BPF_LD | BPF_W | BPF_LEN,
    BPF_LDX | BPF_W | BPF_LEN,
    BPF_RET | BPF_K,
    BPF_RET | BPF_A,
    BPF_ALU | BPF_ADD | BPF_K,
    BPF_ALU | BPF_ADD | BPF_X,
    BPF_ALU | BPF_SUB | BPF_K,
    BPF_ALU | BPF_SUB | BPF_X,
    BPF_ALU | BPF_MUL | BPF_K,
    BPF_ALU | BPF_MUL | BPF_X,
    BPF_ALU | BPF_DIV | BPF_K,
    BPF_ALU | BPF_DIV | BPF_X,
    BPF_ALU | BPF_AND | BPF_K,
    BPF_ALU | BPF_AND | BPF_X,
    BPF_ALU | BPF_OR | BPF_K,
    BPF_ALU | BPF_OR | BPF_X,
    BPF_ALU | BPF_XOR | BPF_K,
    BPF_ALU | BPF_XOR | BPF_X,
    BPF_ALU | BPF_LSH | BPF_K,
    BPF_ALU | BPF_LSH | BPF_X,
    BPF_ALU | BPF_RSH | BPF_K,
    BPF_ALU | BPF_RSH | BPF_X,
    BPF_ALU | BPF_NEG,
    BPF_LD | BPF_IMM,
    BPF_LDX | BPF_IMM,
    BPF_MISC | BPF_TAX,
    BPF_MISC | BPF_TXA,
    BPF_LD | BPF_MEM,
    BPF_LDX | BPF_MEM,
    BPF_ST,
    BPF_STX,
    BPF_JMP | BPF_JA,
    BPF_JMP | BPF_JEQ | BPF_K,
    BPF_JMP | BPF_JEQ | BPF_X,
    BPF_JMP | BPF_JGE | BPF_K,
    BPF_JMP | BPF_JGT | BPF_K,
    BPF_JMP | BPF_JSET | BPF_K,
    BPF_JMP | BPF_JGE | BPF_X,
    BPF_JMP | BPF_JGT | BPF_X,
    BPF_JMP | BPF_JSET | BPF_X,
};

[[noreturn]] void fail(const char* what, const std::vector<bpf::insn>& program, const seccomp_data& d) {
  std::fprintf(stderr, "fuzz_simulator: %s\narch 0x%x nr %d args %llx %llx %llx %llx %llx %llx\n%s", what,
               d.arch, d.nr, static_cast<unsigned long long>(d.args[0]),
               static_cast<unsigned long long>(d.args[1]), static_cast<unsigned long long>(d.args[2]),
               static_cast<unsigned long long>(d.args[3]), static_cast<unsigned long long>(d.args[4]),
               static_cast<unsigned long long>(d.args[5]), sysfence::dump(program).c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t repairs = data[0];
  seccomp_data d{};
  const std::size_t header = size - 1 < sizeof d ? size - 1 : sizeof d;
  std::memcpy(&d, data + 1, header);
  if ((repairs & 0x80) != 0) d.arch = (d.arch & 1) != 0 ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;  // a real one

  const std::size_t count = std::min<std::size_t>((size - 1 - header) / sizeof(bpf::insn), bpf::max_insns);
  std::vector<bpf::insn> program(count);
  if (count > 0) std::memcpy(program.data(), data + 1 + header, count * sizeof(bpf::insn));
  for (std::size_t pc = 0; pc < count; ++pc) {
    bpf::insn& i = program[pc];
    if ((repairs & 1) != 0) i.code = opcodes[i.code % opcodes.size()];  // a valid opcode
    const std::size_t room = count - pc - 1;                            // instructions after this one
    if ((repairs & 2) != 0 && BPF_CLASS(i.code) == BPF_JMP) {           // jumps inside the program
      if (room == 0) {
        i.code = BPF_RET | BPF_K;
      } else {
        i.jt = static_cast<std::uint8_t>(i.jt % std::min<std::size_t>(room, 256));
        i.jf = static_cast<std::uint8_t>(i.jf % std::min<std::size_t>(room, 256));
        if (BPF_OP(i.code) == BPF_JA) i.k %= static_cast<std::uint32_t>(room);
      }
    }
    if ((repairs & 4) != 0) {  // loads of seccomp_data words, scratch cells, shifts in range
      if (i.code == (BPF_LD | BPF_W | BPF_ABS)) i.k = (i.k % 16) * 4;
      if (BPF_CLASS(i.code) == BPF_ST || BPF_CLASS(i.code) == BPF_STX || BPF_MODE(i.code) == BPF_MEM)
        i.k %= 16;
      if (i.code == (BPF_ALU | BPF_LSH | BPF_K) || i.code == (BPF_ALU | BPF_RSH | BPF_K)) i.k %= 32;
      if (i.code == (BPF_ALU | BPF_DIV | BPF_K) && i.k == 0) i.k = 1;
    }
    if ((repairs & 8) != 0 && BPF_CLASS(i.code) == BPF_RET) i.k &= 0xffff0000U | 0xff;  // common actions
  }
  if ((repairs & 16) != 0 && count > 0) program.back().code = BPF_RET | BPF_K;  // a RET last

  const sysfence::bpf_error checked = sysfence::check(program);
  const sysfence::evaluation e = sysfence::evaluate(program, d);
  if (e.executed > program.size()) fail("evaluate ran more instructions than the program has", program, d);
  if (checked == sysfence::bpf_error::none && e.error != sysfence::bpf_error::none)
    fail("evaluate reports an error for a program check accepts", program, d);

  const sysfence::const_allow_result cached =
      sysfence::const_allow(program, d.arch, static_cast<std::uint32_t>(d.nr));
  if (cached.emulated > program.size())
    fail("const_allow stepped through more instructions than the program has", program, d);
  if (checked == sysfence::bpf_error::none && cached.allowed && !(e == sysfence::action::allow))
    fail("const_allow proves this (arch, nr) allowed, evaluate does not allow the call", program, d);

  const std::string text =
      (repairs & 32) != 0 ? sysfence::dump<sysfence::arch::x86>(program) : sysfence::dump(program);
  if ((repairs & 64) != 0) {
    static constexpr std::size_t capacity = 1 << 16;
    static sysfence::dumped<capacity> in_buffer;  // static: 64 KiB
    in_buffer = (repairs & 32) != 0 ? sysfence::dump_to<capacity, sysfence::arch::x86>(program)
                                    : sysfence::dump_to<capacity>(program);
    if (in_buffer.size != text.size() || (text.size() <= capacity && in_buffer.view() != text))
      fail("dump_to and dump differ", program, d);
  }
  return 0;
}
