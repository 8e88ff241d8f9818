// SPDX-License-Identifier: MIT
// dump.hpp - a seccomp BPF program as text: one instruction a line, as libseccomp's
// scmp_bpf_disasm prints it, with jump targets resolved and syscalls and actions named.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <linux/filter.h>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {
namespace detail {

// `text` writes characters into a caller's buffer, or only counts them (no buffer); usable in
// constant expressions, so one disassembler serves dump() and dump_to().
struct text {
  char* data = nullptr;
  std::size_t capacity = 0;
  std::size_t size = 0;

  constexpr void put(char c) noexcept {
    if (size < capacity) data[size] = c;
    ++size;
  }
  constexpr void put(std::string_view s) noexcept {
    for (char c : s) put(c);
  }
  constexpr void number(std::uint64_t v) noexcept {
    char digits[20]{};
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
  }
  constexpr void hex(std::uint32_t v, unsigned width) noexcept {
    put("0x");
    for (unsigned i = width; i-- > 0;) put("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
  }
  constexpr void line_number(std::size_t v) noexcept {  // %.4d
    for (std::size_t d = 1000; d > 1; d /= 10)
      if (v < d) put('0');
    number(v);
  }
  constexpr void pad_to(std::size_t column, std::size_t line_start) noexcept {
    while (size - line_start < column) put(' ');
  }
};

// What a word loaded from seccomp_data is, for comments.
constexpr std::string_view field_name(std::uint32_t offset) noexcept {
  switch (offset) {
    case bpf::off_nr: return "nr";
    case bpf::off_arch: return "arch";
    case bpf::off_ip_lo: return "ip (low)";
    case bpf::off_ip_hi: return "ip (high)";
    default: break;
  }
  constexpr std::array<std::string_view, 12> args{"arg0 (low)", "arg0 (high)", "arg1 (low)", "arg1 (high)",
                                                  "arg2 (low)", "arg2 (high)", "arg3 (low)", "arg3 (high)",
                                                  "arg4 (low)", "arg4 (high)", "arg5 (low)", "arg5 (high)"};
  if (offset >= bpf::off_arg_lo(0) && offset < bpf::off_arg_lo(6) && offset % 4 == 0)
    return args[(offset - bpf::off_arg_lo(0)) / 4];
  return {};
}

// The syscall whose number on `t` is `nr` (as seccomp_data.nr shows it), if any.
constexpr std::string_view syscall_name_for(const arch::target& t, std::uint32_t nr) noexcept {
  if (nr < t.nr_base) return {};
  const auto& numbers = *t.numbers;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    if (numbers[i] >= 0 && static_cast<std::uint32_t>(numbers[i]) == nr - t.nr_base) return syscall_names[i];
  return {};
}

// The syscall numbered `nr` on whichever of `targets` a program serving them judges it by, when
// the architecture is `audit` (0: not known, then any of them).
constexpr std::string_view syscall_name_for(std::span<const arch::target> targets, std::uint32_t audit,
                                            std::uint32_t nr) noexcept {
  const arch::target* best = nullptr;
  for (const arch::target& t : targets)
    if ((audit == 0 || t.audit == audit) && t.nr_base <= nr && (best == nullptr || t.nr_base > best->nr_base))
      best = &t;
  return best != nullptr ? syscall_name_for(*best, nr) : std::string_view{};
}

constexpr std::string_view arch_name_for(std::uint32_t audit) noexcept {
  if (audit == arch::x86_64::audit) return "x86_64";  // (and x32)
  if (audit == arch::x86::audit) return "i386";
  if (audit == arch::aarch64::audit) return arch::aarch64::name;
  if (audit == arch::riscv64::audit) return arch::riscv64::name;
  return {};
}

constexpr void put_action(text& out, std::uint32_t k) noexcept {
  const action a{k};
  out.put(action_name(a));
  const auto kind = a.what();
  if (kind == action::kind::error || kind == action::kind::trap || kind == action::kind::trace) {
    out.put('(');
    out.number(a.data());
    out.put(')');
  }
}

// What the accumulator holds before an instruction, on every path that reaches it.
enum class holds : std::uint8_t { unreached, nr, arch, other };

constexpr holds merge(holds a, holds b) noexcept {
  if (a == holds::unreached) return b;
  if (b == holds::unreached) return a;
  return a == b ? a : holds::other;
}

// `disassemble` writes `program` to `out`, one line per instruction as scmp_bpf_disasm does:
//  0004: 0x35 0x00 0x01 0x40000000   jge 1073741824 true:0005 false:0006
// with a comment naming the field loaded, the syscall or architecture compared, and actions.
// Syscalls are named for the ABI among `targets` the path to the comparison has checked.
constexpr void disassemble(text& out, std::span<const bpf::insn> program,
                           std::span<const arch::target> targets) noexcept {
  out.put(" line  OP   JT   JF   K\n=================================\n");
  // cBPF jumps only forward, so one pass in order sees every predecessor first.
  std::array<holds, bpf::max_insns + 1> a{};
  // The architecture every path to the instruction has checked: 0 unknown, ~0 different ones.
  std::array<std::uint32_t, bpf::max_insns + 1> checked{};
  std::array<bool, bpf::max_insns + 1> reached{};
  if (!program.empty()) a[0] = holds::other;
  const std::size_t n = program.size() < a.size() ? program.size() : a.size();
  auto flow_arch = [&](std::size_t to, std::uint32_t audit) {
    if (to >= n) return;
    checked[to] = !reached[to] || checked[to] == audit ? audit : ~std::uint32_t{0};
    reached[to] = true;
  };
  std::size_t pc = 0;
  auto flow = [&](std::size_t to, holds h) {  // (the architecture checked goes with the accumulator)
    if (to < n) a[to] = merge(a[to], h);
    flow_arch(to, checked[pc]);
  };
  for (; pc < n; ++pc) {
    const bpf::insn& i = program[pc];
    const std::size_t start = out.size;
    out.put(' ');
    out.line_number(pc);
    out.put(": ");
    out.hex(i.code, 2);
    out.put(' ');
    out.hex(i.jt, 2);
    out.put(' ');
    out.hex(i.jf, 2);
    out.put(' ');
    out.hex(i.k, 8);
    out.put("   ");
    const std::uint16_t cls = BPF_CLASS(i.code);
    std::string_view comment;
    holds after = holds::other;
    if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
      out.put("ld  $data[");
      out.number(i.k);
      out.put(']');
      comment = field_name(i.k);
      after = i.k == bpf::off_nr ? holds::nr : i.k == bpf::off_arch ? holds::arch : holds::other;
      flow(pc + 1, after);
    } else if (cls == BPF_JMP) {
      const auto op = BPF_OP(i.code);
      after = a[pc];  // jumps leave A alone
      if (op == BPF_JA) {
        out.put("jmp ");
        out.line_number(pc + 1 + i.k);
        flow(pc + 1 + i.k, after);
      } else {
        const bool x = BPF_SRC(i.code) == BPF_X;
        out.put(op == BPF_JEQ ? "jeq " : op == BPF_JGT ? "jgt " : op == BPF_JGE ? "jge " : op == BPF_JSET ? "jset " : "j?? ");
        if (x)
          out.put("X");
        else
          out.number(i.k);
        out.put(" true:");
        out.line_number(pc + 1 + i.jt);
        out.put(" false:");
        out.line_number(pc + 1 + i.jf);
        const std::uint32_t audit = checked[pc] == ~std::uint32_t{0} ? 0 : checked[pc];
        if (!x && a[pc] == holds::nr) comment = syscall_name_for(targets, audit, i.k);
        if (!x && a[pc] == holds::arch) comment = arch_name_for(i.k);
        const bool arch_checked = !x && a[pc] == holds::arch && op == BPF_JEQ;  // taken: it is i.k
        if (pc + 1 + i.jt < n) a[pc + 1 + i.jt] = merge(a[pc + 1 + i.jt], after);
        flow_arch(pc + 1 + i.jt, arch_checked ? i.k : checked[pc]);
        flow(pc + 1 + i.jf, after);
      }
    } else if (cls == BPF_RET) {
      out.put("ret ");
      if (BPF_RVAL(i.code) == BPF_A)
        out.put("A");
      else
        put_action(out, i.k);
    } else {
      if (i.code == (BPF_ALU | BPF_AND | BPF_K)) {
        out.put("and ");
        out.hex(i.k, 8);
      } else {
        out.put("op  ");  // other classic BPF: its fields are shown above
      }
      flow(pc + 1, i.code == (BPF_MISC | BPF_TAX) || BPF_CLASS(i.code) == BPF_ST || BPF_CLASS(i.code) == BPF_STX ||
                           BPF_CLASS(i.code) == BPF_LDX
                       ? a[pc]
                       : holds::other);
    }
    if (!comment.empty()) {
      out.pad_to(64, start);
      out.put(" # ");
      if (cls == BPF_JMP && a[pc] == holds::nr && BPF_OP(i.code) == BPF_JGE) out.put(">= ");
      if (cls == BPF_JMP && a[pc] == holds::nr && BPF_OP(i.code) == BPF_JGT) out.put("> ");
      out.put(comment);
    }
    out.put('\n');
  }
}

// A condition as the user can write it: arg<N> when its width is parameter N's, else arg32 or arg64.
constexpr void put_condition(text& out, sys::id s, const condition& c) noexcept {
  const bool dword = c.size == width::dword;
  const signature& sig = syscall_signatures[static_cast<std::size_t>(s)];
  const bool natural = c.arg < sig.count && dword == (sig.bits[c.arg] <= 32);
  if (c.op == cmp::masked_eq) out.put('(');
  out.put(natural ? "arg<" : dword ? "arg32<" : "arg64<");
  out.number(c.arg);
  out.put('>');
  if (c.op == cmp::masked_eq) {
    out.put(" & ");
    if (dword) {
      out.hex(static_cast<std::uint32_t>(c.mask), 8);
    } else {
      out.hex(static_cast<std::uint32_t>(c.mask >> 32), 8);
      for (unsigned k = 8; k-- > 0;) out.put("0123456789abcdef"[(c.mask >> (4 * k)) & 0xf]);  // low half
    }
    out.put(')');
  }
  constexpr std::array<std::string_view, 7> ops{" == ", " != ", " < ", " <= ", " > ", " >= ", " == "};
  out.put(ops[static_cast<std::size_t>(c.op)]);
  if (c.has_slot()) {
    out.put("slot{");
    out.number(static_cast<std::uint64_t>(c.slot));
    out.put('}');
  } else if (c.value > 0xffff) {
    out.put("0x");  // large values read better in hex: 0x100000005
    bool started = false;
    for (unsigned k = 16; k-- > 0;) {
      const auto digit = (c.value >> (4 * k)) & 0xf;
      started = started || digit != 0;
      if (started) out.put("0123456789abcdef"[digit]);
    }
  } else {
    out.number(c.value);
  }
}

// `describe_policy` writes a policy's rules as a person wrote them: per rule set, its plain
// allows on one line, then each conditional rule with its conditions, then for each of `targets`
// that lacks some of the rule set's syscalls, which (a portable rule set's rules of them are left
// out of that target's program; any other's are a compile error).
constexpr void describe_policy(text& out, std::span<const entry> rules, std::span<const std::string_view> names,
                               action default_action, std::span<const arch::target> targets = {}) noexcept {
  out.put("default: ");
  put_action(out, default_action.value);
  out.put('\n');
  for (std::size_t set = 0; set < names.size(); ++set) {
    out.put(names[set]);
    out.put(":\n");
    bool any_simple = false;
    for (const entry& e : rules) {
      if (e.origin != set || !e.r.is_simple() || e.r.result != action::allow) continue;
      out.put(any_simple ? ", " : "  allow ");
      out.put(sys::name(e.r.syscall));
      any_simple = true;
    }
    if (any_simple) out.put('\n');
    for (const entry& e : rules) {
      if (e.origin != set || (e.r.is_simple() && e.r.result == action::allow)) continue;
      out.put("  ");
      if (e.r.result == action::allow)
        out.put("allow");
      else
        put_action(out, e.r.result.value);
      out.put(' ');
      out.put(sys::name(e.r.syscall));
      for (std::size_t c = 0; c < e.r.count; ++c) {
        out.put(c == 0 ? " when " : " and ");
        put_condition(out, e.r.syscall, e.r.conditions[c]);
      }
      out.put('\n');
    }
    for (const arch::target& t : targets) {
      bool any_missing = false;
      for (std::size_t i = 0; i < rules.size(); ++i) {
        const entry& e = rules[i];
        if (e.origin != set || (*t.numbers)[static_cast<std::size_t>(e.r.syscall)] >= 0) continue;
        bool named = false;  // once per syscall
        for (std::size_t j = 0; j < i; ++j) named = named || (rules[j].origin == set && rules[j].r.syscall == e.r.syscall);
        if (named) continue;
        if (!any_missing) {
          out.put("  not on ");
          out.put(t.name);
          out.put(e.portable ? " (left out there): " : " (a compile error there): ");
        } else {
          out.put(", ");
        }
        out.put(sys::name(e.r.syscall));
        any_missing = true;
      }
      if (any_missing) out.put('\n');
    }
  }
}

// `render` is what `write` puts into a detail::text, as a std::string: one run counts the
// characters, a second fills a string of that size.
template <class Write>
std::string render(Write write) {
  text count;
  write(count);
  std::string out(count.size, '\0');
  text fill{out.data(), out.size()};
  write(fill);
  return out;
}

}  // namespace detail

