// SPDX-License-Identifier: MIT
// simulate.hpp - a constexpr seccomp BPF checker, interpreter and action-cache emulator.
#pragma once

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/detail/syscall_table.hpp"

#include <array>
#include <concepts>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <linux/filter.h>
#include <linux/seccomp.h>

namespace sysfence {

// `bpf_error` says why the kernel would reject a program, or why it could not be run.
enum class bpf_error : std::uint8_t {
  none,
  empty,
  too_long,
  bad_opcode,
  bad_load_offset,
  bad_jump,
  bad_scratch_index,
  shift_too_large,
  division_by_zero_constant,
  uninitialised_scratch,
  no_return_at_end,
};

// `describe` says in one sentence what a `bpf_error` means.
constexpr std::string_view describe(bpf_error e) noexcept {
  switch (e) {
    case bpf_error::none: return "No error was found.";
    case bpf_error::empty: return "The program has no instructions.";
    case bpf_error::too_long: return "The program has more than 4096 instructions (BPF_MAXINSNS).";
    case bpf_error::bad_opcode:
      return "An instruction's opcode is not one of the classic BPF opcodes seccomp allows.";
    case bpf_error::bad_load_offset:
      return "A load from seccomp_data is not 4-byte aligned or lies past its 64 bytes.";
    case bpf_error::bad_jump: return "A jump lands past the last instruction.";
    case bpf_error::bad_scratch_index: return "A scratch memory access names a cell outside M[0..15].";
    case bpf_error::shift_too_large: return "A shift by a constant shifts by 32 bits or more.";
    case bpf_error::division_by_zero_constant: return "A division by a constant divides by 0.";
    case bpf_error::uninitialised_scratch:
      return "A scratch memory cell may be read before it is written on some path.";
    case bpf_error::no_return_at_end:
      return "The last instruction is not a return, so execution could run off the end.";
  }
  return "Unknown error.";
}

// `evaluation` is what running a program on one seccomp_data gives.
struct evaluation {
  // `result` is the value the program returned (RET k or RET A); meaningless when `error` is set.
  action result;
  // `executed` counts the instructions run, including the RET (or the faulting instruction).
  std::uint32_t executed = 0;
  // `error` is none unless an instruction met on the way is invalid, or the path ran off the end.
  bpf_error error = bpf_error::none;

