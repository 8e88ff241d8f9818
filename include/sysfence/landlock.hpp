// SPDX-License-Identifier: MIT
// landlock.hpp - filesystem access rules that go with seccomp: paths and the rights on them.
//
// seccomp cannot see paths (they are pointers), Landlock can: the system_io methods that name a
// path (allow_read_path, allow_list_dir, ...) allow the syscalls with seccomp and restrict which
// files they reach with Landlock. This header is data only; apply.hpp talks to the kernel.
#pragma once

#include <cstdint>

#include <linux/landlock.h>

namespace sysfence::landlock {

// The rights of Landlock ABI 2 (extrasafe's set): every one is denied unless a rule grants it.
inline constexpr std::uint64_t handled_rights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER;

// The ABI those rights need.
inline constexpr int minimum_abi = 2;

// The rights extrasafe's methods grant (its landlock::access helpers).
inline constexpr std::uint64_t read_path = LANDLOCK_ACCESS_FS_READ_FILE;
inline constexpr std::uint64_t write_file = LANDLOCK_ACCESS_FS_WRITE_FILE;
inline constexpr std::uint64_t list_dir = LANDLOCK_ACCESS_FS_READ_DIR;
inline constexpr std::uint64_t create_file = LANDLOCK_ACCESS_FS_MAKE_REG;
inline constexpr std::uint64_t create_dir = LANDLOCK_ACCESS_FS_MAKE_DIR;
inline constexpr std::uint64_t delete_file = LANDLOCK_ACCESS_FS_REMOVE_FILE;
inline constexpr std::uint64_t delete_dir = LANDLOCK_ACCESS_FS_REMOVE_DIR;

// `path_rule` grants `rights` on `path` and everything beneath it. The path is not copied: it
// must live until apply (string literals do). A missing `optional` path is skipped (the SSL and
// DNS file lists name files a system may not have); a missing required path fails apply.
struct path_rule {
  const char* path = nullptr;
  std::uint64_t rights = 0;
  bool optional = false;
};

}  // namespace sysfence::landlock
