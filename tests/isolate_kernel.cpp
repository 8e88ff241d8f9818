// SPDX-License-Identifier: MIT
// isolate_kernel.cpp - real isolates: the host's files are out of sight but for the bind mounts,
// the root is size-limited, the environment and argv are as given, the network is a namespace of
// its own, a sysfence policy holds inside, the program is the memfd copy, and a refused user
// namespace is an error. Each isolate is a hook in this program's main, re-executed by run().
#include "sysfence/isolate.hpp"
#include "sysfence/sysfence.hpp"

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel.hpp"

using sysfence::isolate;
using sysfence::isolate_error;
using sysfence::isolate_output;
using sysfence::isolate_step;

extern char** environ;

// Under AddressSanitizer the isolate's environment is the test's alone: no ASAN_OPTIONS reaches
// it, and LeakSanitizer's exit-time scan (ptrace) would meet the policies applied inside.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }

namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// `print_open` prints how opening `path` for reading went: "open PATH: ok" or the errno's name.
void print_open(const char* path) {
  const int fd = ::openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  std::printf("open %s: %s\n", path, fd >= 0 ? "ok" : strerrorname_np(errno));
  if (fd >= 0) ::close(fd);
}

void files() {
  print_open("/etc/hostname");
  print_open("/etc/passwd");
  print_open("/proc/self/status");
  std::ifstream bound("/data/file");
  std::string text;
  std::getline(bound, text);
  std::printf("bound file: %s\n", text.c_str());
  if (DIR* d = ::opendir("/")) {
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    std::printf("root:");
    for (const auto& n : names) std::printf(" %s", n.c_str());
    std::printf("\n");
  }
}

void write_back() {
  std::ofstream("/path1/hello") << "abc";
  std::ofstream("/deep/er/path2/hey") << "xyz";
}

void big_write() {
  const int fd = ::openat(AT_FDCWD, "/big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  std::vector<char> block(1 << 16, 'x');
  long total = 0;
  for (int i = 0; i < 24; ++i) {  // 1.5 MiB into a 1 MiB root
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n < 0) {
      std::printf("write after %ld bytes: %s\n", total, strerrorname_np(errno));
      return;
    }
    total += n;
  }
  std::printf("wrote %ld bytes\n", total);
}

void print_environment() {
  for (char** e = environ; *e != nullptr; ++e) std::printf("env %s\n", *e);
}

void print_identity() {
  char comm[17] = {};
  ::prctl(PR_GET_NAME, comm, 0, 0, 0);
  std::printf("argv0 %s\ncomm %s\npid %d\nuid %d gid %d\n", program_invocation_name, comm, ::getpid(),
              ::getuid(), ::getgid());
}

void connect_host() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(env_or_empty("ISOLATE_PORT").c_str())));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int r = ::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  std::printf("connect: %s\n", r == 0 ? "ok" : strerrorname_np(errno));
  std::printf("interfaces:");
  if (struct if_nameindex* ifs = ::if_nameindex()) {
    for (struct if_nameindex* i = ifs; i->if_index != 0; ++i) std::printf(" %s", i->if_name);
    ::if_freenameindex(ifs);
  }
  std::printf("\n");
}

// The policy lets the function print and nothing else of the filesystem (printf's first use of
// stdout calls newfstatat, hence write(2) directly).
void under_policy() {
  namespace builtins = sysfence::builtins;
  sysfence::safety_context{}
      .enable(builtins::system_io::nothing().allow_stdout().allow_stderr())
      .apply_to_all_threads();
  const int fd = ::openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
  const char* answer = fd >= 0 ? "opened\n" : errno == EPERM ? "openat: EPERM\n" : "openat: other error\n";
  [[maybe_unused]] const ssize_t n = ::write(1, answer, std::strlen(answer));
  const long r = ::syscall(SYS_getppid);
  const char* ppid = r < 0 && errno == EPERM ? "getppid: EPERM\n" : "getppid: allowed\n";
  [[maybe_unused]] const ssize_t m = ::write(1, ppid, std::strlen(ppid));
}

