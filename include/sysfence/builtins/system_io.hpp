// SPDX-License-Identifier: MIT
// system_io.hpp - files and standard streams: extrasafe's SystemIO, with two weaknesses fixed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fcntl.h>

#include "sysfence/builtins/detail.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/terminal_ioctl.hpp"
#include "sysfence/landlock.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::builtins {

namespace io {
// The syscall groups of extrasafe's systemio.rs, each with the i386 forms glibc calls there
// (_llseek for lseek, fcntl64 for fcntl, the stat64 family for stat; only i386 has them).
inline constexpr auto read_syscalls =
    syscalls(sys::read, sys::readv, sys::preadv, sys::preadv2, sys::pread64, sys::lseek, sys::_llseek);
inline constexpr auto write_syscalls = syscalls(sys::write, sys::writev, sys::pwritev, sys::pwritev2, sys::pwrite64,
                                                sys::fsync, sys::fdatasync, sys::lseek, sys::_llseek);
inline constexpr auto open_syscalls = syscalls(sys::open, sys::openat, sys::openat2);
// and ioctl, but not TIOCSTI or TIOCLINUX (detail/terminal_ioctl.hpp); extrasafe allows both.
inline constexpr auto ioctl_syscalls = syscalls(sys::fcntl, sys::fcntl64);
inline constexpr auto metadata_syscalls =
    syscalls(sys::stat, sys::fstat, sys::newfstatat, sys::lstat, sys::statx, sys::getdents, sys::getdents64,
             sys::getcwd, sys::stat64, sys::fstat64, sys::fstatat64, sys::lstat64);
inline constexpr auto close_syscalls = syscalls(sys::close, sys::close_range);
inline constexpr auto unlink_syscalls = syscalls(sys::unlink, sys::unlinkat);
// The read and metadata syscalls whose first argument is a file descriptor: allow_file_read(fd)
// restricts these. extrasafe also puts `arg0 == fd` on stat, lstat and getcwd, whose first
// argument is a pointer; sysfence does not.
inline constexpr auto fd_read_syscalls =
    syscalls(sys::read, sys::readv, sys::preadv, sys::preadv2, sys::pread64, sys::lseek, sys::fstat,
             sys::newfstatat, sys::statx, sys::getdents, sys::getdents64, sys::_llseek, sys::fstat64,
             sys::fstatat64);
// Open flags that write or create. extrasafe's list plus O_TRUNC, which truncates even when
// opening read-only.
inline constexpr std::uint64_t write_create_flags = O_WRONLY | O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_TRUNC;

enum flag : std::uint32_t {
  read = 1U << 0,
  write = 1U << 1,
  unlink = 1U << 2,
  open = 1U << 3,
  open_readonly = 1U << 4,
  metadata = 1U << 5,
  ioctl = 1U << 6,
  close = 1U << 7,
  stdin_ = 1U << 8,
  stdout_ = 1U << 9,
  stderr_ = 1U << 10,
  creat = 1U << 11,  // creat (allow_create_in_dir)
  mkdir = 1U << 12,  // mkdir, mkdirat (allow_create_dir)
  rmdir = 1U << 13,  // rmdir, unlinkat (allow_remove_dir)
};
}  // namespace io

namespace detail {
// `no_owned_paths` is the storage of a system_io_rules whose paths are all literals: none.
struct no_owned_paths {};
}  // namespace detail

// `system_io_rules` allows file and stream I/O, method by method, like extrasafe's SystemIO. Each
// `allow_*` returns a new type; `allow_file_read(fd)` and `allow_file_write(fd)` add run-time slots,
// the path methods (allow_read_path, ...) Landlock rules applied with the filter. `Owning` says
// whether it holds copies of paths (given as std::string and the like), so it is not a literal type.
template <std::uint32_t Flags = 0, std::size_t Reads = 0, std::size_t Writes = 0, std::size_t Paths = 0,
          bool Owning = false>
class system_io_rules : public rule_set_base {
  using owned_paths = std::conditional_t<Owning, std::array<std::string, Paths>, detail::no_owned_paths>;

