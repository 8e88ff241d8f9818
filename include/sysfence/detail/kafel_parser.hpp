// SPDX-License-Identifier: MIT
// kafel_parser.hpp - kafel's policy language (google/kafel src/lexer.l, src/parser.y) read into a
// syntax tree: constant definitions resolved, policies expanded where they are USEd, everything
// else (syscall and argument names) left for kafel_lower.hpp.
//
// A constant expression and run time alike: std::vector (transient in constant evaluation), no
// std::string (libstdc++ 12's is not constexpr under clang 14), no throw; the first problem is an
// `error` value with the line, column and token.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/condition.hpp"

namespace sysfence::detail::kafel {

// `problem` is what can be wrong with a kafel policy; problem_text says it in words.
enum class problem : std::uint8_t {
  none,
  unexpected_character,
  bad_number,
  unterminated_comment,
  unexpected_token,
  include_not_supported,
  constant_redefined,
  policy_redefined,
  undefined_policy,
  default_redefined,
  value_out_of_range,
  errno_out_of_range,
  unknown_architecture,
  argument_redefined,
  too_many_arguments,
  undefined_identifier,
  syscall_not_on_target,
  no_syscall_with_number,
  compares_two_arguments,
  unsupported_operation,
  value_above_32_bits,
  too_many_conditions,
  too_many_rules,
  too_deep,
};

constexpr std::string_view problem_text(problem p) noexcept {
  switch (p) {
    case problem::none:
      return "no problem";
    case problem::unexpected_character:
      return "unexpected character";
    case problem::bad_number:
      return "malformed or out-of-range number";
    case problem::unterminated_comment:
      return "unterminated /* comment";
    case problem::unexpected_token:
      return "syntax error, unexpected token";
    case problem::include_not_supported:
      return "#include is not supported (paste the file in)";
    case problem::constant_redefined:
      return "redefinition of a constant with a different value";
    case problem::policy_redefined:
      return "redefinition of a policy";
    case problem::undefined_policy:
      return "undefined policy (USE needs a POLICY defined before it)";
    case problem::default_redefined:
      return "redefinition of the default action";
    case problem::value_out_of_range:
      return "action value out of range (0-65535)";
    case problem::errno_out_of_range:
      return "errno must be 1 to 4095 (0 would fake a success, the kernel caps at 4095)";
    case problem::unknown_architecture:
      return "unknown architecture";
    case problem::argument_redefined:
      return "redefinition of an argument";
    case problem::too_many_arguments:
      return "too many arguments defined for syscall (six at most)";
    case problem::undefined_identifier:
      return "undefined identifier";
    case problem::syscall_not_on_target:
      return "the syscall does not exist on the target architecture";
    case problem::no_syscall_with_number:
      return "no syscall sysfence knows has this number on the target architecture";
    case problem::compares_two_arguments:
      return "comparing two arguments is not supported (compare each with a constant)";
    case problem::unsupported_operation:
      return "unsupported operation: only (arg & mask) == / != value, arg <op> value and constants";
    case problem::value_above_32_bits:
      return "the argument is 32 bits wide but the value does not fit in 32 bits";
    case problem::too_many_conditions:
      return "a conjunction holds more than 8 comparisons";
    case problem::too_many_rules:
      return "the expression expands to more than 64 alternatives";
    case problem::too_deep:
      return "expression nested too deeply";
  }
  return "unknown problem";
}

// `max_token` is how many characters of the offending token an error keeps.
inline constexpr std::size_t max_token = 32;

// `error` is the first problem found, where, and the token there.
struct error {
  problem what = problem::none;
  std::uint32_t line = 0, column = 0;
  std::array<char, max_token> token{};
  std::uint8_t token_size = 0;
  [[nodiscard]] constexpr bool ok() const noexcept { return what == problem::none; }
  [[nodiscard]] constexpr std::string_view token_text() const noexcept { return {token.data(), token_size}; }
};

enum class tok : std::uint8_t {
  end,
  ident,
  number,
  lbrace,
  rbrace,
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  bang,
  hash,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  land,
  lor,
  band,
  bor,
  kw_policy,
  kw_use,
  kw_default,
  kw_syscall,
  kw_on,
  kw_define,
  kw_allow,
  kw_log,
  kw_kill,
  kw_kill_thread,
  kw_kill_process,
  kw_deny,
  kw_user_notif,
  kw_errno,
  kw_trap,
  kw_trace,
  bad,
};

struct token {
  tok kind = tok::end;
  std::string_view text;
  std::uint64_t value = 0;
  std::uint32_t line = 1, column = 1;
  problem bad = problem::none;  // kind == bad: why
};

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// `lexer` cuts the text into kafel's tokens (src/lexer.l): `//` and `/* */` comments, numbers
// decimal (maybe negative: two's complement), 0x hexadecimal, 0 octal and 0b binary.
// (Raw pointers and few statements per character: clang 14 counts constant evaluation steps
// inside std::string_view::operator[], and a 100-filter policy must lex in a fraction of its
// 1,048,576 steps.)
struct lexer {
  std::string_view s;
  std::size_t i = 0;
  std::uint32_t line = 1;
  std::size_t line_start = 0;  // where the current line starts: column = i - line_start + 1

