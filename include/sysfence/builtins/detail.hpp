// SPDX-License-Identifier: MIT
// builtins/detail.hpp - what the built-in rule sets share: bounded rule lists, method tags.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "sysfence/detail/syscall_table.hpp"
#include "sysfence/rule.hpp"

namespace sysfence::builtins {

// Tags naming the methods that need `.yes_really()`; compile errors print them.
namespace method {
struct allow_open;
struct allow_start_tcp_servers;
struct allow_start_udp_servers;
struct allow_start_unix_servers;
struct allow_connect;
struct allow_sleep;
}  // namespace method

namespace detail {

// `bounded_list` is a constexpr list with a fixed capacity: a rule set's simple_rules or
// conditional_rules computed from its flags (a range: begin, end, size).
template <class T, std::size_t Capacity>
struct bounded_list {
  std::array<T, Capacity> items{};
  std::size_t count = 0;

  constexpr void add(const T& t) noexcept { items[count++] = t; }
  template <class U, std::size_t N>
  constexpr void add(const std::array<U, N>& more) noexcept {
    for (const auto& t : more) add(T(t));
  }
  [[nodiscard]] constexpr const T* begin() const noexcept { return items.data(); }
  [[nodiscard]] constexpr const T* end() const noexcept { return items.data() + count; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return count; }
};

// `fd_value` is a file descriptor as the kernel reads it: the low 32 bits of the argument (fd
// parameters are `int` or `unsigned int`, or go through fdget(unsigned int)), so a slot value
// for the 32-bit comparisons arg<N> makes on them.
constexpr std::uint64_t fd_value(int fd) noexcept { return static_cast<std::uint32_t>(fd); }

}  // namespace detail
}  // namespace sysfence::builtins
