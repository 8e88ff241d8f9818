// SPDX-License-Identifier: MIT
// kafel.hpp - policies in kafel's language (google/kafel, as nsjail's --seccomp_string takes them):
// `sysfence::kafel<"...">` compiles one in a constant expression, `sysfence::kafel_policy(text)`
// reads one at run time; one parser (detail/kafel_parser.hpp, detail/kafel_lower.hpp) for both.
//
// As in kafel the first rule matching a call decides it (the core's ordered mode); unlike kafel,
// the program also checks the x32 bit, compares 4-byte arguments on the 32 bits the kernel reads,
// and refuses what it cannot express exactly (docs/kafel.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/detail/diagnostics.hpp"
#include "sysfence/detail/kafel_lower.hpp"
#include "sysfence/detail/kafel_parser.hpp"
#include "sysfence/detail/meta.hpp"
#include "sysfence/detail/program_methods.hpp"
#include "sysfence/runtime_policy.hpp"

namespace sysfence {

namespace detail::kafel {

// find_syscall's binary search needs the generated names in order.
static_assert([] {
  for (std::size_t i = 1; i < syscall_count; ++i)
    if (!(syscall_names[i - 1] < syscall_names[i])) return false;
  return true;
}());

// `read` is a kafel program's rules for `target`: parsed, then lowered.
constexpr lowered read(std::string_view text, const arch::target& target) noexcept {
  return lower(parse(text), target);
}

// `error_message` is an error as "file:line:column: problem `token`".
inline std::string error_message(std::string_view file, const error& e) {
  std::string m(file);
  m += ':';
  m += std::to_string(e.line);
  m += ':';
  m += std::to_string(e.column);
  m += ": ";
  m += problem_text(e.what);
  if (e.token_size > 0) {
    m += " `";
    m += e.token_text();
    m += '`';
  }
  return m;
}

}  // namespace detail::kafel

// `kafel_policy` reads a kafel program at run time into a runtime_policy serving `targets` (the
// first decides the syscall names and `ON` guards); a problem throws policy_error
// "file:line:column: problem `token`".
inline runtime_policy kafel_policy(std::string_view text, std::string_view file_name = "<kafel>",
                                   std::vector<arch::target> targets = {arch::native::value}) {
  // (messages appended piece by piece: g++ 12 -O3 warns -Wrestrict on "lit" + std::string&&)
  std::string message = "sysfence: ";
  if (targets.empty()) {
    message += file_name;
    throw policy_error(message + ": no ABI to serve");
  }
  detail::kafel::lowered l = detail::kafel::read(text, targets.front());
  if (!l.err.ok()) throw policy_error(message + detail::kafel::error_message(file_name, l.err));
  std::vector<std::string> names;
  names.reserve(l.lines.size());
  for (std::size_t i = 0; i < l.lines.size(); ++i) {
    std::string n(file_name);
    n += ':';
    n += std::to_string(l.lines[i]);
    n += ':';
    n += std::to_string(l.columns[i]);
    names.push_back(std::move(n));
  }
  return runtime_policy(std::move(l.rules), std::move(names), l.default_action, std::move(targets), file_name,
                        true);
}

namespace detail::kafel {

// `literal` holds a string literal as a template argument: kafel<"ALLOW { read }">. (In
// detail::kafel: other front ends may hold their own.)
template <std::size_t N>
struct literal {
  std::array<char, N + 1> chars{};
  constexpr literal(const char (&s)[N + 1]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i <= N; ++i) chars[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars.data(), N}; }
};
template <std::size_t N>
literal(const char (&)[N]) -> literal<N - 1>;

// Compile errors name the place and the token as template arguments both compilers print.
template <std::uint32_t N>
struct line {};
template <std::uint32_t N>
struct column {};
template <char... C>
struct token_chars {};

template <class Line, class Column, problem Problem, class Token>
constexpr bool kafel_policy_does_not_compile() noexcept {
  static_assert(always_false<Line>,
                "sysfence: the kafel policy does not compile: see the line, column, problem and "
                "token named here");
  return true;  // (its static_assert is the only error)
}

template <const error& E, std::size_t... I>
constexpr bool report_error(std::index_sequence<I...>) noexcept {
  if constexpr (E.ok()) {
    return true;
  } else {
    return kafel_policy_does_not_compile<line<E.line>, column<E.column>, E.what,
                                         token_chars<E.token[I]...>>();
  }
}

template <sys::id Syscall, sysfence::detail::problem Problem, class Line, class Column>
constexpr bool kafel_rules_do_not_compile() noexcept {
  static_assert(always_false<Line>,
                "sysfence: the kafel policy's rules do not compile: see the problem, the syscall and the "
                "line and column of its filter named here");
  return true;  // (its static_assert is the only error)
}

// `report_core` reports what the core found wrong with the rules of a literal (read again to
// find the culprit filter's place): the program's length, or the problem with its syscall.
template <const diagnosis& D, literal Text, class Arch>
constexpr bool report_core() noexcept {
  if constexpr (D.ok()) {
    return true;
  } else if constexpr (D.what == sysfence::detail::problem::too_long) {
    return program_longer_than_the_kernel_allows<D.size>();
  } else {
    constexpr auto place = [] {
      const lowered l = read(Text.view(), Arch::value);
      const bool known = D.first < l.lines.size();
      return std::pair<std::uint32_t, std::uint32_t>{known ? l.lines[D.first] : 0,
                                                     known ? l.columns[D.first] : 0};
    }();
    return kafel_rules_do_not_compile<D.syscall, D.what, line<place.first>, column<place.second>>();
  }
}

// `summary` is what the first reading says about a kafel literal.
struct summary {
  error err;
  std::size_t count = 0;
  action default_action{};
};

template <literal Text, class Arch>
struct compiled {
  static constexpr summary first = [] {
    const lowered l = read(Text.view(), Arch::value);
    return summary{l.err, l.err.ok() ? l.rules.size() : 0, l.default_action};
  }();
  static constexpr error err = first.err;
  static constexpr bool reported = report_error<err>(std::make_index_sequence<err.token_size>{});
  static constexpr std::array<entry, first.count> rules = [] {
    std::array<entry, first.count> a{};
    const lowered l = read(Text.view(), Arch::value);
    for (std::size_t i = 0; i < a.size() && i < l.rules.size(); ++i) a[i] = l.rules[i];
    return a;
  }();
  static constexpr std::array<arch::target, 1> targets{Arch::value};
  static constexpr std::size_t capacity = capacity_bound(rules, 1);
  static constexpr auto built = [] {
    build_result<capacity, 0> r{};
    std::array<sort_key, 2 * first.count> order{};
    std::array<interval, intervals_needed(first.count)> intervals{};
    std::array<block_rule, first.count> block{};
    std::array<segment, segments_needed(first.count)> segments{};
    r.out =
        compile({rules, targets, first.default_action, false, newer_syscalls_for(first.default_action), true},
                {order, intervals, block, segments}, r.insns, r.patches);
    return r;
  }();
  static constexpr diagnosis core = built.out.result;
  static constexpr bool core_reported = !err.ok() || report_core<core, Text, Arch>();
};

}  // namespace detail::kafel

