// SPDX-License-Identifier: MIT
// user_guide.cpp - extrasafe's user guide, step by step in sysfence: built-ins, a rule set of your
// own, one thread or all threads, and what a locked-down program can still do.
//
// Each step locks down a fresh thread (or, for the last one, a child process): a seccomp filter
// cannot be removed, so a step that filtered the main thread would filter every later step too.
// The program prints one line per check and exits 0 when every check held.
#include <sysfence/sysfence.hpp>

#include "say.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sysfence;
namespace builtins = sysfence::builtins;

namespace {

// ---------------------------------------------------------------------------------------------
// Printing without stdio. printf's first use of stdout calls newfstatat(1) to choose a buffer,
// which most of these policies deny; formatting into a stack buffer and calling write(2) needs
// only write(1, ...).
// ---------------------------------------------------------------------------------------------
std::atomic<bool> all_ok{true};

// `check` prints one line per expectation and remembers whether any failed.
void check(bool ok, const char* step, const char* what) {
  say("%-6s %-16s %s\n", ok ? "ok" : "FAILED", step, what);
  if (!ok) all_ok = false;
}

// `result` is what a syscall wrapper gave: its return value and errno.
struct result {
  long value;
  int error;
  [[nodiscard]] bool denied() const { return value < 0 && error == EPERM; }
  [[nodiscard]] bool succeeded() const { return value >= 0; }
};
template <class F>
result attempt(F f) {
  errno = 0;
  const long v = f();
  return {v, v < 0 ? errno : 0};
}

// The files the steps use: made by the unfiltered main thread before any lockdown.
struct files {
  std::string dir;       // a fresh temporary directory
  std::string readable;  // an existing file, to open read-only
  std::string created;   // a path that does not exist yet, to create for writing
};
constexpr const char* readable_text = "read after lockdown\n";

bool read_back(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // glibc: openat(AT_FDCWD, ...)
  if (fd < 0) return false;
  char buf[64] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 && std::strcmp(buf, readable_text) == 0;
}
result create_for_writing(const std::string& path) {
  // What std::ofstream or fopen(path, "w") do: openat(AT_FDCWD, path, O_WRONLY|O_CREAT|O_TRUNC).
  return attempt([&] {
    return static_cast<long>(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  });
}

// ---------------------------------------------------------------------------------------------
// Step 1 - the guide's first context: SystemIO::nothing().allow_open_readonly() and
// Networking::nothing().allow_start_tcp_clients().allow_running_tcp_clients().
// ---------------------------------------------------------------------------------------------
// The whole policy is a constant: its type says which rule sets it holds, and compile(policy) is
// a BPF program the compiler already built.
constexpr auto guide_policy =
    safety_context{}  // always allows builtins::basic_capabilities (memory, signals, futex, exit)
        .enable(builtins::system_io::nothing()
                    .allow_open_readonly()  // openat without O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/...
                    .allow_close())         // not in the guide: without it close() fails with EPERM
        // The networking rule set allows read and write on any descriptor (sockets need them), so
        // files opened read-only can be read here too. Nothing can be written to them: they are
        // read-only, and no file can be opened for writing.
        .enable(builtins::networking::nothing()
                    .allow_start_tcp_clients()      // socket(AF_INET/AF_INET6, SOCK_STREAM), connect
                    .allow_running_tcp_clients());  // already part of the line above; as in the guide

void step_1(const files& f, std::uint16_t listener_port) {
  constexpr const char* step = "1 one thread";
  try {
    guide_policy.apply_to_current_thread();  // throws sysfence::apply_error if the kernel refuses
  } catch (const apply_error& e) {
    check(false, step, e.what());
    return;
  }
  check(create_for_writing(f.created).denied(), step, "creating a file for writing: EPERM");
  check(read_back(f.readable), step, "opening a file read-only and reading it: allowed");

  const result tcp =
      attempt([] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
  bool connected = false;
  if (tcp.succeeded()) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(listener_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(static_cast<int>(tcp.value), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    ::close(static_cast<int>(tcp.value));
  }
  check(connected, step, "a TCP client: socket(AF_INET, SOCK_STREAM) + connect to 127.0.0.1: allowed");
  check(attempt([] { return static_cast<long>(::socket(AF_INET, SOCK_DGRAM, 0)); }).denied(), step,
        "a UDP socket: EPERM (only TCP clients were enabled)");
}

// ---------------------------------------------------------------------------------------------
// Step 2 - a rule set of your own, the guide's MyRuleSet. The guide allows reboot(2) as its
// example of an unconditional rule; getppid is as simple and safer to run.
// ---------------------------------------------------------------------------------------------
struct my_rule_set : rule_set_base {
  static constexpr std::string_view name = "my_rule_set";  // compile errors name the rule set
  // Simple rules: these syscalls run whatever their arguments.
  static constexpr auto simple_rules = syscalls(sys::getppid);
  // Conditional rules: socket(2) only for Unix stream sockets. The guide tests the bits of
  // SOCK_STREAM with a mask, which SOCK_RAW (3) passes too; here the type must equal SOCK_STREAM
  // once the SOCK_NONBLOCK and SOCK_CLOEXEC flags are masked off. arg32: both arguments are ints.
  static constexpr std::uint32_t type_mask = ~std::uint32_t{SOCK_NONBLOCK | SOCK_CLOEXEC};
  static constexpr std::array conditional_rules{
      rule{sys::socket, arg32<0> == AF_UNIX, (arg32<1> & type_mask) == SOCK_STREAM},
  };
};

void step_2(pid_t expected_parent) {
  constexpr const char* step = "2 own rule set";
  // It is enabled like a built-in. allow_stdout() allows write(2) only on fd 1, so this thread
  // can still report (say() writes to fd 1).
  constexpr auto policy = safety_context{}
                              .enable(my_rule_set{})
                              .enable(builtins::system_io::nothing().allow_stdout().allow_close());
  // The noexcept form: an apply_status that converts to bool and says what failed.
  if (const apply_status s = policy.try_apply_to_current_thread(); !s) {
    check(false, step, std::string(s.what()).c_str());
    return;
  }
  const result ppid = attempt([] { return static_cast<long>(::getppid()); });
  check(ppid.succeeded() && ppid.value == expected_parent, step, "getppid(): allowed");

  const result unix_stream =
      attempt([] { return static_cast<long>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)); });
  check(unix_stream.succeeded(), step, "socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): allowed");
  if (unix_stream.succeeded()) ::close(static_cast<int>(unix_stream.value));
  check(attempt([] { return static_cast<long>(::socket(AF_UNIX, SOCK_DGRAM, 0)); }).denied(), step,
        "socket(AF_UNIX, SOCK_DGRAM): EPERM");
  check(attempt([] { return static_cast<long>(::socket(AF_INET, SOCK_STREAM, 0)); }).denied(), step,
        "socket(AF_INET, SOCK_STREAM): EPERM");
  check(attempt([] { return static_cast<long>(::dup(STDOUT_FILENO)); }).denied(), step,
        "dup(1), in no rule set: EPERM");
}

// ---------------------------------------------------------------------------------------------
// Step 3 - apply_to_all_threads. A thread that already runs when the filter is applied gets it
// too (seccomp's TSYNC flag); with apply_to_current_thread it would keep running unfiltered. It
// runs in a child process because a filter on every thread would also bind the steps after it and
// the clean-up of the temporary directory.
// ---------------------------------------------------------------------------------------------
int step_3_child(const files& f) {
  constexpr const char* step = "3 all threads";
  all_ok = true;  // the exit status reports this process's checks only
  std::mutex m;
  std::condition_variable cv;  // futex(2): part of basic_capabilities
  bool applied = false;
  bool worker_denied = false;
  bool worker_read = false;

  // Started before the lockdown; it waits until the filter is in place, then tries the same calls.
  std::thread worker([&] {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return applied; });
    worker_denied = create_for_writing(f.created + ".worker").denied();
    worker_read = read_back(f.readable);
  });

