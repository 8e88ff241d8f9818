// SPDX-License-Identifier: MIT
// landlock.hpp - filesystem access rules that go with seccomp: paths and the rights on them.
//
// seccomp cannot see paths (they are pointers), Landlock can: the system_io methods that name a
// path (allow_read_path, allow_list_dir, ...) allow the syscalls with seccomp and restrict which
// files they reach with Landlock. This header is data only; apply.hpp talks to the kernel.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <linux/landlock.h>

// Rights newer than Debian 12's kernel headers, with the values of the kernel's
// include/uapi/linux/landlock.h (the kernel defines them with these very tokens).
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // Linux 6.2, Landlock ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // Linux 6.10, Landlock ABI 5
#endif

namespace sysfence::landlock {

// The filesystem rights of Landlock ABI 1 (Linux 5.13): execute, read, write, and making or
// removing each kind of file.
inline constexpr std::uint64_t abi1_rights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

// `handled_rights` is every filesystem right Landlock ABI `abi` knows: apply handles all of them,
// so each is denied unless a rule grants it. ABI 2 (5.19) adds REFER (linking or renaming into
// another directory; on ABI 1 that is always denied), ABI 3 (6.2) TRUNCATE, ABI 5 (6.10)
// IOCTL_DEV; ABIs 4, 6 and 7 add no filesystem right. Rights of ABIs newer than this header
// are not handled (allowed), as on any kernel that predates them.
constexpr std::uint64_t handled_rights(long abi) noexcept {
  std::uint64_t rights = 0;
  if (abi >= 1) rights |= abi1_rights;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

// The rights each path method grants. A kernel whose ABI lacks a right does not handle it, so
// apply drops it from every rule (the kernel refuses a rule granting an unhandled right) and the
// right is not restricted at all. No method grants REFER, EXECUTE or IOCTL_DEV.
inline constexpr std::uint64_t read_path = LANDLOCK_ACCESS_FS_READ_FILE;
inline constexpr std::uint64_t write_file = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
inline constexpr std::uint64_t list_dir = LANDLOCK_ACCESS_FS_READ_DIR;
inline constexpr std::uint64_t create_file = LANDLOCK_ACCESS_FS_MAKE_REG;
inline constexpr std::uint64_t create_dir = LANDLOCK_ACCESS_FS_MAKE_DIR;
inline constexpr std::uint64_t delete_file = LANDLOCK_ACCESS_FS_REMOVE_FILE;
inline constexpr std::uint64_t delete_dir = LANDLOCK_ACCESS_FS_REMOVE_DIR;

// `path_rule` grants `rights` on `path` and everything beneath it. The rule does not own the
// path: a rule set hands out rules pointing at string literals or at strings it holds itself,
// alive until apply returns. A missing `optional` path is skipped (the SSL and DNS file lists
// name files a system may not have); a missing required path fails apply.
struct path_rule {
  const char* path = nullptr;
  std::uint64_t rights = 0;
  bool optional = false;
};

// `literal` is what a path method stores as a pointer, free and usable in constant
// expressions: an array of const char, which is what a string literal is. Such an array must
// outlive apply (a literal does; a local `const char p[]` does not).
template <class C>
concept literal = std::same_as<C, const char>;

// `path_copy` is a path a rule set copies and owns (a std::string, a std::string_view, a
// `const char*`, a `char` buffer): it may die or change right after the method call. A null
// `const char*` becomes "", which fails apply (ENOENT) as the null pointer did (EFAULT).
struct path_copy {
  std::string text;
  template <class S>
    requires std::convertible_to<const S&, std::string_view>
  path_copy(const S& s) : text(view(s)) {}  // NOLINT: implicit, as the methods take it

 private:
  template <class S>
  static std::string_view view(const S& s) noexcept {
    if constexpr (std::is_convertible_v<const S&, const char*>) {
      const char* p = s;
      return p != nullptr ? std::string_view(p) : std::string_view();
    } else {
      return s;
    }
  }
};

}  // namespace sysfence::landlock