// `kafel<"...">` is a kafel program compiled in a constant expression for the native ABI (or
// `Arch`'s, to simulate or dump it): its program() is a constant array, dump() and the apply
// forms are runtime_policy's. A syntax or name error stops the build naming line<L>, column<C>,
// the problem and the token.
template <detail::kafel::literal Text, class Arch = arch::native>
class kafel : public detail::program_methods<kafel<Text, Arch>> {
  using compiled = detail::kafel::compiled<Text, Arch>;
  static_assert(compiled::reported && compiled::core_reported);
  static constexpr std::size_t size_ = compiled::built.out.result.ok() ? compiled::built.out.size : 0;

 public:
  // `insns` is the program, ready for seccomp(SECCOMP_SET_MODE_FILTER).
  static constexpr std::array<bpf::insn, size_> insns = detail::take<size_>(compiled::built.insns);
  // `program` is the same program as a span, as runtime_policy gives it.
  [[nodiscard]] constexpr std::span<const bpf::insn> program() const noexcept { return insns; }
  // `targets` is the ABIs the program serves: Arch's.
  [[nodiscard]] constexpr std::span<const arch::target> targets() const noexcept { return compiled::targets; }
  // `rules` is the policy's rules in priority order (the first matching a call decides it).
  [[nodiscard]] constexpr std::span<const detail::entry> rules() const noexcept { return compiled::rules; }
  // `default_action` is what calls no rule matches get (kafel: KILL when DEFAULT is absent).
  [[nodiscard]] constexpr action default_action() const noexcept { return compiled::first.default_action; }

 private:
  friend detail::program_methods<kafel>;
  static constexpr detail::action_set actions_ = detail::actions_returned(insns);
};

}  // namespace sysfence
