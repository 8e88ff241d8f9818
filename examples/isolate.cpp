// SPDX-License-Identifier: MIT
// isolate.cpp - extrasafe's examples/isolate_test.rs in sysfence: each isolate is a hook at the
// start of main; run as itself, the program starts every isolate and checks what it did.
//
// Two changes: the network check connects to a TCP listener this program opens on 127.0.0.1
// instead of fetching https://example.org (a test must not need the internet), and the policy
// applied inside is a sysfence safety_context. The program prints "NAME passed" per check and
// exits 0 when every check held.
#include <sysfence/isolate.hpp>
#include <sysfence/sysfence.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using sysfence::isolate;
using sysfence::isolate_output;
namespace fs = std::filesystem;

namespace {

bool all_passed = true;

// `expect` prints a failed expectation with the isolate's output, and remembers it.
void expect(bool ok, const char* what, const isolate_output& out) {
  if (ok) return;
  all_passed = false;
  std::printf("FAILED %s\nstatus %d\nstdout:\n%s\nstderr:\n%s\n", what, out.status.wait_status,
              out.out.c_str(), out.err.c_str());
}

bool has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) throw std::runtime_error(std::string("missing environment variable ") + name);
  return v;
}

// `no_tempdir_left` is true when no /tmp/NAME.* mount point outlived the isolate.
bool no_tempdir_left(const std::string& name) {
  for (const auto& entry : fs::directory_iterator("/tmp"))
    if (entry.path().filename().string().starts_with(name + ".")) return false;
  return true;
}

void check_output(const char* name, std::vector<const char*> expected,
                  const std::map<std::string, std::string>& envs = {}) {
  const isolate_output out = isolate::run(name, envs);
  expect(out.success(), name, out);
  for (const char* s : expected) expect(has(out.out, s), s, out);
  expect(no_tempdir_left(name), "the tmpfs mount point was removed", out);
  std::printf("%s passed\n", name);
}

void check_output_fail(const char* name, std::vector<const char*> expected) {
  const isolate_output out = isolate::run(name);
  expect(!out.success(), "the isolate failed", out);
  for (const char* s : expected) expect(has(out.err, s), s, out);
  std::printf("%s passed\n", name);
}

// A listening socket on 127.0.0.1 (the host's network namespace) and its port.
struct listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::string port;
  listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port = std::to_string(ntohs(a.sin_port));
  }
  ~listener() { ::close(fd); }
};

// ---- the functions run inside isolates ----

void hello() { std::printf("hello\n"); }

void uid() { std::printf("uid: %d\n", ::getuid()); }

void fail() { throw std::runtime_error("a wild panic appears"); }

// A new proc for the new PID namespace (the kernel allows it only where a proc is already fully
// visible: the host's, bound at /orig_proc, which is then unmounted).
void check_mountinfo() {
  ::mkdir("/proc", 0555);
  if (::mount("proc", "/proc", "proc", 0, nullptr) != 0) throw std::runtime_error("failed to mount new proc");
  if (::umount2("/orig_proc", MNT_DETACH) != 0) throw std::runtime_error("failed to unmount old proc");
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::printf("mountinfo:\n%s\n", std::string(std::istreambuf_iterator<char>(mountinfo), {}).c_str());
}

void unix_hello() {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, "/isolate.sock");
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("connect failed");
  const char message[] = "hello from isolate";
  if (::write(s, message, sizeof message - 1) != sizeof message - 1) throw std::runtime_error("write failed");
  ::close(s);
}

void multiple_binds() {
  std::ofstream("/path1/hello") << "abc";
  std::ofstream("/path2/hey") << "xyz";
}

void big_write() {
  std::vector<char> data(1'500'000, 'x');
  const int fd = ::open("/test", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) throw std::runtime_error(std::string("writing large file failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

// The stand-in for extrasafe's https request: connect to the listener whose port is given.
void network_call() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(env("ISOLATE_PORT"))));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error(std::string("ConnectError: ") + std::strerror(errno));
  ::close(s);
}

void use_safety_context() {
  namespace builtins = sysfence::builtins;
  sysfence::safety_context{}
      .enable(builtins::system_io::nothing().allow_stdout().allow_stderr())
      .apply_to_all_threads();  // a separate process: all its threads may be filtered
  // printf's first use of stdout calls newfstatat, which the policy denies: write(2) instead.
  [[maybe_unused]] ssize_t n = ::write(1, "we can print to stdout!\n", 24);
  n = ::write(2, "we can print to stderr!\n", 24);
  if (::open("test", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0)
    std::abort();  // shouldn't be able to open files
}

// ---- the tests, run by the program started as itself ----

void test_check_mountinfo() {
  const isolate_output out = isolate::run("check_mountinfo");
  expect(out.success(), "check_mountinfo succeeded", out);
  expect(has(out.out, "/ / "), "root mount present", out);
  expect(!has(out.out, "/tmp"), "tmp from parent namespace not visible", out);
  expect(!has(out.out, "/orig_proc"), "proc from parent namespace not visible", out);
  expect(out.err.empty(), "stderr empty", out);
  std::printf("check_mountinfo passed\n");
}

void test_unix_socket() {
  const fs::path dir = fs::temp_directory_path() / ("sysfence_isolate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "parent.sock").string();
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 1) != 0)
    throw std::runtime_error("cannot listen on " + path);
  isolate_output out;
  std::thread runner([&] { out = isolate::run("isolate_unix_socket", {{"ISOLATE_SOCKET_PATH", path}}); });
  const int conn = ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
  std::string response;
  char buf[64];
  for (ssize_t n; conn >= 0 && (n = ::read(conn, buf, sizeof buf)) > 0;)
    response.append(buf, static_cast<std::size_t>(n));
  runner.join();
  ::close(conn);
  ::close(s);
  fs::remove_all(dir);
  expect(out.success(), "isolate_unix_socket succeeded", out);
  expect(response == "hello from isolate", "the message came through the bound socket", out);
  std::printf("isolate_unix_socket passed\n");
}

