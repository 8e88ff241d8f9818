// SPDX-License-Identifier: MIT
// isolate.hpp - running a function in a subprocess with its own user, mount, PID, IPC, UTS and
// (by default) network namespaces, on a fresh size-limited tmpfs root holding only the chosen
// bind mounts: extrasafe's Isolate, in sysfence's spelling.
//
//   int main() {
//     sysfence::isolate::main_hook("worker", [](std::string_view name) {
//       return sysfence::isolate(name, work).add_bind_mount("/srv/data", "/data").set_rootfs_size(4);
//     });
//     const sysfence::isolate_output out = sysfence::isolate::run("worker", {{"LANG", "C"}});
//   }
//
// isolate::run re-executes an in-memory, sealed copy of the program (memfd), whose argv is the
// isolate's name alone and whose environment is the variables given alone. There main_hook sees
// its name in argv[0], builds the isolate, and:
//   P (the re-executed program)  makes the tmpfs's mount point /tmp/NAME.XXXXXX, enters a new user
//                                namespace (it is root there, mapped to its own uid and gid), then
//                                new PID, IPC, UTS and network namespaces;
//   C (PID 1 of the new PID ns)  enters a new mount namespace, mounts the tmpfs, the bind mounts,
//                                pivot_root()s into the tmpfs and detaches the old root;
//   W (PID 2)                    closes every descriptor above 2 and calls the function.
// PID 1 ignores signals it has no handler for, even its own abort(), so the function runs in W.
// C hands W's wait status to P, which ends the same way; isolate::run returns it with the
// captured standard output and error. A step that fails anywhere is reported back (step, errno,
// path) through descriptor 3, a pipe run() set up, and run() throws isolate_error: never a
// silent fallback to running without isolation.
//
// A sysfence policy can then be applied in the function (W is single-threaded: apply_to_all_threads
// works). Apart from the apply* functions this is the one header that calls the kernel; the pure
// parts (checks, texts, the report record) are in detail:: and tested alone.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sysfence {

// `isolate_step` is the step of running an isolate that failed.
enum class isolate_step : std::int32_t {
  none,
  hooked,            // not a failure: the re-executed program reached main_hook (first record)
  read_exe,          // opening or reading /proc/self/exe
  memfd,             // memfd_create(), writing or sealing the copy
  pipe,              // the output and report pipes
  fork,              // fork() of run() or of the isolate's processes
  exec,              // fexecve() of the copy
  wait,              // waitpid()
  no_hook,           // the re-executed program did not call main_hook for this name
  bad_bind_target,   // add_bind_mount: the destination has a "." or ".." component, or is empty
  bad_rootfs_size,   // set_rootfs_size(0): tmpfs takes size=0 as "no limit"
  builder,           // the builder given to main_hook threw
  tempdir,           // mkdtemp() of the tmpfs's mount point, in /tmp
  user_namespace,    // unshare(CLONE_NEWUSER)
  uid_map,           // writing /proc/self/uid_map
  setgroups,         // writing /proc/self/setgroups
  gid_map,           // writing /proc/self/gid_map
  namespaces,        // unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS [| CLONE_NEWNET])
  mount_namespace,   // unshare(CLONE_NEWNS)
  make_private,      // mount(MS_REC | MS_PRIVATE) of /
  mount_tmpfs,       // mount() of the tmpfs root
  bind_source,       // stat() of a bind mount's source
  bind_target,       // creating a bind mount's destination in the tmpfs
  bind_mount,        // mount(MS_BIND | MS_REC)
  pivot_root,        // chdir() to the tmpfs and pivot_root(".", ".")
  unmount_old_root,  // umount2(old root, MNT_DETACH)
  close_fds,         // close_range(3, ~0U) before the function
};

// `isolate_status` is how an isolate ended (extrasafe's std::process::ExitStatus): `wait_status`
// as waitpid gives it.
struct isolate_status {
  int wait_status = 0;

  // `success` is true when the isolate exited with 0.
  [[nodiscard]] constexpr bool success() const noexcept {
    return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  }
  // `code` is the isolate's exit code, or -1 if a signal ended it.
  [[nodiscard]] constexpr int code() const noexcept {
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  }
  // `signal` is the signal that ended the isolate, or 0 if it exited.
  [[nodiscard]] constexpr int signal() const noexcept {
    return WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  }
};

