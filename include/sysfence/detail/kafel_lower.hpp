// SPDX-License-Identifier: MIT
// kafel_lower.hpp - a parsed kafel policy (kafel_parser.hpp) lowered to the core's rules: syscall
// and argument names resolved, each filter's boolean expression turned into alternatives (one
// rule each, all of whose comparisons must hold), in source order for the ordered core (the first
// rule matching a call decides it, as in kafel).
//
// Constant expressions and run time alike (std::vector, no throw); the first problem is an error
// with the line, column and token.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/analysis.hpp"
#include "sysfence/detail/kafel_parser.hpp"
#include "sysfence/detail/syscall_signatures.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::detail::kafel {

// `kernel_aliases` are kafel's x86_64 names (src/syscalls/amd64_syscalls.c, the kernel's entry
// points sys_newstat...) for syscalls sysfence names as the syscall table does.
inline constexpr std::pair<std::string_view, std::string_view> kernel_aliases[] = {
    {"newfstat", "fstat"},      {"newlstat", "lstat"}, {"newstat", "stat"},  {"newuname", "uname"},
    {"sendfile64", "sendfile"}, {"sysctl", "_sysctl"}, {"umount", "umount2"}};

// `find_syscall` is the sys::id named `name` (sysfence's names or kafel's aliases), or -1.
constexpr int find_syscall(std::string_view name) noexcept {
  for (const auto& [alias, real] : kernel_aliases)
    if (alias == name) name = real;
  std::size_t lo = 0, hi = syscall_count;  // syscall_names is sorted (checked in kafel.hpp)
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (syscall_names[mid] < name)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < syscall_count && syscall_names[lo] == name ? static_cast<int>(lo) : -1;
}

// `family_of` is the kafel architecture of an ABI (see filter::on).
constexpr arch_family family_of(const arch::target& t) noexcept {
  switch (t.audit) {
    case AUDIT_ARCH_I386:
      return arch_family::x86;
    case AUDIT_ARCH_AARCH64:
      return arch_family::aarch64;
    case AUDIT_ARCH_RISCV64:
      return arch_family::riscv64;
    default:
      return arch_family::x86_64;
  }
}

// `dnf` is a boolean expression as alternatives of conjunctions; no alternative is false, one
// empty alternative is true.
using conjunction = std::vector<condition>;
using dnf = std::vector<conjunction>;

inline constexpr std::size_t max_alternatives = 64;

// `operand` is a folded bit expression: a constant, an argument, or an argument under a mask.
struct operand {
  enum class kind : std::uint8_t { constant, argument, masked } what = kind::constant;
  std::uint64_t value = 0;  // constant
  std::uint8_t arg = 0;
  std::uint64_t mask = ~std::uint64_t{0};
};

constexpr cmp negate(cmp op) noexcept {
  switch (op) {
    case cmp::eq:
      return cmp::ne;
    case cmp::ne:
      return cmp::eq;
    case cmp::lt:
      return cmp::ge;
    case cmp::le:
      return cmp::gt;
    case cmp::gt:
      return cmp::le;
    case cmp::ge:
      return cmp::lt;
    default:
      return op;
  }
}
constexpr cmp mirror(cmp op) noexcept {  // c op x  is  x mirror(op) c
  switch (op) {
    case cmp::lt:
      return cmp::gt;
    case cmp::le:
      return cmp::ge;
    case cmp::gt:
      return cmp::lt;
    case cmp::ge:
      return cmp::le;
    default:
      return op;
  }
}
constexpr bool holds(cmp op, std::uint64_t a, std::uint64_t b) noexcept {
  switch (op) {
    case cmp::eq:
      return a == b;
    case cmp::ne:
      return a != b;
    case cmp::lt:
      return a < b;
    case cmp::le:
      return a <= b;
    case cmp::gt:
      return a > b;
    case cmp::ge:
      return a >= b;
    default:
      return false;
  }
}

// `lowering` turns one filter's expression into alternatives.
struct lowering {
  const std::vector<node>& nodes;
  const std::array<std::string_view, 6>& names;  // the syscall's argument names
  std::uint8_t count;                            // how many
  std::array<width, 6> widths;                   // dword for a 4-byte argument, else qword
  error err{};

  constexpr bool fail(problem p, const node& n) noexcept {
    if (err.ok()) {
      token t{tok::bad, n.name, 0, n.line, n.column};
      err = make_error(p, t);
    }
    return false;
  }
  [[nodiscard]] constexpr const node& at(std::int32_t i) const noexcept {
    return nodes[static_cast<std::size_t>(i)];
  }

