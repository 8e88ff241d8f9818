// SPDX-License-Identifier: MIT
// promises.hpp - pledge promises (OpenBSD's pledge(2), Cosmopolitan's Linux port) as a rule set:
// `promises<"stdio rpath">` at compile time, `pledge("stdio rpath")` at run time, both lowered
// from the one table in detail/promise_table.hpp. docs/promises.md lists what each promise allows.
#pragma once

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/detail/meta.hpp"
#include "sysfence/detail/promise_table.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/report.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/runtime_policy.hpp"

namespace sysfence {
namespace detail {

// `promise_problem` is what is wrong with a promise string.
enum class promise_problem : std::uint8_t {
  none,
  unknown,       // a word that is no promise
  openbsd_only,  // an OpenBSD promise without a Linux counterpart (getpw, audio, ...)
};

// `parsed_promises` is a promise string read: its promises as bits, whether it says "error"
// (OpenBSD: violations fail with ENOSYS instead of killing), and the first bad word's place.
struct parsed_promises {
  std::uint32_t bits = 0;
  bool error_penalty = false;
  promise_problem problem = promise_problem::none;
  std::size_t begin = 0;  // the bad word: [begin, end) of the string
  std::size_t end = 0;
};

constexpr bool promise_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
constexpr char promise_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool same_word(std::string_view word, std::string_view name) noexcept {
  if (word.size() != name.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (promise_lower(word[i]) != name[i]) return false;
  return true;
}

// `parse_promises` reads words separated by spaces, tabs, CR or LF, case-insensitively, as
// Cosmopolitan does; it stops at the first bad word. The empty string is no promise at all
// (OpenBSD: only _exit).
constexpr parsed_promises parse_promises(std::string_view s) noexcept {
  parsed_promises out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (promise_space(s[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && !promise_space(s[j])) ++j;
    const std::string_view word = s.substr(i, j - i);
    bool known = false;
    for (const promise_name& p : promise_names)
      if (same_word(word, p.name)) {
        out.bits |= p.bit;
        known = true;
      }
    if (same_word(word, "error")) {
      out.error_penalty = true;
      known = true;
    }
    if (!known) {
      out.problem = promise_problem::unknown;
      for (const std::string_view o : openbsd_only_promises)
        if (same_word(word, o)) out.problem = promise_problem::openbsd_only;
      out.begin = i;
      out.end = j;
      return out;
    }
    i = j;
  }
  return out;
}

// `promise_string<N>` is a string literal as a template argument: promises<"stdio rpath">.
template <std::size_t N>
struct promise_string {
  std::array<char, N> chars{};
  constexpr promise_string(const char (&s)[N]) noexcept {  // NOLINT: implicit from the literal
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars.data(), N - 1}; }
};

// `unknown_promise<'r', 'p', 't', 'h'>` names the bad word in a compile error (g++ 12 and clang 14
// print a char pack as characters, a string as codes).
template <char... Word>
struct unknown_promise {};
template <char... Word>
struct openbsd_promise_without_linux_counterpart {};

template <class Named>
constexpr bool promise_is_unknown() noexcept {
  static_assert(always_false<Named>,
                "sysfence: promises<...>: this word (named here) is no promise; the promises are stdio "
                "rpath wpath cpath dpath flock fattr inet anet unix dns tty recvfd sendfd proc exec id chown "
                "settime prot_exec unveil vminfo tmppath mcast error");
  return true;
}
template <class Named>
constexpr bool promise_is_openbsd_only() noexcept {
  static_assert(always_false<Named>,
                "sysfence: promises<...>: this OpenBSD promise (named here) has no Linux counterpart "
                "sysfence can confine; leave it out");
  return true;
}

template <promise_string S, std::size_t Begin, std::size_t... I>
constexpr bool report_promise_word(std::index_sequence<I...>) noexcept {
  constexpr parsed_promises p = parse_promises(S.view());
  if constexpr (p.problem == promise_problem::openbsd_only)
    return promise_is_openbsd_only<openbsd_promise_without_linux_counterpart<S.chars[Begin + I]...>>();
  else
    return promise_is_unknown<unknown_promise<S.chars[Begin + I]...>>();
}

// `promises_checked<S>` is true for a good promise string, else the error naming its bad word.
template <promise_string S>
constexpr bool promises_checked() noexcept {
  constexpr parsed_promises p = parse_promises(S.view());
  if constexpr (p.problem == promise_problem::none)
    return true;
  else
    return report_promise_word<S, p.begin>(std::make_index_sequence<p.end - p.begin>{});
}

// `promise_rules<Bits>` is the rules of a promise set, exactly as many as lower_promises writes.
template <std::uint32_t Bits>
constexpr auto promise_rules() noexcept {
  constexpr std::size_t n = [] {
    std::array<rule, lowered_rule_count_max> scratch{};
    return lower_promises(Bits, scratch.data());
  }();
  std::array<rule, lowered_rule_count_max> all{};
  lower_promises(Bits, all.data());
  std::array<rule, n> out{};
  for (std::size_t i = 0; i < n; ++i) out[i] = all[i];
  return out;
}

// `promise_words` names the bad word of a run-time promise string and the problem.
inline std::string promise_words(std::string_view s, const parsed_promises& p) {
  std::string m = "sysfence: promises \"";
  m += s;
  m += "\": ";
  m += p.problem == promise_problem::openbsd_only ? "OpenBSD promise \"" : "unknown promise \"";
  m += s.substr(p.begin, p.end - p.begin);
  m += "\" at column ";
  m += std::to_string(p.begin + 1);
  m += p.problem == promise_problem::openbsd_only
           ? " has no Linux counterpart sysfence can confine; leave it out"
           : "; the promises are stdio rpath wpath cpath dpath flock fattr inet anet unix dns tty recvfd "
             "sendfd "
             "proc exec id chown settime prot_exec unveil vminfo tmppath mcast error";
  return m;
}

}  // namespace detail

// `promise_rule_set_name` is the name a promise set's rules go by in a policy.
inline constexpr std::string_view promise_rule_set_name = "promises";

// `promises<"stdio rpath">` is the rule set of the pledge promises in the string (see
// docs/promises.md): `policy<promises<"stdio">>{}` or `pledged<"stdio">`. A word that is no
// promise is a compile error naming it.
template <detail::promise_string S>
struct promises : rule_set_base {
 private:
  static constexpr detail::parsed_promises parsed_ = detail::parse_promises(S.view());
  static constexpr bool checked_ = detail::promises_checked<S>();
  static_assert(arch::native::value.audit != arch::x86::value.audit,
                "sysfence: promises<...> is not supported on i386: its old mmap reads its arguments from "
                "memory, so stdio's PROT_EXEC check would mean nothing");

