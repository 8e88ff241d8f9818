// SPDX-License-Identifier: MIT
// rule_set.hpp - the rule_set concept: a named collection of simple and conditional rules.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <string_view>
#include <type_traits>

#include "sysfence/arch.hpp"
#include "sysfence/detail/meta.hpp"
#include "sysfence/detail/syscall_table.hpp"
#include "sysfence/rule.hpp"

namespace sysfence {

// `rule_set_base` is the empty base that lets `a | b` find sysfence's operator| for a user's type.
struct rule_set_base {};

namespace detail {
template <class T>
concept has_simple_rules = requires {
  { *std::ranges::begin(T::simple_rules) } -> std::convertible_to<sys::id>;
  { std::ranges::size(T::simple_rules) } -> std::convertible_to<std::size_t>;
};
template <class T>
concept has_conditional_rules = requires {
  { *std::ranges::begin(T::conditional_rules) } -> std::convertible_to<const rule&>;
  { std::ranges::size(T::conditional_rules) } -> std::convertible_to<std::size_t>;
};
}  // namespace detail

// `rule_set` is a type with a `name` and `static constexpr` ranges `simple_rules` (syscalls
// allowed whatever their arguments) and/or `conditional_rules` (rules with conditions), as
// extrasafe's RuleSet trait. A rule set with run-time values also has `slot_count` and a member
// `values()` returning that many std::uint64_t; one with Landlock path rules has `landlock_count`
// and a member `landlock_rules()` returning that many landlock::path_rule, one with Landlock TCP
// port rules `landlock_port_count` and `landlock_port_rules()` (landlock::port_rule), one with
// Landlock scopes `static constexpr std::uint64_t landlock_scopes` (landlock::scope_*).
template <class T>
concept rule_set = requires {
  { T::name } -> std::convertible_to<std::string_view>;
} && (detail::has_simple_rules<T> || detail::has_conditional_rules<T>);

namespace detail {
template <class T>
constexpr std::size_t simple_count() noexcept {
  if constexpr (has_simple_rules<T>)
    return std::ranges::size(T::simple_rules);
  else
    return 0;
}
template <class T>
constexpr std::size_t conditional_count() noexcept {
  if constexpr (has_conditional_rules<T>)
    return std::ranges::size(T::conditional_rules);
  else
    return 0;
}
template <class T>
constexpr std::size_t landlock_count() noexcept {
  if constexpr (requires { T::landlock_count; })
    return T::landlock_count;
  else
    return 0;
}
template <class T>
constexpr std::size_t landlock_port_count() noexcept {
  if constexpr (requires { T::landlock_port_count; })
    return T::landlock_port_count;
  else
    return 0;
}
template <class T>
constexpr std::uint64_t landlock_scopes() noexcept {
  if constexpr (requires { T::landlock_scopes; })
    return T::landlock_scopes;
  else
    return 0;
}
template <class T>
constexpr std::size_t slot_count() noexcept {
  if constexpr (requires { T::slot_count; })
    return T::slot_count;
  else
    return 0;
}
}  // namespace detail

namespace detail {
// A function, called outside a static_assert: its static_assert is the only error.
template <class Method, class RuleSet>
constexpr bool yes_really_missing_after() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: this method allows something dangerous; add .yes_really() after it to "
                "say you mean it (extrasafe's YesReally)");
  return true;
}
}  // namespace detail

// The built-ins' method names: called on a `dangerous` value, each says `.yes_really()` is missing
// instead of "no member named ...".
#define SYSFENCE_BUILTIN_METHODS(X)                                                                 \
  X(allow_read) X(allow_write) X(allow_unlink) X(allow_open) X(allow_open_readonly) X(allow_metadata)  \
  X(allow_ioctl) X(allow_close) X(allow_stdin) X(allow_stdout) X(allow_stderr) X(allow_file_read)     \
  X(allow_file_write) X(allow_read_path) X(allow_write_file) X(allow_create_in_dir) X(allow_list_dir) \
  X(allow_create_dir) X(allow_remove_file) X(allow_remove_dir) X(allow_ssl_files) X(allow_dns_files)  \
  X(allow_running_tcp_servers) X(allow_start_tcp_servers) X(allow_running_udp_sockets)                \
  X(allow_start_udp_servers) X(allow_connect) X(allow_start_tcp_clients) X(allow_running_tcp_clients) \
  X(allow_start_unix_servers) X(allow_running_unix_servers) X(allow_running_unix_clients)             \
  X(allow_create) X(allow_sleep) X(allow_bind_tcp) X(allow_connect_tcp)

// `dangerous<Set, Method>` is what a method that allows something risky returns (extrasafe's
// YesReally): it is not a rule set until `.yes_really()` says you mean it.
template <class Set, class Method>
struct dangerous {
  using method = Method;
  Set set;
  // `yes_really` acknowledges the risk and returns the rule set.
  [[nodiscard]] constexpr Set yes_really() const noexcept { return set; }

#define SYSFENCE_YES_REALLY_FIRST(method_name)                                  \
  template <class... Args>                                                      \
  constexpr Set method_name(Args&&...) const noexcept {                         \
    [[maybe_unused]] constexpr bool reported =                                  \
        detail::yes_really_missing_after<Method, Set>();                        \
    return set;                                                                 \
  }
  SYSFENCE_BUILTIN_METHODS(SYSFENCE_YES_REALLY_FIRST)
#undef SYSFENCE_YES_REALLY_FIRST
};

namespace detail {
// `all_syscall_ids<S...>` is true when every S converts to sys::id. Not a fold expression (nor a
// constrained pack, which is one): clang 14 refuses those past 256 elements, and a container's
// allow-list written out is longer.
template <class... S>
constexpr bool all_syscall_ids() noexcept {
  constexpr bool each[] = {true, std::is_convertible_v<S, sys::id>...};
  for (const bool b : each)
    if (!b) return false;
  return true;
}
}  // namespace detail

// `syscalls(sys::read, sys::write)` is the array of their ids, for a rule set's simple_rules. Any
// number of them, up to every syscall there is.
template <class... S>
  requires(detail::all_syscall_ids<S...>())
constexpr std::array<sys::id, sizeof...(S)> syscalls(S... s) noexcept {
  return {static_cast<sys::id>(s)...};
}

// `syscalls_except<Excluded>()` is every syscall the architecture has, but those in `Excluded`
// (an array from `syscalls(...)`): the plain allow-list of a container-style policy.
template <auto Excluded, class Arch = arch::native>
constexpr auto syscalls_except() noexcept {
  constexpr auto& numbers = Arch::numbers;
  constexpr auto kept = [](std::size_t i) {
    if (numbers[i] < 0) return false;
    for (const sys::id e : Excluded)
      if (e == static_cast<sys::id>(i)) return false;
    return true;
  };
  constexpr std::size_t n = [&] {
    std::size_t k = 0;
    for (std::size_t i = 0; i < numbers.size(); ++i) k += kept(i) ? 1 : 0;
    return k;
  }();
  std::array<sys::id, n> out{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    if (kept(i)) out[k++] = static_cast<sys::id>(i);
  return out;
}

}  // namespace sysfence