// `isolate_output` is how an isolate ended and what it printed (extrasafe returns a
// std::process::Output): `out` and `err` are its standard output and error (stdout and stderr
// are macros).
struct isolate_output {
  isolate_status status;
  std::string out;
  std::string err;

  // `success` is status.success().
  [[nodiscard]] bool success() const noexcept { return status.success(); }
};

namespace detail {

// `isolate_report` is one record on the report pipe: the re-executed program's steps send it
// (a write below PIPE_BUF is atomic, so records never interleave).
struct isolate_report {
  std::int32_t step = 0;
  std::int32_t error = 0;
  char detail[248] = {};  // the path or name concerned, cut to fit
};
static_assert(sizeof(isolate_report) == 256);

// `isolate_report_fd` is the descriptor run() gives the re-executed program for its reports.
inline constexpr int isolate_report_fd = 3;

// `for_each_component` calls `f` with each non-empty component of the path `p`, in order.
template <class F>
constexpr void for_each_component(std::string_view p, F&& f) {
  while (!p.empty()) {
    const std::size_t slash = p.find('/');
    if (const std::string_view part = p.substr(0, slash); !part.empty()) f(part);
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
}

// `bind_target_problem` is what is wrong with a bind mount's destination, or nullptr. The
// destination is taken beneath the tmpfs root whether it starts with "/" or not; "." and ".."
// components are refused (they could reach outside the root, or mean something else than they
// seem), as extrasafe's master does after 0.5.1. "/" is the root itself (extrasafe's tests bind the
// host's / there); "" is refused, a likely mistake.
constexpr const char* bind_target_problem(std::string_view dst) noexcept {
  if (dst.empty()) return "an empty path (write \"/\" for the root itself)";
  const char* problem = nullptr;
  for_each_component(dst, [&](std::string_view part) {
    if (problem == nullptr && part == ".") problem = "a \".\" component";
    if (problem == nullptr && part == "..") problem = "a \"..\" component";
  });
  return problem;
}

// `bind_target_path` is the destination beneath `root`: its components joined by single slashes.
inline std::string bind_target_path(std::string_view root, std::string_view dst) {
  std::string path(root);
  for_each_component(dst, [&](std::string_view part) {
    path += '/';
    path += part;
  });
  return path;
}

// `tmpfs_options` is the tmpfs mount data for a root of `mib` MiB.
inline std::string tmpfs_options(std::uint32_t mib) {
  std::string o = "size=";  // appended piecewise: g++ 12 -O3 warns -Wrestrict on "lit" + string&&
  o += std::to_string(mib);
  o += 'm';
  return o;
}

// `id_map` is the uid_map or gid_map text making the isolate's root the host `id`, alone.
inline std::string id_map(unsigned id) {
  std::string m = "0 ";
  m += std::to_string(id);
  m += " 1\n";
  return m;
}

// `tempdir_template` is mkdtemp's template for the tmpfs's mount point: /tmp/NAME.XXXXXX, the
// name's bytes other than letters, digits, '.', '_' and '-' replaced by '_' (a '/' would name
// another directory).
inline std::string tempdir_template(std::string_view name) {
  std::string t = "/tmp/";
  for (const char c : name.substr(0, 64)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    t += plain ? c : '_';
  }
  t += ".XXXXXX";
  return t;
}

// `environment` is the "NAME=value" strings of the variables given, in name order.
inline std::vector<std::string> environment(const std::map<std::string, std::string>& envs) {
  std::vector<std::string> env;
  env.reserve(envs.size());
  for (const auto& kv : envs) {
    std::string e = kv.first;
    e += '=';
    e += kv.second;
    env.push_back(std::move(e));
  }
  return env;
}

}  // namespace detail

// `isolate_words` says in words what a step does.
constexpr std::string_view isolate_words(isolate_step step) noexcept {
  switch (step) {
    case isolate_step::none:
      return "done";
    case isolate_step::hooked:
      return "reaching main_hook";
    case isolate_step::read_exe:
      return "reading the program (/proc/self/exe)";
    case isolate_step::memfd:
      return "copying the program into a sealed memfd";
    case isolate_step::pipe:
      return "making the output pipes";
    case isolate_step::fork:
      return "fork()";
    case isolate_step::exec:
      return "executing the program's memfd copy";
    case isolate_step::wait:
      return "waiting for the isolate";
    case isolate_step::no_hook:
      return "the re-executed program did not call sysfence::isolate::main_hook for this name first thing "
             "in main";
    case isolate_step::bad_bind_target:
      return "add_bind_mount: the destination is not a path beneath the root";
    case isolate_step::bad_rootfs_size:
      return "set_rootfs_size(0): the root tmpfs needs a size of 1 MiB or more";
    case isolate_step::builder:
      return "the builder given to main_hook threw";
    case isolate_step::tempdir:
      return "making the root's mount point in /tmp (mkdtemp)";
    case isolate_step::user_namespace:
      return "creating the user namespace (unshare CLONE_NEWUSER)";
    case isolate_step::uid_map:
      return "writing /proc/self/uid_map";
    case isolate_step::setgroups:
      return "writing /proc/self/setgroups";
    case isolate_step::gid_map:
      return "writing /proc/self/gid_map";
    case isolate_step::namespaces:
      return "creating the PID, IPC, UTS and network namespaces (unshare)";
    case isolate_step::mount_namespace:
      return "creating the mount namespace (unshare CLONE_NEWNS)";
    case isolate_step::make_private:
      return "making the mounts private (mount MS_REC|MS_PRIVATE /)";
    case isolate_step::mount_tmpfs:
      return "mounting the root tmpfs";
    case isolate_step::bind_source:
      return "finding a bind mount's source";
    case isolate_step::bind_target:
      return "creating a bind mount's destination";
    case isolate_step::bind_mount:
      return "bind-mounting";
    case isolate_step::pivot_root:
      return "pivot_root() into the tmpfs";
    case isolate_step::unmount_old_root:
      return "unmounting the old root";
    case isolate_step::close_fds:
      return "closing the descriptors above 2 (close_range)";
  }
  return "unknown step";
}

// `isolate_hint` is advice for a step refused with `error`, or "": the kernel refuses user
// namespaces to unprivileged users when an administrator says so, and Ubuntu 23.10+ lets
// unshare(CLONE_NEWUSER) succeed but gives the namespace no capabilities, so the next step fails.
constexpr std::string_view isolate_hint(isolate_step step, int error) noexcept {
  const bool refused = error == EPERM || error == EACCES || error == ENOSPC;
  switch (step) {
    case isolate_step::user_namespace:
    case isolate_step::uid_map:
    case isolate_step::setgroups:
    case isolate_step::gid_map:
    case isolate_step::namespaces:
    case isolate_step::mount_namespace:
    case isolate_step::make_private:
    case isolate_step::mount_tmpfs:
      if (!refused) return "";
      return "the kernel refuses user namespaces here: check sysctl kernel.unprivileged_userns_clone "
             "(Debian, must be 1), user.max_user_namespaces (must be above 0), Ubuntu's "
             "kernel.apparmor_restrict_unprivileged_userns (must be 0, or an AppArmor profile must "
             "allow userns for this program), and that no seccomp filter (a container's) denies "
             "unshare or mount";
    case isolate_step::bind_mount:
      if (!refused) return "";
      return "a bind mount's source must be readable by the user running the isolate";
    default:
      return "";
  }
}

// `isolate_error` is a step of running an isolate that failed: code() is the errno (0 for a
// failure without one), step() the step, detail() the path or name concerned. Its message names
// all three, and adds a hint where the kernel refuses user namespaces.
class isolate_error : public std::runtime_error {
 public:
  isolate_error(std::string_view name, isolate_step step, int error, std::string_view detail = {})
      : std::runtime_error(message(name, step, error, detail)), step_(step), error_(error), detail_(detail) {}
  [[nodiscard]] std::error_code code() const noexcept { return {error_, std::generic_category()}; }
  [[nodiscard]] isolate_step step() const noexcept { return step_; }
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  static std::string message(std::string_view name, isolate_step step, int error, std::string_view detail) {
    std::string m = "sysfence: isolate \"";
    m += name;
    m += "\": ";
    m += isolate_words(step);
    if (!detail.empty()) {
      m += " (";
      m += detail;
      m += ')';
    }
    if (error != 0) {
      m += ": ";
      m += std::generic_category().message(error);
    }
    if (const std::string_view hint = isolate_hint(step, error); !hint.empty()) {
      m += " [hint: ";
      m += hint;
      m += ']';
    }
    return m;
  }
  isolate_step step_;
  int error_;
  std::string detail_;
};

// `isolate` is a function to run isolated, with its name and its root: the bind mounts, the tmpfs
// size (10 MiB by default) and whether it gets a network namespace of its own (yes by default:
// only a loopback interface, down). Built inside the re-executed program by main_hook's builder.
class isolate {
 public:
  // `isolate(name, fn)` runs `fn` when the program is re-executed as `name` (extrasafe's
  // Isolate::new). `fn` runs after a fork in that program, so any callable will do.
  isolate(std::string_view name, std::function<void()> fn) : name_(name), fn_(std::move(fn)) {}