  [[nodiscard]] constexpr std::uint32_t column() const noexcept {
    return static_cast<std::uint32_t>(i - line_start + 1);
  }
  // Blanks, newlines and comments; false at an unterminated /* comment (`i` at its start).
  constexpr bool skip() noexcept {
    const char* p = s.data();
    const std::size_t n = s.size();
    for (; i < n; ++i) {
      const char c = p[i];
      if (c == '\n') {
        ++line;
        line_start = i + 1;
      } else if (c == '/' && i + 1 < n && p[i + 1] == '/') {
        while (i + 1 < n && p[i + 1] != '\n') ++i;
      } else if (c == '/' && i + 1 < n && p[i + 1] == '*') {
        const std::size_t start = i, start_line = line, start_line_begin = line_start;
        for (i += 2; i + 1 < n && !(p[i] == '*' && p[i + 1] == '/'); ++i)
          if (p[i] == '\n') {
            ++line;
            line_start = i + 1;
          }
        if (i + 1 >= n) {
          i = start;
          line = static_cast<std::uint32_t>(start_line);
          line_start = start_line_begin;
          return false;
        }
        ++i;  // at the '/': the loop steps past it
      } else if (c != ' ' && c != '\t' && c != '\r') {
        break;
      }
    }
    return true;
  }
  constexpr token next() noexcept {
    const bool closed = skip();
    token t{tok::end, {}, 0, line, column()};
    if (!closed) {
      t.kind = tok::bad;
      t.text = s.substr(i, 2);
      t.bad = problem::unterminated_comment;
      i = s.size();
      return t;
    }
    const char* p = s.data();
    const std::size_t n = s.size();
    if (i >= n) return t;
    const std::size_t start = i;
    const char c = p[i];
    if (is_alpha(c) || c == '_') {  // (kafel wants a letter first, but names add_key's `_type`)
      for (++i; i < n && (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '_'); ++i) {
      }
      t.text = s.substr(start, i - start);
      t.kind = keyword(t.text);
      return t;
    }
    if (is_digit(c) || (c == '-' && i + 1 < n && is_digit(p[i + 1]))) return number(t);
    const char second = i + 1 < n ? p[i + 1] : '\0';
    tok k = tok::bad;
    std::size_t len = 1;
    switch (c) {
      case '{':
        k = tok::lbrace;
        break;
      case '}':
        k = tok::rbrace;
        break;
      case '(':
        k = tok::lparen;
        break;
      case ')':
        k = tok::rparen;
        break;
      case '[':
        k = tok::lbracket;
        break;
      case ']':
        k = tok::rbracket;
        break;
      case ',':
        k = tok::comma;
        break;
      case '#':
        k = tok::hash;
        break;
      case '!':
        if (second == '=') {
          k = tok::ne;
          len = 2;
        } else {
          k = tok::bang;
        }
        break;
      case '=':
        if (second == '=') {
          k = tok::eq;
          len = 2;
        }
        break;
      case '<':
        if (second == '=') {
          k = tok::le;
          len = 2;
        } else {
          k = tok::lt;
        }
        break;
      case '>':
        if (second == '=') {
          k = tok::ge;
          len = 2;
        } else {
          k = tok::gt;
        }
        break;
      case '&':
        if (second == '&') {
          k = tok::land;
          len = 2;
        } else {
          k = tok::band;
        }
        break;
      case '|':
        if (second == '|') {
          k = tok::lor;
          len = 2;
        } else {
          k = tok::bor;
        }
        break;
      default:
        break;
    }
    i += len;
    t.kind = k;
    t.text = s.substr(start, len);
    if (k == tok::bad) t.bad = problem::unexpected_character;
    return t;
  }

