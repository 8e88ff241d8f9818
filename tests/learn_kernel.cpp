// SPDX-License-Identifier: MIT
// learn_kernel.cpp - learn() on real commands: `ls -l /`, a multithreaded program
// (examples/threaded.cpp) and a shell script that forks; the learned JSON policy applied to the
// same command lets it run again with the same output and status, and without one of the
// syscalls it needs makes it fail; exit statuses, signals and the timeout pass through.
#include "sysfence/learn.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "sysfence/formats/seccompiler.hpp"

using namespace sysfence;

namespace {

using strings = std::vector<std::string>;

// `captured` is what a call wrote on the process's stdout (a memfd in its place meanwhile), and
// its result.
template <class F>
auto capture_stdout(std::string& text, F&& f) {
  std::fflush(stdout);
  const int file = ::memfd_create("stdout", MFD_CLOEXEC);
  REQUIRE(file >= 0);
  const int saved = ::dup(1);
  ::dup2(file, 1);
  auto result = f();
  ::dup2(saved, 1);
  ::close(saved);
  text.clear();
  char buffer[4096];
  ssize_t n;
  ::lseek(file, 0, SEEK_SET);
  while ((n = ::read(file, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
  ::close(file);
  return result;
}

// `run_under` runs `argv` with `policy` applied in the child before its execve; its shell status.
int run_under(const runtime_policy& policy, const strings& argv) {
  std::vector<std::string> copies = argv;
  std::vector<char*> pointers;
  for (std::string& a : copies) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  spawned s = spawn(pointers, [&]() noexcept -> int {
    const apply_status a = policy.try_apply_to_current_thread();
    return a ? 0 : (a.error != 0 ? a.error : EINVAL);
  });
  exec_outcome(s);
  if (!s) return -1;
  return wait_command(s.pid).shell_status();
}

// `learned_from` is every process the syscall's calls came from, by comm.
std::vector<std::string> comms(const learned& l, const learned_syscall& s) {
  std::vector<std::string> out;
  for (const std::size_t i : s.processes) out.push_back(l.processes[i].comm);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// `program_size` is the BPF size of the learned JSON policy.
std::size_t program_size(const learned& l) {
  return load_seccompiler_json(learned_seccompiler_json(l), detail::learning::command_name(l))
      .program()
      .size();
}

// `names` is the last word of each line of `ls -l` output: what it lists, without the sizes and
// times that other processes change meanwhile (/tmp's, /proc's).
std::vector<std::string> names(const std::string& listing) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < listing.size()) {
    std::size_t end = listing.find('\n', start);
    if (end == std::string::npos) end = listing.size();
    const std::string line = listing.substr(start, end - start);
    const std::size_t space = line.find_last_of(' ');
    out.push_back(space == std::string::npos ? line : line.substr(space + 1));
    start = end + 1;
  }
  return out;
}

// `fixed_directory` is a directory only this test writes: a file, a directory and a symlink.
std::string fixed_directory() {
  char dir[] = "/tmp/sysfence_learn_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string d = dir;
  const int fd = ::open((d + "/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "text\n", 5) == 5);
  ::close(fd);
  REQUIRE(::mkdir((d + "/dir").c_str(), 0755) == 0);
  REQUIRE(::symlink("file", (d + "/link").c_str()) == 0);
  return d;
}

void remove_fixed_directory(const std::string& d) {
  ::unlink((d + "/file").c_str());
  ::unlink((d + "/link").c_str());
  ::rmdir((d + "/dir").c_str());
  ::rmdir(d.c_str());
}

learned without(learned l, std::string_view name) {
  l.syscalls.erase(std::remove_if(l.syscalls.begin(), l.syscalls.end(),
                                  [&](const learned_syscall& s) { return s.id && sys::name(*s.id) == name; }),
                   l.syscalls.end());
  return l;
}

}  // namespace

TEST_CASE("learn `ls -l /`: its syscalls, all from ls; the learned policy runs it again, exactly") {
  const strings ls{"ls", "-l", "/"};
  std::string first;
  const learned l = capture_stdout(first, [&] { return learn(ls); });
  REQUIRE(l.ran());
  CHECK(l.status() == 0);
  CHECK_FALSE(l.timed_out);
  CHECK(static_cast<bool>(l.supervised));
  CHECK(first.find("usr") != std::string::npos);
  for (const char* name : {"execve", "getdents64", "openat", "write", "close", "exit_group"}) {
    CAPTURE(name);
    const learned_syscall* s = l.find(name);
    REQUIRE(s != nullptr);
    CHECK(s->count >= 1);
  }
  // The handoff of the listener (an unnotified sendmsg before the execve) is not recorded.
  CHECK(l.find("sendmsg") == nullptr);
  // After its execve every call is ls's, from one pid.
  const learned_syscall& getdents = *l.find("getdents64");
  CHECK(comms(l, getdents) == std::vector<std::string>{"ls"});
  CHECK(l.processes[getdents.processes[0]].exe.find("ls") != std::string::npos);
  CHECK(learned_summary(l).find("1 process") != std::string::npos);
  const std::size_t size = program_size(l);
  MESSAGE("ls -l /: " << learned_summary(l) << "; learned JSON policy: " << size << " BPF instructions");

  const runtime_policy policy = load_seccompiler_json(learned_seccompiler_json(l), "ls");
  std::string again;
  CHECK(capture_stdout(again, [&] { return run_under(policy, ls); }) == 0);
  CHECK(names(again) == names(first));

  // Without getdents64 ls cannot list / (EPERM): the list is exact, not merely permissive.
  const runtime_policy short_one =
      load_seccompiler_json(learned_seccompiler_json(without(l, "getdents64")), "ls");
  std::string failed;
  CHECK(capture_stdout(failed, [&] { return run_under(short_one, ls); }) != 0);
  CHECK(failed != first);
}

TEST_CASE("learn --args `ls -l /`: the proposed conditions let it run again") {
  const strings ls{"ls", "-l", "/"};
  learn_options o;
  o.args = true;
  std::string first;
  const learned l = capture_stdout(first, [&] { return learn(ls, o); });
  REQUIRE(l.status() == 0);
  const learned_syscall* write = l.find("write");
  REQUIRE(write != nullptr);
  CHECK(write->args[0].values == std::vector<std::uint64_t>{1});
  const std::vector<arg_proposal> p = proposed_conditions(*write);
  REQUIRE(p.size() == 1);
  CHECK(p[0].values == std::vector<std::uint64_t>{1});
  const std::string json = learned_seccompiler_json(l);
  CHECK(json.find(R"x("syscall": "write", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}])x") !=
        std::string::npos);
  const runtime_policy policy = load_seccompiler_json(json, "ls");
  std::string again;
  CHECK(capture_stdout(again, [&] { return run_under(policy, ls); }) == 0);
  CHECK(names(again) == names(first));
}

TEST_CASE("learn `ls -l DIR` of a directory nobody else changes: the learned policy gives the same output") {
  const std::string dir = fixed_directory();
  const strings ls{"ls", "-l", dir};
  std::string first;
  const learned l = capture_stdout(first, [&] { return learn(ls); });
  CHECK(l.status() == 0);
  CHECK(first.find("link -> file") != std::string::npos);
  const runtime_policy policy = load_seccompiler_json(learned_seccompiler_json(l), "ls");
  std::string again;
  CHECK(capture_stdout(again, [&] { return run_under(policy, ls); }) == 0);
  CHECK(again == first);
  const runtime_policy short_one =
      load_seccompiler_json(learned_seccompiler_json(without(l, "getdents64")), "ls");
  CHECK(capture_stdout(again, [&] { return run_under(short_one, ls); }) == 2);  // ls: serious trouble
  CHECK(again != first);
  remove_fixed_directory(dir);
}

TEST_CASE("learn a multithreaded program: each thread's own syscall, all from one process") {
  const strings threaded{SYSFENCE_THREADED_EXAMPLE};
  std::string out;
  const learned l = capture_stdout(out, [&] { return learn(threaded); });
  REQUIRE(l.ran());
  CHECK(l.status() == 0);
  CHECK(out.find("getpriority") != std::string::npos);
  std::size_t process = l.processes.size();
  for (const char* name : {"getpriority", "times", "sysinfo", "getrusage"}) {
    CAPTURE(name);
    const learned_syscall* s = l.find(name);
    REQUIRE(s != nullptr);
    CHECK(s->count == 1);
    REQUIRE(s->processes.size() == 1);
    CHECK(l.processes[s->processes[0]].comm == "threaded");
    if (process == l.processes.size()) process = s->processes[0];
    CHECK(s->processes[0] == process);
  }
  REQUIRE(process < l.processes.size());
  CHECK(l.processes[process].threads >= 5);  // the main thread and the four
  CHECK((l.find("clone3") != nullptr || l.find("clone") != nullptr));
  const std::size_t size = program_size(l);
  MESSAGE("threaded: " << learned_summary(l) << "; learned JSON policy: " << size << " BPF instructions");

  const runtime_policy policy = load_seccompiler_json(learned_seccompiler_json(l), "threaded");
  std::string again;
  CHECK(capture_stdout(again, [&] { return run_under(policy, threaded); }) == 0);
  CHECK(again == out);
  const runtime_policy short_one =
      load_seccompiler_json(learned_seccompiler_json(without(l, "sysinfo")), "threaded");
  CHECK(capture_stdout(again, [&] { return run_under(short_one, threaded); }) == 1);
}

TEST_CASE("learn a shell script that forks: every child's execve and calls, the shell's wait4") {
  const strings script{"sh", "-c", "ls / | wc -l; (uname -s); echo \"$(id -u)\"; true"};
  std::string out;
  const learned l = capture_stdout(out, [&] { return learn(script); });
  REQUIRE(l.ran());
  CHECK(l.status() == 0);
  const learned_syscall* execve = l.find("execve");
  REQUIRE(execve != nullptr);
  CHECK(execve->count >= 4);
  const std::vector<std::string> ran = comms(l, *execve);
  for (const char* program : {"ls", "wc", "uname", "id"}) {
    CAPTURE(program);
    // Each child calls execve as a copy of sh, then makes its own calls as itself.
    bool seen = false;
    for (const learned_syscall& s : l.syscalls)
      if (s.abi == arch::native::name && contains(comms(l, s), program)) seen = true;
    CHECK(seen);
  }
  CHECK(contains(ran, "sh"));
  const learned_syscall* wait4 = l.find("wait4");
  REQUIRE(wait4 != nullptr);
  CHECK(contains(comms(l, *wait4), "sh"));
  CHECK((l.find("pipe2") != nullptr || l.find("pipe") != nullptr));
  CHECK((l.find("clone") != nullptr || l.find("fork") != nullptr || l.find("vfork") != nullptr ||
         l.find("clone3") != nullptr));
  std::vector<pid_t> pids;
  for (const learned_process& p : l.processes)
    if (std::find(pids.begin(), pids.end(), p.pid) == pids.end()) pids.push_back(p.pid);
  CHECK(pids.size() >= 5);  // sh, ls, wc, the subshell or uname, the substitution or id
  MESSAGE("sh script: " << learned_summary(l));

  const runtime_policy policy = load_seccompiler_json(learned_seccompiler_json(l), "sh");
  std::string again;
  CHECK(capture_stdout(again, [&] { return run_under(policy, script); }) == 0);
  CHECK(again == out);
}

TEST_CASE("learn: the command's exit status and the signal that ended it pass through") {
  const learned three = learn(strings{"sh", "-c", "exit 3"});
  CHECK(three.ran());
  CHECK(three.status() == 3);
  CHECK(three.find("exit_group") != nullptr);
  const learned killed = learn(strings{"sh", "-c", "kill -TERM $$"});
  CHECK(killed.status() == 128 + SIGTERM);
  CHECK(killed.find("kill") != nullptr);
  const learned missing = learn(strings{"/nonexistent/command"});
  CHECK_FALSE(missing.ran());
  CHECK(missing.start.failed == spawn_step::exec);
  CHECK(missing.status() == 127);
}

TEST_CASE("learn: the timeout stops a command that never ends, and what it started") {
  learn_options o;
  o.timeout = std::chrono::milliseconds(500);
  const auto begin = std::chrono::steady_clock::now();
  const learned sleeping = learn(strings{"sleep", "100"}, o);
  CHECK(sleeping.timed_out);
  CHECK(sleeping.status() == 128 + SIGKILL);
  CHECK(sleeping.find("clock_nanosleep") != nullptr);
  // A shell whose background child outlives it: the child is killed too, and supervise ends.
  const learned tree = learn(strings{"sh", "-c", "sleep 100 & exit 0"}, o);
  CHECK(tree.timed_out);
  CHECK(tree.status() == 0);  // the shell itself exited
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(10));
}

#ifdef SYSFENCE_LEARN_INT80
TEST_CASE("learn records the ABI: an int $0x80 call of a 64-bit program is i386's getppid") {
  std::string out;
  const learned l = capture_stdout(out, [&] { return learn(strings{SYSFENCE_LEARN_INT80}); });
  REQUIRE(l.ran());
  CHECK(l.status() == 0);
  CHECK(out == "same parent\n");
  const learned_syscall* i386 = l.find("getppid", arch::x86::name);
  REQUIRE(i386 != nullptr);
  CHECK(i386->arch == AUDIT_ARCH_I386);
  CHECK(i386->nr == 64);
  CHECK(i386->count == 1);
  const learned_syscall* native = l.find("getppid");
  REQUIRE(native != nullptr);  // the 64-bit one, from ::getppid()
  CHECK(native->count == 2);
  // Rules are the native ABI's; the i386 call is listed in the header's comments.
  CHECK(learned_header(l).find("//   getppid (x86): 1 call from learn_int80") != std::string::npos);
}
#endif