 public:
  static constexpr std::string_view name = "system_io";
  static constexpr bool portable = true;  // a syscall the target lacks is left out
  static constexpr std::size_t slot_count = Reads + Writes;
  static constexpr std::size_t landlock_count = Paths;

  constexpr system_io_rules() noexcept = default;
  constexpr explicit system_io_rules(std::array<std::uint64_t, Reads + Writes> fds,
                                     std::array<landlock::path_rule, Paths> paths = {},
                                     owned_paths owned = {}) noexcept(!Owning)
      : fds_(fds), paths_(paths), owned_(std::move(owned)) {}

  // `nothing` allows nothing; add to it with the allow_* methods.
  static constexpr system_io_rules<> nothing() noexcept { return {}; }
  // `everything` allows reading, writing, opening, metadata, unlinking and closing (not ioctl).
  static constexpr auto everything() noexcept {
    return system_io_rules<io::read | io::write | io::open | io::metadata | io::unlink | io::close>{};
  }

  [[nodiscard]] constexpr auto allow_read() const noexcept { return with<io::read>(); }
  [[nodiscard]] constexpr auto allow_write() const noexcept { return with<io::write>(); }
  [[nodiscard]] constexpr auto allow_unlink() const noexcept { return with<io::unlink>(); }
  // `allow_open` lets any file be opened in any mode: dangerous, needs `.yes_really()`.
  [[nodiscard]] constexpr auto allow_open() const noexcept {
    return dangerous<decltype(with<io::open>()), method::allow_open>{with<io::open>()};
  }
  // `allow_open_readonly` lets files be opened without write, create, append or truncate flags.
  [[nodiscard]] constexpr auto allow_open_readonly() const noexcept { return with<io::open_readonly>(); }
  [[nodiscard]] constexpr auto allow_metadata() const noexcept { return with<io::metadata>(); }
  // `allow_ioctl` allows fcntl, and ioctl with any request but TIOCSTI and TIOCLINUX.
  [[nodiscard]] constexpr auto allow_ioctl() const noexcept { return with<io::ioctl>(); }
  [[nodiscard]] constexpr auto allow_close() const noexcept { return with<io::close>(); }
  [[nodiscard]] constexpr auto allow_stdin() const noexcept { return with<io::stdin_>(); }
  [[nodiscard]] constexpr auto allow_stdout() const noexcept { return with<io::stdout_>(); }
  [[nodiscard]] constexpr auto allow_stderr() const noexcept { return with<io::stderr_>(); }

  // `allow_file_read` lets `fd` be read and queried (the read and fd-metadata syscalls).
  [[nodiscard]] constexpr auto allow_file_read(int fd) const noexcept(!Owning) {
    std::array<std::uint64_t, Reads + 1 + Writes> fds{};
    for (std::size_t i = 0; i < Reads; ++i) fds[i] = fds_[i];
    fds[Reads] = detail::fd_value(fd);
    for (std::size_t i = 0; i < Writes; ++i) fds[Reads + 1 + i] = fds_[Reads + i];
    return system_io_rules<Flags, Reads + 1, Writes, Paths, Owning>{fds, paths_, owned_};
  }
  // `allow_file_write` lets `fd` be written with write(2).
  [[nodiscard]] constexpr auto allow_file_write(int fd) const noexcept(!Owning) {
    std::array<std::uint64_t, Reads + Writes + 1> fds{};
    for (std::size_t i = 0; i < Reads + Writes; ++i) fds[i] = fds_[i];
    fds[Reads + Writes] = detail::fd_value(fd);
    return system_io_rules<Flags, Reads, Writes + 1, Paths, Owning>{fds, paths_, owned_};
  }

