// SPDX-License-Identifier: MIT
// kafel_oracle.cpp - random kafel policies and random calls: what the compiled program answers
// (the simulator running the BPF) against an oracle that evaluates the policy's own expression
// trees directly with kafel's documented rules (the first filter whose syscall and expression
// match decides; KILL is the thread's; no DEFAULT is KILL) and the argument widths sysfence
// documents (a 4-byte argument is its low 32 bits; a constant for it that is a sign-extended int,
// such as -1, is its low 32 bits).
#include "sysfence/kafel.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;

// The oracle's own expression tree (not the parser's).
struct expr {
  enum class kind { compare, masked, negation, conjunction, disjunction } what = kind::compare;
  int arg = 0;
  cmp op = cmp::eq;  // compare: eq..ge; masked: eq or ne
  std::uint64_t value = 0, mask = 0;
  bool mirrored = false;  // written `value op' arg`
  bool comma = false;     // a disjunction written with ','
  int left = -1, right = -1;
};

struct filter {
  sys::id syscall{};
  int expr = -1;
};
struct block {
  action result;
  std::vector<filter> filters;
};
struct random_policy {
  std::vector<expr> nodes;
  std::vector<block> blocks;
  bool has_default = false;
  action default_action = action::kill_thread;
};

constexpr std::array<sys::id, 5> some_syscalls{sys::id::write, sys::id::mmap, sys::id::dup3, sys::id::lseek,
                                               sys::id::kill};

struct argument {
  std::string name;
  bool four_bytes;
};
std::vector<argument> arguments_of(sys::id s) {
  std::vector<argument> out;
  std::string_view list = detail::syscall_parameter_names[static_cast<std::size_t>(s)];
  const detail::signature& sig = detail::syscall_signatures[static_cast<std::size_t>(s)];
  for (std::size_t k = 0; !list.empty(); ++k) {
    const std::size_t space = list.find(' ');
    out.push_back({std::string(list.substr(0, space)), sig.bits[k] <= 32});
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
  }
  return out;
}

struct generator {
  std::mt19937_64 rng;
  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); }

  std::uint64_t value(bool four_bytes) {
    static constexpr std::uint64_t small[] = {0, 1, 2, 3, 5, 0x7fffffff, 0x80000000, 0xffffffff};
    static constexpr std::uint64_t wide[] = {0x100000000, 0x100000001, ~std::uint64_t{0},
                                             ~std::uint64_t{0} - 1, 0xffffffff00000000};
    const std::uint64_t r = below(10);
    if (r < 6) return small[below(std::size(small))];
    if (four_bytes) return r < 8 ? ~std::uint64_t{0} : ~std::uint64_t{0} - 1;  // -1, -2: sign-extended ints
    return r < 9 ? wide[below(std::size(wide))] : rng();
  }
  std::uint64_t mask() {  // at most 3 bits, so (x & m) != v expands to few alternatives
    std::uint64_t m = 0;
    for (std::uint64_t n = 1 + below(3); n > 0; --n)
      m |= std::uint64_t{1} << (below(4) == 0 ? 32 + below(32) : below(8));
    return m;
  }

  int make(random_policy& p, sys::id s, int depth) {
    const auto args = arguments_of(s);
    expr e;
    const std::uint64_t r = depth >= 3 ? below(2) : below(5);
    if (r <= 1) {
      e.arg = static_cast<int>(below(args.size()));
      const bool four = args[static_cast<std::size_t>(e.arg)].four_bytes;
      if (r == 0) {
        e.what = expr::kind::compare;
        e.op = static_cast<cmp>(below(6));
        e.value = value(four);
        e.mirrored = below(4) == 0;
      } else {
        e.what = expr::kind::masked;
        e.op = below(2) == 0 ? cmp::eq : cmp::ne;
        e.mask = mask();
        if (four) e.mask &= 0xffffffff;
        if (e.mask == 0) e.mask = 1;
        e.value = below(3) == 0 ? value(four) & 0xffffffff : e.mask & rng();
      }
    } else if (r == 2) {
      e.what = expr::kind::negation;
      e.left = make(p, s, depth + 1);
    } else {
      e.what = r == 3 ? expr::kind::conjunction : expr::kind::disjunction;
      e.comma = r == 4 && below(3) == 0;
      e.left = make(p, s, depth + 1);
      e.right = make(p, s, depth + 1);
    }
    p.nodes.push_back(e);
    return static_cast<int>(p.nodes.size() - 1);
  }

  action some_action() {
    switch (below(6)) {
      case 0:
        return action::allow;
      case 1:
        return action::error(static_cast<std::uint16_t>(1 + below(100)));
      case 2:
        return action::kill_thread;
      case 3:
        return action::log;
      case 4:
        return action::trap(static_cast<std::uint16_t>(below(5)));
      default:
        return action::kill_process;
    }
  }

  random_policy make_policy() {
    random_policy p;
    for (std::uint64_t b = 1 + below(5); b > 0; --b) {
      block k{some_action(), {}};
      for (std::uint64_t f = 1 + below(3); f > 0; --f) {
        const sys::id s = some_syscalls[below(some_syscalls.size())];
        k.filters.push_back({s, below(4) == 0 ? -1 : make(p, s, 0)});
      }
      p.blocks.push_back(k);
    }
    p.has_default = below(4) != 0;
    if (p.has_default) p.default_action = some_action();
    return p;
  }
};

