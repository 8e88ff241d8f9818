// SPDX-License-Identifier: MIT
// spawn.cpp - kernel tests of spawn.hpp and confine.hpp: real commands spawned, their exec outcome,
// status, timeout and a failed preparation; a command confined by a real filter, with and without
// the reporting supervisor.
#include "sysfence/spawn.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "sysfence/confine.hpp"
#include "sysfence/runtime_policy.hpp"

using namespace sysfence;

namespace {

// `command` is argv for spawn: the strings kept alive, ending with a null pointer.
struct command {
  std::vector<std::string> words;
  std::vector<char*> argv;
  explicit command(std::vector<std::string> w) : words(std::move(w)) {
    for (std::string& s : words) argv.push_back(s.data());
    argv.push_back(nullptr);
  }
};

waited run(const command& c, std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
  spawned s = spawn(c.argv, []() noexcept { return 0; });
  REQUIRE(exec_outcome(s));
  return wait_command(s.pid, timeout);
}

// `no_openat` answers openat with `refusal` and lets every other call run: a dynamically linked
// program's loader cannot open libc, so it exits 127.
runtime_policy no_openat(action refusal) {
  return runtime_policy({{rule{sys::openat}.then(refusal), 0}}, {"no_openat"}, action::allow);
}

// `all_but_openat` allows every native syscall but openat, which gets the default, `refusal`.
runtime_policy all_but_openat(action refusal) {
  std::vector<detail::entry> allowed;
  std::vector<std::string> names;
  for (std::size_t id = 0; id < detail::syscall_count; ++id) {
    const auto s = static_cast<sys::id>(id);
    if (arch::native::numbers[id] < 0 || s == sys::id::openat) continue;
    names.emplace_back(sys::name(s));
    rule r;
    r.syscall = s;
    allowed.push_back({r, static_cast<std::uint16_t>(allowed.size())});
  }
  return runtime_policy(std::move(allowed), std::move(names), refusal);
}

}  // namespace

TEST_CASE("a missing command: the exec step fails with ENOENT and the child is reaped") {
  command c({"/nonexistent/sysfence-command"});
  spawned s = spawn(c.argv, []() noexcept { return 0; });
  REQUIRE(s.pid > 0);
  exec_outcome(s);
  CHECK(s.failed == spawn_step::exec);
  CHECK(s.error == ENOENT);
  CHECK(::waitpid(s.pid, nullptr, WNOHANG) < 0);  // already reaped
  CHECK(errno == ECHILD);
}

TEST_CASE("the command's status passes through: exit code, and 128 + the signal") {
  const waited three = run(command({"sh", "-c", "exit 3"}));
  CHECK(three);
  CHECK(three.shell_status() == 3);
  const waited killed = run(command({"sh", "-c", "kill -TERM $$"}));
  CHECK(WIFSIGNALED(killed.wait_status));
  CHECK(killed.shell_status() == 128 + SIGTERM);
  CHECK_FALSE(killed.timed_out);
}

TEST_CASE("a command still running at the timeout is killed") {
  const auto start = std::chrono::steady_clock::now();
  const waited w = run(command({"sleep", "10"}), std::chrono::milliseconds{200});
  CHECK(w.timed_out);
  CHECK(w.shell_status() == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{5});
}

TEST_CASE("a failed preparation is reported with its errno, and the command never runs") {
  command c({"sh", "-c", "touch ran"});
  spawned s = spawn(c.argv, []() noexcept { return EACCES; });
  exec_outcome(s);
  CHECK(s.failed == spawn_step::prepare);
  CHECK(s.error == EACCES);
  CHECK(::access("ran", F_OK) != 0);
}

TEST_CASE("run_confined: the policy's refusal reaches the command, which fails") {
  command cat({"cat", "/dev/null"});
  const confined_run ok = run_confined(runtime_policy({}, {}, action::allow), cat.argv);
  REQUIRE(ok);
  CHECK(ok.shell_status() == 0);
  // The loader's openat of libc fails with EPERM: exit 127.
  const confined_run denied = run_confined(no_openat(action::error(EPERM)), cat.argv);
  REQUIRE(denied);
  CHECK(denied.shell_status() == 127);
  CHECK_FALSE(denied.reported);
  const confined_run killed = run_confined(no_openat(action::kill_process), cat.argv);
  CHECK(killed.shell_status() == 128 + SIGSYS);
}

TEST_CASE("run_confined with report: each refused call is printed by name, then answered as the policy would") {
  command cat({"cat", "/dev/null"});
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  confine_options o;
  o.report = true;
  o.report_fd = fds[1];
  // Every call but openat is allowed; openat gets the default, which the supervisor carries out.
  const runtime_policy everything_but_openat = all_but_openat(action::error(EACCES));
  const confined_run r = run_confined(everything_but_openat, cat.argv, o);
  ::close(fds[1]);
  std::string report;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  REQUIRE(r);
  CHECK(r.reported);
  CHECK(r.supervised);
  CHECK(r.shell_status() == 127);  // the loader could not open libc: EACCES from the supervisor
  CHECK(r.violations >= 1);
  CHECK(report.find("blocked openat (257)") != std::string::npos);
  CHECK(report.find("-> ERRNO(13)") != std::string::npos);
  CHECK(report.find("sysfence: pid " + std::to_string(r.started.pid) + " blocked openat") != std::string::npos);
}

TEST_CASE("run_confined refuses a policy that does not allow execve, before starting anything") {
  command t({"true"});
  const runtime_policy no_exec({{rule{sys::execve}.then(action::error(EPERM)), 0}}, {"no_exec"}, action::allow);
  CHECK_THROWS_AS(run_confined(no_exec, t.argv), policy_error);
}

TEST_CASE("reply_for: what the supervisor does for each default action") {
  CHECK(reply_for(action::error(13)).reply.err == 13);
  CHECK(reply_for(action::error(13)).signal == 0);
  // ERRNO(0): the kernel returns 0 without running the call; so does the supervisor.
  CHECK(reply_for(action::error(0)).reply.what == notify_reply::kind::value);
  CHECK(reply_for(action::error(0)).reply.val == 0);
  CHECK(reply_for(action::kill_process).signal == SIGKILL);
  CHECK(reply_for(action::trap()).signal == SIGSYS);
  CHECK(reply_for(action::log).reply.what == notify_reply::kind::continue_call);
  CHECK(reply_for(action::trace()).reply.err == ENOSYS);
}
