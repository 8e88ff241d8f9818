// SPDX-License-Identifier: MIT
// simulate.cpp - tests for simulate.hpp: check, evaluate and const_allow on hand-written programs.
#include "sysfence/simulate.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

namespace {

namespace bpf = sysfence::bpf;
using bpf::insn;
using sysfence::action;
using sysfence::bpf_error;
using sysfence::check;
using sysfence::const_allow;
using sysfence::evaluate;

constexpr std::uint32_t x86_64 = AUDIT_ARCH_X86_64;
constexpr std::uint32_t i386 = AUDIT_ARCH_I386;

// `call` is the seccomp_data of one system call.
constexpr seccomp_data call(int nr, std::array<std::uint64_t, 6> args = {}, std::uint32_t arch = x86_64,
                            std::uint64_t ip = 0) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.instruction_pointer = ip;
  for (std::size_t i = 0; i < args.size(); ++i) {
    d.args[i] = args[i];
  }
  return d;
}

// Instructions bpf.hpp has no constructor for, spelled as the BPF they stand for.
constexpr insn raw(std::uint16_t code, std::uint32_t k = 0, std::uint8_t jt = 0, std::uint8_t jf = 0) {
  return {code, jt, jf, k};
}
constexpr insn ld_imm(std::uint32_t k) { return raw(BPF_LD | BPF_IMM, k); }    // A = k
constexpr insn ldx_imm(std::uint32_t k) { return raw(BPF_LDX | BPF_IMM, k); }  // X = k
constexpr insn ld_len() { return raw(BPF_LD | BPF_W | BPF_LEN); }              // A = len
constexpr insn ldx_len() { return raw(BPF_LDX | BPF_W | BPF_LEN); }            // X = len
constexpr insn ld_mem(std::uint32_t k) { return raw(BPF_LD | BPF_MEM, k); }    // A = M[k]
constexpr insn ldx_mem(std::uint32_t k) { return raw(BPF_LDX | BPF_MEM, k); }  // X = M[k]
constexpr insn st(std::uint32_t k) { return raw(BPF_ST, k); }                  // M[k] = A
constexpr insn stx(std::uint32_t k) { return raw(BPF_STX, k); }                // M[k] = X
constexpr insn tax() { return raw(BPF_MISC | BPF_TAX); }                       // X = A
constexpr insn txa() { return raw(BPF_MISC | BPF_TXA); }                       // A = X
constexpr insn ret_a() { return raw(BPF_RET | BPF_A); }                        // RET A
constexpr insn alu_k(std::uint16_t op, std::uint32_t k) { return raw(BPF_ALU | op | BPF_K, k); }
constexpr insn alu_x(std::uint16_t op) { return raw(BPF_ALU | op | BPF_X); }
constexpr insn neg() { return raw(BPF_ALU | BPF_NEG); }
constexpr insn jmp_k(std::uint16_t op, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return raw(BPF_JMP | op | BPF_K, k, jt, jf);
}
constexpr insn jmp_x(std::uint16_t op, std::uint8_t jt, std::uint8_t jf) {
  return raw(BPF_JMP | op | BPF_X, 0, jt, jf);
}

// `is` is true when `program` returns `a` for `data` after running exactly `executed` instructions.
constexpr bool is(std::span<const insn> program, const seccomp_data& data, action a, std::uint32_t executed) {
  const auto e = evaluate(program, data);
  return e == a && e.executed == executed;
}

// `fails` is true when evaluating `program` on `data` stops with `error` after `executed` steps.
constexpr bool fails(std::span<const insn> program, const seccomp_data& data, bpf_error error,
                     std::uint32_t executed) {
  const auto e = evaluate(program, data);
  return e.error == error && e.executed == executed;
}

// --- load_word -----------------------------------------------------------------------------

// `sample` has a distinct value in every 32-bit word.
constexpr seccomp_data sample() {
  std::array<std::uint64_t, 6> args{};
  for (std::uint32_t i = 0; i < 6; ++i) {
    args[i] = (std::uint64_t{0xA000 + i} << 32) | (0xB000 + i);
  }
  return call(257, args, x86_64, 0x1122334455667788);
}

constexpr bool load_word_reads_every_field() {
  using sysfence::detail::load_word;
  const seccomp_data d = sample();
  bool ok = load_word(d, 0) == 257 && load_word(d, 4) == x86_64 && load_word(d, 8) == 0x55667788 &&
            load_word(d, 12) == 0x11223344;
  for (std::uint32_t i = 0; i < 6; ++i) {
    ok = ok && load_word(d, bpf::off_arg_lo(i)) == 0xB000 + i &&
         load_word(d, bpf::off_arg_hi(i)) == 0xA000 + i;
  }
  return ok;
}
static_assert(load_word_reads_every_field());
TEST_CASE("load_word reads nr, arch, both halves of the IP and of each argument") {
  CHECK(load_word_reads_every_field());
}