  // (By length first: comparing each identifier with every keyword was a third of the steps.)
  static constexpr tok keyword(std::string_view w) noexcept {
    const char c = w[0];
    if (c != 'd' && (c < 'A' || c > 'Z')) return tok::ident;
    auto is = [&](std::string_view k, tok t) { return w == k ? t : tok::ident; };
    switch (w.size()) {
      case 2:
        return is("ON", tok::kw_on);
      case 3:
        return c == 'U' ? is("USE", tok::kw_use) : is("LOG", tok::kw_log);
      case 4:
        return c == 'K'   ? is("KILL", tok::kw_kill)
               : c == 'D' ? is("DENY", tok::kw_deny)
                          : is("TRAP", tok::kw_trap);
      case 5:
        return c == 'A'   ? is("ALLOW", tok::kw_allow)
               : c == 'E' ? is("ERRNO", tok::kw_errno)
                          : is("TRACE", tok::kw_trace);
      case 6:
        return c == 'P' ? is("POLICY", tok::kw_policy) : is("define", tok::kw_define);
      case 7:
        return c == 'D' ? is("DEFAULT", tok::kw_default) : is("SYSCALL", tok::kw_syscall);
      case 10:
        return is("USER_NOTIF", tok::kw_user_notif);
      case 11:
        return is("KILL_THREAD", tok::kw_kill_thread);
      case 12:
        return is("KILL_PROCESS", tok::kw_kill_process);
      default:
        return tok::ident;
    }
  }