  // `add_bind_mount` mounts the host's file or directory `src` on `dst` beneath the isolate's
  // root ("/x" and "x" both mean the root's x), creating `dst` (an empty file or directories) if
  // missing. Throws isolate_error (bad_bind_target) if `dst` has a "." or ".." component.
  isolate& add_bind_mount(std::string_view src, std::string_view dst) & {
    if (const char* problem = detail::bind_target_problem(dst)) {
      std::string d(dst);
      d += ": ";
      d += problem;
      throw isolate_error(name_, isolate_step::bad_bind_target, 0, d);
    }
    binds_.emplace_back(std::string(src), std::string(dst));
    return *this;
  }
  isolate&& add_bind_mount(std::string_view src, std::string_view dst) && {
    return std::move(add_bind_mount(src, dst));
  }

  // `set_rootfs_size` limits the root tmpfs to `mib` MiB; a write beyond gets ENOSPC. Throws
  // isolate_error (bad_rootfs_size) for 0, which tmpfs would take as "no limit".
  isolate& set_rootfs_size(std::uint32_t mib) & {
    if (mib == 0) throw isolate_error(name_, isolate_step::bad_rootfs_size, 0, "0 MiB");
    rootfs_mib_ = mib;
    return *this;
  }
  isolate&& set_rootfs_size(std::uint32_t mib) && { return std::move(set_rootfs_size(mib)); }

