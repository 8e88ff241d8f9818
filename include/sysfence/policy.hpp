// SPDX-License-Identifier: MIT
// policy.hpp - rule sets composed into a policy: `a | b`, `safety_context{}.enable(a)`.
#pragma once

#include <array>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/append.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "sysfence/action.hpp"
#include "sysfence/builtins/basic_capabilities.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/detail/diagnostics.hpp"
#include "sysfence/rule_set.hpp"

namespace sysfence {

template <action Default, class... Sets>
class basic_policy;

namespace detail {

template <class T>
inline constexpr bool is_policy = false;
template <action D, class... S>
inline constexpr bool is_policy<basic_policy<D, S...>> = true;

template <class T>
inline constexpr bool is_dangerous = false;
template <class S, class M>
inline constexpr bool is_dangerous<dangerous<S, M>> = true;

template <class T>
concept composable = rule_set<T> || is_policy<T> || is_dangerous<T>;

// `is_portable<S>` is true when the rule set says `static constexpr bool portable = true`: its
// rules naming a syscall the target lacks are left out instead of being an error (the built-ins).
template <class S>
constexpr bool is_portable() noexcept {
  if constexpr (requires { { S::portable } -> std::convertible_to<bool>; })
    return S::portable;
  else
    return false;
}

// `collect_rules` flattens the rule sets' rules into one array of entries, in rule-set order.
template <class... Sets>
constexpr auto collect_rules() noexcept {
  constexpr std::size_t total = (std::size_t{0} + ... + (simple_count<Sets>() + conditional_count<Sets>()));
  std::array<entry, total> out{};
  std::size_t pos = 0;
  std::uint16_t origin = 0;
  std::uint16_t slot_base = 0;
  auto append = [&]<class S>(std::type_identity<S>) {
    constexpr bool portable = is_portable<S>();
    if constexpr (has_simple_rules<S>)
      for (const auto& s : S::simple_rules) out[pos++] = {rule{static_cast<sys::id>(s)}, origin, slot_base, portable};
    if constexpr (has_conditional_rules<S>)
      for (const rule& r : S::conditional_rules) out[pos++] = {r, origin, slot_base, portable};
    ++origin;
    slot_base = static_cast<std::uint16_t>(slot_base + slot_count<S>());
  };
  (append(std::type_identity<Sets>{}), ...);
  (void)append;  // unused for the empty policy
  return out;
}

// `slots_used` is one past the highest run-time slot a rule set's rules compare with (0: none).
template <class S>
constexpr std::size_t slots_used() noexcept {
  std::size_t used = 0;
  if constexpr (has_conditional_rules<S>)
    for (const rule& r : S::conditional_rules)
      for (std::size_t i = 0; i < r.count; ++i)
        if (r.conditions[i].has_slot() && static_cast<std::size_t>(r.conditions[i].slot) + 1 > used)
          used = static_cast<std::size_t>(r.conditions[i].slot) + 1;
  return used;
}

// `values_size` is how many values S::values() returns (a std::array), or -1 without values().
template <class S>
constexpr std::ptrdiff_t values_size() noexcept {
  if constexpr (requires(const S& s) { s.values(); }) {
    using values_type = std::remove_cvref_t<decltype(std::declval<const S&>().values())>;
    if constexpr (requires { std::tuple_size<values_type>::value; })
      return static_cast<std::ptrdiff_t>(std::tuple_size_v<values_type>);
    else
      return -2;  // not a std::array: its size is not known at compile time
  } else {
    return -1;
  }
}

// `slots_fit` is true when S's run-time slots are consistent: every slot{i} below slot_count,
// slot_count declared exactly when slots are used, and values() returning exactly slot_count
// values; otherwise it instantiates the error naming the rule set.
template <class S>
constexpr bool slots_fit() noexcept {
  constexpr std::size_t used = slots_used<S>();
  constexpr std::size_t declared = slot_count<S>();
  constexpr std::ptrdiff_t values = values_size<S>();
  if constexpr (used > declared) {
    return slot_index_not_below_slot_count_in<S, used - 1, declared>();
  } else if constexpr (declared > 0 && used == 0) {
    return slot_count_without_slots_in<S, declared>();
  } else if constexpr (declared > 0 && values != static_cast<std::ptrdiff_t>(declared)) {
    return values_must_return_slot_count_values_in<S, static_cast<std::size_t>(values < 0 ? 0 : values),
                                                   declared>();
  } else {
    return true;
  }
}

template <class S>
concept answers_newer_syscalls = requires {
  { S::newer_syscalls } -> std::convertible_to<action>;
};

// `newer_syscalls_of` is what the policy answers syscalls newer than the tables: the answer of
// the rule set that gives one (with_newer_syscalls), else detail::newer_syscalls_for(Default).
template <action Default, class... Sets>
constexpr action newer_syscalls_of() noexcept {
  action found = newer_syscalls_for(Default);
  auto look = [&]<class S>(std::type_identity<S>) {
    if constexpr (answers_newer_syscalls<S>) found = S::newer_syscalls;
  };
  (look(std::type_identity<Sets>{}), ...);
  (void)look;  // unused for the empty policy
  return found;
}
template <class... Sets>
constexpr std::size_t newer_syscalls_answers() noexcept {
  return (std::size_t{0} + ... + (answers_newer_syscalls<Sets> ? 1 : 0));
}

template <std::size_t N>
constexpr diagnosis analyse(const std::array<entry, N>& rules) noexcept {
  std::array<sort_key, 2 * N> keys{};
  return analyse(rules, keys);
}

// `installer` is defined by apply.hpp, the only header that talks to the kernel.
template <class Policy>
struct installer;

}  // namespace detail

template <class Policy>
class landlock_only_policy;

// `newer_syscalls_answer<A>` is a rule set without rules that makes a policy answer syscalls
// newer than sysfence's tables with A: `policy.with_newer_syscalls<A>()` enables it.
template <action A>
struct newer_syscalls_answer : rule_set_base {
  static constexpr std::string_view name = "newer_syscalls";
  static constexpr std::array<rule, 0> conditional_rules{};
  static constexpr action newer_syscalls = A;
};

// `basic_policy` is the set of enabled rule sets and the action for everything they do not
// allow. Its type is the whole policy: the BPF program is computed from it at compile time.
// The rule-set objects it holds carry only run-time values (a file descriptor to allow).
template <action Default, class... Sets>
class basic_policy {
 public:
  // `default_action` is what every syscall no rule allows gets (extrasafe's default: EPERM).
  static constexpr action default_action = Default;