std::string number(std::uint64_t v, bool four_bytes) {
  if (four_bytes && v >= 0xfffffffffffffff0ULL) return "-" + std::to_string(0 - v);  // -1, -2
  return "0x" + [&] {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
      s.insert(s.begin(), digits[v & 15]);
      v >>= 4;
    } while (v != 0);
    return s;
  }();
}
constexpr std::string_view op_text(cmp op) {
  constexpr std::string_view texts[] = {"==", "!=", "<", "<=", ">", ">="};
  return texts[static_cast<std::size_t>(op)];
}

std::string text_of(const random_policy& p, const expr& e, sys::id s) {
  const auto args = arguments_of(s);
  const auto& a = args[static_cast<std::size_t>(e.arg)];
  switch (e.what) {
    case expr::kind::compare:
      if (e.mirrored)
        return "(" + number(e.value, a.four_bytes) + " " + std::string(op_text(detail::kafel::mirror(e.op))) +
               " " + a.name + ")";
      return "(" + a.name + " " + std::string(op_text(e.op)) + " " + number(e.value, a.four_bytes) + ")";
    case expr::kind::masked:
      return "((" + a.name + " & " + number(e.mask, false) + ") " + std::string(op_text(e.op)) + " " +
             number(e.value, false) + ")";
    case expr::kind::negation:
      return "!" + text_of(p, p.nodes[static_cast<std::size_t>(e.left)], s);
    default: {
      const std::string sep = e.what == expr::kind::conjunction ? " && " : e.comma ? ", " : " || ";
      return "(" + text_of(p, p.nodes[static_cast<std::size_t>(e.left)], s) + sep +
             text_of(p, p.nodes[static_cast<std::size_t>(e.right)], s) + ")";
    }
  }
}

std::string action_text(action a) {
  switch (a.what()) {
    case action::kind::allow:
      return "ALLOW";
    case action::kind::error:
      return "ERRNO(" + std::to_string(a.data()) + ")";
    case action::kind::kill_thread:
      return "KILL";
    case action::kind::log:
      return "LOG";
    case action::kind::trap:
      return "TRAP(" + std::to_string(a.data()) + ")";
    default:
      return "KILL_PROCESS";
  }
}

std::string text_of(const random_policy& p) {
  std::string out;
  for (const block& b : p.blocks) {
    out += action_text(b.result) + " {\n";
    for (std::size_t i = 0; i < b.filters.size(); ++i) {
      const filter& f = b.filters[i];
      out += "  " + std::string(sys::name(f.syscall));
      if (f.expr >= 0) out += " { " + text_of(p, p.nodes[static_cast<std::size_t>(f.expr)], f.syscall) + " }";
      out += i + 1 < b.filters.size() ? ",\n" : "\n";
    }
    out += "}\n";
  }
  if (p.has_default) out += "DEFAULT " + action_text(p.default_action) + "\n";
  return out;
}