  // `new_network(true)` (the default) gives the isolate a network namespace of its own, with no
  // interface but a loopback that is down; `new_network(false)` shares the host's network.
  isolate& new_network(bool yes) & noexcept {
    new_network_ = yes;
    return *this;
  }
  isolate&& new_network(bool yes) && noexcept { return std::move(new_network(yes)); }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& bind_mounts() const noexcept {
    return binds_;
  }
  [[nodiscard]] std::uint32_t rootfs_size() const noexcept { return rootfs_mib_; }
  [[nodiscard]] bool has_new_network() const noexcept { return new_network_; }

  // `run` starts the isolate `name`: this program, copied into a sealed memfd, executed with
  // argv {name} and the environment `envs` alone, standard input /dev/null. It waits for it and
  // returns its status and output. Throws isolate_error for a step that failed, on either side of
  // the exec (reported through descriptor 3).
  static isolate_output run(std::string_view name, const std::map<std::string, std::string>& envs = {});

  // `main_hook` is called first thing in main, once per isolate the program runs: when this
  // program was started by run(name), it builds the isolate with `builder(name)`, runs it and
  // exits the way its function did. Otherwise it returns at once.
  template <class Builder>
  static void main_hook(std::string_view name, Builder&& builder);

 private:
  [[noreturn]] void enter_and_run(int report_fd) const;

