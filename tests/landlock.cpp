// SPDX-License-Identifier: MIT
// landlock.cpp - system_io's path methods in the kernel: seccomp allows the syscalls, Landlock
// limits the files (EACCES outside the granted paths).
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <dirent.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "landlock_fixture.hpp"
#include "sysfence/sysfence.hpp"

using namespace sysfence;
using namespace kernel_test;
using namespace landlock_test;
namespace builtins = sysfence::builtins;

namespace {

outcome open_write(const std::string& path) {
  return record([&] {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return -1L;
    const long n = ::write(fd, "x", 1);
    ::close(fd);
    return n;
  });
}

// `file_size` is the size of `path` in bytes, -1 if it cannot be stat'ed.
long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1L;
}

// `all_but<S, E>` allows every syscall but S, which fails with errno E: installed first, it
// plays a kernel without Landlock, or one that refuses a Landlock or seccomp call.
template <auto S, std::uint16_t E>
struct all_but : rule_set_base {
  static constexpr std::string_view name = "all_but";
  static constexpr auto simple_rules = syscalls_except<syscalls(S)>();
  static constexpr std::array conditional_rules{rule{S}.then(action::error(E))};
};
template <auto S, std::uint16_t E>
constexpr policy<all_but<S, E>> earlier_filter{};


}  // namespace

TEST_CASE("allow_read_path: read beneath the path, EACCES elsewhere") {
  tree t;
  const std::string granted = t / "granted";
  shared<std::array<outcome, 3>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_read_path(granted.c_str())), [&] {
    (*r)[0] = open_read(t / "granted/file");
    (*r)[1] = open_read(t / "other/file");
    (*r)[2] = open_write(t / "granted/file");  // seccomp denies write: EPERM
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].err != 0);
}

TEST_CASE("allow_write_file: that file only") {
  tree t;
  const std::string file = t / "granted/file";
  shared<std::array<outcome, 2>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_write_file(file.c_str())), [&] {
    (*r)[0] = open_write(t / "granted/file");
    (*r)[1] = open_write(t / "other/file");
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
}

TEST_CASE("allow_create_in_dir: create there, not elsewhere") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 3>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_create_in_dir(dir.c_str()).allow_close()), [&] {
    (*r)[0] = record([&] { return static_cast<long>(::open((t / "granted/new").c_str(), O_CREAT | O_WRONLY, 0600)); });
    (*r)[1] = record([&] { return static_cast<long>(::open((t / "other/new").c_str(), O_CREAT | O_WRONLY, 0600)); });
    (*r)[2] = record([&] { return static_cast<long>(::creat((t / "granted/made_by_creat").c_str(), 0600)); });
  });
  CHECK((*r)[0].ret >= 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret >= 0);
}

TEST_CASE("allow_list_dir: list that directory, EACCES for another") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 2>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_list_dir(dir.c_str())), [&] {
    auto list = [&](const std::string& path) {
      return record([&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd < 0) return -1L;
        char buf[1024];
        const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
        ::close(fd);
        return n;
      });
    };
    (*r)[0] = list(t / "granted");
    (*r)[1] = list(t / "other");
  });
  CHECK((*r)[0].ret > 0);
  CHECK((*r)[1].err == EACCES);
}

TEST_CASE("allow_create_dir, allow_remove_file, allow_remove_dir") {
  tree t;
  const std::string dir = t / "granted";
  shared<std::array<outcome, 6>> r;
  const auto io = builtins::system_io::nothing()
                      .allow_create_dir(dir.c_str())
                      .allow_remove_file(dir.c_str())
                      .allow_remove_dir(dir.c_str());
  applied(safety_context{}.enable(io), [&] {
    (*r)[0] = record([&] { return static_cast<long>(::mkdir((t / "granted/d").c_str(), 0700)); });
    (*r)[1] = record([&] { return static_cast<long>(::mkdir((t / "other/d").c_str(), 0700)); });
    (*r)[2] = record([&] { return static_cast<long>(::unlink((t / "granted/file").c_str())); });
    (*r)[3] = record([&] { return static_cast<long>(::unlink((t / "other/file").c_str())); });
    (*r)[4] = record([&] { return static_cast<long>(::rmdir((t / "granted/sub").c_str())); });
    (*r)[5] = record([&] { return static_cast<long>(::rmdir((t / "other").c_str())); });
  });
  CHECK((*r)[0].ret == 0);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret == 0);
  CHECK((*r)[3].err == EACCES);
  CHECK((*r)[4].ret == 0);
  CHECK((*r)[5].err == EACCES);
}