  constexpr basic_policy() noexcept = default;
  constexpr explicit basic_policy(boost::hana::tuple<Sets...> sets) noexcept : sets_(std::move(sets)) {}

  // `enable` returns the policy with `set` added: a rule set, or every rule set of a policy.
  // Enabling a rule set without run-time values twice changes nothing.
  template <class T>
  [[nodiscard]] constexpr auto enable(const T& set) const noexcept {
    using U = std::remove_cvref_t<T>;
    namespace hana = boost::hana;
    if constexpr (detail::is_policy<U>) {
      static_assert(U::default_action == Default,
                    "sysfence: the two policies have different default actions; give them the same");
      return hana::fold_left(set.sets(), *this, [](const auto& p, const auto& s) { return p.enable(s); });
    } else if constexpr (detail::is_dangerous<U>) {
      [[maybe_unused]] constexpr bool reported = detail::yes_really_missing_after<typename U::method, decltype(set.set)>();
      return *this;
    } else if constexpr (!rule_set<U>) {
      static_assert(detail::always_false<U>,
                    "sysfence: enable() takes a rule set: a type with a `name` and static "
                    "`simple_rules` and/or `conditional_rules` (see sysfence::rule_set)");
      return *this;
    } else if constexpr (std::is_empty_v<U> &&
                         decltype(hana::contains(hana::tuple_t<Sets...>, hana::type_c<U>))::value) {
      return *this;
    } else {
      return basic_policy<Default, Sets..., U>{hana::append(sets_, set)};
    }
  }

  // `with_default<A>()` is this policy with another action for everything no rule allows, e.g.
  // action::kill_process, action::trap() or action::log (a logging, allow-by-default policy).
  template <action A>
  [[nodiscard]] constexpr basic_policy<A, Sets...> with_default() const noexcept {
    return basic_policy<A, Sets...>{sets_};
  }
  // `with_errno<E>()` makes everything no rule allows fail with errno E (extrasafe's with_errno).
  template <std::uint16_t E>
  [[nodiscard]] constexpr auto with_errno() const noexcept {
    return with_default<action::error(E)>();
  }
  // `with_newer_syscalls<A>()` answers syscalls newer than sysfence's tables (numbers above the
  // highest the target's table knows) with A. Without it they get ENOSYS when the default
  // refuses, so glibc's probes fall back to older syscalls, and the default when it allows.
  template <action A>
  [[nodiscard]] constexpr auto with_newer_syscalls() const noexcept {
    return enable(newer_syscalls_answer<A>{});
  }