  if (const apply_status s = guide_policy.try_apply_to_all_threads(); !s) {
    check(false, step, std::string(s.what()).c_str());
    {
      std::lock_guard lock(m);
      applied = true;
    }
    cv.notify_one();
    worker.join();
    return 1;
  }
  {
    std::lock_guard lock(m);
    applied = true;
  }
  cv.notify_one();
  worker.join();  // a filtered thread can still exit: exit, futex, munmap, madvise are basic

  check(create_for_writing(f.created + ".main").denied(), step,
        "main thread: creating a file for writing: EPERM");
  check(read_back(f.readable), step, "main thread: opening a file read-only and reading it: allowed");
  check(worker_denied, step, "thread started before the lockdown: creating a file for writing: EPERM");
  check(worker_read, step, "thread started before the lockdown: reading a file: allowed");
  return all_ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// What does not compile: networking allows write(2) on every descriptor, system_io's
// allow_stdout() allows it only on fd 1. Together the condition would have no effect, so the
// policy is a compile error naming the syscall and both rule sets. That is why extrasafe splits
// network and file work across processes (see ipc_server_with_database.cpp). To see it, from the
// repository's root (LC_ALL=C for plain quotes):
//   g++ -std=c++20 -Iinclude -DSYSFENCE_SHOW_CONFLICT -fsyntax-only examples/user_guide.cpp
// g++ 12 says:
// clang-format off
//
// In file included from include/sysfence/policy.hpp:23,
//                  from include/sysfence/compile.hpp:14,
//                  from include/sysfence/apply.hpp:28,
//                  from include/sysfence/sysfence.hpp:25,
//                  from examples/user_guide.cpp:8:
// include/sysfence/detail/diagnostics.hpp: In instantiation of 'constexpr bool sysfence::detail::conflict_between_simple_and_conditional_rule_for() [with sysfence::sys::id Syscall = sysfence::sys::id::write; RuleSet = sysfence::builtins::networking_with<sysfence::builtins::method::allow_running_sockets>; OtherRuleSet = sysfence::builtins::system_io_with<sysfence::builtins::method::allow_stdout>]':
// ...
// examples/user_guide.cpp:250:16:   required from here
// include/sysfence/detail/diagnostics.hpp:23:17: error: static assertion failed: sysfence: this syscall is allowed unconditionally by one rule and only under conditions by another (their rule sets are named here, the same one twice if it holds both), so the conditions would have no effect; keep one of the two rules
//
// and nothing else: one mistake, one error.
// clang-format on
// ---------------------------------------------------------------------------------------------
#ifdef SYSFENCE_SHOW_CONFLICT
[[maybe_unused]] constexpr auto conflicting_policy =
    safety_context{}
        .enable(builtins::system_io::nothing().allow_stdout())
        .enable(builtins::networking::nothing().allow_running_tcp_clients());
#endif

}  // namespace