constexpr bool load_word_of_negative_nr_is_its_bits() {
  return sysfence::detail::load_word(call(-1), bpf::off_nr) == 0xFFFFFFFF;
}
static_assert(load_word_of_negative_nr_is_its_bits());
TEST_CASE("load_word gives a negative nr as its two's complement bits") {
  CHECK(load_word_of_negative_nr_is_its_bits());
}

constexpr bool load_word_of_invalid_offset_is_zero() {
  using sysfence::detail::load_word;
  const seccomp_data d = sample();
  return load_word(d, 64) == 0 && load_word(d, 2) == 0 && load_word(d, 0xFFFFFFFC) == 0;
}
static_assert(load_word_of_invalid_offset_is_zero());
TEST_CASE("load_word gives 0 for offsets the kernel refuses") {
  CHECK(load_word_of_invalid_offset_is_zero());
}

// --- loads, stores and registers ---------------------------------------------------------------

// LD [k]; RET A returns every word of seccomp_data, in two steps.
constexpr bool ld_abs_loads_every_word() {
  const seccomp_data d = sample();
  for (std::uint32_t off = 0; off < 64; off += 4) {
    const std::array program{bpf::load(off), ret_a()};
    if (!is(program, d, action{sysfence::detail::load_word(d, off)}, 2)) {
      return false;
    }
  }
  return true;
}
static_assert(ld_abs_loads_every_word());
TEST_CASE("LD W ABS loads each 32-bit word of seccomp_data") { CHECK(ld_abs_loads_every_word()); }

constexpr std::array a_starts_at_zero{ret_a()};
constexpr std::array x_starts_at_zero{txa(), ret_a()};
constexpr bool registers_start_at_zero() {
  return is(a_starts_at_zero, sample(), action{0}, 1) && is(x_starts_at_zero, sample(), action{0}, 2);
}
static_assert(registers_start_at_zero());
TEST_CASE("A and X start at 0") { CHECK(registers_start_at_zero()); }

constexpr std::array ld_imm_program{ld_imm(42), ret_a()};
constexpr std::array ldx_imm_program{ldx_imm(7), txa(), ret_a()};
constexpr std::array tax_program{ld_imm(9), tax(), ld_imm(0), txa(), ret_a()};
constexpr bool immediates_and_transfers_work() {
  return is(ld_imm_program, call(0), action{42}, 2) && is(ldx_imm_program, call(0), action{7}, 3) &&
         is(tax_program, call(0), action{9}, 5);
}
static_assert(immediates_and_transfers_work());
TEST_CASE("LD IMM, LDX IMM, TAX and TXA move values between K, A and X") {
  CHECK(immediates_and_transfers_work());
}

// seccomp_check_filter() turns LEN loads into immediates of sizeof(seccomp_data).
constexpr std::array ld_len_program{ld_len(), ret_a()};
constexpr std::array ldx_len_program{ldx_len(), txa(), ret_a()};
constexpr bool len_loads_give_64() {
  return check(ld_len_program) == bpf_error::none && check(ldx_len_program) == bpf_error::none &&
         is(ld_len_program, call(0), action{64}, 2) && is(ldx_len_program, call(0), action{64}, 3);
}
static_assert(len_loads_give_64());
TEST_CASE("LD W LEN and LDX W LEN load sizeof(seccomp_data) = 64") { CHECK(len_loads_give_64()); }

// M[3] = 5, M[15] = 6, then A = M[15], X = M[3], A += X.
constexpr std::array scratch_program{ld_imm(5),  st(3),      ldx_imm(6), stx(15),        ld_imm(0),
                                     ldx_imm(0), ld_mem(15), ldx_mem(3), alu_x(BPF_ADD), ret_a()};
constexpr bool scratch_memory_round_trips() {
  return check(scratch_program) == bpf_error::none && is(scratch_program, call(0), action{11}, 10);
}
static_assert(scratch_memory_round_trips());
TEST_CASE("ST, STX, LD MEM and LDX MEM store and load scratch cells") { CHECK(scratch_memory_round_trips()); }

// --- ALU -------------------------------------------------------------------------------------

constexpr std::array<std::uint32_t, 9> operands{0, 1, 2, 7, 31, 32, 33, 0x80000000, 0xFFFFFFFF};
constexpr std::array<std::uint16_t, 9> alu_ops{BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND,
                                               BPF_OR,  BPF_XOR, BPF_LSH, BPF_RSH};