TEST_CASE("allow_dns_files and allow_ssl_files: those files, not others; missing ones skipped") {
  shared<std::array<outcome, 3>> r;
  const auto io = builtins::system_io::nothing().allow_dns_files().allow_ssl_files();
  applied(safety_context{}.enable(io), [&] {
    (*r)[0] = open_read("/etc/hosts");
    (*r)[1] = open_read("/etc/passwd");
    (*r)[2] = record([] {
      const int fd = ::open("/etc/ssl/certs", O_RDONLY | O_DIRECTORY);
      if (fd >= 0) ::close(fd);
      return fd < 0 ? -1L : 0L;
    });
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
  if (::access("/etc/ssl/certs", F_OK) == 0) CHECK((*r)[2].ret == 0);
}

TEST_CASE("a missing path given by the user fails apply, installing nothing") {
  shared<apply_status> status;
  shared<std::array<outcome, 1>> r;
  const ending e = in_child([&] {
    const auto p = safety_context{}.enable(builtins::system_io::nothing().allow_read_path("/nonexistent/sysfence"));
    *status = p.try_apply_to_current_thread();
    (*r)[0] = record([] { return ::syscall(SYS_getuid); });  // still unfiltered
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(status->failed == apply_step::landlock_path);
  CHECK(status->error == ENOENT);
  CHECK(status->thread == 0);  // the index of the path
  CHECK((*r)[0].ret >= 0);
}

TEST_CASE("policies without paths install no Landlock ruleset") {
  shared<std::array<outcome, 1>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_open_readonly().allow_read().allow_close()),
             [&] { (*r)[0] = open_read("/etc/passwd"); });
  CHECK((*r)[0].ret == 1);
}

// ---------------------------------------------------------------------------------------------
// Truncation (Landlock ABI 3): handled whenever the kernel offers it, granted only by the write
// and create methods.

constexpr bool handled_rights_grow_with_the_abi() {
  using namespace sysfence::landlock;
  return handled_rights(0) == 0 && handled_rights(1) == abi1_rights &&
         (abi1_rights & LANDLOCK_ACCESS_FS_REFER) == 0 &&
         handled_rights(2) == (abi1_rights | LANDLOCK_ACCESS_FS_REFER) &&
         handled_rights(3) == (handled_rights(2) | LANDLOCK_ACCESS_FS_TRUNCATE) &&
         handled_rights(4) == handled_rights(3) &&
         handled_rights(5) == (handled_rights(3) | LANDLOCK_ACCESS_FS_IOCTL_DEV) &&
         handled_rights(7) == handled_rights(5) && handled_rights(5) == (std::uint64_t{1} << 16) - 1;
}
static_assert(handled_rights_grow_with_the_abi());

// Only the write and create methods grant TRUNCATE; none grants REFER, EXECUTE or IOCTL_DEV.
constexpr bool only_write_methods_truncate() {
  constexpr std::uint64_t truncate = LANDLOCK_ACCESS_FS_TRUNCATE;
  constexpr std::uint64_t never =
      LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
  const auto io = builtins::system_io::nothing();
  const auto read = io.allow_read_path("/a")
                        .allow_list_dir("/b")
                        .allow_ssl_files()
                        .allow_dns_files()
                        .allow_create_dir("/c")
                        .allow_remove_file("/d")
                        .allow_remove_dir("/e")
                        .landlock_rules();
  for (const auto& r : read)
    if ((r.rights & (truncate | never)) != 0) return false;
  const auto write = io.allow_write_file("/f").allow_create_in_dir("/g").landlock_rules();
  for (const auto& r : write)
    if ((r.rights & truncate) == 0 || (r.rights & never) != 0) return false;
  return read.size() == 13 && write.size() == 2;
}
static_assert(only_write_methods_truncate());

TEST_CASE("Landlock rights: every right of the ABI handled, TRUNCATE granted by write methods only") {
  CHECK(handled_rights_grow_with_the_abi());
  CHECK(only_write_methods_truncate());
}

TEST_CASE("allow_read_path: O_RDONLY | O_TRUNC is refused and the file keeps its bytes") {
  if (kernel_abi() < 3) {
    MESSAGE("Landlock ABI < 3: truncation cannot be restricted, skipped");
    return;
  }
  tree t;
  shared<std::array<outcome, 2>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_read_path(t / "granted")), [&] {
    (*r)[0] = open_flags(t / "granted/file", O_RDONLY | O_TRUNC);
    (*r)[1] = open_read(t / "granted/file");
  });
  CHECK((*r)[0].err == EACCES);
  CHECK((*r)[1].ret == 1);
  CHECK(file_size(t / "granted/file") == 4);
}