void test_multiple_binds() {
  const fs::path base = fs::temp_directory_path() / ("sysfence_isolate_binds_" + std::to_string(::getpid()));
  fs::create_directories(base / "1");
  fs::create_directories(base / "2");
  const isolate_output out =
      isolate::run("isolate_multiple_binds",
                   {{"ISOLATE_DIR_1", (base / "1").string()}, {"ISOLATE_DIR_2", (base / "2").string()}});
  std::string f1, f2;
  std::ifstream(base / "1" / "hello") >> f1;
  std::ifstream(base / "2" / "hey") >> f2;
  fs::remove_all(base);
  expect(out.success(), "isolate_multiple_binds succeeded", out);
  expect(f1 == "abc" && f2 == "xyz", "the files written inside are on the host", out);
  std::printf("isolate_multiple_binds passed\n");
}

void test_tmpfs_size_limit() {
  const isolate_output out = isolate::run("isolate_size_limit");
  expect(!out.success(), "the large write failed", out);
  expect(has(out.err, "large file failed"), "large file failed", out);
  expect(has(out.err, "No space left on device"), "No space left on device", out);
  std::printf("isolate_tmpfs_size passed\n");
}

void test_network(const char* name, bool reachable) {
  const listener host;
  const isolate_output out = isolate::run(name, {{"ISOLATE_PORT", host.port}});
  expect(out.success() == reachable, reachable ? "connected" : "did not connect", out);
  if (!reachable) expect(has(out.err, "ConnectError"), "ConnectError", out);
  std::printf("%s passed\n", name);
}

void test_safety_context() {
  const isolate_output out = isolate::run("isolate_with_safetycontext");
  expect(out.success(), "isolate_with_safetycontext succeeded", out);
  expect(has(out.out, "we can print to stdout"), "stdout", out);
  expect(has(out.err, "we can print to stderr"), "stderr", out);
  std::printf("isolate_with_safetycontext passed\n");
}

// A bad destination is refused while the isolate is built, before anything is mounted: run()
// throws the error the re-executed program reported.
void test_bad_bindmount(const char* name, const char* message) {
  try {
    (void)isolate::run(name);
    expect(false, "a bad destination was refused", {});
  } catch (const sysfence::isolate_error& e) {
    expect(has(e.what(), message), message, {{0}, {}, e.what()});
  }
  std::printf("%s passed\n", name);
}

}  // namespace

int main() {
  // Hooks first.
  isolate::main_hook("isolate_hello", [](std::string_view name) { return isolate(name, hello); });
  isolate::main_hook("isolate_uid", [](std::string_view name) { return isolate(name, uid); });
  isolate::main_hook("check_mountinfo", [](std::string_view name) {
    return isolate(name, check_mountinfo).add_bind_mount("/proc", "/orig_proc");
  });
  isolate::main_hook("isolate_size_limit",
                     [](std::string_view name) { return isolate(name, big_write).set_rootfs_size(1); });
  isolate::main_hook("isolate_fail", [](std::string_view name) { return isolate(name, fail); });
  isolate::main_hook("isolate_unix_socket", [](std::string_view name) {
    return isolate(name, unix_hello).add_bind_mount(env("ISOLATE_SOCKET_PATH"), "/isolate.sock");
  });
  isolate::main_hook("isolate_multiple_binds", [](std::string_view name) {
    return isolate(name, multiple_binds)
        .add_bind_mount(env("ISOLATE_DIR_1"), "/path1")
        .add_bind_mount(env("ISOLATE_DIR_2"), "/path2");
  });
  isolate::main_hook("isolate_with_network",
                     [](std::string_view name) { return isolate(name, network_call).new_network(false); });
  isolate::main_hook("isolate_no_network", [](std::string_view name) {
    return isolate(name, network_call).add_bind_mount("/", "/");
  });
  isolate::main_hook("isolate_with_safetycontext",
                     [](std::string_view name) { return isolate(name, use_safety_context); });
  isolate::main_hook("isolate_bad_bindmount_absolute", [](std::string_view name) {
    return isolate(name, hello).add_bind_mount("/", "/a/b/../../..");
  });
  isolate::main_hook("isolate_bad_bindmount_relative",
                     [](std::string_view name) { return isolate(name, hello).add_bind_mount("/", "./a/"); });

  // These tests launch the isolates, which then hit the hooks above after re-executing.
  check_output("isolate_hello", {"hello"});
  check_output("isolate_uid", {"uid: 0"});
  test_check_mountinfo();
  test_unix_socket();
  test_multiple_binds();
  test_network("isolate_with_network", true);
  test_safety_context();
  test_network("isolate_no_network", false);
  test_tmpfs_size_limit();
  check_output_fail("isolate_fail", {"wild panic"});
  test_bad_bindmount("isolate_bad_bindmount_absolute", "a \"..\" component");
  test_bad_bindmount("isolate_bad_bindmount_relative", "a \".\" component");
  std::printf(all_passed ? "all isolate checks passed\n" : "SOME ISOLATE CHECKS FAILED\n");
  return all_passed ? 0 : 1;
}