  std::string name_;
  std::function<void()> fn_;
  std::vector<std::pair<std::string, std::string>> binds_;
  std::uint32_t rootfs_mib_ = 10;
  bool new_network_ = true;
};

namespace detail {

// `send_report` writes one record to the report pipe (if any) and says the same on stderr.
inline void send_report(int fd, std::string_view name, isolate_step step, int error,
                        std::string_view what = {}) noexcept {
  isolate_report r;
  r.step = static_cast<std::int32_t>(step);
  r.error = error;
  const std::size_t n = std::min(what.size(), sizeof r.detail - 1);
  if (n > 0) std::memcpy(r.detail, what.data(), n);  // an empty view may have a null data()
  if (fd >= 0) [[maybe_unused]]
    const ssize_t w = ::write(fd, &r, sizeof r);
  if (step == isolate_step::hooked) return;
  char line[512];
  const int len = std::snprintf(line, sizeof line, "sysfence: isolate \"%.*s\": %.*s%s%.*s%s: %s\n",
                                static_cast<int>(std::min<std::size_t>(name.size(), 64)), name.data(),
                                static_cast<int>(isolate_words(step).size()), isolate_words(step).data(),
                                n > 0 ? " (" : "", static_cast<int>(n), r.detail, n > 0 ? ")" : "",
                                error != 0 ? std::strerror(error) : "failed");
  if (len > 0) [[maybe_unused]]
    const ssize_t w = ::write(STDERR_FILENO, line, std::min<std::size_t>(len, sizeof line - 1));
}

// `fail_step` reports a failed step and ends the process with 127 (no isolation happened).
[[noreturn]] inline void fail_step(int fd, std::string_view name, isolate_step step, int error,
                                   std::string_view what = {}) noexcept {
  send_report(fd, name, step, error, what);
  ::_exit(127);
}

// `write_file` writes `text` to an existing file (the /proc/self id maps), 0 or the errno.
inline int write_file(const char* path, std::string_view text) noexcept {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int e = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return e;
}

// `make_dirs` is mkdir -p, 0 or the errno.
inline int make_dirs(const std::string& path) noexcept {
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  }
  return 0;
}

// `end_like` ends this process the way a wait status says its child ended: the same exit code,
// or the same signal (without a core dump of this process).
[[noreturn]] inline void end_like(int status) noexcept {
  std::fflush(nullptr);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

// `wait_for` reaps `pid` (and, as PID 1 must, any orphan), its wait status or -1.
inline int wait_for(pid_t pid) noexcept {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(-1, &status, 0);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;
  }
}

// `sealed_copy_of_self` is a memfd holding this program's executable, sealed against every
// change (extrasafe leaves its copy writable), or -1 with the step in `step`.
inline int sealed_copy_of_self(isolate_step& step, int& error) noexcept {
  const int exe = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) {
    step = isolate_step::read_exe;
    error = errno;
    return -1;
  }
  const int mem =
      static_cast<int>(::syscall(SYS_memfd_create, "sysfence-isolate", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (mem < 0) {
    step = isolate_step::memfd;
    error = errno;
    ::close(exe);
    return -1;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(exe, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      step = isolate_step::read_exe;
      error = errno;
      break;
    }
    if (n == 0) {
      ::close(exe);
      if (::fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0)
        return mem;
      step = isolate_step::memfd;
      error = errno;
      ::close(mem);
      return -1;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(mem, buf + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        step = isolate_step::memfd;
        error = w < 0 ? errno : EIO;
        ::close(exe);
        ::close(mem);
        return -1;
      }
      done += w;
    }
  }
  ::close(exe);
  ::close(mem);
  return -1;
}

// `drain` reads both pipes until both are closed, into `out` and `err`; false if poll failed.
inline bool drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  return true;
}

// `close_all` closes the descriptors given (those not -1).
inline void close_all(std::initializer_list<int> fds) noexcept {
  for (const int fd : fds)
    if (fd >= 0) ::close(fd);
}

}  // namespace detail