TEST_CASE("allow_list_dir: a file beneath cannot be truncated either") {
  if (kernel_abi() < 3) return;
  tree t;
  shared<std::array<outcome, 1>> r;
  applied(safety_context{}.enable(builtins::system_io::nothing().allow_list_dir(t / "granted")),
             [&] { (*r)[0] = open_flags(t / "granted/file", O_RDONLY | O_TRUNC); });
  CHECK((*r)[0].err == EACCES);
  CHECK(file_size(t / "granted/file") == 4);
}

TEST_CASE("allow_write_file and allow_create_in_dir may truncate their files, not others") {
  tree t;
  shared<std::array<outcome, 3>> r;
  const auto io = builtins::system_io::nothing()
                      .allow_write_file(t / "granted/file")
                      .allow_create_in_dir(t / "granted/sub");
  applied(safety_context{}.enable(io), [&] {
    (*r)[0] = open_flags(t / "granted/file", O_WRONLY | O_TRUNC);
    (*r)[1] = open_flags(t / "granted/sub/new", O_WRONLY | O_CREAT | O_TRUNC);
    (*r)[2] = open_flags(t / "other/file", O_WRONLY | O_TRUNC);
  });
  CHECK((*r)[0].ret == 0);
  CHECK(file_size(t / "granted/file") == 0);
  CHECK((*r)[1].ret == 0);
  CHECK((*r)[2].err == EACCES);
  CHECK(file_size(t / "other/file") == 4);
}

