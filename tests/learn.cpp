// SPDX-License-Identifier: MIT
// learn.cpp - learn.hpp's pure parts, without the kernel: the built-in methods read from the typed
// rule sets, the proposed argument conditions, and the header and seccompiler JSON writers for a
// fixed learned set (the JSON read back by load_seccompiler_json and simulated).
#include "sysfence/learn.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "learn_fixture.hpp"
#include "sysfence/formats/seccompiler.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;

namespace {

const builtin_method* method(std::string_view expression) {
  for (const builtin_method& m : builtin_methods())
    if (m.expression == expression) return &m;
  return nullptr;
}

bool has(std::span<const sys::id> ids, sys::id id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("builtin_methods: each method's syscalls come from its typed rule set") {
  const builtin_method* metadata = method("builtins::system_io::nothing().allow_metadata()");
  REQUIRE(metadata != nullptr);
  CHECK(metadata->unconditional);
  CHECK_FALSE(metadata->dangerous);
  CHECK(metadata->syscalls.size() == builtins::io::metadata_syscalls.size());
  CHECK(has(metadata->syscalls, sys::id::getdents64));
  CHECK_FALSE(has(metadata->syscalls, sys::id::read));

  const builtin_method* basic = method("builtins::basic_capabilities{}");
  REQUIRE(basic != nullptr);
  CHECK(basic->syscalls.size() == builtins::basic_capabilities::simple_rules.size());
  CHECK(has(basic->syscalls, sys::id::brk));

  const builtin_method* open = method("builtins::system_io::nothing().allow_open()");
  REQUIRE(open != nullptr);
  CHECK(open->dangerous);  // written with .yes_really()
  CHECK(has(open->syscalls, sys::id::openat));

  // Methods with conditional rules are never used for a learned set (their conditions were not seen).
  for (const auto* name :
       {"builtins::system_io::nothing().allow_ioctl()", "builtins::fork_and_exec{}",
        "builtins::threads::nothing().allow_create()", "builtins::system_io::nothing().allow_stdout()"}) {
    CAPTURE(name);
    REQUIRE(method(name) != nullptr);
    CHECK_FALSE(method(name)->unconditional);
  }
  CHECK(has(method("builtins::fork_and_exec{}")->syscalls, sys::id::wait4));
}

TEST_CASE("proposed_conditions: fds 0-2, few commands and families; never what was not all recorded") {
  const learned l = learn_fixture::script();
  auto proposal = [&](std::string_view name) { return proposed_conditions(*l.find(name)); };
  const auto write = proposal("write");
  REQUIRE(write.size() == 1);
  CHECK(write[0].arg == 0);
  CHECK(write[0].dword);
  CHECK(write[0].values == std::vector<std::uint64_t>{1, 2});
  CHECK(proposal("read").empty());    // fd 3 seen: not only the standard streams
  CHECK(proposal("ioctl").empty());   // more values than recorded
  CHECK(proposal("execve").empty());  // no watched argument
  const auto fcntl = proposal("fcntl");
  REQUIRE(fcntl.size() == 1);  // the command only: fd 10 is not a standard stream
  CHECK(fcntl[0].arg == 1);
  CHECK(fcntl[0].values == std::vector<std::uint64_t>{F_DUPFD, F_GETFD});
  const auto socket = proposal("socket");
  REQUIRE(socket.size() == 2);
  CHECK(socket[0].values == std::vector<std::uint64_t>{AF_UNIX});
  CHECK(socket[1].values == std::vector<std::uint64_t>{SOCK_STREAM, SOCK_DGRAM, SOCK_STREAM | SOCK_CLOEXEC});
}

TEST_CASE("learned_summary counts syscalls, calls and distinct pids") {
  learned l = learn_fixture::script();
  const std::string expected =
      std::to_string(l.syscalls.size()) + " syscalls, " + std::to_string(l.calls) + " calls, 3 processes";
  CHECK(learned_summary(l) == expected);
  l.processes.push_back({101, "cat", "/usr/bin/cat", 1, 1});  // pid 101 ran another program
  CHECK(learned_summary(l) == expected);
}

TEST_CASE(
    "learned_seccompiler_json: one filter named after the command, EPERM, a commented rule per syscall") {
  const learned l = learn_fixture::script();
  const std::string json = learned_seccompiler_json(l);
  CHECK(json.find(
            "{\n  \"sh\": {\n    \"mismatch_action\": {\"errno\": 1},\n    \"filter_action\": \"allow\",") ==
        0);
  CHECK(
      json.find(
          R"x({"syscall": "execve", "comment": "3 calls from sh (pid 100), ls (pid 101), wc (pid 102)"})x") !=
      std::string::npos);
  CHECK(json.find(R"x({"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}], )x"
                  R"x("comment": "7 calls from ls (pid 101), wc (pid 102); arg 0: 1 2"})x") !=
        std::string::npos);
  CHECK(json.find(
            R"x({"syscall": "read", "comment": "5 calls from sh (pid 100), wc (pid 102); arg 0: 0 3"})x") !=
        std::string::npos);
  CHECK(occurrences(json, "\"syscall\": \"socket\"") == 3);  // one rule per (family, type)
  CHECK(occurrences(json, "\"syscall\": \"write\"") == 2);

  CHECK(seccompiler_filter_names(json) == std::vector<std::string>{"sh"});
  const runtime_policy p = load_seccompiler_json(json, "sh");
  CHECK(p.default_action() == action::error(EPERM));
  auto answer = [&](const seccomp_data& d) { return evaluate(p.program(), d).result; };
  // Every observed call is allowed...
  for (const learned_syscall& s : l.syscalls) {
    CAPTURE(s.name());
    std::array<std::uint64_t, 6> args{};
    const std::size_t n0 = std::max<std::size_t>(1, s.args[0].values.size());
    const std::size_t n1 = std::max<std::size_t>(1, s.args[1].values.size());
    for (std::size_t i = 0; i < n0; ++i)
      for (std::size_t j = 0; j < n1; ++j) {
        args[0] = s.args[0].values.empty() ? 0 : s.args[0].values[i];
        args[1] = s.args[1].values.empty() ? 0 : s.args[1].values[j];
        CHECK(answer(call(*s.id, args)) == action::allow);
      }
  }
  // ... and nothing else.
  CHECK(answer(call(sys::id::unlinkat, 0, 0, 0)) == action::error(EPERM));
  CHECK(answer(call(sys::id::write, 3, 0, 0)) == action::error(EPERM));
  CHECK(answer(call(sys::id::fcntl, 0, F_SETFL)) == action::error(EPERM));
  CHECK(answer(call(sys::id::socket, AF_INET, SOCK_STREAM, 0)) == action::error(EPERM));
  CHECK(answer(call(sys::id::read, 7, 0, 0)) == action::allow);  // read had an fd above 2: no condition
}

