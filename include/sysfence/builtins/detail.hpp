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
// Tags naming every built-in method: compile errors show a built-in rule set by them
// (`system_io_with<method::allow_stdout>`), and the dangerous ones ask for `.yes_really()`.
namespace method {
struct allow_read;
struct allow_write;
struct allow_unlink;
struct allow_open;
struct allow_open_readonly;
struct allow_metadata;
struct allow_ioctl;
struct allow_close;
struct allow_stdin;
struct allow_stdout;
struct allow_stderr;
struct allow_file_read;
struct allow_file_write;
struct allow_create_in_dir;
struct allow_create_dir;
struct allow_remove_dir;
struct path_methods;  // allow_read_path and the other Landlock methods (their paths are values)
struct port_methods;  // allow_bind_tcp and allow_connect_tcp (their ports are values)
struct allow_running_sockets;  // allow_running_{tcp,udp,unix}_* (they add the same syscalls)
struct allow_start_tcp_servers;
struct allow_start_udp_servers;
struct allow_start_unix_servers;
struct allow_start_tcp_clients;
struct allow_connect;
struct allow_create;
struct allow_sleep;
struct allow_gettime;
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