TEST_CASE("allow_dns_files cannot empty /etc/hosts (a scratch file bound over it, in a mount namespace)") {
  if (kernel_abi() < 3 || ::access("/etc/hosts", F_OK) != 0) return;
  tree t;
  struct result {
    int mount_error = 0;
    outcome truncate, read;
  };
  shared<result> r;
  const ending e = in_child([&] {
    // A private mount namespace: the bind mount is the child's alone and goes with it.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount((t / "granted/file").c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
      r->mount_error = errno;
      return 0;
    }
    if (!safety_context{}
             .enable(builtins::system_io::nothing().allow_dns_files())
             .try_apply_to_current_thread())
      return 10;
    r->truncate = open_flags("/etc/hosts", O_RDONLY | O_TRUNC);
    r->read = open_read("/etc/hosts");
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(e.code == 0);
  if (r->mount_error != 0) {
    MESSAGE("no private mount namespace here (errno " << r->mount_error << "), skipped");
    return;
  }
  CHECK(r->truncate.err == EACCES);
  CHECK(r->read.ret == 1);
  CHECK(file_size(t / "granted/file") == 4);
}

// Older kernels, played on this one: a supervisor (seccomp user notification) answers the ABI
// query with an older version and lets the other Landlock calls through to the real kernel,
// noting the rights they ask for.
struct landlock_supervised : rule_set_base {
  static constexpr std::string_view name = "landlock_supervised";
  static constexpr auto simple_rules =
      syscalls_except<syscalls(sys::landlock_create_ruleset, sys::landlock_add_rule)>();
  static constexpr std::array conditional_rules{
      rule{sys::landlock_create_ruleset}.then(action::user_notif),
      rule{sys::landlock_add_rule}.then(action::user_notif),
  };
};

struct older_kernel {
  bool supervised = false;
  std::uint64_t handled = 0;               // the ruleset's handled_access_fs
  std::array<std::uint64_t, 4> granted{};  // each rule's allowed_access
  int rules = 0;
  apply_status status;
  outcome inside, outside, truncate;
};

// `play_older_kernel` grants reading `granted` and writing `writable`, then reads `file` (in
// `granted`, not in `writable`) and `outside`, then opens `file` with O_TRUNC.
void play_older_kernel(long abi, older_kernel& r, const std::string& granted, const std::string& writable,
                       const std::string& file, const std::string& outside) {
  r.supervised = landlock_test::play_landlock_abi<landlock_supervised>(abi, [&r](const seccomp_notif& req) {
    if (req.data.nr == SYS_landlock_create_ruleset)
      r.handled = reinterpret_cast<const landlock_ruleset_attr*>(req.data.args[0])->handled_access_fs;
    else if (r.rules < 4)
      r.granted[r.rules++] = reinterpret_cast<const landlock_path_beneath_attr*>(req.data.args[2])->allowed_access;
  });
  if (!r.supervised) return;
  r.status = safety_context{}
                 .enable(builtins::system_io::nothing().allow_read_path(granted).allow_write_file(writable))
                 .try_apply_to_current_thread();
  r.inside = open_read(file);
  r.outside = open_read(outside);
  r.truncate = open_flags(file, O_RDONLY | O_TRUNC);
}

TEST_CASE("older Landlock ABIs: best effort, each gets its own rights (ABI 1 is not refused)") {
  for (const long abi : {1L, 2L, 3L, 5L}) {
    CAPTURE(abi);
    tree t;
    shared<older_kernel> r;
    const ending e = in_child([&] {
      play_older_kernel(abi, *r, t / "granted", t / "granted/sub", t / "granted/file", t / "other/file");
      return 0;
    });
    REQUIRE(e.exited);
    REQUIRE(r->supervised);
    INFO(r->status.what());
    CHECK(static_cast<bool>(r->status));
    CHECK(r->handled == landlock::handled_rights(abi));
    REQUIRE(r->rules == 2);
    CHECK(r->granted[0] == LANDLOCK_ACCESS_FS_READ_FILE);
    CHECK(r->granted[1] == (LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0)));
    CHECK(r->inside.ret == 1);
    CHECK(r->outside.err == EACCES);
    if (abi >= 3) {
      CHECK(r->truncate.err == EACCES);
      CHECK(file_size(t / "granted/file") == 4);
    } else {
      CHECK(r->truncate.ret == 0);  // documented: before ABI 3 a read grant cannot stop O_TRUNC
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Failures: checked before anything irreversible, or reported as what they left in force.

// `narrow_value` compares a run-time value on 32 bits: a value above 32 bits cannot be patched.
struct narrow_value : rule_set_base {
  static constexpr std::string_view name = "narrow_value";
  static constexpr std::size_t slot_count = 1;
  static constexpr std::array conditional_rules{rule{sys::getppid, arg32<0> == slot{0}}};
  std::uint64_t value = 0;
  [[nodiscard]] constexpr std::array<std::uint64_t, 1> values() const noexcept { return {value}; }
};

TEST_CASE("a run-time value that does not fit fails apply before Landlock is applied") {
  tree t;
  struct result {
    apply_status status;
    outcome outside, uid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    const auto p = safety_context{}
                       .enable(builtins::system_io::nothing().allow_read_path(t / "granted"))
                       .enable(narrow_value{{}, std::uint64_t{1} << 40});
    r->status = p.try_apply_to_current_thread();
    r->outside = open_read(t / "other/file");
    r->uid = uid_call();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(r->status.failed == apply_step::check_values);
  CHECK_FALSE(r->status.landlock_applied);
  CHECK(r->outside.ret == 1);  // no Landlock domain
  CHECK(r->uid.ret >= 0);      // no filter
}

// `no_new_filters` allows every syscall, seccomp too, but installing a filter fails with EPERM
// (SECCOMP_GET_ACTION_AVAIL, which apply asks first, still works).
struct no_new_filters : rule_set_base {
  static constexpr std::string_view name = "no_new_filters";
  static constexpr auto simple_rules = syscalls_except<syscalls(sys::seccomp)>();
  static constexpr std::array conditional_rules{
      rule{sys::seccomp, arg<0> == SECCOMP_SET_MODE_FILTER}.then(action::error(EPERM)),
      rule{sys::seccomp, arg<0> != SECCOMP_SET_MODE_FILTER},
  };
};

TEST_CASE("seccomp() refused after Landlock: the status says Landlock stays in force") {
  tree t;
  struct result {
    bool earlier = false;
    apply_status status;
    bool message_says_landlock = false;
    outcome granted, outside, uid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->earlier = static_cast<bool>(policy<no_new_filters>{}.try_apply_to_current_thread());
    const auto p = safety_context{}.enable(builtins::system_io::nothing().allow_read_path(t / "granted"));
    try {
      p.apply_to_current_thread();
    } catch (const apply_error& err) {
      r->status = err.status();
      r->message_says_landlock =
          std::string_view(err.what()).find("Landlock path rules were applied") != std::string_view::npos;
    }
    r->granted = open_read(t / "granted/file");
    r->outside = open_read(t / "other/file");
    r->uid = uid_call();
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(r->earlier);
  CHECK(r->status.failed == apply_step::install_filter);
  CHECK(r->status.error == EPERM);
  CHECK(r->status.landlock_applied);
  CHECK(r->message_says_landlock);
  CHECK(r->granted.ret == 1);
  CHECK(r->outside.err == EACCES);  // Landlock is in force
  CHECK(r->uid.ret >= 0);           // the sysfence filter is not
}

TEST_CASE("a successful apply of a policy with paths says Landlock was applied") {
  tree t;
  shared<apply_status> status;
  const ending e = in_child([&] {
    *status = safety_context{}
                  .enable(builtins::system_io::nothing().allow_read_path(t / "granted"))
                  .try_apply_to_current_thread();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(static_cast<bool>(*status));
  CHECK(status->landlock_applied);
}

// `fails_and_installs_nothing` applies a read_path policy under `earlier` (which makes a Landlock
// call fail) and checks that apply failed at `step` with neither the filter nor Landlock in force.
template <class Earlier>
void fails_and_installs_nothing(const Earlier& earlier, apply_step step, int error) {
  tree t;
  struct result {
    bool earlier = false;
    apply_status status;
    outcome outside, uid;
  };
  shared<result> r;
  const ending e = in_child([&] {
    r->earlier = static_cast<bool>(earlier.try_apply_to_current_thread());
    r->status = safety_context{}
                    .enable(builtins::system_io::nothing().allow_read_path(t / "granted"))
                    .try_apply_to_current_thread();
    r->outside = open_read(t / "other/file");
    r->uid = uid_call();
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE(r->earlier);
  CHECK(r->status.failed == step);
  CHECK(r->status.error == error);
  CHECK_FALSE(r->status.landlock_applied);
  CHECK(r->outside.ret == 1);  // no Landlock domain
  CHECK(r->uid.ret >= 0);      // no filter
}

TEST_CASE("a kernel without Landlock fails apply (never fails open), installing nothing") {
  // landlock_create_ruleset answers ENOSYS when Landlock is not built in, EOPNOTSUPP when disabled.
  fails_and_installs_nothing(earlier_filter<sys::landlock_create_ruleset, ENOSYS>, apply_step::landlock,
                             ENOSYS);
  fails_and_installs_nothing(earlier_filter<sys::landlock_create_ruleset, EOPNOTSUPP>, apply_step::landlock,
                             EOPNOTSUPP);
}

TEST_CASE("landlock_restrict_self refused fails apply, installing nothing") {
  fails_and_installs_nothing(earlier_filter<sys::landlock_restrict_self, EPERM>, apply_step::landlock, EPERM);
}

TEST_CASE("landlock_add_rule refused fails apply at the path, installing nothing") {
  fails_and_installs_nothing(earlier_filter<sys::landlock_add_rule, EINVAL>, apply_step::landlock_path,
                             EINVAL);
}

// ---------------------------------------------------------------------------------------------
// Paths given as strings are copied; string literals are stored as pointers, at compile time.

constexpr auto literal_paths =
    builtins::system_io::nothing().allow_read_path("/etc").allow_write_file("/tmp/f");
static_assert(std::string_view(literal_paths.landlock_rules()[0].path) == "/etc");
static_assert(std::is_trivially_copyable_v<decltype(literal_paths)>);
static_assert(!std::is_trivially_copyable_v<decltype(literal_paths.allow_list_dir(std::string("/x")))>);
static_assert(!std::is_trivially_copyable_v<
              decltype(builtins::system_io::nothing().allow_read_path(std::declval<const char*>()))>);
static_assert(!std::is_trivially_copyable_v<
              decltype(builtins::system_io::nothing().allow_read_path(std::declval<char (&)[8]>()))>);

TEST_CASE("a path from a temporary std::string is copied: its buffer can be freed and reused before apply") {
  tree t;
  shared<std::array<outcome, 4>> r;
  char buffer[256] = {};
  std::snprintf(buffer, sizeof buffer, "%s", (t / "granted/sub").c_str());
  const auto io = builtins::system_io::nothing()
                      .allow_read_path((t / "granted").c_str())  // the temporary dies here
                      .allow_list_dir(std::string_view(t / "granted"))
                      .allow_create_dir(buffer)
                      .allow_remove_file(std::string(t / "granted"));
  std::memset(buffer, 'x', sizeof buffer - 1);
  for (int i = 0; i < 16; ++i) {
    std::string junk(t.root.size() + 16, 'j');  // likely to take the freed buffers
    junk[0] = '/';
  }
  applied(safety_context{}.enable(io), [&] {
    (*r)[0] = open_read(t / "granted/file");
    (*r)[1] = open_read(t / "other/file");
    (*r)[2] = record([&] { return static_cast<long>(::mkdir((t / "granted/sub/d").c_str(), 0700)); });
    (*r)[3] = record([&] { return static_cast<long>(::unlink((t / "granted/file").c_str())); });
  });
  CHECK((*r)[0].ret == 1);
  CHECK((*r)[1].err == EACCES);
  CHECK((*r)[2].ret == 0);
  CHECK((*r)[3].ret == 0);
}

TEST_CASE("a null const char* path fails apply") {
  shared<apply_status> status;
  const char* null_path = nullptr;
  const ending e = in_child([&] {
    *status = safety_context{}
                  .enable(builtins::system_io::nothing().allow_read_path(null_path))
                  .try_apply_to_current_thread();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(status->failed == apply_step::landlock_path);
  CHECK(status->error == ENOENT);
}

TEST_CASE("a copied path with a NUL byte inside fails apply instead of granting a shorter path") {
  tree t;
  shared<apply_status> status;
  const std::string with_nul = t / "granted" + std::string(1, '\0') + "/etc";
  const ending e = in_child([&] {
    *status = safety_context{}
                  .enable(builtins::system_io::nothing().allow_read_path(with_nul))
                  .try_apply_to_current_thread();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(status->failed == apply_step::landlock_path);
  CHECK(status->error == ENOENT);
}