  constexpr bool fold(std::int32_t i, operand& out) noexcept {
    const node& n = at(i);
    if (n.kind == node_kind::number) {
      out = {operand::kind::constant, n.value};
      return true;
    }
    if (n.kind == node_kind::ident) {
      for (std::uint8_t k = 0; k < count; ++k)
        if (names[k] == n.name) {
          out = {operand::kind::argument, 0, k};
          return true;
        }
      return fail(problem::undefined_identifier, n);
    }
    operand l{}, r{};
    if (!fold(n.left, l) || !fold(n.right, r)) return false;
    if (l.what != operand::kind::constant && r.what == operand::kind::constant) {
      const operand t = l;
      l = r;
      r = t;
    }
    const bool is_and = n.kind == node_kind::bit_and;
    if (l.what == operand::kind::constant && r.what == operand::kind::constant) {
      out = {operand::kind::constant, is_and ? l.value & r.value : l.value | r.value};
      return true;
    }
    if (l.what == operand::kind::constant) {  // constant with an argument (kafel folds 0 and ~0)
      if (is_and && l.value == 0)
        out = {operand::kind::constant, 0};
      else if (!is_and && l.value == ~std::uint64_t{0})
        out = {operand::kind::constant, l.value};
      else if (!is_and && l.value == 0)
        out = r;
      else if (is_and)
        out = {operand::kind::masked, 0, r.arg, r.mask & l.value};
      else
        return fail(problem::unsupported_operation, n);
      return true;
    }
    return fail(n.kind == node_kind::bit_and && l.arg != r.arg ? problem::compares_two_arguments
                                                               : problem::unsupported_operation,
                n);
  }

  // `compare` is `l op r` as alternatives: true, false, or one comparison (masked != expanded).
  constexpr bool compare(const node& n, cmp op, dnf& out) noexcept {
    operand l{}, r{};
    if (!fold(n.left, l) || !fold(n.right, r)) return false;
    if (l.what == operand::kind::constant && r.what != operand::kind::constant) {
      const operand t = l;
      l = r;
      r = t;
      op = mirror(op);
    }
    out.clear();
    auto truth = [&](bool b) {
      if (b) out.push_back({});
      return true;
    };
    if (l.what == operand::kind::constant) return truth(holds(op, l.value, r.value));
    if (r.what != operand::kind::constant) {
      // x op x is decided (kafel folds it); two different arguments are not supported.
      if (l.what == operand::kind::argument && r.what == operand::kind::argument && l.arg == r.arg)
        return truth(op == cmp::eq || op == cmp::le || op == cmp::ge);
      return fail(problem::compares_two_arguments, n);
    }
    const width w = widths[l.arg];
    const std::uint64_t top = w == width::dword ? 0xffffffffU : ~std::uint64_t{0};
    std::uint64_t v = r.value;
    if (w == width::dword) {
      v = low_if_sign_extended(v);  // -1 is the int -1 the kernel reads
      if (v > top) return fail(problem::value_above_32_bits, n);
    }
    if (l.what == operand::kind::argument) {
      out.push_back({condition{l.arg, op, w, v, ~std::uint64_t{0}, -1}});
      return true;
    }
    // (arg & mask) op value: == and != (> 0 and <= 0 are != 0 and == 0); the 32 bits the kernel
    // reads of a 4-byte argument are all a mask can select.
    const std::uint64_t mask = l.mask & top;
    if (v == 0 && op == cmp::gt) op = cmp::ne;
    if (v == 0 && op == cmp::le) op = cmp::eq;
    if (v == 0 && (op == cmp::ge || op == cmp::lt)) return truth(op == cmp::ge);
    if (op != cmp::eq && op != cmp::ne) return fail(problem::unsupported_operation, n);
    if ((v & ~mask) != 0) return truth(op == cmp::ne);  // bits the mask clears: never equal
    if (op == cmp::eq) {
      if (mask == 0) return truth(true);
      out.push_back({condition{l.arg, cmp::masked_eq, w, v, mask, -1}});
      return true;
    }
    // (x & m) != v: some bit of m differs from v's, one alternative per bit.
    for (std::uint64_t bits = mask; bits != 0; bits &= bits - 1) {
      const std::uint64_t bit = bits & (0 - bits);
      out.push_back({condition{l.arg, cmp::masked_eq, w, ~v & bit, bit, -1}});
    }
    if (out.size() > max_alternatives) return fail(problem::too_many_rules, n);
    return true;
  }