// `dump` is the disassembly of `program` as a std::string (syscalls named for `Arch`; for a
// program serving more ABIs, `dump<Arch, More...>` names each part's for its ABI).
template <class Arch = arch::native, class... More>
std::string dump(std::span<const bpf::insn> program) {
  constexpr std::array<arch::target, 1 + sizeof...(More)> targets{Arch::value, More::value...};
  return detail::render([&](detail::text& out) { detail::disassemble(out, program, targets); });
}

// `explain<Policy>()` is the policy as the rules a person wrote: rule sets, syscalls,
// conditions, actions, and the default action; then, per rule set, the syscalls the target
// lacks (`explain<Policy, arch::aarch64>()`, or several ABIs as compile<> takes them).
template <class Policy, class Arch = arch::native, class... More>
std::string explain() {
  using P = std::remove_cvref_t<Policy>;
  constexpr std::array<arch::target, 1 + sizeof...(More)> targets{Arch::value, More::value...};
  return detail::render([&](detail::text& out) {
    detail::describe_policy(out, P::rules, P::rule_set_names, P::default_action, targets);
  });
}
template <class Arch = arch::native, class... More, class Policy>
std::string explain(const Policy&) {
  return explain<Policy, Arch, More...>();
}

// `dumped` is a disassembly made in a constant expression: a fixed buffer and its length.
template <std::size_t Capacity>
struct dumped {
  std::array<char, Capacity> chars{};
  std::size_t size = 0;
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    return {chars.data(), size < Capacity ? size : Capacity};
  }
};

// `dump_to<Capacity>` is dump() in a constant expression; size > Capacity means it was cut.
template <std::size_t Capacity, class Arch = arch::native, class... More>
constexpr dumped<Capacity> dump_to(std::span<const bpf::insn> program) noexcept {
  constexpr std::array<arch::target, 1 + sizeof...(More)> targets{Arch::value, More::value...};
  dumped<Capacity> out;
  detail::text t{out.chars.data(), Capacity};
  detail::disassemble(t, program, targets);
  out.size = t.size;
  return out;
}

}  // namespace sysfence