  static constexpr auto simple_rules = [] {
    detail::bounded_list<sys::id, 48> out;
    if (Flags & io::read) out.add(io::read_syscalls);
    if (Flags & io::write) out.add(io::write_syscalls);
    if (Flags & io::unlink) out.add(io::unlink_syscalls);
    if (Flags & io::open) out.add(io::open_syscalls);
    if (Flags & io::metadata) out.add(io::metadata_syscalls);
    if (Flags & io::ioctl) out.add(io::ioctl_syscalls);
    if (Flags & io::close) out.add(io::close_syscalls);
    if (Flags & io::creat) out.add(syscalls(sys::creat));
    if (Flags & io::mkdir) out.add(syscalls(sys::mkdir, sys::mkdirat));
    if (Flags & io::rmdir) out.add(syscalls(sys::rmdir, sys::unlinkat));
    return out;
  }();

  static constexpr auto conditional_rules = [] {
    // open and openat read-only, stdin, stdout, stderr, then one rule per fd syscall and slot.
    detail::bounded_list<rule, 6 + Reads * io::fd_read_syscalls.size() + Writes> out;
    if (Flags & io::ioctl)
      out.add(sysfence::detail::ioctl_without_terminal_injection);
    if (Flags & io::open_readonly) {
      out.add(rule{sys::open, (arg<1> & io::write_create_flags) == 0});
      out.add(rule{sys::openat, (arg<2> & io::write_create_flags) == 0});
    }
    if (Flags & io::stdin_) out.add(rule{sys::read, arg<0> == 0});
    if (Flags & io::stdout_) out.add(rule{sys::write, arg<0> == 1});
    if (Flags & io::stderr_) out.add(rule{sys::write, arg<0> == 2});
    // arg32: what arg<0> is on an fd, also on the i386-only syscalls, which have no x86_64 signature.
    for (std::size_t i = 0; i < Reads; ++i)
      for (auto s : io::fd_read_syscalls) out.add(rule{s, arg32<0> == slot{static_cast<std::uint8_t>(i)}});
    for (std::size_t i = 0; i < Writes; ++i)
      out.add(rule{sys::write, arg<0> == slot{static_cast<std::uint8_t>(Reads + i)}});
    return out;
  }();

  // Landlock methods: seccomp allows the syscalls, Landlock limits the files they reach (the
  // rights each grants: landlock.hpp). A policy with paths applies to the current thread only
  // (Landlock has no thread sync). Each takes a string literal, stored as a pointer (constexpr,
  // nothing to free; an array of const char must outlive apply), or anything else convertible to
  // std::string_view, copied into the rule set, which then owns it (not constexpr).