inline isolate_output isolate::run(std::string_view name, const std::map<std::string, std::string>& envs) {
  // A program re-executed as `name` that reaches run(name) did not hook `name`: running it again
  // would start it again, without end.
  if (std::string_view(program_invocation_name) == name) throw isolate_error(name, isolate_step::no_hook, 0);

  // Everything the child needs is made before fork: only async-signal-safe calls after it.
  const std::string arg0(name);
  const std::vector<std::string> env = detail::environment(envs);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(arg0.c_str()), nullptr};

  isolate_step step = isolate_step::none;
  int error = 0;
  const int mem = detail::sealed_copy_of_self(step, error);
  if (mem < 0) throw isolate_error(name, step, error);
  int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0) {
    const int e = errno;
    detail::close_all({mem, null_fd, out[0], out[1], err[0], err[1], report[0], report[1]});
    throw isolate_error(name, isolate_step::pipe, e);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    // dup2 clears close-on-exec on the copies: the program sees 0, 1, 2 and its report pipe on 3.
    // The four are first moved above 9, so that none is overwritten by an earlier dup2 (a caller
    // with 0, 1 or 2 closed gets pipes there) nor dup2'd onto itself (which keeps close-on-exec).
    // The memfd moves too: it may be one of 0..3.
    static_assert(detail::isolate_report_fd == 3);
    int from[5] = {null_fd, out[1], err[1], report[1], mem};
    for (int& fd : from)
      if ((fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 10)) < 0) ::_exit(127);
    for (int to = 0; to < 4; ++to)
      if (::dup2(from[to], to) < 0) ::_exit(127);
    ::fexecve(from[4], argv, envp.data());
    detail::fail_step(detail::isolate_report_fd, name, isolate_step::exec, errno);
  }
  const int fork_error = errno;
  detail::close_all({mem, null_fd, out[1], err[1], report[1]});
  if (pid < 0) {
    detail::close_all({out[0], err[0], report[0]});
    throw isolate_error(name, isolate_step::fork, fork_error);
  }
  isolate_output result;
  const bool drained = detail::drain(out[0], err[0], result.out, result.err);
  const int drain_error = errno;
  detail::close_all({out[0], err[0]});
  const int status = detail::wait_for(pid);
  const int wait_error = errno;
  // Every writer of the report pipe has ended (they were in the isolate's process tree): read to EOF.
  std::vector<detail::isolate_report> reports;
  for (;;) {
    detail::isolate_report r;
    const ssize_t n = ::read(report[0], &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof r)) break;
    reports.push_back(r);
  }
  ::close(report[0]);
  if (!drained) throw isolate_error(name, isolate_step::wait, drain_error, "poll");
  if (status == -1) throw isolate_error(name, isolate_step::wait, wait_error);
  for (const detail::isolate_report& r : reports) {
    const auto s = static_cast<isolate_step>(r.step);
    if (s != isolate_step::hooked) throw isolate_error(name, s, r.error, r.detail);
  }
  if (reports.empty()) throw isolate_error(name, isolate_step::no_hook, 0);
  result.status.wait_status = status;
  return result;
}

template <class Builder>
void isolate::main_hook(std::string_view name, Builder&& builder) {
  if (std::string_view(program_invocation_name) != name) return;
  // Descriptor 3 is run()'s report pipe; a program started by hand as `name` may have anything
  // there, so a pipe only is written to (and stderr always says the same).
  struct stat st {};
  const int report_fd =
      ::fstat(detail::isolate_report_fd, &st) == 0 && S_ISFIFO(st.st_mode) ? detail::isolate_report_fd : -1;
  if (report_fd >= 0) ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  detail::send_report(report_fd, name, isolate_step::hooked, 0);
  try {
    const isolate built = std::forward<Builder>(builder)(name);
    built.enter_and_run(report_fd);
  } catch (const isolate_error& e) {
    detail::fail_step(report_fd, name, e.step(), e.code().value(), e.detail());
  } catch (const std::exception& e) {
    detail::fail_step(report_fd, name, isolate_step::builder, 0, e.what());
  } catch (...) {
    detail::fail_step(report_fd, name, isolate_step::builder, 0);
  }
}