  friend constexpr bool operator==(const evaluation& e, action a) noexcept {
    return e.error == bpf_error::none && e.result == a;
  }
};

// `const_allow_result` is the kernel's action-cache verdict for one (arch, nr).
struct const_allow_result {
  // `allowed` is true when the program provably returns SECCOMP_RET_ALLOW for that (arch, nr).
  bool allowed = false;
  // `emulated` counts the instructions the emulation stepped through, including the last one.
  std::uint32_t emulated = 0;
};

namespace detail {

// `bpf_memwords` is the number of 32-bit scratch cells, M[0..15] (BPF_MEMWORDS).
inline constexpr std::uint32_t bpf_memwords = BPF_MEMWORDS;
// `seccomp_data_size` is what BPF_LD|BPF_W|BPF_LEN loads: seccomp has no packet, only the struct.
inline constexpr std::uint32_t seccomp_data_size = sizeof(seccomp_data);
static_assert(seccomp_data_size == 64, "sysfence: seccomp_data is 64 bytes on every Linux ABI");

// `valid_load_offset` is the seccomp_check_filter() rule for LD W ABS: 4-aligned, inside the struct.
constexpr bool valid_load_offset(std::uint32_t offset) noexcept {
  return offset < seccomp_data_size && offset % 4 == 0;
}

// `load_word` is the 32-bit word of `data` at byte `offset` (0 if the offset is not a valid load).
// The words come from the fields, as the bytes lie in memory on this machine: on little-endian
// (x86_64) the low half of a 64-bit field comes first, so args[i] is lo at 16+8i, hi at 20+8i.
constexpr std::uint32_t load_word(const seccomp_data& data, std::uint32_t offset) noexcept {
  if (!valid_load_offset(offset)) {
    return 0;
  }
  if (offset < bpf::off_ip_lo) {
    return offset == bpf::off_nr ? static_cast<std::uint32_t>(data.nr) : data.arch;
  }
  // Offsets 8..63 are the halves of the 64-bit fields: instruction_pointer, then args[0..5].
  const std::uint64_t field =
      offset < bpf::off_arg_lo(0) ? data.instruction_pointer : data.args[(offset - bpf::off_arg_lo(0)) / 8];
  const bool high_half = (offset % 8 == 4) == (std::endian::native == std::endian::little);
  return static_cast<std::uint32_t>(high_half ? field >> 32 : field);
}

// `jump_in_range` is true when landing `skip` instructions after the one following `pc` stays
// inside a program of `len` instructions (bpf_check_classic(): pc + skip + 1 < len).
constexpr bool jump_in_range(std::size_t pc, std::uint32_t skip, std::size_t len) noexcept {
  return skip < len - pc - 1;  // pc < len, so len - pc - 1 does not wrap
}

// `operand_rule` is what bpf_check_classic() and seccomp_check_filter() check beyond the opcode.
enum class operand_rule : std::uint8_t {
  refused,      // not on seccomp's whitelist
  plain,        // nothing more to check
  load_abs,     // seccomp_check_filter(): 4-aligned offset inside seccomp_data
  div_k,        // bpf_check_classic(): K != 0
  shift_k,      // bpf_check_classic(): K < 32
  scratch,      // bpf_check_classic(): K < BPF_MEMWORDS
  jump_always,  // bpf_check_classic(): JA lands inside the program
  jump_if,      // bpf_check_classic(): both jt and jf land inside the program
};

// `operand_rule_table` gives each opcode its rule (every opcode seccomp allows fits in 8 bits).
// A plain array member, read with `[]` on the member: clang counts constexpr steps for every
// statement run, including those inside std::array's and std::span's operator[], and every
// instruction of every program passes through this table.
struct operand_rule_table {
  operand_rule of[256];
};

// `operand_rules` is seccomp_check_filter()'s whitelist, a subset of bpf_check_classic()'s
// chk_code_allowed(): no MOD, no H/B or IND loads, no LDX MSH. Everything not listed is refused.
inline constexpr operand_rule_table operand_rules = [] {
  operand_rule_table t{};  // value-initialised: refused
  auto& r = t.of;
  r[BPF_LD | BPF_W | BPF_ABS] = operand_rule::load_abs;
  r[BPF_LD | BPF_W | BPF_LEN] = operand_rule::plain;   // rewritten to A = sizeof(seccomp_data)
  r[BPF_LDX | BPF_W | BPF_LEN] = operand_rule::plain;  // rewritten to X = sizeof(seccomp_data)
  r[BPF_RET | BPF_K] = operand_rule::plain;
  r[BPF_RET | BPF_A] = operand_rule::plain;
  for (const int src : {BPF_K, BPF_X}) {
    for (const int op : {BPF_ADD, BPF_SUB, BPF_MUL, BPF_AND, BPF_OR, BPF_XOR}) {
      r[BPF_ALU | op | src] = operand_rule::plain;
    }
  }
  r[BPF_ALU | BPF_DIV | BPF_K] = operand_rule::div_k;
  r[BPF_ALU | BPF_DIV | BPF_X] = operand_rule::plain;  // X == 0 makes the filter return 0
  r[BPF_ALU | BPF_LSH | BPF_K] = operand_rule::shift_k;
  r[BPF_ALU | BPF_RSH | BPF_K] = operand_rule::shift_k;
  r[BPF_ALU | BPF_LSH | BPF_X] = operand_rule::plain;
  r[BPF_ALU | BPF_RSH | BPF_X] = operand_rule::plain;
  r[BPF_ALU | BPF_NEG] = operand_rule::plain;
  r[BPF_LD | BPF_IMM] = operand_rule::plain;
  r[BPF_LDX | BPF_IMM] = operand_rule::plain;
  r[BPF_MISC | BPF_TAX] = operand_rule::plain;
  r[BPF_MISC | BPF_TXA] = operand_rule::plain;
  r[BPF_LD | BPF_MEM] = operand_rule::scratch;
  r[BPF_LDX | BPF_MEM] = operand_rule::scratch;
  r[BPF_ST] = operand_rule::scratch;
  r[BPF_STX] = operand_rule::scratch;
  r[BPF_JMP | BPF_JA] = operand_rule::jump_always;
  for (const int src : {BPF_K, BPF_X}) {
    for (const int op : {BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET}) {
      r[BPF_JMP | op | src] = operand_rule::jump_if;
    }
  }
  return t;
}();

// `rule_of` is the operand rule of an opcode; opcodes past the table are refused.
constexpr operand_rule rule_of(std::uint16_t code) noexcept {
  return code < 256 ? operand_rules.of[code] : operand_rule::refused;
}

// `insn_error` checks one instruction as the kernel does when the filter is attached. `check`
// and `evaluate` both use it, so they cannot disagree about an instruction.
constexpr bpf_error insn_error(const bpf::insn& insn, std::size_t pc, std::size_t len) noexcept {
  using enum operand_rule;
  switch (rule_of(insn.code)) {
    // Most frequent first (jumps, loads, returns): clang counts a step per case walked past.
    case jump_if:
      return jump_in_range(pc, insn.jt, len) && jump_in_range(pc, insn.jf, len) ? bpf_error::none
                                                                                : bpf_error::bad_jump;
    case load_abs: return valid_load_offset(insn.k) ? bpf_error::none : bpf_error::bad_load_offset;
    case plain: return bpf_error::none;
    case jump_always: return jump_in_range(pc, insn.k, len) ? bpf_error::none : bpf_error::bad_jump;
    case scratch: return insn.k < bpf_memwords ? bpf_error::none : bpf_error::bad_scratch_index;
    case shift_k: return insn.k < 32 ? bpf_error::none : bpf_error::shift_too_large;
    case div_k: return insn.k != 0 ? bpf_error::none : bpf_error::division_by_zero_constant;
    case refused: return bpf_error::bad_opcode;
  }
  return bpf_error::bad_opcode;
}

// `is_ret` is true for the two return instructions.
constexpr bool is_ret(const bpf::insn& insn) noexcept {
  return insn.code == (BPF_RET | BPF_K) || insn.code == (BPF_RET | BPF_A);
}

// `scratch_error` mirrors check_load_and_stores(): a single forward pass where `valid` holds the
// cells written on every path so far. A jump leaves its `valid` at each target and the next
// instruction starts over from the targets' intersection. Only jumps reset `valid`: the
// instruction after a RET inherits the RET's set, exactly as in the kernel (which therefore
// rejects a read in unreachable code after a RET). Needs a program `insn_error` accepted.
constexpr bpf_error scratch_error(std::span<const bpf::insn> program) noexcept {
  constexpr std::uint16_t all = 0xFFFF;
  // The kernel keeps `masks[pc]` (cells valid on every jump into pc, initially all); this keeps
  // the complement, so value-initialisation is the right start and costs no loop.
  std::uint16_t missing_at[bpf::max_insns]{};  // array, not std::array: see operand_rule_table
  const bpf::insn* const insns = program.data();
  const std::size_t len = program.size();
  std::uint16_t valid = 0;
  for (std::size_t pc = 0; pc < len; ++pc) {
    const bpf::insn& insn = insns[pc];
    const operand_rule rule = rule_of(insn.code);
    valid = static_cast<std::uint16_t>(valid & ~missing_at[pc]);
    if (rule == operand_rule::scratch) {
      const auto cell = static_cast<std::uint16_t>(1U << insn.k);
      // ST and STX write the cell; LD and LDX read it.
      const bool writes = BPF_CLASS(insn.code) == BPF_ST || BPF_CLASS(insn.code) == BPF_STX;
      if (!writes && (valid & cell) == 0) {
        return bpf_error::uninitialised_scratch;
      }
      valid = static_cast<std::uint16_t>(valid | cell);
    } else if (rule == operand_rule::jump_always || rule == operand_rule::jump_if) {
      const auto missing = static_cast<std::uint16_t>(~valid);
      const bool always = rule == operand_rule::jump_always;
      missing_at[pc + 1 + (always ? insn.k : insn.jt)] |= missing;
      missing_at[pc + 1 + (always ? insn.k : insn.jf)] |= missing;
      valid = all;
    }
  }
  return bpf_error::none;
}

// `jump_taken` is the condition of a conditional jump, compared as unsigned 32-bit values.
constexpr bool jump_taken(std::uint16_t code, std::uint32_t a, std::uint32_t operand) noexcept {
  switch (BPF_OP(code)) {
    case BPF_JEQ: return a == operand;
    case BPF_JGT: return a > operand;
    case BPF_JGE: return a >= operand;
    case BPF_JSET: return (a & operand) != 0;
    default: return false;  // not reached: insn_error admits only the four above
  }
}

// `jump_skip` is how many instructions a jump skips: k for JA, else jt or jf by its condition.
constexpr std::uint32_t jump_skip(const bpf::insn& insn, std::uint32_t a, std::uint32_t operand) noexcept {
  if (BPF_OP(insn.code) == BPF_JA) {
    return insn.k;
  }
  return jump_taken(insn.code, a, operand) ? insn.jt : insn.jf;
}

// `alu` applies a 32-bit ALU operation to A; all arithmetic wraps modulo 2^32 as in the kernel.
// Division by 0 never gets here: DIV K 0 is refused by insn_error, DIV X 0 returns early.
constexpr std::uint32_t alu(std::uint16_t code, std::uint32_t a, std::uint32_t operand) noexcept {
  switch (BPF_OP(code)) {
    case BPF_ADD: return a + operand;
    case BPF_SUB: return a - operand;
    case BPF_MUL: return static_cast<std::uint32_t>(std::uint64_t{a} * operand);
    case BPF_DIV: return operand == 0 ? 0 : a / operand;
    case BPF_AND: return a & operand;
    case BPF_OR: return a | operand;
    case BPF_XOR: return a ^ operand;
    // A shift by X uses its low 5 bits: the kernel's interpreter masks `SRC & 31` (kernel/bpf/
    // core.c) and x86_64's JIT leaves it to the CPU, which masks the same. K is already < 32.
    case BPF_LSH: return a << (operand & 31);
    case BPF_RSH: return a >> (operand & 31);
    case BPF_NEG: return 0U - a;
    default: return a;  // not reached: insn_error admits only the operations above
  }
}

}  // namespace detail

// `check` says whether the kernel would accept `program` as a seccomp filter, in the order the
// kernel checks: length (seccomp_prepare_filter), each instruction in turn (bpf_check_classic and
// seccomp_check_filter), a RET last (bpf_check_classic), scratch reads (check_load_and_stores).
constexpr bpf_error check(std::span<const bpf::insn> program) noexcept {
  if (program.empty()) {
    return bpf_error::empty;
  }
  if (program.size() > bpf::max_insns) {
    return bpf_error::too_long;
  }
  const bpf::insn* const insns = program.data();  // not span's operator[]: see operand_rule_table
  const std::size_t len = program.size();
  for (std::size_t pc = 0; pc < len; ++pc) {
    if (const bpf_error e = detail::insn_error(insns[pc], pc, len); e != bpf_error::none) {
      return e;
    }
  }
  if (!detail::is_ret(program.back())) {
    return bpf_error::no_return_at_end;
  }
  return detail::scratch_error(program);
}

// `evaluate` runs `program` over `data` the way the kernel does: A and X start at 0, scratch cells
// must be written before they are read, a division by X == 0 returns 0 (bpf_convert_filter()),
// and every jump is forward, so the run ends within `program.size()` steps. Only the instructions
// met are checked, so `error` is set only for programs `check` rejects, but a program `check`
// rejects may still evaluate cleanly for some data: call `check` once to validate a program.
constexpr evaluation evaluate(std::span<const bpf::insn> program, const seccomp_data& data) noexcept {
  if (program.empty()) {
    return {.result = {}, .executed = 0, .error = bpf_error::empty};
  }
  if (program.size() > bpf::max_insns) {
    return {.result = {}, .executed = 0, .error = bpf_error::too_long};
  }
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::array<std::uint32_t, detail::bpf_memwords> scratch{};
  std::uint16_t written = 0;  // scratch cells stored so far on this path
  std::uint32_t executed = 0;

  const bpf::insn* const insns = program.data();  // not span's operator[]: see operand_rule_table
  const std::size_t len = program.size();
  std::size_t pc = 0;
  while (pc < len) {
    const bpf::insn& insn = insns[pc];
    ++executed;
    if (const bpf_error e = detail::insn_error(insn, pc, len); e != bpf_error::none) {
      return {.result = {}, .executed = executed, .error = e};
    }
    const std::uint32_t k = insn.k;
    const std::uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;  // for ALU and JMP
    std::size_t next = pc + 1;
    // Classes in order of frequency in filters: clang counts a step for each case it walks past.
    switch (BPF_CLASS(insn.code)) {
      // JA skips k instructions; the others skip jt or jf, comparing A with K or X.
      case BPF_JMP: next += detail::jump_skip(insn, a, operand); break;
      // A = word of seccomp_data, A = K, A = sizeof(seccomp_data) for LEN, or A = M[k].
      case BPF_LD:
        switch (BPF_MODE(insn.code)) {
          case BPF_ABS: a = detail::load_word(data, k); break;
          case BPF_IMM: a = k; break;
          case BPF_LEN: a = detail::seccomp_data_size; break;
          case BPF_MEM:
            if ((written & (1U << k)) == 0) {
              return {.result = {}, .executed = executed, .error = bpf_error::uninitialised_scratch};
            }
            a = scratch[k];
            break;
          default: break;  // not reached: insn_error refuses the other modes
        }
        break;
      // RET K or RET A ends the run.
      case BPF_RET:
        return {.result = action{BPF_RVAL(insn.code) == BPF_A ? a : k},
                .executed = executed,
                .error = bpf_error::none};
      // A = A op K, or A op X; the kernel answers 0 for a division by X == 0 (bpf_convert_filter()).
      case BPF_ALU:
        if (BPF_OP(insn.code) == BPF_DIV && operand == 0) {
          return {.result = action{0}, .executed = executed, .error = bpf_error::none};
        }
        a = detail::alu(insn.code, a, operand);
        break;
      // M[k] = A
      case BPF_ST:
        scratch[k] = a;
        written = static_cast<std::uint16_t>(written | (1U << k));
        break;
      // M[k] = X
      case BPF_STX:
        scratch[k] = x;
        written = static_cast<std::uint16_t>(written | (1U << k));
        break;
      // X = K, X = sizeof(seccomp_data) for LEN, or X = M[k].
      case BPF_LDX:
        switch (BPF_MODE(insn.code)) {
          case BPF_IMM: x = k; break;
          case BPF_LEN: x = detail::seccomp_data_size; break;
          case BPF_MEM:
            if ((written & (1U << k)) == 0) {
              return {.result = {}, .executed = executed, .error = bpf_error::uninitialised_scratch};
            }
            x = scratch[k];
            break;
          default: break;  // not reached: insn_error refuses the other modes
        }
        break;
      // TAX: X = A; TXA: A = X.
      case BPF_MISC:
        if (BPF_MISCOP(insn.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default: break;  // not reached: insn_error refuses every other class
    }
    pc = next;
  }
  // Only a program without a RET at the end gets here (bpf_check_classic() refuses it).
  return {.result = {}, .executed = executed, .error = bpf_error::no_return_at_end};
}

// `const_allow` emulates the kernel's seccomp_is_const_allow() (kernel/seccomp.c, 5.11+), which
// fills the action cache when a filter is attached: a run where only nr and arch are known. It
// follows LD W ABS of nr or arch, AND K, JA and JEQ/JGE/JGT/JSET with K, and answers at the first
// RET K (allowed iff K == SECCOMP_RET_ALLOW). Any other instruction, a load of anything else, or
// running off the end means "not provably allowed". Like the kernel, it looks at the program as
// written (the cache works on the original program, so LD W LEN is not followed either).
constexpr const_allow_result const_allow(std::span<const bpf::insn> program, std::uint32_t arch,
                                         std::uint32_t nr) noexcept {
  std::uint32_t reg = 0;
  std::uint32_t emulated = 0;
  // 64-bit pc: a huge JA k in an unchecked program cannot wrap around to jump backwards.
  const bpf::insn* const insns = program.data();
  const std::size_t len = program.size();
  for (std::uint64_t pc = 0; pc < len; ++pc) {
    const bpf::insn& insn = insns[pc];
    ++emulated;
    switch (insn.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (insn.k == bpf::off_nr) {
          reg = nr;
        } else if (insn.k == bpf::off_arch) {
          reg = arch;
        } else {
          return {.allowed = false, .emulated = emulated};  // not a constant: args, IP
        }
        break;
      case BPF_RET | BPF_K: return {.allowed = insn.k == SECCOMP_RET_ALLOW, .emulated = emulated};
      case BPF_JMP | BPF_JA: pc += insn.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += detail::jump_taken(insn.code, reg, insn.k) ? insn.jt : insn.jf;
        break;
      case BPF_ALU | BPF_AND | BPF_K: reg &= insn.k; break;
      default: return {.allowed = false, .emulated = emulated};  // X, scratch, other ALU, RET A
    }
  }
  return {.allowed = false, .emulated = emulated};  // ran off the end
}

// `call` is the seccomp_data the kernel would pass for syscall `s` with `args` on `Arch`
// (nr is -1 where `Arch` lacks the syscall), for evaluate(): `evaluate(p, call(sys::write, 1))`.
template <class Arch = arch::native>
constexpr seccomp_data call(sys::id s, const std::array<std::uint64_t, 6>& args) noexcept {
  const std::int32_t nr = Arch::numbers[static_cast<std::size_t>(s)];
  seccomp_data d{nr < 0 ? -1 : static_cast<int>(Arch::value.nr_base) + nr, Arch::audit, 0, {}};
  for (std::size_t i = 0; i < args.size(); ++i) d.args[i] = args[i];
  return d;
}
template <class Arch = arch::native, std::convertible_to<std::uint64_t>... Args>
constexpr seccomp_data call(sys::id s, Args... args) noexcept {
  static_assert(sizeof...(Args) <= 6, "sysfence: call() takes at most six arguments");
  return call<Arch>(s, std::array<std::uint64_t, 6>{static_cast<std::uint64_t>(args)...});
}

}  // namespace sysfence