// --- the oracle ---------------------------------------------------------------------------------

bool holds(const random_policy& p, const expr& e, sys::id s, const std::array<std::uint64_t, 6>& args) {
  const auto as = arguments_of(s);
  auto arg_value = [&](int i) {
    const std::uint64_t x = args[static_cast<std::size_t>(i)];
    return as[static_cast<std::size_t>(i)].four_bytes ? x & 0xffffffff : x;  // what the kernel reads
  };
  auto constant = [&](int i, std::uint64_t c) {
    const bool sign_extended_int = (c >> 31) == 0x1ffffffffULL;
    return as[static_cast<std::size_t>(i)].four_bytes && sign_extended_int ? c & 0xffffffff : c;
  };
  switch (e.what) {
    case expr::kind::compare: {
      const std::uint64_t x = arg_value(e.arg), c = constant(e.arg, e.value);
      switch (e.op) {
        case cmp::eq:
          return x == c;
        case cmp::ne:
          return x != c;
        case cmp::lt:
          return x < c;
        case cmp::le:
          return x <= c;
        case cmp::gt:
          return x > c;
        default:
          return x >= c;
      }
    }
    case expr::kind::masked: {
      const bool equal = (arg_value(e.arg) & e.mask) == e.value;
      return e.op == cmp::eq ? equal : !equal;
    }
    case expr::kind::negation:
      return !holds(p, p.nodes[static_cast<std::size_t>(e.left)], s, args);
    case expr::kind::conjunction:
      return holds(p, p.nodes[static_cast<std::size_t>(e.left)], s, args) &&
             holds(p, p.nodes[static_cast<std::size_t>(e.right)], s, args);
    default:
      return holds(p, p.nodes[static_cast<std::size_t>(e.left)], s, args) ||
             holds(p, p.nodes[static_cast<std::size_t>(e.right)], s, args);
  }
}

action oracle(const random_policy& p, sys::id s, const std::array<std::uint64_t, 6>& args) {
  for (const block& b : p.blocks)
    for (const filter& f : b.filters)
      if (f.syscall == s && (f.expr < 0 || holds(p, p.nodes[static_cast<std::size_t>(f.expr)], s, args)))
        return b.result;
  return p.default_action;
}

}  // namespace

TEST_CASE("random kafel policies: the compiled program answers every random call as the oracle") {
  generator g{std::mt19937_64{20261202}};
  std::size_t policies = 0, refused = 0, calls = 0;
  for (int round = 0; round < 400; ++round) {
    const random_policy p = g.make_policy();
    const std::string text = text_of(p);
    CAPTURE(text);
    std::vector<bpf::insn> program;
    try {
      const runtime_policy compiled = kafel_policy(text, "random.policy", {arch::x86_64::value});
      program.assign(compiled.program().begin(), compiled.program().end());
    } catch (const policy_error& e) {
      // Only the documented limits may refuse a policy the generator writes.
      const std::string_view what = e.what();
      CHECK((what.find("more than 8 comparisons") != std::string_view::npos ||
             what.find("more than 64 alternatives") != std::string_view::npos ||
             what.find("4096 instructions") != std::string_view::npos));
      ++refused;
      continue;
    }
    ++policies;
    for (int c = 0; c < 150; ++c) {
      const sys::id s = g.below(8) == 0 ? sys::id::getpid : some_syscalls[g.below(some_syscalls.size())];
      std::array<std::uint64_t, 6> args{};
      for (auto& a : args) a = g.below(3) == 0 ? g.rng() : g.value(g.below(2) == 0);
      const action expected = oracle(p, s, args);
      const action got = evaluate(program, call<arch::x86_64>(s, args)).result;
      ++calls;
      if (got != expected) {
        CAPTURE(sys::name(s));
        CAPTURE(args[0]);
        CAPTURE(args[1]);
        CAPTURE(args[2]);
        CHECK(got.value == expected.value);
        return;
      }
    }
  }
  MESSAGE(policies << " policies, " << refused << " refused by the documented limits, " << calls << " calls");
  CHECK(refused * 10 < policies);
  CHECK(calls > 40000);
}