int main() {
  // Setup, unfiltered: a temporary directory with one readable file, and a TCP listener on
  // 127.0.0.1 for step 1's client to connect to.
  namespace fs = std::filesystem;
  char dir_template[] = "/tmp/sysfence-user-guide-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    say("FAILED setup: mkdtemp: %s\n", std::strerror(errno));
    return 1;
  }
  const files f{dir_template, std::string(dir_template) + "/readable.txt",
                std::string(dir_template) + "/a_file"};
  {
    const int fd = ::open(f.readable.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const bool written = fd >= 0 && ::write(fd, readable_text, std::strlen(readable_text)) ==
                                        static_cast<ssize_t>(std::strlen(readable_text));
    if (fd >= 0) ::close(fd);
    if (!written) {
      say("FAILED setup: writing %s\n", f.readable.c_str());
      return 1;
    }
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // port 0: the kernel picks a free one
  socklen_t addr_len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 4) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    say("FAILED setup: TCP listener: %s\n", std::strerror(errno));
    return 1;
  }

  say("sysfence user guide: the guide's policy is a %zu-instruction BPF program built at compile time\n",
      compile(guide_policy).size());

  std::thread(step_1, std::cref(f), ntohs(addr.sin_port)).join();
  // apply_to_current_thread filtered only that thread: the main thread can still create files.
  const result main_create = create_for_writing(f.created);
  check(main_create.succeeded(), "1 one thread",
        "main thread, never filtered: creating a file for writing: allowed");
  if (main_create.succeeded()) ::close(static_cast<int>(main_create.value));

  std::thread(step_2, ::getppid()).join();

  // All threads of this process but the main thread have ended, so a fork copies just it.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(step_3_child(f));
  int status = 0;
  const bool child_ok =
      child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  check(child_ok, "3 all threads", "the locked-down child process exited 0");

  ::close(listener);
  std::error_code ignored;
  fs::remove_all(f.dir, ignored);
  say(all_ok ? "all expectations held\n" : "some expectations FAILED\n");
  return all_ok ? 0 : 1;
}