  // `expand` is node i (negated when `neg`) as alternatives.
  constexpr bool expand(std::int32_t i, bool neg, dnf& out) noexcept {
    const node& n = at(i);
    switch (n.kind) {
      case node_kind::logic_not:
        return expand(n.left, !neg, out);
      case node_kind::compare:
        return compare(n, neg ? negate(n.op) : n.op, out);
      case node_kind::logic_and:
      case node_kind::logic_or: {
        dnf l, r;
        if (!expand(n.left, neg, l) || !expand(n.right, neg, r)) return false;
        const bool is_or = (n.kind == node_kind::logic_or) != neg;
        out.clear();
        if (is_or) {
          out = l;
          for (const conjunction& c : r) out.push_back(c);
        } else {
          for (const conjunction& a : l)
            for (const conjunction& b : r) {
              conjunction c = a;
              for (const condition& x : b) {
                bool dup = false;
                for (const condition& y : c) dup = dup || x == y;
                if (!dup) c.push_back(x);
              }
              if (c.size() > max_conditions) return fail(problem::too_many_conditions, n);
              out.push_back(c);
              if (out.size() > max_alternatives) return fail(problem::too_many_rules, n);
            }
        }
        if (out.size() > max_alternatives) return fail(problem::too_many_rules, n);
        return true;
      }
      default:
        return fail(problem::unexpected_token, n);  // (the parser makes none)
    }
  }
};

// `lowered` is a kafel policy as the core's rules, in priority order, with each rule's origin
// (its filter, by index, for messages) and the default action.
struct lowered {
  std::vector<entry> rules;
  std::vector<std::uint32_t> lines, columns;  // of each filter (rule origin)
  action default_action = action::kill_thread;
  error err;
};

// `lower` resolves a parsed policy for `target` (the first ABI the program serves) and lowers it.
constexpr lowered lower(const tree& t, const arch::target& target) noexcept {
  lowered out;
  out.default_action = t.default_action;
  if (!t.err.ok()) {
    out.err = t.err;
    return out;
  }
  auto fail_at = [&](problem p, const filter& f) {
    token tk{tok::bad, f.name, 0, f.line, f.column};
    out.err = make_error(p, tk);
    return out;
  };
  const auto family = static_cast<unsigned>(family_of(target));
  for (const filter& f : t.filters) {
    if (f.on != 0 && ((f.on >> family) & 1U) == 0) continue;  // guarded for another architecture
    int id = -1;
    if (f.name.empty()) {  // a number: the syscall with it on the target
      for (std::size_t k = 0; k < syscall_count && id < 0; ++k)
        if ((*target.numbers)[k] >= 0 &&
            std::uint64_t{target.nr_base} + static_cast<std::uint32_t>((*target.numbers)[k]) == f.number)
          id = static_cast<int>(k);
      if (id < 0) return fail_at(problem::no_syscall_with_number, f);
    } else {
      id = find_syscall(f.name);
      if (id < 0) return fail_at(problem::undefined_identifier, f);
      if ((*target.numbers)[static_cast<std::size_t>(id)] < 0)
        return fail_at(problem::syscall_not_on_target, f);
    }
    const auto s = static_cast<sys::id>(id);
    // Arguments: the filter's own names (64 bits each, as kafel), else the kernel's.
    std::array<std::string_view, 6> names{};
    std::array<width, 6> widths{width::qword, width::qword, width::qword,
                                width::qword, width::qword, width::qword};
    // Widths are the kernel's even for the filter's own names (kafel: 8 bytes), so a 4-byte
    // argument is compared as the 32 bits the kernel reads.
    std::uint8_t count = f.arg_count;
    const signature& sig = syscall_signatures[static_cast<std::size_t>(id)];
    for (std::size_t k = 0; k < sig.count; ++k) widths[k] = sig.bits[k] > 32 ? width::qword : width::dword;
    if (f.custom_args) {
      names = f.args;
    } else {
      std::string_view list = syscall_parameter_names[static_cast<std::size_t>(id)];
      count = 0;
      while (!list.empty() && count < 6) {
        const std::size_t space = list.find(' ');
        names[count++] = list.substr(0, space);
        list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
      }
    }
    dnf alternatives;
    if (f.expr < 0) {
      alternatives.push_back({});
    } else {
      lowering l{t.nodes, names, count, widths};
      if (!l.expand(f.expr, false, alternatives)) {
        out.err = l.err;
        return out;
      }
    }
    const auto origin = static_cast<std::uint16_t>(out.lines.size());
    out.lines.push_back(f.line);
    out.columns.push_back(f.column);
    for (const conjunction& c : alternatives) {
      rule r{};
      r.syscall = s;
      for (const condition& x : c) r.conditions[r.count++] = x;
      r.result = f.result;
      out.rules.push_back({r, origin, 0, false});
      if (out.rules.size() >= no_origin) return fail_at(problem::too_many_rules, f);
    }
  }
  return out;
}

}  // namespace sysfence::detail::kafel