// `expected_alu` is what the kernel computes, as plain C++ on 32-bit unsigned values.
constexpr std::uint32_t expected_alu(std::uint16_t op, std::uint32_t a, std::uint32_t b) {
  switch (op) {
    case BPF_ADD: return a + b;
    case BPF_SUB: return a - b;
    case BPF_MUL: return static_cast<std::uint32_t>((std::uint64_t{a} * b) & 0xFFFFFFFF);
    case BPF_DIV: return b == 0 ? 0 : a / b;
    case BPF_AND: return a & b;
    case BPF_OR: return a | b;
    case BPF_XOR: return a ^ b;
    case BPF_LSH: return a << (b % 32);
    case BPF_RSH: return a >> (b % 32);
    default: return 0xDEADBEEF;
  }
}

// Every ALU op with K (where the kernel accepts K) and with X, over pairs of edge values.
constexpr bool alu_ops_match_plain_cpp() {
  for (const std::uint16_t op : alu_ops) {
    for (const std::uint32_t a : operands) {
      for (const std::uint32_t b : operands) {
        const action want{expected_alu(op, a, b)};
        const std::array with_x{ld_imm(a), ldx_imm(b), alu_x(op), ret_a()};
        if (!is(with_x, call(0), want, b == 0 && op == BPF_DIV ? 3 : 4)) {
          return false;
        }
        const bool k_accepted = !(op == BPF_DIV && b == 0) && !((op == BPF_LSH || op == BPF_RSH) && b >= 32);
        const std::array with_k{ld_imm(a), alu_k(op, b), ret_a()};
        if (k_accepted && !is(with_k, call(0), want, 3)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(alu_ops_match_plain_cpp());
TEST_CASE("ADD SUB MUL DIV AND OR XOR LSH RSH with K and X match plain C++") {
  CHECK(alu_ops_match_plain_cpp());
}

constexpr std::array neg_program{ld_imm(1), neg(), ret_a()};
constexpr std::array neg_zero_program{neg(), ret_a()};
constexpr bool neg_wraps() {
  return is(neg_program, call(0), action{0xFFFFFFFF}, 3) && is(neg_zero_program, call(0), action{0}, 2);
}
static_assert(neg_wraps());
TEST_CASE("NEG negates A modulo 2^32") { CHECK(neg_wraps()); }

constexpr std::array wrap_program{ld_imm(0xFFFFFFFF), alu_k(BPF_MUL, 0xFFFFFFFF), alu_k(BPF_ADD, 2), ret_a()};
constexpr bool arithmetic_wraps() { return is(wrap_program, call(0), action{3}, 4); }
static_assert(arithmetic_wraps());
TEST_CASE("MUL and ADD wrap modulo 2^32") { CHECK(arithmetic_wraps()); }

// bpf_convert_filter(): DIV X with X == 0 makes the filter return 0, SECCOMP_RET_KILL_THREAD.
constexpr std::array div_by_zero_x{ld_imm(10), ldx_imm(0), alu_x(BPF_DIV), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr bool division_by_zero_x_kills_thread() {
  return check(div_by_zero_x) == bpf_error::none && is(div_by_zero_x, call(0), action::kill_thread, 3);
}
static_assert(division_by_zero_x_kills_thread());
TEST_CASE("DIV by X == 0 returns 0 (KILL_THREAD) at once") { CHECK(division_by_zero_x_kills_thread()); }

// kernel/bpf/core.c masks a shift by X to its low 5 bits; 1 << 33 is 1 << 1.
constexpr std::array shift_by_x_33{ld_imm(1), ldx_imm(33), alu_x(BPF_LSH), ret_a()};
constexpr std::array rshift_by_x_32{ld_imm(0x80), ldx_imm(32), alu_x(BPF_RSH), ret_a()};
constexpr std::array shift_by_k_31{ld_imm(1), alu_k(BPF_LSH, 31), alu_k(BPF_RSH, 30), ret_a()};
constexpr bool shifts_follow_the_kernel() {
  return is(shift_by_x_33, call(0), action{2}, 4) && is(rshift_by_x_32, call(0), action{0x80}, 4) &&
         is(shift_by_k_31, call(0), action{2}, 4);
}
static_assert(shifts_follow_the_kernel());
TEST_CASE("shifts by X use X mod 32; shifts by K up to 31 work") { CHECK(shifts_follow_the_kernel()); }

// --- jumps and returns -------------------------------------------------------------------------

constexpr std::array<std::uint16_t, 4> jump_ops{BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};

constexpr bool expected_jump(std::uint16_t op, std::uint32_t a, std::uint32_t b) {
  switch (op) {
    case BPF_JEQ: return a == b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JSET: return (a & b) != 0;
    default: return false;
  }
}

// Each conditional jump with K and with X, both outcomes, jt and jf both non-zero:
// A = a; X = b; Jxx -> 4 : 5; RET 0xBAD; RET 1 (taken); RET 2 (not taken).
constexpr bool conditional_jumps_match_plain_cpp() {
  constexpr action bad{0xBAD};
  for (const std::uint16_t op : jump_ops) {
    for (const std::uint32_t a : operands) {
      for (const std::uint32_t b : operands) {
        const action want{expected_jump(op, a, b) ? 1U : 2U};
        const std::array with_k{ld_imm(a),           ldx_imm(b),  jmp_k(op, b, 1, 2),
                                bpf::ret(bad.value), bpf::ret(1), bpf::ret(2)};
        const std::array with_x{ld_imm(a),           ldx_imm(b),  jmp_x(op, 1, 2),
                                bpf::ret(bad.value), bpf::ret(1), bpf::ret(2)};
        if (check(with_k) != bpf_error::none || !is(with_k, call(0), want, 4) ||
            !is(with_x, call(0), want, 4)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(conditional_jumps_match_plain_cpp());
TEST_CASE("JEQ JGT JGE JSET with K and X take jt when true and jf when false") {
  CHECK(conditional_jumps_match_plain_cpp());
}

// Comparisons are unsigned: 1 > 0x80000000 is false although 0x80000000 is negative as int.
constexpr std::array unsigned_compare{ld_imm(1), bpf::jgt(0x80000000, 0, 1), bpf::ret(1), bpf::ret(2)};
constexpr bool jumps_compare_unsigned() { return is(unsigned_compare, call(0), action{2}, 3); }
static_assert(jumps_compare_unsigned());
TEST_CASE("conditional jumps compare as unsigned 32-bit values") { CHECK(jumps_compare_unsigned()); }

constexpr std::array ja_program{bpf::ja(1), bpf::ret(1), bpf::ret(2)};
constexpr std::array ja_zero_program{bpf::ja(0), bpf::ret(1), bpf::ret(2)};
constexpr std::array both_fall_through{bpf::jeq(0, 0, 0), bpf::ret(7)};
constexpr bool unconditional_and_empty_jumps() {
  return is(ja_program, call(0), action{2}, 2) && is(ja_zero_program, call(0), action{1}, 2) &&
         is(both_fall_through, call(0), action{7}, 2);
}
static_assert(unconditional_and_empty_jumps());
TEST_CASE("JA skips k instructions; jumps by 0 fall through") { CHECK(unconditional_and_empty_jumps()); }

constexpr std::array ret_k_program{bpf::ret(SECCOMP_RET_ERRNO | 13)};
constexpr std::array ret_a_program{ld_imm(SECCOMP_RET_TRAP | 5), ret_a()};
constexpr bool returns_carry_their_data() {
  return is(ret_k_program, call(0), action::error(13), 1) && is(ret_a_program, call(0), action::trap(5), 2);
}
static_assert(returns_carry_their_data());
TEST_CASE("RET K and RET A return the whole 32-bit value, data included") {
  CHECK(returns_carry_their_data());
}

// --- a small policy --------------------------------------------------------------------------

// The shape sysfence emits: arch check, x32 check, dispatch on nr, one argument check.
constexpr std::array dispatch{
    bpf::load(bpf::off_arch),            // 0
    bpf::jeq(x86_64, 0, 9),              // 1: not x86_64 -> 11
    bpf::load(bpf::off_nr),              // 2
    jmp_k(BPF_JSET, 0x40000000, 7, 0),   // 3: x32 -> 11
    bpf::jeq(0, 5, 0),                   // 4: read -> 10
    bpf::jeq(1, 4, 0),                   // 5: write -> 10
    bpf::jeq(16, 0, 2),                  // 6: not ioctl -> 9
    bpf::load(bpf::off_arg_lo(0)),       // 7
    bpf::jeq(1, 1, 0),                   // 8: ioctl(1, ...) -> 10
    bpf::ret(SECCOMP_RET_ERRNO | 1),     // 9
    bpf::ret(SECCOMP_RET_ALLOW),         // 10
    bpf::ret(SECCOMP_RET_KILL_PROCESS),  // 11
};

constexpr bool dispatch_behaves() {
  return check(dispatch) == bpf_error::none && is(dispatch, call(0), action::allow, 6) &&
         is(dispatch, call(1), action::allow, 7) && is(dispatch, call(16, {1}), action::allow, 10) &&
         is(dispatch, call(16, {2}), action::error(1), 10) && is(dispatch, call(2), action::error(1), 8) &&
         is(dispatch, call(0, {}, i386), action::kill_process, 3) &&
         is(dispatch, call(0x40000000), action::kill_process, 5);
}
static_assert(dispatch_behaves());
TEST_CASE("a dispatch policy answers per arch, nr and argument, counting steps") {
  CHECK(dispatch_behaves());
}

// --- check: one program per error ------------------------------------------------------------

constexpr std::array<insn, bpf::max_insns + 1> too_long_program = [] {
  std::array<insn, bpf::max_insns + 1> p{};
  for (auto& i : p) {
    i = bpf::ret(SECCOMP_RET_ALLOW);
  }
  return p;
}();

constexpr std::array mod_program{alu_k(BPF_MOD, 3), bpf::ret(0)};
constexpr std::array mod_x_program{ldx_imm(3), alu_x(BPF_MOD), bpf::ret(0)};
constexpr std::array ld_h_abs_program{raw(BPF_LD | BPF_H | BPF_ABS, 0), bpf::ret(0)};
constexpr std::array ld_b_abs_program{raw(BPF_LD | BPF_B | BPF_ABS, 0), bpf::ret(0)};
constexpr std::array ld_ind_program{raw(BPF_LD | BPF_W | BPF_IND, 0), bpf::ret(0)};
constexpr std::array ldx_msh_program{raw(BPF_LDX | BPF_B | BPF_MSH, 0), bpf::ret(0)};
constexpr std::array ret_x_program{raw(BPF_RET | BPF_X)};
constexpr std::array garbage_program{raw(0xFFFF), bpf::ret(0)};
constexpr std::array xor_program{ld_imm(6), alu_k(BPF_XOR, 3), ldx_imm(1), alu_x(BPF_XOR), ret_a()};

constexpr bool check_knows_seccomps_opcodes() {
  return check(mod_program) == bpf_error::bad_opcode && check(mod_x_program) == bpf_error::bad_opcode &&
         check(ld_h_abs_program) == bpf_error::bad_opcode &&
         check(ld_b_abs_program) == bpf_error::bad_opcode && check(ld_ind_program) == bpf_error::bad_opcode &&
         check(ldx_msh_program) == bpf_error::bad_opcode && check(ret_x_program) == bpf_error::bad_opcode &&
         check(garbage_program) == bpf_error::bad_opcode && check(xor_program) == bpf_error::none &&
         is(xor_program, call(0), action{4}, 5);
}
static_assert(check_knows_seccomps_opcodes());
TEST_CASE("check: seccomp refuses MOD, H/B/IND loads, MSH, RET X; it allows XOR") {
  CHECK(check_knows_seccomps_opcodes());
}

constexpr bool check_refuses_empty() { return check(std::span<const insn>{}) == bpf_error::empty; }
static_assert(check_refuses_empty());
TEST_CASE("check: empty") { CHECK(check_refuses_empty()); }

constexpr bool check_refuses_too_long() {
  return check(too_long_program) == bpf_error::too_long &&
         check(std::span{too_long_program}.first(bpf::max_insns)) == bpf_error::none;
}
static_assert(check_refuses_too_long());
TEST_CASE("check: too_long past 4096 instructions") { CHECK(check_refuses_too_long()); }

constexpr std::array load_64{bpf::load(64), bpf::ret(0)};
constexpr std::array load_2{bpf::load(2), bpf::ret(0)};
constexpr std::array load_60{bpf::load(60), bpf::ret(0)};
constexpr bool check_refuses_bad_load_offsets() {
  return check(load_64) == bpf_error::bad_load_offset && check(load_2) == bpf_error::bad_load_offset &&
         check(load_60) == bpf_error::none;
}
static_assert(check_refuses_bad_load_offsets());
TEST_CASE("check: bad_load_offset for unaligned or out-of-struct loads") {
  CHECK(check_refuses_bad_load_offsets());
}

constexpr std::array jt_past_end{bpf::jeq(0, 1, 0), bpf::ret(0)};
constexpr std::array jf_past_end{bpf::jeq(0, 0, 1), bpf::ret(0)};
constexpr std::array ja_past_end{bpf::ja(1), bpf::ret(0)};
constexpr std::array ja_huge{bpf::ja(0xFFFFFFFF), bpf::ret(0)};
constexpr std::array jump_to_last{bpf::jeq(0, 1, 0), bpf::ret(0), bpf::ret(1)};
constexpr bool check_refuses_bad_jumps() {
  return check(jt_past_end) == bpf_error::bad_jump && check(jf_past_end) == bpf_error::bad_jump &&
         check(ja_past_end) == bpf_error::bad_jump && check(ja_huge) == bpf_error::bad_jump &&
         check(jump_to_last) == bpf_error::none && check(ja_program) == bpf_error::none;
}
static_assert(check_refuses_bad_jumps());
TEST_CASE("check: bad_jump past the last instruction; landing on it is fine") {
  CHECK(check_refuses_bad_jumps());
}

constexpr std::array st_16{st(16), bpf::ret(0)};
constexpr std::array ld_mem_16{ld_mem(16), bpf::ret(0)};
constexpr bool check_refuses_bad_scratch_index() {
  return check(st_16) == bpf_error::bad_scratch_index && check(ld_mem_16) == bpf_error::bad_scratch_index;
}
static_assert(check_refuses_bad_scratch_index());
TEST_CASE("check: bad_scratch_index past M[15]") { CHECK(check_refuses_bad_scratch_index()); }

constexpr std::array lsh_32{alu_k(BPF_LSH, 32), bpf::ret(0)};
constexpr std::array rsh_32{alu_k(BPF_RSH, 32), bpf::ret(0)};
constexpr bool check_refuses_big_shifts() {
  return check(lsh_32) == bpf_error::shift_too_large && check(rsh_32) == bpf_error::shift_too_large &&
         check(shift_by_k_31) == bpf_error::none && check(shift_by_x_33) == bpf_error::none;
}
static_assert(check_refuses_big_shifts());
TEST_CASE("check: shift_too_large for constant shifts of 32 or more") { CHECK(check_refuses_big_shifts()); }

constexpr std::array div_0{alu_k(BPF_DIV, 0), bpf::ret(0)};
constexpr bool check_refuses_division_by_constant_zero() {
  return check(div_0) == bpf_error::division_by_zero_constant && check(div_by_zero_x) == bpf_error::none;
}
static_assert(check_refuses_division_by_constant_zero());
TEST_CASE("check: division_by_zero_constant, but DIV X is accepted") {
  CHECK(check_refuses_division_by_constant_zero());
}

constexpr std::array read_unwritten{ld_mem(0), ret_a()};
// M[0] is written only when nr == 0 falls through to the ST.
constexpr std::array written_on_one_branch{bpf::load(bpf::off_nr), bpf::jeq(0, 0, 1), st(0), ld_mem(0),
                                           ret_a()};
// Both branches write M[0] before they meet at the LD.
constexpr std::array written_on_both_branches{bpf::jeq(0, 0, 2), st(0),  bpf::ja(1), stx(0),
                                              ld_mem(0),         ret_a()};
// check_load_and_stores() does not reset the set after a RET, so this unreachable read is refused.
constexpr std::array read_after_ret{bpf::ret(0), ld_mem(0), ret_a()};
// ... but it does reset it after a jump, so an unreachable read after JA is accepted.
constexpr std::array read_after_ja{bpf::ja(1), ld_mem(0), bpf::ret(0)};
constexpr bool check_tracks_scratch_like_the_kernel() {
  return check(read_unwritten) == bpf_error::uninitialised_scratch &&
         check(written_on_one_branch) == bpf_error::uninitialised_scratch &&
         check(written_on_both_branches) == bpf_error::none &&
         check(read_after_ret) == bpf_error::uninitialised_scratch &&
         check(read_after_ja) == bpf_error::none && check(scratch_program) == bpf_error::none;
}
static_assert(check_tracks_scratch_like_the_kernel());
TEST_CASE("check: uninitialised_scratch unless every path writes the cell first") {
  CHECK(check_tracks_scratch_like_the_kernel());
}

constexpr std::array no_ret{ld_imm(0)};
constexpr std::array ret_then_more{bpf::ret(0), ld_imm(0)};
constexpr bool check_wants_a_final_ret() {
  return check(no_ret) == bpf_error::no_return_at_end &&
         check(ret_then_more) == bpf_error::no_return_at_end && check(a_starts_at_zero) == bpf_error::none;
}
static_assert(check_wants_a_final_ret());
TEST_CASE("check: no_return_at_end") { CHECK(check_wants_a_final_ret()); }

// --- evaluate on invalid programs -------------------------------------------------------------

constexpr std::array skips_garbage{bpf::ja(1), raw(0xFFFF), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr bool evaluate_reports_what_it_meets() {
  return fails(std::span<const insn>{}, call(0), bpf_error::empty, 0) &&
         fails(too_long_program, call(0), bpf_error::too_long, 0) &&
         fails(mod_program, call(0), bpf_error::bad_opcode, 1) &&
         fails(load_64, call(0), bpf_error::bad_load_offset, 1) &&
         fails(jt_past_end, call(0), bpf_error::bad_jump, 1) &&
         fails(st_16, call(0), bpf_error::bad_scratch_index, 1) &&
         fails(lsh_32, call(0), bpf_error::shift_too_large, 1) &&
         fails(div_0, call(0), bpf_error::division_by_zero_constant, 1) &&
         fails(read_unwritten, call(0), bpf_error::uninitialised_scratch, 1) &&
         fails(written_on_one_branch, call(1), bpf_error::uninitialised_scratch, 3) &&
         fails(no_ret, call(0), bpf_error::no_return_at_end, 1) &&
         // only instructions on the path are checked: `check` is the whole-program verdict
         check(skips_garbage) == bpf_error::bad_opcode && is(skips_garbage, call(0), action::allow, 2);
}
static_assert(evaluate_reports_what_it_meets());
TEST_CASE("evaluate reports the invalid instruction it meets, with the steps so far") {
  CHECK(evaluate_reports_what_it_meets());
}

// `agrees` is the contract between the two: evaluate errs only on programs check refuses, and
// never errs on programs check accepts.
constexpr bool agrees(std::span<const insn> program) {
  const bool accepted = check(program) == bpf_error::none;
  for (int nr = 0; nr < 20; ++nr) {
    for (const std::uint64_t arg : {0ULL, 1ULL, 2ULL}) {
      for (const std::uint32_t arch : {x86_64, i386}) {
        const bool erred = evaluate(program, call(nr, {arg}, arch)).error != bpf_error::none;
        if (erred && accepted) {
          return false;
        }
      }
    }
  }
  return true;
}
constexpr bool check_and_evaluate_agree() {
  return agrees(dispatch) && agrees(scratch_program) && agrees(div_by_zero_x) && agrees(xor_program) &&
         agrees(written_on_both_branches) && agrees(read_after_ja) && agrees(written_on_one_branch) &&
         agrees(read_after_ret) && agrees(mod_program) && agrees(skips_garbage) && agrees(no_ret) &&
         agrees(jt_past_end) && agrees(ld_len_program) && agrees(ldx_len_program) && agrees(tax_program);
}
static_assert(check_and_evaluate_agree());
TEST_CASE("evaluate never errs on a program check accepts") { CHECK(check_and_evaluate_agree()); }

// --- step cost ---------------------------------------------------------------------------------

// 4095 ADDs then RET A: the longest straight-line program, evaluated at compile time.
constexpr std::array<insn, bpf::max_insns> longest_straight = [] {
  std::array<insn, bpf::max_insns> p{};
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    p[i] = alu_k(BPF_ADD, 1);
  }
  p.back() = ret_a();
  return p;
}();
// ST M[0]; 4092 jumps whose jt lands up to 255 ahead; LD M[0]; RET A: worst case for the scratch pass.
constexpr std::array<insn, bpf::max_insns> longest_branchy = [] {
  std::array<insn, bpf::max_insns> p{};
  p[0] = st(0);
  for (std::size_t i = 1; i + 2 < p.size(); ++i) {
    const std::size_t room = p.size() - 3 - i;  // instructions between this one and the LD M[0]
    p[i] = bpf::jeq(static_cast<std::uint32_t>(i), static_cast<std::uint8_t>(room < 255 ? room : 255), 0);
  }
  p[p.size() - 2] = ld_mem(0);
  p.back() = ret_a();
  return p;
}();
constexpr bool longest_programs_fit_in_constexpr() {
  return check(longest_straight) == bpf_error::none && is(longest_straight, call(0), action{4095}, 4096) &&
         check(longest_branchy) == bpf_error::none && is(longest_branchy, call(0), action{0}, 4096);
}
static_assert(longest_programs_fit_in_constexpr());
TEST_CASE("4096-instruction programs check and evaluate at compile time") {
  CHECK(longest_programs_fit_in_constexpr());
}

// --- const_allow -----------------------------------------------------------------------------

constexpr bool const_allow_is(std::span<const insn> program, std::uint32_t arch, std::uint32_t nr,
                              bool allowed, std::uint32_t emulated) {
  const auto r = const_allow(program, arch, nr);
  return r.allowed == allowed && r.emulated == emulated;
}

constexpr bool const_allow_follows_the_dispatch() {
  return const_allow_is(dispatch, x86_64, 0, true, 6) &&          // read: 0 1 2 3 4 10
         const_allow_is(dispatch, x86_64, 1, true, 7) &&          // write
         const_allow_is(dispatch, x86_64, 16, false, 8) &&        // ioctl loads args[0] at 7
         const_allow_is(dispatch, x86_64, 2, false, 8) &&         // RET ERRNO at 9
         const_allow_is(dispatch, i386, 0, false, 3) &&           // arch mismatch: RET KILL at 11
         const_allow_is(dispatch, x86_64, 0x40000000, false, 5);  // x32 bit: JSET -> RET KILL
}
static_assert(const_allow_follows_the_dispatch());
TEST_CASE("const_allow: allowed for unconditional syscalls, not for arg checks, other arches or x32") {
  CHECK(const_allow_follows_the_dispatch());
}

// `const_allow_is_sound`: whatever const_allow calls allowed, evaluate allows for any arguments.
constexpr bool const_allow_is_sound(std::span<const insn> program) {
  for (std::uint32_t nr = 0; nr < 20; ++nr) {
    for (const std::uint32_t arch : {x86_64, i386}) {
      if (!const_allow(program, arch, nr).allowed) {
        continue;
      }
      for (const std::uint64_t arg : {0ULL, 1ULL, 0xFFFFFFFF00000001ULL}) {
        if (!(evaluate(program, call(static_cast<int>(nr), {arg, arg}, arch, arg)) == action::allow)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(const_allow_is_sound(dispatch));
TEST_CASE("const_allow implies evaluate allows, whatever the arguments") {
  CHECK(const_allow_is_sound(dispatch));
}

// AND K and JA are followed: (nr & 0xFF) == 1 allows, so 0x101 does too.
constexpr std::array masked_nr{bpf::load(bpf::off_nr),      bpf::and_k(0xFF),
                               bpf::jeq(1, 1, 0),           bpf::ja(1),
                               bpf::ret(SECCOMP_RET_ALLOW), bpf::ret(SECCOMP_RET_KILL_PROCESS)};
constexpr bool const_allow_follows_and_and_ja() {
  return const_allow_is(masked_nr, x86_64, 0x101, true, 4) &&
         const_allow_is(masked_nr, x86_64, 2, false, 5) && const_allow_is(ja_program, x86_64, 0, false, 2) &&
         const_allow_is_sound(masked_nr);
}
static_assert(const_allow_follows_and_and_ja());
TEST_CASE("const_allow follows AND K, JA and both jump directions") {
  CHECK(const_allow_follows_and_and_ja());
}

// Programs that allow, but through instructions seccomp_is_const_allow() does not emulate.
constexpr std::array allow_via_x{bpf::load(bpf::off_nr), ldx_imm(0), jmp_x(BPF_JEQ, 0, 1),
                                 bpf::ret(SECCOMP_RET_ALLOW), bpf::ret(0)};
constexpr std::array allow_via_tax{bpf::load(bpf::off_nr), tax(), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr std::array allow_via_ret_a{bpf::load(bpf::off_nr), alu_k(BPF_OR, SECCOMP_RET_ALLOW), ret_a()};
constexpr std::array allow_via_imm{ld_imm(SECCOMP_RET_ALLOW), ret_a()};
constexpr std::array allow_via_len{ld_len(), bpf::jeq(64, 0, 1), bpf::ret(SECCOMP_RET_ALLOW), bpf::ret(0)};
constexpr std::array allow_via_scratch{bpf::load(bpf::off_nr), st(0), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr std::array allow_via_ip{bpf::load(bpf::off_ip_lo), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr std::array allow_log{bpf::ret(SECCOMP_RET_LOG)};
constexpr std::array runs_off_end{bpf::load(bpf::off_nr)};
constexpr std::array unchecked_huge_ja{bpf::ja(0xFFFFFFFF), bpf::ret(SECCOMP_RET_ALLOW)};
constexpr std::array plain_allow{bpf::ret(SECCOMP_RET_ALLOW)};
constexpr bool const_allow_refuses_what_the_kernel_refuses() {
  return evaluate(allow_via_x, call(0)) == action::allow &&
         const_allow_is(allow_via_x, x86_64, 0, false, 2) &&
         evaluate(allow_via_tax, call(0)) == action::allow &&
         const_allow_is(allow_via_tax, x86_64, 0, false, 2) &&
         evaluate(allow_via_ret_a, call(0)) == action::allow &&
         const_allow_is(allow_via_ret_a, x86_64, 0, false, 2) &&
         const_allow_is(allow_via_imm, x86_64, 0, false, 1) &&
         const_allow_is(allow_via_len, x86_64, 0, false, 1) &&
         const_allow_is(allow_via_scratch, x86_64, 0, false, 2) &&
         const_allow_is(allow_via_ip, x86_64, 0, false, 1) &&
         const_allow_is(allow_log, x86_64, 0, false, 1) &&
         const_allow_is(runs_off_end, x86_64, 0, false, 1) &&
         const_allow_is(unchecked_huge_ja, x86_64, 0, false, 1) &&
         const_allow_is(std::span<const insn>{}, x86_64, 0, false, 0) &&
         const_allow_is(plain_allow, i386, 5, true, 1);
}
static_assert(const_allow_refuses_what_the_kernel_refuses());
TEST_CASE("const_allow refuses X, TAX, RET A, LD IMM/LEN/MEM, IP and arg loads, LOG, running off the end") {
  CHECK(const_allow_refuses_what_the_kernel_refuses());
}

// --- describe --------------------------------------------------------------------------------

constexpr std::array all_errors{bpf_error::none,
                                bpf_error::empty,
                                bpf_error::too_long,
                                bpf_error::bad_opcode,
                                bpf_error::bad_load_offset,
                                bpf_error::bad_jump,
                                bpf_error::bad_scratch_index,
                                bpf_error::shift_too_large,
                                bpf_error::division_by_zero_constant,
                                bpf_error::uninitialised_scratch,
                                bpf_error::no_return_at_end};
constexpr bool every_error_has_its_own_sentence() {
  for (std::size_t i = 0; i < all_errors.size(); ++i) {
    const std::string_view s = sysfence::describe(all_errors[i]);
    if (s.size() < 10 || s.back() != '.' || s == sysfence::describe(static_cast<bpf_error>(200))) {
      return false;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (s == sysfence::describe(all_errors[j])) {
        return false;
      }
    }
  }
  return true;
}
static_assert(every_error_has_its_own_sentence());
TEST_CASE("describe gives each bpf_error its own sentence") { CHECK(every_error_has_its_own_sentence()); }

}  // namespace