inline void isolate::enter_and_run(int report_fd) const {
  using detail::fail_step;
  const std::string_view name = name_;
  // Strings first: W and C only make system calls.
  std::string root = detail::tempdir_template(name);
  if (::mkdtemp(root.data()) == nullptr) fail_step(report_fd, name, isolate_step::tempdir, errno, root);
  const std::string options = detail::tmpfs_options(rootfs_mib_);
  const std::string uid_map = detail::id_map(::geteuid());
  const std::string gid_map = detail::id_map(::getegid());
  std::vector<std::string> targets;
  for (const auto& b : binds_) targets.push_back(detail::bind_target_path(root, b.second));

  // C hands W's wait status to P here: a page shared across the forks.
  void* page = ::mmap(nullptr, sizeof(int) * 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) fail_step(report_fd, name, isolate_step::fork, errno, "mmap");
  volatile int* handoff = static_cast<int*>(page);  // [0]: W ended, [1]: its wait status

  auto give_up = [&](isolate_step step, int error, std::string_view what = {}) {
    ::rmdir(root.c_str());
    fail_step(report_fd, name, step, error, what);
  };
  if (::unshare(CLONE_NEWUSER) != 0) give_up(isolate_step::user_namespace, errno);
  if (const int e = detail::write_file("/proc/self/uid_map", uid_map)) give_up(isolate_step::uid_map, e);
  if (const int e = detail::write_file("/proc/self/setgroups", "deny\n")) give_up(isolate_step::setgroups, e);
  if (const int e = detail::write_file("/proc/self/gid_map", gid_map)) give_up(isolate_step::gid_map, e);
  if (::unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (new_network_ ? CLONE_NEWNET : 0)) != 0)
    give_up(isolate_step::namespaces, errno);

  const pid_t c = ::fork();
  if (c < 0) give_up(isolate_step::fork, errno);
  if (c == 0) {
    // C: PID 1. Its own mount namespace, so that pivot_root leaves P (and its /tmp) alone.
    if (::unshare(CLONE_NEWNS) != 0) fail_step(report_fd, name, isolate_step::mount_namespace, errno);
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      fail_step(report_fd, name, isolate_step::make_private, errno);
    if (::mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
      fail_step(report_fd, name, isolate_step::mount_tmpfs, errno, options);
    for (std::size_t i = 0; i < binds_.size(); ++i) {
      const std::string& src = binds_[i].first;
      const std::string& dst = targets[i];
      struct stat st {};
      if (::stat(src.c_str(), &st) != 0) fail_step(report_fd, name, isolate_step::bind_source, errno, src);
      const std::size_t slash = dst.rfind('/');
      int e = detail::make_dirs(S_ISDIR(st.st_mode) ? dst : dst.substr(0, slash));
      if (e == 0 && !S_ISDIR(st.st_mode)) {
        const int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        e = fd < 0 ? errno : 0;
        if (fd >= 0) ::close(fd);
      }
      if (e != 0) fail_step(report_fd, name, isolate_step::bind_target, e, binds_[i].second);
      if (::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        fail_step(report_fd, name, isolate_step::bind_mount, errno, src);
    }
    // pivot_root(".", "."): the old root ends up stacked on the new one, and is then detached
    // (pivot_root(2) documents this form).
    if (::chdir(root.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0)
      fail_step(report_fd, name, isolate_step::pivot_root, errno, root);
    if (::umount2(".", MNT_DETACH) != 0) fail_step(report_fd, name, isolate_step::unmount_old_root, errno);
    if (::chdir("/") != 0) fail_step(report_fd, name, isolate_step::pivot_root, errno, "/");

    const pid_t w = ::fork();
    if (w < 0) fail_step(report_fd, name, isolate_step::fork, errno);
    if (w == 0) {
      // W: the function, with no descriptor of the program's but 0, 1 and 2.
      if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
        fail_step(report_fd, name, isolate_step::close_fds, errno);
      const std::string comm(name.substr(0, 15));
      ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
      // It ends with _exit after flushing stdio: the program's static objects and atexit handlers
      // are the forked copies of P's, not the function's to run (the function may call exit
      // itself). This also keeps LeakSanitizer's exit-time scan, which needs /proc, out.
      int code = EXIT_SUCCESS;
      try {
        fn_();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sysfence: isolate \"%s\": the function threw: %s\n", name_.c_str(), e.what());
        code = EXIT_FAILURE;
      } catch (...) {
        std::fprintf(stderr, "sysfence: isolate \"%s\": the function threw\n", name_.c_str());
        code = EXIT_FAILURE;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    const int ws = detail::wait_for(w);
    if (ws == -1) fail_step(report_fd, name, isolate_step::wait, errno);
    handoff[1] = ws;
    handoff[0] = 1;
    ::_exit(0);
  }
  // P: wait for C, remove the (empty, on the host) mount point, end as W did.
  int cs = detail::wait_for(c);
  const int wait_error = errno;
  ::rmdir(root.c_str());
  if (cs == -1) fail_step(report_fd, name, isolate_step::wait, wait_error);
  if (handoff[0] == 1) cs = handoff[1];
  detail::end_like(cs);
}

}  // namespace sysfence
