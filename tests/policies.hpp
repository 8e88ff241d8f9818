// SPDX-License-Identifier: MIT
// policies.hpp - the named policies the tests compile, simulate and install.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fcntl.h>
#include <sys/socket.h>

#include "sysfence/sysfence.hpp"

namespace test_policies {
using namespace sysfence;

// Every kernel test's child must be able to end: exit_group is what _exit() calls.
struct can_exit : rule_set_base {
  static constexpr std::string_view name = "can_exit";
  static constexpr auto simple_rules = syscalls(sys::exit_group, sys::exit);
};

// Plain allows, plus writes to fds 100..102 only (the kernel tests dup pipes there), compared on
// all 64 bits (arg64) so that the tests see 100 + 2^32 refused.
struct stdio_like : rule_set_base {
  static constexpr std::string_view name = "stdio_like";
  static constexpr auto simple_rules = syscalls(sys::read, sys::close, sys::getppid, sys::getpid);
  static constexpr std::array conditional_rules{
      rule{sys::write, arg64<0> == 100},
      rule{sys::write, arg64<0> >= 101, arg64<0> <= 102},
  };
};

// A rule set with a run-time value: writes to one fd chosen when the program runs (64-bit compare).
struct write_to : rule_set_base {
  static constexpr std::string_view name = "write_to";
  static constexpr std::size_t slot_count = 1;
  static constexpr std::array conditional_rules{rule{sys::write, arg64<0> == slot{0}}};
  std::uint64_t fd;
  constexpr explicit write_to(std::uint64_t f) noexcept : fd(f) {}
  constexpr std::array<std::uint64_t, 1> values() const noexcept { return {fd}; }
};

// The same compared on 32 bits: a value above them can never match.
struct write_to_narrow : rule_set_base {
  static constexpr std::string_view name = "write_to_narrow";
  static constexpr std::size_t slot_count = 1;
  static constexpr std::array conditional_rules{rule{sys::write, arg32<0> == slot{0}}};
  std::uint64_t fd;
  constexpr explicit write_to_narrow(std::uint64_t f) noexcept : fd(f) {}
  constexpr std::array<std::uint64_t, 1> values() const noexcept { return {fd}; }
};

// One rule per comparison operator and width, each on its own syscall and argument.
struct every_comparison : rule_set_base {
  static constexpr std::string_view name = "every_comparison";
  static constexpr std::array conditional_rules{
      rule{sys::dup, arg64<0> == 0x100000005ULL},
      rule{sys::dup2, arg64<1> != 7},
      rule{sys::lseek, arg64<1> < 0x100000000ULL},
      rule{sys::fcntl, arg64<1> <= 4},
      rule{sys::kill, arg64<1> > 0x7fffffffULL},
      rule{sys::tgkill, arg64<2> >= 0xffffffff00000000ULL},
      rule{sys::socket, (arg64<1> & 0xffffffff000000ffULL) == 0x0000000200000001ULL},
      rule{sys::mprotect, arg32<2> == 3},
      rule{sys::madvise, arg32<2> != 4},
      rule{sys::getpriority, arg32<0> < 2},
      rule{sys::setpriority, arg32<0> <= 2},
      rule{sys::umask, arg32<0> > 0x7fffffffU},
      rule{sys::flock, arg32<1> >= 8},
      rule{sys::fchmod, (arg32<1> & 0700) == 0600},
      rule{sys::ioctl, arg64<0> == 1, arg64<1> == 0x5401, arg64<2> != 0},  // AND of three
      rule{sys::ioctl, arg64<0> == 2},                                     // OR with another rule
  };
};

// Enough rules on `read` (the lowest number) that its block is longer than a conditional jump
// reaches, so the binary search above it needs JA trampolines. The values are apart and each has
// its own second argument: adjacent values with one outcome would be one range, two instructions.
struct long_block : rule_set_base {
  static constexpr std::string_view name = "long_block";
  static constexpr auto conditional_rules = [] {
    std::array<rule, 100> rules{};
    for (std::size_t i = 0; i < rules.size(); ++i)  // about 4 instructions each
      rules[i] = rule{sys::read, arg64<0> == 1000 + 2 * i, arg64<1> == i};
    return rules;
  }();
  static constexpr auto simple_rules = syscalls(sys::write, sys::open, sys::close, sys::stat,
                                                sys::fstat, sys::getpid, sys::getppid);
};

// Syscalls the container policy leaves out of its plain allow-list.
inline constexpr auto container_denied = syscalls(
    sys::ptrace, sys::bpf, sys::userfaultfd, sys::io_uring_setup, sys::kexec_load, sys::kexec_file_load,
    sys::init_module, sys::finit_module, sys::delete_module, sys::reboot, sys::process_vm_writev,
    sys::process_vm_readv, sys::mount, sys::umount2, sys::pivot_root, sys::swapon, sys::swapoff, sys::clone,
    sys::clone3, sys::socket, sys::ioctl, sys::prctl, sys::personality, sys::keyctl, sys::add_key,
    sys::request_key, sys::perf_event_open, sys::unshare, sys::setns, sys::seccomp);

// A container-sized allow-list: every x86_64 syscall but a few dangerous ones, plus conditions.
struct container : rule_set_base {
  static constexpr std::string_view name = "container";
  static constexpr auto simple_rules = syscalls_except<container_denied, arch::x86_64>();
  static constexpr std::array conditional_rules{
      rule{sys::clone, (arg<0> & 0x7E020000ULL) == 0},  // no new namespaces
      rule{sys::socket, arg<0> == AF_UNIX},
      rule{sys::socket, arg<0> == AF_INET},
      rule{sys::socket, arg<0> == AF_INET6},
      rule{sys::ioctl, arg32<1> == 0x5401},  // TCGETS
      rule{sys::ioctl, arg32<1> == 0x541B},  // FIONREAD
      rule{sys::prctl, arg32<0> == 15},      // PR_SET_NAME
      rule{sys::prctl, arg32<0> == 16},      // PR_GET_NAME
      rule{sys::personality, arg<0> == 0xffffffffULL},
      rule{sys::personality, arg<0> == 0},
  };
};

// Bare policies (`policy<...>`: exactly the rule sets named) pin exact semantics; policies made
// with `|` or safety_context also allow basic_capabilities, as users' policies do.
inline constexpr auto empty = policy<>{};
inline constexpr auto basics = safety_context{};
inline constexpr auto stdio = policy<can_exit, stdio_like>{};
inline constexpr auto stdio_context = can_exit{} | stdio_like{};
inline constexpr auto comparisons = policy<can_exit, every_comparison>{};  // conditions on mprotect
inline constexpr auto trampolines = policy<can_exit, long_block>{};
inline constexpr auto large = safety_context{}.enable(container{});
inline constexpr auto single = can_exit{} | sys::getppid;

}  // namespace test_policies