TEST_CASE("learned_seccompiler_json: names and comments with quotes or control characters stay valid JSON") {
  learned l = learn_fixture::script();
  l.processes[0].comm = "a\"b\\c\nd\x01\xff";
  const std::string json = learned_seccompiler_json(l, {"my \"filter\""});
  CHECK(json.find(R"x(a\"b?c?d?? (pid 100))x") != std::string::npos);
  CHECK(seccompiler_filter_names(json) == std::vector<std::string>{"my \"filter\""});
  CHECK_NOTHROW(load_seccompiler_json(json, "my \"filter\""));
}

TEST_CASE("learned_seccompiler_json: only the native ABI's named syscalls are rules") {
  learned l = learn_fixture::script();
  learned_syscall other = learn_fixture::syscall(sys::id::getppid, 1, {0});
  other.abi = "x86";  // made through int 0x80, say
  l.syscalls.push_back(other);
  learned_syscall unknown = learn_fixture::syscall(sys::id::getppid, 1, {0});
  unknown.id.reset();
  unknown.nr = 999;
  l.syscalls.push_back(unknown);
  const std::string json = learned_seccompiler_json(l);
  CHECK(json.find("getppid") == std::string::npos);
  const std::string header = learned_header(l);
  CHECK(header.find("// Also seen, not allowed above (other ABIs, or numbers sysfence's tables lack):\n"
                    "//   getppid (x86): 1 call from sh (pid 100)\n//   nr 999 (" +
                    std::string(arch::native::name) + "): 1 call from sh (pid 100)\n") != std::string::npos);
}

TEST_CASE("learned_header: built-ins whose syscalls were all seen, the rest by name, a comment per syscall") {
  const learned l = learn_fixture::script();
  const std::string h = learned_header(l, {"script", "learned"});
  CHECK(h.find("// SPDX-License-Identifier: MIT\n// script.hpp - the syscalls `/bin/sh -c ls | wc` made") ==
        0);
  CHECK(h.find("#include <sysfence/sysfence.hpp>") != std::string::npos);
  CHECK(h.find("namespace learned {") != std::string::npos);
  // allow_metadata and pipes: every syscall seen; their syscalls are commented above them.
  CHECK(h.find("    // getdents64: 2 calls from sh (pid 100)\n") != std::string::npos);
  CHECK(h.find("    .enable(sysfence::builtins::system_io::nothing().allow_metadata())\n") !=
        std::string::npos);
  CHECK(h.find("    .enable(sysfence::builtins::pipes{})\n") != std::string::npos);
  CHECK(h.find("    // openat: 1 call from ls (pid 101)\n") != std::string::npos);
  CHECK(h.find("    .enable(sysfence::builtins::system_io::nothing().allow_open().yes_really())\n") !=
        std::string::npos);
  CHECK(h.find("sysfence::sys::getdents64") == std::string::npos);  // not listed again
  // Not all of allow_read's syscalls were seen: read is listed by name.
  CHECK(h.find("allow_read()") == std::string::npos);
  CHECK(h.find("      sysfence::sys::read,  // 5 calls from sh (pid 100), wc (pid 102); arg 0: 0 3\n") !=
        std::string::npos);
  CHECK(h.find("      sysfence::rule{sysfence::sys::write, sysfence::arg32<0> == 1},\n"
               "      sysfence::rule{sysfence::sys::write, sysfence::arg32<0> == 2},\n") !=
        std::string::npos);
  CHECK(h.find("inline constexpr auto script_policy = sysfence::policy<>{}") != std::string::npos);
  CHECK(h.find("    .enable(script_rules{});\n") != std::string::npos);
  // Every learned syscall has its comment.
  for (const learned_syscall& s : l.syscalls) {
    CAPTURE(s.name());
    const bool commented =
        h.find(s.name() + ": " + std::to_string(s.count) + " call") != std::string::npos ||
        h.find("sysfence::sys::" + s.name() + ",  // " + std::to_string(s.count)) != std::string::npos ||
        h.find("sysfence::sys::" + s.name() + "  // " + std::to_string(s.count)) != std::string::npos;
    CHECK(commented);
  }
}

TEST_CASE("learned_header: a comm cannot end the comment line (a backslash would continue it)") {
  learned l = learn_fixture::script();
  l.processes[0].comm = "x\\";
  l.processes[1].comm = "y\nint oops;";
  const std::string h = learned_header(l);
  CHECK(h.find('\\') == std::string::npos);
  CHECK(h.find("\nint oops;") == std::string::npos);
  CHECK(h.find("x? (pid 100)") != std::string::npos);
}