  // `allow_read_path` lets files at or beneath `path` be opened and read (not truncated: Landlock ABI 3).
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_read_path(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<read_flags>(std::array{landlock::path_rule{path, landlock::read_path}});
  }
  [[nodiscard]] auto allow_read_path(landlock::path_copy path) const {
    return with_owned_path<read_flags>(std::move(path), landlock::read_path);
  }
  // `allow_write_file` lets the file `path` (or files beneath it) be opened, written and truncated.
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_write_file(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<write_flags>(std::array{landlock::path_rule{path, landlock::write_file}});
  }
  [[nodiscard]] auto allow_write_file(landlock::path_copy path) const {
    return with_owned_path<write_flags>(std::move(path), landlock::write_file);
  }
  // `allow_create_in_dir` lets files be created in the directory `path` (creat, open with O_CREAT).
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_create_in_dir(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<create_flags>(std::array{landlock::path_rule{path, create_rights}});
  }
  [[nodiscard]] auto allow_create_in_dir(landlock::path_copy path) const {
    return with_owned_path<create_flags>(std::move(path), create_rights);
  }
  // `allow_list_dir` lets the directory `path` be listed.
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_list_dir(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<list_flags>(std::array{landlock::path_rule{path, landlock::list_dir}});
  }
  [[nodiscard]] auto allow_list_dir(landlock::path_copy path) const {
    return with_owned_path<list_flags>(std::move(path), landlock::list_dir);
  }
  // `allow_create_dir` lets directories be created in `path` (mkdir, mkdirat).
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_create_dir(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<io::mkdir>(std::array{landlock::path_rule{path, landlock::create_dir}});
  }
  [[nodiscard]] auto allow_create_dir(landlock::path_copy path) const {
    return with_owned_path<io::mkdir>(std::move(path), landlock::create_dir);
  }
  // `allow_remove_file` lets files in `path` be removed (unlink, unlinkat).
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_remove_file(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<io::unlink>(std::array{landlock::path_rule{path, landlock::delete_file}});
  }
  [[nodiscard]] auto allow_remove_file(landlock::path_copy path) const {
    return with_owned_path<io::unlink>(std::move(path), landlock::delete_file);
  }
  // `allow_remove_dir` lets directories in `path` be removed (rmdir, unlinkat).
  template <landlock::literal C, std::size_t N>
  [[nodiscard]] constexpr auto allow_remove_dir(C (&path)[N]) const noexcept(!Owning) {
    return with_paths<io::rmdir>(std::array{landlock::path_rule{path, landlock::delete_dir}});
  }
  [[nodiscard]] auto allow_remove_dir(landlock::path_copy path) const {
    return with_owned_path<io::rmdir>(std::move(path), landlock::delete_dir);
  }
  // `allow_ssl_files` lets the system's CA certificates be read (and /etc/localtime, as OpenSSL does).
  [[nodiscard]] constexpr auto allow_ssl_files() const noexcept(!Owning) {
    constexpr auto dirs = landlock::read_path | landlock::list_dir;
    return with_paths<read_flags>(std::array{
        landlock::path_rule{"/etc/ssl/certs", dirs, true}, landlock::path_rule{"/etc/ca-certificates", dirs, true},
        landlock::path_rule{"/etc/localtime", landlock::read_path, true}});
  }
  // `allow_dns_files` lets the resolver's configuration files be read (not truncated: Landlock ABI 3).
  [[nodiscard]] constexpr auto allow_dns_files() const noexcept(!Owning) {
    constexpr auto r = landlock::read_path;
    return with_paths<read_flags>(std::array{
        landlock::path_rule{"/etc/resolv.conf", r, true}, landlock::path_rule{"/etc/hosts", r, true},
        landlock::path_rule{"/etc/host.conf", r, true}, landlock::path_rule{"/etc/nsswitch.conf", r, true},
        landlock::path_rule{"/etc/gai.conf", r, true}});
  }

  // `landlock_rules` are the paths and rights of the Landlock methods; copied paths point into
  // this object, so it must outlive the rules (apply keeps the policy, and with it the rule set).
  [[nodiscard]] constexpr std::array<landlock::path_rule, Paths> landlock_rules() const noexcept {
    std::array<landlock::path_rule, Paths> rules = paths_;
    if constexpr (Owning)
      for (std::size_t i = 0; i < Paths; ++i)
        if (rules[i].path == nullptr)  // a copy; with a NUL byte inside, "" makes apply fail (ENOENT)
          rules[i].path = owned_[i].find('\0') == std::string::npos ? owned_[i].c_str() : "";
    return rules;
  }

  // `values` are the file descriptors of allow_file_read (first) and allow_file_write.
  [[nodiscard]] constexpr std::array<std::uint64_t, Reads + Writes> values() const noexcept { return fds_; }

 private:
  // The syscalls each group of path methods allows with seccomp, as extrasafe's systemio.rs.
  static constexpr std::uint32_t read_flags = io::close | io::read | io::metadata | io::open;
  static constexpr std::uint32_t write_flags = io::close | io::write | io::metadata | io::open;
  static constexpr std::uint32_t create_flags = io::open | io::creat;
  static constexpr std::uint32_t list_flags = io::metadata | io::close | io::ioctl | io::open;
  static constexpr std::uint64_t create_rights = landlock::create_file | landlock::write_file;