 public:
  static constexpr std::string_view name = promise_rule_set_name;
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  // `bits` is the promise set (detail::promise_bit); `error_penalty` is true when it says "error".
  static constexpr std::uint32_t bits = checked_ ? parsed_.bits : 0;
  static constexpr bool error_penalty = parsed_.error_penalty;
  static constexpr auto conditional_rules = detail::promise_rules<bits>();
};

// `pledged<"stdio", Penalty>` is the policy of exactly these promises; calls outside them get
// Penalty (killing the process, as OpenBSD does, unless said otherwise), or ENOSYS when the
// string says "error".
template <detail::promise_string S, action Penalty = action::kill_process>
using pledged = basic_policy<promises<S>::error_penalty ? action::error(ENOSYS) : Penalty, promises<S>>;

namespace detail {
// `policy_of_promises` is the run-time policy of a promise set (the rules lower_promises writes,
// one rule set), its calls outside answered by `penalty`.
inline runtime_policy policy_of_promises(std::uint32_t bits, action penalty,
                                         std::vector<arch::target> targets, std::string_view promise_string) {
  std::vector<rule> rules(lowered_rule_count_max);
  rules.resize(lower_promises(bits, rules.data()));
  std::vector<entry> entries;
  entries.reserve(rules.size());
  for (const rule& r : rules) entries.push_back({r, 0, 0, true});
  std::string context = "promises \"";
  context += promise_string;
  context += '"';
  return runtime_policy(std::move(entries), {std::string(promise_rule_set_name)}, penalty, std::move(targets),
                        context);
}

inline parsed_promises checked_promises(std::string_view promise_string,
                                        std::span<const arch::target> targets) {
  const parsed_promises p = parse_promises(promise_string);
  if (p.problem != promise_problem::none) throw policy_error(promise_words(promise_string, p));
  // i386's `mmap` (90) is old_mmap, whose arguments are in memory: stdio's and prot_exec's
  // checks of its registers would mean nothing there.
  for (const arch::target& t : targets)
    if (t.audit == arch::x86::value.audit)
      throw policy_error("sysfence: promises \"" + std::string(promise_string) +
                         "\": i386 is not supported (its old mmap reads its arguments from memory)");
  return p;
}
}  // namespace detail

// `promise_policy` is the run-time policy of the promises in `promise_string` (as pledged<>
// builds at compile time, the same program); a word that is no promise throws policy_error
// naming it and its column.
inline runtime_policy promise_policy(std::string_view promise_string, action penalty = action::kill_process,
                                     std::vector<arch::target> targets = {arch::native::value}) {
  const detail::parsed_promises p = detail::checked_promises(promise_string, targets);
  return detail::policy_of_promises(p.bits, p.error_penalty ? action::error(ENOSYS) : penalty,
                                    std::move(targets), promise_string);
}

// `promise_exec_policy` is the wider policy a command runs under from its execve until its
// promises apply (what `sysfence run --promises` installs before exec, like Cosmopolitan's
// pledge.com): the promises plus stdio, rpath, prot_exec and exec, and arch_prctl(ARCH_SET_FS),
// which the dynamic loader and libc's start-up need. A statically linked command keeps it.
inline runtime_policy promise_exec_policy(std::string_view promise_string,
                                          action penalty = action::kill_process,
                                          std::vector<arch::target> targets = {arch::native::value}) {
  const detail::parsed_promises p = detail::checked_promises(promise_string, targets);
  using namespace detail;
  return policy_of_promises(p.bits | p_stdio | p_rpath | p_prot_exec | p_exec | p_loader,
                            p.error_penalty ? action::error(ENOSYS) : penalty, std::move(targets),
                            promise_string);
}

// `pledge` confines every thread of the process to the promises in `promise_string` from now on,
// like OpenBSD's pledge(promises, NULL): calls outside them get `penalty` (action::kill_process,
// action::error(EPERM), action::trap(): a trap prints the call on stderr first, see
// report_violations, then ends the process by SIGSYS). Throws policy_error for a bad string,
// apply_error when the kernel refuses. Calling it again can only narrow (stdio allows it).
inline void pledge(std::string_view promise_string, action penalty = action::kill_process) {
  const runtime_policy policy = promise_policy(promise_string, penalty);
  if (policy.default_action().what() == action::kind::trap && !report_violations())
    throw policy_error("sysfence: pledge: the SIGSYS handler that reports violations could not be installed");
  policy.apply_to_all_threads();
}

}  // namespace sysfence