  // `sets` is the tuple of enabled rule-set objects.
  [[nodiscard]] constexpr const boost::hana::tuple<Sets...>& sets() const noexcept { return sets_; }

  // `rules` is every rule of the policy as plain data (the compiler core's input).
  static constexpr auto rules = detail::collect_rules<Sets...>();
  // `rule_set_names` names the enabled rule sets, in order (rules' origins index it).
  static constexpr std::array<std::string_view, sizeof...(Sets)> rule_set_names{
      std::string_view{Sets::name}...};
  // `slot_count` is how many run-time values the policy's rules need.
  static constexpr std::size_t slot_count = (std::size_t{0} + ... + detail::slot_count<Sets>());
  // `newer_syscalls` is what numbers above the target's syscall table get (see with_newer_syscalls).
  static constexpr action newer_syscalls = detail::newer_syscalls_of<Default, Sets...>();
  // `landlock_count` is how many Landlock path rules apply installs with the filter.
  static constexpr std::size_t landlock_count = (std::size_t{0} + ... + detail::landlock_count<Sets>());
  // `landlock_port_count` is how many Landlock TCP port rules apply installs with the filter.
  static constexpr std::size_t landlock_port_count =
      (std::size_t{0} + ... + detail::landlock_port_count<Sets>());
  // `landlock_scopes` is the Landlock scopes (landlock::scope_*) the rule sets ask for.
  static constexpr std::uint64_t landlock_scopes = (std::uint64_t{0} | ... | detail::landlock_scopes<Sets>());
  // `uses_landlock` is true when apply restricts the thread with Landlock as well as seccomp.
  static constexpr bool uses_landlock = landlock_count > 0 || landlock_port_count > 0 || landlock_scopes != 0;

  // `landlock_only` is this policy's Landlock rules without its seccomp filter (extrasafe's
  // `landlock_only()`): applied, every syscall stays allowed, and Landlock handles every
  // filesystem right (files no path rule grants are refused, even with no path rule at all),
  // the TCP ports of the port rules and the scopes asked for.
  [[nodiscard]] constexpr landlock_only_policy<basic_policy> landlock_only() const {
    return landlock_only_policy<basic_policy>{*this};
  }

  // `report` turns a diagnosis of this policy into a compile error naming the culprits.
  template <detail::diagnosis D, class Arch = void>
  static constexpr bool report() noexcept {
    return detail::report<D, Arch, Sets...>();
  }

  // Installing (defined in apply.hpp): one seccomp() call over the constant program.
  // `apply_to_current_thread` throws sysfence::apply_error; `try_` forms return an apply_status.
  // `Flags` are install_flag values (apply.hpp): log, spec_allow, new_listener.
  // `Abis`, when given, are the ABIs the program serves (arch::native among them), each judged by
  // its own table: `apply_to_current_thread<arch::x86_64, arch::x86>()` filters int 0x80 calls by
  // the rules where the default program kills the process (see `program` in compile.hpp).
  template <class... Abis, class... Flags>
  auto apply_to_current_thread(Flags... flags) const {
    return detail::installer<basic_policy>::template apply<false, Abis...>(*this, flags...);
  }
  template <class... Abis, class... Flags>
  auto apply_to_all_threads(Flags... flags) const {
    return detail::installer<basic_policy>::template apply<true, Abis...>(*this, flags...);
  }
  template <class... Abis, class... Flags>
  auto try_apply_to_current_thread(Flags... flags) const noexcept {
    return detail::installer<basic_policy>::template try_apply<false, Abis...>(*this, flags...);
  }
  template <class... Abis, class... Flags>
  auto try_apply_to_all_threads(Flags... flags) const noexcept {
    return detail::installer<basic_policy>::template try_apply<true, Abis...>(*this, flags...);
  }

 private:
  // Each check below reports its problem as the only error: a constexpr variable, not a
  // static_assert, takes the result (see detail/diagnostics.hpp).
  static constexpr auto slots_checked_ = (detail::slots_fit<Sets>() && ...);
  static_assert(detail::newer_syscalls_answers<Sets...>() <= 1,
                "sysfence: the policy says twice what syscalls newer than sysfence's tables get "
                "(with_newer_syscalls); keep one");
  static constexpr auto answers_checked_ = report<detail::check_answers(Default, newer_syscalls)>();
  static constexpr detail::diagnosis diagnosis_ = detail::analyse(rules);
  static constexpr auto rules_checked_ = report<diagnosis_>();