  // A number, as strtoull reads it (kafel): a leading '-' negates in 64-bit two's complement.
  constexpr token number(token t) noexcept {
    const char* p = s.data();
    const std::size_t n = s.size();
    const std::size_t start = i;
    const bool negative = p[i] == '-';
    if (negative) ++i;
    unsigned base = 10;
    if (p[i] == '0' && i + 1 < n && (p[i + 1] == 'x' || p[i + 1] == 'b') && !negative) {
      base = p[i + 1] == 'x' ? 16 : 2;
      i += 2;
    } else if (p[i] == '0' && !negative) {
      base = 8;
    }
    const std::size_t digits = i;
    bool overflow = false, bad_digit = false;
    std::uint64_t v = 0;
    for (; i < n && (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '_'); ++i) {
      const char d = p[i];
      const unsigned x = is_digit(d)            ? static_cast<unsigned>(d - '0')
                         : d >= 'a' && d <= 'f' ? static_cast<unsigned>(d - 'a' + 10)
                         : d >= 'A' && d <= 'F' ? static_cast<unsigned>(d - 'A' + 10)
                                                : 99;
      bad_digit = bad_digit || x >= base;
      overflow = overflow || (x < base && v > (~std::uint64_t{0} - x) / base);
      v = x < base ? v * base + x : v;
    }
    t.text = s.substr(start, i - start);
    if (overflow || bad_digit || i == digits) {
      t.kind = tok::bad;
      t.bad = problem::bad_number;
      return t;
    }
    t.kind = tok::number;
    t.value = negative ? 0 - v : v;
    return t;
  }
};

// --- the syntax tree ----------------------------------------------------------------------------

enum class node_kind : std::uint8_t {
  number,
  ident,
  bit_and,
  bit_or,
  compare,
  logic_and,
  logic_or,
  logic_not
};

// `node` is an expression node; children are indexes into the tree's node list.
struct node {
  node_kind kind = node_kind::number;
  cmp op = cmp::eq;  // compare: eq ne lt le gt ge
  std::uint64_t value = 0;
  std::string_view name;  // ident
  std::uint32_t line = 0, column = 0;
  std::int32_t left = -1, right = -1;
};

// `filter` is one syscall of an action block: `name(args) { expression }`.
struct filter {
  action result{};
  std::string_view name;  // empty for a number (SYSCALL[n] or a #define'd name)
  std::uint64_t number = 0;
  bool custom_args = false;  // `name(a, b)`: the arguments' names, each 64 bits (kafel)
  std::array<std::string_view, 6> args{};
  std::uint8_t arg_count = 0;
  std::int32_t expr = -1;  // -1: every call
  std::uint32_t line = 0, column = 0;
  std::uint8_t on = 0;  // `ON arch`: the architectures (bit: arch_family), 0 = all
};

// `arch_family` numbers kafel's architecture names (src/syscall.c arch_name_map), as bits of
// filter::on.
// (x86, not i386: -m32 builds define i386 as a macro.)
enum class arch_family : std::uint8_t { arm, aarch64, x86_64, x86, mips, mips64, riscv64, m68k };

struct named_policy {
  std::string_view name;
  std::vector<filter> filters;
};

// `tree` is a parsed program: the filters of its main policy in source order, the default.
struct tree {
  std::vector<node> nodes;
  std::vector<filter> filters;
  action default_action = action::kill_thread;  // kafel: absent DEFAULT is KILL (the thread)
  error err;
};

constexpr error make_error(problem p, const token& t) noexcept {
  error e{p, t.line, t.column, {}, 0};
  const std::size_t n = t.text.size() < max_token ? t.text.size() : max_token;
  for (std::size_t k = 0; k < n; ++k) e.token[k] = t.text[k];
  e.token_size = static_cast<std::uint8_t>(n);
  return e;
}

// `parser` is a recursive-descent reading of src/parser.y. Every function returns false once
// `out.err` holds the first problem.
struct parser {
  lexer lx;
  token cur{};
  tree out{};
  std::vector<std::pair<std::string_view, std::uint64_t>> constants{};
  std::vector<named_policy> policies{};
  bool has_default = false;
  unsigned depth = 0;
  static constexpr unsigned max_depth = 200;

  constexpr bool fail(problem p, const token& t) noexcept {
    if (out.err.ok()) out.err = make_error(p, t);
    return false;
  }
  constexpr bool shift() noexcept {
    cur = lx.next();
    return cur.kind != tok::bad || fail(cur.bad, cur);
  }
  constexpr bool expect(tok k) noexcept {
    return cur.kind == k ? shift() : fail(problem::unexpected_token, cur);
  }
  [[nodiscard]] constexpr const std::uint64_t* constant(std::string_view name) const noexcept {
    for (const auto& c : constants)
      if (c.first == name) return &c.second;
    return nullptr;
  }

  constexpr bool program() noexcept {
    if (!shift()) return false;
    while (cur.kind != tok::end) {
      if (cur.kind == tok::hash) {
        if (!define()) return false;
      } else if (cur.kind == tok::kw_policy) {
        if (!policy()) return false;
      } else if (cur.kind == tok::kw_default) {
        const token at = cur;
        action a{};
        if (!shift() || !read_action(a)) return false;
        if (has_default) return fail(problem::default_redefined, at);
        has_default = true;
        out.default_action = a;
      } else {
        if (!statements(out.filters)) return false;
      }
    }
    return true;
  }