  template <std::uint32_t F>
  constexpr system_io_rules<Flags | F, Reads, Writes, Paths, Owning> with() const noexcept(!Owning) {
    return system_io_rules<Flags | F, Reads, Writes, Paths, Owning>{fds_, paths_, owned_};
  }
  template <std::uint32_t F, std::size_t N>
  constexpr system_io_rules<Flags | F, Reads, Writes, Paths + N, Owning> with_paths(
      const std::array<landlock::path_rule, N>& more) const noexcept(!Owning) {
    std::array<landlock::path_rule, Paths + N> paths{};
    for (std::size_t i = 0; i < Paths; ++i) paths[i] = paths_[i];
    for (std::size_t i = 0; i < N; ++i) paths[Paths + i] = more[i];
    if constexpr (Owning) {
      std::array<std::string, Paths + N> owned{};  // empty for the literals
      for (std::size_t i = 0; i < Paths; ++i) owned[i] = owned_[i];
      return system_io_rules<Flags | F, Reads, Writes, Paths + N, Owning>{fds_, paths, std::move(owned)};
    } else {
      return system_io_rules<Flags | F, Reads, Writes, Paths + N, Owning>{fds_, paths};
    }
  }
  // A copied path: its rule's `path` stays null until landlock_rules() points it at the copy.
  template <std::uint32_t F>
  system_io_rules<Flags | F, Reads, Writes, Paths + 1, true> with_owned_path(landlock::path_copy path,
                                                                             std::uint64_t rights) const {
    std::array<landlock::path_rule, Paths + 1> paths{};
    std::array<std::string, Paths + 1> owned{};
    for (std::size_t i = 0; i < Paths; ++i) paths[i] = paths_[i];
    if constexpr (Owning)
      for (std::size_t i = 0; i < Paths; ++i) owned[i] = owned_[i];
    paths[Paths] = landlock::path_rule{nullptr, rights};
    owned[Paths] = std::move(path.text);
    return system_io_rules<Flags | F, Reads, Writes, Paths + 1, true>{fds_, paths, std::move(owned)};
  }

  std::array<std::uint64_t, Reads + Writes> fds_{};
  std::array<landlock::path_rule, Paths> paths_{};
  [[no_unique_address]] owned_paths owned_{};
};

// `system_io` is the rule set that allows nothing yet: `system_io::nothing().allow_stdout()`.
using system_io = system_io_rules<>;

// `system_io_with<Methods...>` is how compile errors name a system_io rule set: by the methods
// called on it (method:: tags), not by its flags.
template <class... Methods>
struct system_io_with {};

}  // namespace sysfence::builtins

namespace sysfence::detail {
template <std::uint32_t F, std::size_t R, std::size_t W, std::size_t P, bool O>
struct shown_as<builtins::system_io_rules<F, R, W, P, O>> {
  using type = list_as<builtins::system_io_with,  //
                       kept_if<(F & builtins::io::read) != 0, builtins::method::allow_read>,
                       kept_if<(F & builtins::io::write) != 0, builtins::method::allow_write>,
                       kept_if<(F & builtins::io::unlink) != 0, builtins::method::allow_unlink>,
                       kept_if<(F & builtins::io::open) != 0 && P == 0, builtins::method::allow_open>,
                       kept_if<(F & builtins::io::open_readonly) != 0, builtins::method::allow_open_readonly>,
                       kept_if<(F & builtins::io::metadata) != 0 && P == 0, builtins::method::allow_metadata>,
                       kept_if<(F & builtins::io::ioctl) != 0 && P == 0, builtins::method::allow_ioctl>,
                       kept_if<(F & builtins::io::close) != 0 && P == 0, builtins::method::allow_close>,
                       kept_if<(F & builtins::io::stdin_) != 0, builtins::method::allow_stdin>,
                       kept_if<(F & builtins::io::stdout_) != 0, builtins::method::allow_stdout>,
                       kept_if<(F & builtins::io::stderr_) != 0, builtins::method::allow_stderr>,
                       kept_if<(R > 0), builtins::method::allow_file_read>,
                       kept_if<(W > 0), builtins::method::allow_file_write>,
                       kept_if<(P > 0), builtins::method::path_methods>>;
};
}  // namespace sysfence::detail

namespace sysfence::builtins {

}  // namespace sysfence::builtins