void exe_link() {
  char link[256] = {};
  const ssize_t n = ::readlink("/proc/self/exe", link, sizeof link - 1);
  std::printf("exe %s\n", n > 0 ? link : strerrorname_np(errno));
  const int fd = ::openat(AT_FDCWD, "/proc/self/exe", O_WRONLY | O_CLOEXEC);
  std::printf("open exe for writing: %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
  const int exe = ::openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
  const int seals = ::fcntl(exe, F_GET_SEALS);
  std::printf("sealed: %s\n",
              seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ? "all" : "not all");
  // Every mount point is the root or under /proc (the bound /proc and its own submounts): the
  // host's old root was detached.
  std::ifstream mountinfo("/proc/self/mountinfo");
  bool outside = false;
  for (std::string line; std::getline(mountinfo, line);) {
    std::string id, parent, dev, root, point;
    std::istringstream(line) >> id >> parent >> dev >> root >> point;
    if (point != "/" && !point.starts_with("/proc")) outside = true;
  }
  std::printf("mounts outside / and /proc: %s\n", outside ? "some" : "none");
  for (const char* ns : {"user", "mnt", "pid", "net", "ipc", "uts"}) {
    char target[64] = {};
    const std::string path = std::string("/proc/self/ns/") + ns;
    if (::readlink(path.c_str(), target, sizeof target - 1) < 0) std::strcpy(target, "unreadable");
    std::printf("ns %s\n", target);
  }
}

// `ran` runs an isolate and requires it to have exited 0.
isolate_output ran(std::string_view name, const std::map<std::string, std::string>& envs = {}) {
  const isolate_output out = isolate::run(name, envs);
  INFO("stdout: " << out.out << "\nstderr: " << out.err);
  REQUIRE(out.success());
  return out;
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// `refuse` installs a filter answering syscall `nr` with EPERM and allowing the rest, as a
// container runtime's profile does (unshare), or as a user namespace without capabilities
// behaves under Ubuntu's AppArmor restriction (mount); the filter is inherited across the exec.
void refuse(long nr) {
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  // seccomp_data.nr
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    std::_Exit(98);
}

}  // namespace

TEST_CASE("isolate: the function's output comes back, as root of its own user namespace") {
  const isolate_output out = ran("iso_identity");
  CHECK(has(out.out, "argv0 iso_identity\n"));
  CHECK(has(out.out, "comm iso_identity\n"));
  CHECK(has(out.out, "pid 2\n"));  // PID 1 of the new PID namespace waits for it
  CHECK(has(out.out, "uid 0 gid 0\n"));
  CHECK(out.err.empty());
}

TEST_CASE("isolate: the host's files are out of sight, a bound file is readable") {
  REQUIRE(std::filesystem::exists("/etc/passwd"));
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "sysfence_isolate_bound.txt";
  std::ofstream(file) << "bound for the isolate\n";
  const isolate_output out = ran("iso_files", {{"ISOLATE_FILE", file.string()}});
  std::filesystem::remove(file);
  CHECK(has(out.out, "open /etc/hostname: ENOENT\n"));
  CHECK(has(out.out, "open /etc/passwd: ENOENT\n"));
  CHECK(has(out.out, "open /proc/self/status: ENOENT\n"));
  CHECK(has(out.out, "bound file: bound for the isolate\n"));
  CHECK(has(out.out, "root: . .. data\n"));  // the tmpfs holds the bind mount's directory alone
}

TEST_CASE("isolate: directories bound (destinations created) are written through to the host") {
  const std::filesystem::path base = std::filesystem::temp_directory_path() / "sysfence_isolate_dirs";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base / "one");
  std::filesystem::create_directories(base / "two");
  ran("iso_write_back",
      {{"ISOLATE_DIR_1", (base / "one").string()}, {"ISOLATE_DIR_2", (base / "two").string()}});
  std::string a, b;
  std::ifstream(base / "one" / "hello") >> a;
  std::ifstream(base / "two" / "hey") >> b;
  CHECK(a == "abc");
  CHECK(b == "xyz");
  std::filesystem::remove_all(base);
}