  // `#define NAME NUMBER` (kafel: redefinition with another value is an error).
  constexpr bool define() noexcept {
    const token hash = cur;
    if (!shift()) return false;
    if (cur.kind == tok::ident && cur.text == "include") return fail(problem::include_not_supported, hash);
    if (!expect(tok::kw_define)) return false;
    const token name = cur;
    if (!expect(tok::ident)) return false;
    const token value = cur;
    if (!expect(tok::number)) return false;
    if (const std::uint64_t* v = constant(name.text)) {
      if (*v != value.value) return fail(problem::constant_redefined, hash);
      return true;
    }
    constants.push_back({name.text, value.value});
    return true;
  }

  constexpr bool policy() noexcept {
    if (!shift()) return false;
    const token name = cur;
    if (!expect(tok::ident) || !expect(tok::lbrace)) return false;
    for (const auto& p : policies)
      if (p.name == name.text) return fail(problem::policy_redefined, name);
    named_policy p{name.text, {}};
    if (cur.kind != tok::rbrace && !statements(p.filters)) return false;
    if (!expect(tok::rbrace)) return false;
    policies.push_back(p);
    return true;
  }

  // statement {',' statement}: USE name | action '{' [filter {',' filter}] '}'
  constexpr bool statements(std::vector<filter>& into) noexcept {
    for (;;) {
      if (cur.kind == tok::kw_use) {
        if (!shift()) return false;
        const token name = cur;
        if (!expect(tok::ident)) return false;
        const named_policy* used = nullptr;
        for (const auto& p : policies)
          if (p.name == name.text) used = &p;
        if (used == nullptr) return fail(problem::undefined_policy, name);
        for (const filter& f : used->filters) into.push_back(f);
      } else {
        action a{};
        if (!read_action(a) || !expect(tok::lbrace)) return false;
        if (cur.kind != tok::rbrace)
          for (;;) {
            if (!syscall_filter(a, into)) return false;
            if (cur.kind != tok::comma) break;
            if (!shift()) return false;
          }
        if (!expect(tok::rbrace)) return false;
      }
      if (cur.kind != tok::comma) return true;
      if (!shift()) return false;
    }
  }

  constexpr bool read_action(action& a) noexcept {
    const tok k = cur.kind;
    switch (k) {
      case tok::kw_allow:
        a = action::allow;
        return shift();
      case tok::kw_log:
        a = action::log;
        return shift();
      case tok::kw_kill:
      case tok::kw_kill_thread:
      case tok::kw_deny:
        a = action::kill_thread;
        return shift();  // kafel: SECCOMP_RET_KILL
      case tok::kw_kill_process:
        a = action::kill_process;
        return shift();
      case tok::kw_user_notif:
        a = action::user_notif;
        return shift();
      case tok::kw_errno:
      case tok::kw_trap:
      case tok::kw_trace: {
        if (!shift() || !expect(tok::lparen)) return false;
        const token n = cur;
        if (!expect(tok::number) || !expect(tok::rparen)) return false;
        if (n.value > 0xffff) return fail(problem::value_out_of_range, n);
        const auto v = static_cast<std::uint16_t>(n.value);
        if (k == tok::kw_errno && (v == 0 || v > 4095)) return fail(problem::errno_out_of_range, n);
        a = k == tok::kw_errno ? action::error(v) : k == tok::kw_trap ? action::trap(v) : action::trace(v);
        return true;
      }
      default:
        return fail(problem::unexpected_token, cur);
    }
  }