  boost::hana::tuple<Sets...> sets_;
};

// `landlock_only_policy<Policy>` is a policy applied by its Landlock rules alone, no seccomp
// filter: `policy.landlock_only().apply_to_current_thread()`. Made by basic_policy::landlock_only.
template <class Policy>
class landlock_only_policy {
 public:
  constexpr explicit landlock_only_policy(const Policy& p) : policy_(p) {}

  // `policy` is the policy whose Landlock rules are applied.
  [[nodiscard]] constexpr const Policy& policy() const noexcept { return policy_; }

  // Installing (defined in apply.hpp): no_new_privs, then landlock_restrict_self; no seccomp().
  // `apply_to_current_thread` throws sysfence::apply_error, `try_` returns an apply_status.
  auto apply_to_current_thread() const { return detail::installer<landlock_only_policy>::apply(*this); }
  auto try_apply_to_current_thread() const noexcept { return detail::installer<landlock_only_policy>::try_apply(*this); }
  // Landlock has no thread synchronisation: apply_to_all_threads is a compile error.
  template <class T = void>
  auto apply_to_all_threads() const {
    return all_threads_refused<T>();
  }
  template <class T = void>
  auto try_apply_to_all_threads() const noexcept {
    return all_threads_refused<T>();
  }

 private:
  template <class T>
  static bool all_threads_refused() noexcept {
    static_assert(detail::always_false<T>,
                  "sysfence: Landlock restricts only the calling thread, so a landlock_only() policy cannot "
                  "apply_to_all_threads; apply it in each thread, or before starting threads (they inherit it)");
    return false;
  }

  Policy policy_;
};

// `policy<Sets...>` is a policy whose default action is extrasafe's: fail with EPERM.
template <class... Sets>
using policy = basic_policy<action::error(EPERM), Sets...>;

// `safety_context` is extrasafe's starting point, `safety_context{}.enable(a)`: a policy that
// already allows builtins::basic_capabilities, as every applied extrasafe context does. Spell
// `policy<Sets...>` for a policy of exactly the rule sets named.
using safety_context = policy<builtins::basic_capabilities>;

// `a | b` is the policy of both: rule sets and policies compose, in order; composing rule sets
// starts from safety_context, so basic_capabilities is part of it.
template <detail::composable A, detail::composable B>
constexpr auto operator|(const A& a, const B& b) noexcept {
  if constexpr (detail::is_policy<A>)
    return a.enable(b);
  else
    return safety_context{}.enable(a).enable(b);
}

namespace detail {
// The members a rule set needs, named by the error about the one a type lacks.
namespace member {
struct name;                                   // static: std::string_view name = "...";
struct simple_rules_or_conditional_rules;      // static constexpr ranges of sys::id / rule
}  // namespace member

// A function, not a class: its failed static_assert is the only error (reading a member of a
// class whose static_assert failed is a second one on clang 14).
template <class T, class Missing>
constexpr bool not_a_rule_set_it_lacks() noexcept {
  static_assert(always_false<T>,
                "sysfence: `|` composes rule sets and policies, and this type (named here, with the "
                "member it lacks) is not a rule set: it needs a static `name` and static constexpr "
                "`simple_rules` and/or `conditional_rules` (see sysfence::rule_set)");
  return true;
}

template <class T>
constexpr bool explain_composable() noexcept {
  if constexpr (composable<T>)
    return true;
  else if constexpr (!requires { { T::name } -> std::convertible_to<std::string_view>; })
    return not_a_rule_set_it_lacks<T, member::name>();
  else
    return not_a_rule_set_it_lacks<T, member::simple_rules_or_conditional_rules>();
}

template <class T>
concept sysfence_side = composable<T> || std::derived_from<T, rule_set_base>;
}  // namespace detail

// `a | b` where one side only looks like a rule set (it derives from rule_set_base, or the other
// side is sysfence's): one error naming the type and the member it lacks, instead of "no match".
template <class A, class B>
  requires(detail::sysfence_side<A> || detail::sysfence_side<B>) &&
          (!(detail::composable<A> && detail::composable<B>))
constexpr auto operator|(const A&, const B&) noexcept {
  // Not a static_assert of its own: the one in not_a_rule_set_it_lacks is the only error.
  [[maybe_unused]] constexpr bool a_ok = detail::explain_composable<A>();
  [[maybe_unused]] constexpr bool b_ok = detail::explain_composable<B>();
  return safety_context{};
}

}  // namespace sysfence