TEST_CASE("isolate: the root tmpfs is size-limited") {
  const isolate_output out = ran("iso_size");
  CHECK(has(out.out, ": ENOSPC\n"));
  CHECK_FALSE(has(out.out, "wrote"));
}

TEST_CASE("isolate: the environment is the variables given, nothing else") {
  const isolate_output out = ran("iso_env", {{"ONLY", "this"}, {"AND", "that=1"}});
  CHECK(out.out == "env AND=that=1\nenv ONLY=this\n");
  CHECK(ran("iso_env").out.empty());
}

TEST_CASE("isolate: a new network namespace has only lo; new_network(false) reaches the host") {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(s, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const isolate_output alone = ran("iso_net", {{"ISOLATE_PORT", port}});
  CHECK(has(alone.out, "connect: ENETUNREACH\n"));
  CHECK(has(alone.out, "interfaces: lo\n"));
  const isolate_output shared = ran("iso_net_shared", {{"ISOLATE_PORT", port}});
  CHECK(has(shared.out, "connect: ok\n"));
  ::close(s);
}

TEST_CASE("isolate: a sysfence policy applied inside holds") {
  const isolate_output out = ran("iso_policy");
  CHECK(out.out == "openat: EPERM\ngetppid: EPERM\n");
}

TEST_CASE("isolate: the program inside is the sealed memfd copy, the host root is detached") {
  const isolate_output out = ran("iso_exe");
  CHECK(has(out.out, "exe /memfd:sysfence-isolate"));
  // Sealed against writes (and the kernel refuses writing an executable being run): not ok.
  CHECK_FALSE(has(out.out, "open exe for writing: ok"));
  CHECK(has(out.out, "sealed: all\n"));
  CHECK(has(out.out, "mounts outside / and /proc: none\n"));
  // Every namespace differs from this process's: user, mount, PID, network, IPC, UTS.
  for (const char* ns : {"user", "mnt", "pid", "net", "ipc", "uts"}) {
    const std::string host = std::filesystem::read_symlink(std::string("/proc/self/ns/") + ns).string();
    INFO(ns << " " << host);
    CHECK(has(out.out, "ns " + host.substr(0, host.find(':') + 1)));
    CHECK_FALSE(has(out.out, "ns " + host + "\n"));
  }
}

TEST_CASE("isolate: how the function ends is how the isolate ends") {
  const isolate_output thrown = isolate::run("iso_throw");
  CHECK(thrown.status.code() == 1);
  CHECK(has(thrown.err, "a wild panic appears"));
  const isolate_output three = isolate::run("iso_exit3");
  CHECK(three.status.code() == 3);
  const isolate_output aborted = isolate::run("iso_abort");
  CHECK(aborted.status.signal() == SIGABRT);
}

TEST_CASE("isolate: setup failures inside the isolate are errors naming step, errno and path") {
  try {
    (void)isolate::run("iso_missing_source");
    FAIL("a missing bind source did not fail");
  } catch (const isolate_error& e) {
    CHECK(e.step() == isolate_step::bind_source);
    CHECK(e.code().value() == ENOENT);
    CHECK(e.detail() == "/nonexistent/sysfence-isolate-source");
  }
  try {
    (void)isolate::run("iso_bad_target");
    FAIL("a .. destination did not fail");
  } catch (const isolate_error& e) {
    CHECK(e.step() == isolate_step::bad_bind_target);
    CHECK(has(e.what(), "a \"..\" component"));
  }
  try {
    (void)isolate::run("not_hooked");
    FAIL("a program without the hook did not fail");
  } catch (const isolate_error& e) {
    CHECK(e.step() == isolate_step::no_hook);
  }
}

TEST_CASE("isolate: a refused user namespace is an error with a hint, never a run without isolation") {
  struct refusal {
    long nr;
    isolate_step expected;
  };
  for (const refusal r :
       {refusal{SYS_unshare, isolate_step::user_namespace}, refusal{SYS_mount, isolate_step::make_private}}) {
    const long nr = r.nr;
    CAPTURE(nr);
    kernel_test::shared<int> step;
    kernel_test::shared<int> error;
    kernel_test::shared<bool> hinted;
    const auto e = kernel_test::in_child([&] {
      refuse(nr);
      try {
        (void)isolate::run("iso_identity");
        return 1;
      } catch (const isolate_error& x) {
        *step = static_cast<int>(x.step());
        *error = x.code().value();
        *hinted = has(x.what(), "kernel.apparmor_restrict_unprivileged_userns");
        return 0;
      }
    });
    REQUIRE(e.exited);
    CHECK(e.code == 0);
    CHECK(*step == static_cast<int>(r.expected));
    CHECK(*error == EPERM);
    CHECK(*hinted);
  }
}

TEST_CASE("isolate: run works for a caller whose descriptors 0, 1 and 2 are closed") {
  kernel_test::shared<bool> hello;
  const auto e = kernel_test::in_child([&] {
    ::close(0);
    ::close(1);
    ::close(2);
    const isolate_output out = isolate::run("iso_identity");
    *hello = out.success() && has(out.out, "argv0 iso_identity\n") && out.err.empty();
    return 0;
  });
  REQUIRE(e.exited);
  CHECK(*hello);
}

TEST_CASE("isolate: the root's mount point in /tmp is removed afterwards") {
  ran("iso_identity");
  for (const auto& entry : std::filesystem::directory_iterator("/tmp"))
    CHECK_FALSE(entry.path().filename().string().starts_with("iso_identity."));
}

int main(int argc, char** argv) {
  isolate::main_hook("iso_identity", [](std::string_view n) { return isolate(n, print_identity); });
  isolate::main_hook("iso_files", [](std::string_view n) {
    return isolate(n, files).add_bind_mount(env_or_empty("ISOLATE_FILE"), "/data/file");
  });
  isolate::main_hook("iso_write_back", [](std::string_view n) {
    return isolate(n, write_back)
        .add_bind_mount(env_or_empty("ISOLATE_DIR_1"), "/path1")
        .add_bind_mount(env_or_empty("ISOLATE_DIR_2"), "deep/er/path2");
  });
  isolate::main_hook("iso_size", [](std::string_view n) { return isolate(n, big_write).set_rootfs_size(1); });
  isolate::main_hook("iso_env", [](std::string_view n) { return isolate(n, print_environment); });
  isolate::main_hook("iso_net", [](std::string_view n) { return isolate(n, connect_host); });
  isolate::main_hook("iso_net_shared",
                     [](std::string_view n) { return isolate(n, connect_host).new_network(false); });
  isolate::main_hook("iso_policy", [](std::string_view n) { return isolate(n, under_policy); });
  isolate::main_hook(
      "iso_exe", [](std::string_view n) { return isolate(n, exe_link).add_bind_mount("/proc", "/proc"); });
  isolate::main_hook("iso_throw", [](std::string_view n) {
    return isolate(n, [] { throw std::runtime_error("a wild panic appears"); });
  });
  isolate::main_hook("iso_exit3", [](std::string_view n) { return isolate(n, [] { std::exit(3); }); });
  isolate::main_hook("iso_abort", [](std::string_view n) { return isolate(n, [] { std::abort(); }); });
  isolate::main_hook("iso_missing_source", [](std::string_view n) {
    return isolate(n, print_identity).add_bind_mount("/nonexistent/sysfence-isolate-source", "/x");
  });
  isolate::main_hook("iso_bad_target", [](std::string_view n) {
    return isolate(n, print_identity).add_bind_mount("/", "/a/b/../../..");
  });
  // Started as "not_hooked", this program has no hook for it: it just ends, as a program that
  // forgot main_hook would run on; run() must say so.
  if (std::string_view(program_invocation_name) == "not_hooked") return 0;

  doctest::Context context(argc, argv);
  return context.run();
}