  constexpr bool syscall_filter(action a, std::vector<filter>& into) noexcept {
    filter f{};
    f.result = a;
    f.line = cur.line;
    f.column = cur.column;
    if (cur.kind == tok::kw_syscall) {
      if (!shift() || !expect(tok::lbracket)) return false;
      f.number = cur.value;
      if (!expect(tok::number) || !expect(tok::rbracket)) return false;
    } else {
      const token name = cur;
      if (!expect(tok::ident)) return false;
      if (const std::uint64_t* v = constant(name.text))
        f.number = *v;
      else
        f.name = name.text;
    }
    if (cur.kind == tok::lparen) {  // custom argument names
      f.custom_args = true;
      if (!shift()) return false;
      while (cur.kind != tok::rparen) {
        if (f.arg_count > 0 && !expect(tok::comma)) return false;
        const token arg = cur;
        if (!expect(tok::ident)) return false;
        for (std::size_t k = 0; k < f.arg_count; ++k)
          if (f.args[k] == arg.text) return fail(problem::argument_redefined, arg);
        if (f.arg_count == 6) return fail(problem::too_many_arguments, arg);
        f.args[f.arg_count++] = arg.text;
      }
      if (!shift()) return false;
    }
    if (cur.kind == tok::kw_on) {  // an architecture guard (kafel_lower.hpp keeps the target's)
      if (!shift()) return false;
      bool braces = cur.kind == tok::lbrace;
      if (braces && !shift()) return false;
      for (;;) {
        const token arch = cur;
        if (!expect(tok::ident)) return false;
        const int family = architecture(arch.text);
        if (family < 0) return fail(problem::unknown_architecture, arch);
        f.on = static_cast<std::uint8_t>(f.on | 1U << family);
        if (!braces || cur.kind != tok::comma) break;
        if (!shift()) return false;
      }
      if (braces && !expect(tok::rbrace)) return false;
    }
    if (cur.kind == tok::lbrace) {
      if (!shift()) return false;
      if (cur.kind != tok::rbrace && !bool_expr(f.expr)) return false;
      if (!expect(tok::rbrace)) return false;
    }
    into.push_back(f);
    return true;
  }

  // The arch_family of an architecture's name, case-insensitively, or -1.
  static constexpr int architecture(std::string_view n) noexcept {
    constexpr std::pair<std::string_view, arch_family> names[] = {
        {"arm", arch_family::arm},       {"aarch64", arch_family::aarch64}, {"arm64", arch_family::aarch64},
        {"x86_64", arch_family::x86_64}, {"amd64", arch_family::x86_64},    {"x86", arch_family::x86},
        {"i386", arch_family::x86},     {"mips", arch_family::mips},       {"mipso32", arch_family::mips},
        {"mips64", arch_family::mips64}, {"riscv64", arch_family::riscv64}, {"rv64", arch_family::riscv64},
        {"m68k", arch_family::m68k}};
    for (const auto& [k, family] : names) {
      if (k.size() != n.size()) continue;
      bool same = true;
      for (std::size_t j = 0; j < k.size(); ++j) {
        char c = n[j];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        same = same && c == k[j];
      }
      if (same) return static_cast<int>(family);
    }
    return -1;
  }

  constexpr std::int32_t add(node n) noexcept {
    out.nodes.push_back(n);
    return static_cast<std::int32_t>(out.nodes.size() - 1);
  }
  constexpr bool binary(node_kind k, std::int32_t& left, std::int32_t right, const token& at) noexcept {
    node n{};
    n.kind = k;
    n.left = left;
    n.right = right;
    n.name = at.text;  // the operator, for messages
    n.line = at.line;
    n.column = at.column;
    left = add(n);
    return true;
  }

  // `left_assoc` reads `next {op next}` into a left-leaning tree of `kind` nodes.
  constexpr bool left_assoc(std::int32_t& e, tok op, node_kind kind,
                            bool (parser::*next)(std::int32_t&)) noexcept {
    bool ok = (this->*next)(e);
    while (ok && cur.kind == op) {
      const token at = cur;
      std::int32_t r = -1;
      ok = shift() && (this->*next)(r) && binary(kind, e, r, at);
    }
    return ok;
  }
  // bool_expr := or_expr {',' or_expr} (',' is OR, the lowest precedence)
  constexpr bool bool_expr(std::int32_t& e) noexcept {
    if (++depth > max_depth) return fail(problem::too_deep, cur);
    const bool ok = left_assoc(e, tok::comma, node_kind::logic_or, &parser::or_expr);
    --depth;
    return ok;
  }
  constexpr bool or_expr(std::int32_t& e) noexcept {
    return left_assoc(e, tok::lor, node_kind::logic_or, &parser::and_expr);
  }
  constexpr bool and_expr(std::int32_t& e) noexcept {
    return left_assoc(e, tok::land, node_kind::logic_and, &parser::primary);
  }
  // Does the '(' at the current token close before a comparison or bit operator (an operand),
  // or before anything else (a parenthesised boolean expression)? Scanned on a copy of the lexer.
  [[nodiscard]] constexpr bool parenthesised_operand() const noexcept {
    lexer l = lx;
    int open = 1;
    token t{};
    while (open > 0) {
      t = l.next();
      if (t.kind == tok::end || t.kind == tok::bad) return false;
      if (t.kind == tok::lparen) ++open;
      if (t.kind == tok::rparen) --open;
    }
    t = l.next();
    switch (t.kind) {
      case tok::eq:
      case tok::ne:
      case tok::lt:
      case tok::le:
      case tok::gt:
      case tok::ge:
      case tok::band:
      case tok::bor:
        return true;
      default:
        return false;
    }
  }
  constexpr bool primary(std::int32_t& e) noexcept {
    if (++depth > max_depth) return fail(problem::too_deep, cur);
    bool ok = true;
    if (cur.kind == tok::bang) {
      const token at = cur;
      std::int32_t child = -1;
      ok = shift() && primary(child);
      if (ok) {
        node n{};
        n.kind = node_kind::logic_not;
        n.left = child;
        n.line = at.line;
        n.column = at.column;
        e = add(n);
      }
    } else if (cur.kind == tok::lparen && !parenthesised_operand()) {
      ok = shift() && bool_expr(e) && expect(tok::rparen);
    } else {
      ok = comparison(e);
    }
    --depth;
    return ok;
  }
  constexpr bool comparison(std::int32_t& e) noexcept {
    if (!bit_or(e)) return false;
    const token at = cur;
    cmp op = cmp::eq;
    switch (cur.kind) {
      case tok::eq:
        op = cmp::eq;
        break;
      case tok::ne:
        op = cmp::ne;
        break;
      case tok::lt:
        op = cmp::lt;
        break;
      case tok::le:
        op = cmp::le;
        break;
      case tok::gt:
        op = cmp::gt;
        break;
      case tok::ge:
        op = cmp::ge;
        break;
      default:
        return fail(problem::unexpected_token, cur);
    }
    std::int32_t r = -1;
    if (!shift() || !bit_or(r)) return false;
    binary(node_kind::compare, e, r, at);
    out.nodes[static_cast<std::size_t>(e)].op = op;
    return true;
  }
  constexpr bool bit_or(std::int32_t& e) noexcept {
    return left_assoc(e, tok::bor, node_kind::bit_or, &parser::bit_and);
  }
  constexpr bool bit_and(std::int32_t& e) noexcept {
    return left_assoc(e, tok::band, node_kind::bit_and, &parser::operand);
  }
  constexpr bool operand(std::int32_t& e) noexcept {
    if (++depth > max_depth) return fail(problem::too_deep, cur);
    const token t = cur;
    bool ok = true;
    if (t.kind == tok::number || t.kind == tok::ident) {  // an identifier: a constant, or an argument
      node n{};
      n.kind = t.kind == tok::number ? node_kind::number : node_kind::ident;
      n.value = t.value;
      if (const std::uint64_t* v = t.kind == tok::ident ? constant(t.text) : nullptr) {
        n.kind = node_kind::number;
        n.value = *v;
      }
      n.name = t.text;
      n.line = t.line;
      n.column = t.column;
      e = add(n);
      ok = shift();
    } else if (t.kind == tok::lparen) {
      ok = shift() && bit_or(e) && expect(tok::rparen);
    } else {
      ok = fail(problem::unexpected_token, t);
    }
    --depth;
    return ok;
  }
};

// `parse` reads a kafel program into its main policy's filters and default action.
constexpr tree parse(std::string_view text) noexcept {
  parser p{lexer{text}};
  p.program();
  return std::move(p.out);
}

}  // namespace sysfence::detail::kafel
