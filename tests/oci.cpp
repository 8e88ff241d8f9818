// SPDX-License-Identifier: MIT
// oci.cpp - tests of formats/oci.hpp: every key, op, action and errno name; includes and excludes;
// archMap; split conditions, dropped rules and contradictions; every error and its message;
// Docker's profile and fixtures in the simulator; truncated and mutated profiles.
#include "sysfence/formats/oci.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <sched.h>

#include "oci_profiles.hpp"
#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;

// `options` resolves for x86_64 with Docker's capabilities on kernel 5.10 (a fixed one: minKernel
// must not depend on the machine running the tests).
oci_options options(std::vector<std::string> extra_caps = {}, kernel_version kernel = {5, 10},
                    arch::target host = arch::x86_64::value) {
  oci_options o;
  o.file_name = "p.json";
  for (std::string& c : extra_caps) o.capabilities.push_back(std::move(c));
  o.kernel = kernel;
  o.host = host;
  return o;
}

oci_profile load(std::string_view text, const oci_options& o = options()) { return load_oci_profile(text, o); }

// `error_of` is the policy_error message loading `text` gives, or "" when it loads.
std::string error_of(std::string_view text, const oci_options& o = options()) {
  try {
    (void)load_oci_profile(text, o);
  } catch (const policy_error& e) {
    return e.what();
  }
  return {};
}

// `profile_with` is a profile: its syscalls' JSON after the top-level keys.
std::string profile_with(std::string_view syscalls, std::string_view top = R"("defaultAction": "SCMP_ACT_ERRNO")") {
  return "{" + std::string(top) + ",\n\"syscalls\": [" + std::string(syscalls) + "]}";
}

template <class Arch = arch::x86_64>
action run(const oci_profile& p, sys::id s, std::array<std::uint64_t, 6> args = {}) {
  return evaluate(p.policy.program(), call<Arch>(s, args)).result;
}

bool noted(const oci_profile& p, std::string_view fragment) {
  for (const std::string& n : p.notes)
    if (n.find(fragment) != std::string::npos) return true;
  return false;
}

using oci_test::profile_text;
std::string docker_default() { return profile_text("default.json"); }

constexpr std::uint64_t edge_values[]{0, 1, 2, 3, 4, 5, 0x10, 0x13, 0xffffffffULL, 0x100000000ULL, 0x100000003ULL,
                                      ~std::uint64_t{0}};

}  // namespace

TEST_CASE("plain rules and the default action: allow read, everything else EPERM") {
  const auto p = load(profile_with(R"({"names": ["read", "close"], "action": "SCMP_ACT_ALLOW", "comment": "why"})"));
  CHECK(run(p, sys::id::read) == action::allow);
  CHECK(run(p, sys::id::close) == action::allow);
  CHECK(run(p, sys::id::write) == action::error(EPERM));
  CHECK(p.policy.default_action() == action::error(EPERM));
  CHECK(p.policy.targets().size() == 1);
  CHECK(p.notes.empty());
  CHECK(check(p.policy.program()) == bpf_error::none);
}

TEST_CASE("every action, as a rule's action and as the default, with errnoRet and defaultErrnoRet") {
  const std::vector<std::pair<std::string, action>> actions{
      {R"("SCMP_ACT_ALLOW")", action::allow},
      {R"("SCMP_ACT_ERRNO")", action::error(EPERM)},
      {R"("SCMP_ACT_ERRNO", "errnoRet": 13)", action::error(13)},
      {R"("SCMP_ACT_KILL")", action::kill_thread},
      {R"("SCMP_ACT_KILL_THREAD")", action::kill_thread},
      {R"("SCMP_ACT_KILL_PROCESS")", action::kill_process},
      {R"("SCMP_ACT_TRAP")", action::trap()},
      {R"("SCMP_ACT_TRACE")", action::trace(EPERM)},
      {R"("SCMP_ACT_TRACE", "errnoRet": 7)", action::trace(7)},
      {R"("SCMP_ACT_LOG")", action::log},
      {R"("SCMP_ACT_NOTIFY")", action::user_notif},
  };
  std::size_t checked = 0;
  for (const auto& [rule_json_, rule_action] : actions)
    for (const auto& [default_json_, default_action] : actions) {
      const std::string& rule_json = rule_json_;  // (clang 14: CAPTURE cannot name a structured binding)
      const std::string& default_json = default_json_;
      if (default_action == action::user_notif) continue;  // refused below
      std::string top = R"("defaultAction": )" + default_json;
      if (const auto at = top.find(R"("errnoRet")"); at != std::string::npos) top.replace(at, 10, R"("defaultErrnoRet")");
      const auto p = load(profile_with(R"({"names": ["getpid"], "action": )" + rule_json + "}", top));
      CAPTURE(rule_json);
      CAPTURE(default_json);
      CHECK(p.policy.default_action() == default_action);
      CHECK(run(p, sys::id::getpid) == rule_action);
      CHECK(run(p, sys::id::getppid) == default_action);
      CHECK(noted(p, "is the default action") == (rule_action == default_action));
      ++checked;
    }
  CHECK(checked == 110);
}

TEST_CASE("every op, as runc passes it to libseccomp: 64-bit, MASKED_EQ's mask in value") {
  struct op_case {
    std::string_view op;
    bool (*holds)(std::uint64_t);
  };
  const op_case ops[]{
      {"SCMP_CMP_EQ", [](std::uint64_t x) { return x == 3; }},
      {"SCMP_CMP_NE", [](std::uint64_t x) { return x != 3; }},
      {"SCMP_CMP_LT", [](std::uint64_t x) { return x < 3; }},
      {"SCMP_CMP_LE", [](std::uint64_t x) { return x <= 3; }},
      {"SCMP_CMP_GT", [](std::uint64_t x) { return x > 3; }},
      {"SCMP_CMP_GE", [](std::uint64_t x) { return x >= 3; }},
  };
  for (const op_case& o : ops) {
    const auto p = load(profile_with(R"({"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 3, "op": ")" +
                                     std::string(o.op) + R"("}]})"));
    for (const std::uint64_t x : edge_values) {
      CAPTURE(o.op);
      CAPTURE(x);
      CHECK(run(p, sys::id::ioctl, {0, x}) == (o.holds(x) ? action::allow : action::error(EPERM)));
    }
  }
  // (x & 0xf0) == (0x13 & 0xf0): libseccomp masks the expected value too.
  const auto masked = load(profile_with(
      R"({"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 240, "valueTwo": 19, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  for (const std::uint64_t x : edge_values)
    CHECK(run(masked, sys::id::ioctl, {0, 0, x}) == ((x & 0xf0) == 0x10 ? action::allow : action::error(EPERM)));
  // Conditions on different arguments all hold (AND); the upper half counts on x86_64.
  const auto both = load(profile_with(
      R"({"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 4294967296, "op": "SCMP_CMP_GE"}]})"));
  CHECK(run(both, sys::id::ioctl, {1, 0x100000000ULL}) == action::allow);
  CHECK(run(both, sys::id::ioctl, {1, 0xffffffffULL}) == action::error(EPERM));
  CHECK(run(both, sys::id::ioctl, {0x100000001ULL, 0x100000000ULL}) == action::error(EPERM));
}

TEST_CASE("conditions on one argument index split into alternatives, as runc does, and noted") {
  const auto p = load(profile_with(
      R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]})"));
  CHECK(p.policy.rules().size() == 3);
  CHECK(run(p, sys::id::socket, {2, 5}) == action::allow);   // arg0 == 2 alone suffices
  CHECK(run(p, sys::id::socket, {10, 5}) == action::allow);
  CHECK(run(p, sys::id::socket, {7, 1}) == action::allow);   // arg1 == 1 alone suffices
  CHECK(run(p, sys::id::socket, {7, 5}) == action::error(EPERM));
  CHECK(noted(p, "p.json: line 2, column 14: syscalls[0] (socket): 3 conditions, some on the same argument, become 3 rules"));
  CHECK_FALSE(noted(p, "WARNING"));
  // moby's AF_ALG attempt: != 38 and != 40 on one index matches every call.
  const auto ne = load(profile_with(
      R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 38, "op": "SCMP_CMP_NE"}, {"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]})"));
  CHECK(run(ne, sys::id::socket, {38}) == action::allow);
  CHECK(run(ne, sys::id::socket, {40}) == action::allow);
  CHECK(noted(ne, "WARNING: argument 0 != 38 or != 40 holds for every value, so the rule matches every call"));
}

TEST_CASE("Podman's errno names, and defaultErrno") {
  const auto p = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"},
      {"names": ["getuid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "errno": "EACCES"},
      {"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "errno": ""})",
                                   R"("defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "defaultErrno": "ENOSYS")"));
  CHECK(p.policy.default_action() == action::error(ENOSYS));
  CHECK(run(p, sys::id::getpid) == action::error(EACCES));
  CHECK(run(p, sys::id::getuid) == action::error(EACCES));
  CHECK(run(p, sys::id::getppid) == action::allow);
  CHECK(load(profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "EWOULDBLOCK")"))
            .policy.default_action() == action::error(EAGAIN));
  CHECK(error_of(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errno": "ENOPE"})")) ==
        "sysfence: p.json: line 2, column 79: syscalls[0] (getpid), action, errno name: unknown errno name \"ENOPE\" (expected EPERM, ENOSYS, ...)");
  CHECK(error_of(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "ENOSYS"})")) ==
        "sysfence: p.json: line 2, column 95: syscalls[0] (getpid), action: errno name ENOSYS (38) and errnoRet 1 disagree");
  CHECK(error_of(profile_with("", R"("defaultAction": "SCMP_ACT_ALLOW", "defaultErrno": "ENOSYS")")) ==
        "sysfence: p.json: line 1, column 60: defaultAction: defaultErrnoRet is given but SCMP_ACT_ALLOW returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)");
}

TEST_CASE("includes and excludes: capabilities, arches and minKernel, both ways, as moby resolves them") {
  const std::string text = profile_with(R"(
{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
{"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_BOOT"]}},
{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_BOOT"]}},
{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
{"names": ["getuid"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
{"names": ["getgid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.11"}},
{"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": ""}, "excludes": null})");
  const auto docker = load(text);
  CHECK(run(docker, sys::id::mount) == action::error(EPERM));
  CHECK(run(docker, sys::id::reboot) == action::error(EPERM));
  CHECK(run(docker, sys::id::getpid) == action::allow);
  CHECK(run(docker, sys::id::arch_prctl) == action::allow);
  CHECK(run(docker, sys::id::getuid) == action::allow);
  CHECK(run(docker, sys::id::ptrace) == action::allow);
  CHECK(run(docker, sys::id::getgid) == action::allow);
  CHECK(run(docker, sys::id::gettid) == action::allow);
  const auto admin = load(text, options({"CAP_SYS_ADMIN"}, {5, 11}));
  CHECK(run(admin, sys::id::mount) == action::allow);
  CHECK(run(admin, sys::id::reboot) == action::error(EPERM));  // all caps needed
  CHECK(run(admin, sys::id::getpid) == action::error(EPERM));  // any cap excludes
  CHECK(run(admin, sys::id::getgid) == action::error(EPERM));  // 5.11 >= 5.11
  CHECK(run(load(text, options({"CAP_SYS_ADMIN", "CAP_SYS_BOOT"})), sys::id::reboot) == action::allow);
  const auto old = load(text, options({}, {4, 7}));
  CHECK(run(old, sys::id::ptrace) == action::error(EPERM));
  CHECK(run(load(text, options({}, {4, 8})), sys::id::ptrace) == action::allow);
  CHECK(run(load(text, options({}, {3, 255})), sys::id::ptrace) == action::error(EPERM));
  const auto arm = load(text, options({}, {5, 10}, arch::aarch64::value));
  CHECK(run<arch::aarch64>(arm, sys::id::getuid) == action::error(EPERM));
  CHECK(arm.policy.targets().front().name == "aarch64");
  // No minKernel anywhere: the running kernel is never asked.
  oci_options running = options();
  running.kernel.reset();
  CHECK(run(load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW"})"), running), sys::id::getpid) ==
        action::allow);
  const kernel_version k = running_kernel_version();
  CHECK(k.major >= 3);
  CHECK(run(load(text, running), sys::id::ptrace) == (k >= kernel_version{4, 8} ? action::allow : action::error(EPERM)));
}

TEST_CASE("archMap: the host's entry gives the ABIs, host first; architectures adds to the host") {
  const std::string top = R"("defaultAction": "SCMP_ACT_ERRNO", "archMap": [
  {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
  {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}])";
  const std::string text = profile_with(R"({"names": ["getpid", "socketcall", "arch_prctl"], "action": "SCMP_ACT_ALLOW"})", top);
  const auto p = load(text);
  REQUIRE(p.policy.targets().size() == 3);
  CHECK(p.policy.targets()[0].name == "x86_64");
  CHECK(p.policy.targets()[1].name == "x86");
  CHECK(p.policy.targets()[2].name == "x32");
  CHECK(run(p, sys::id::getpid) == action::allow);
  CHECK(run<arch::x86>(p, sys::id::getpid) == action::allow);
  CHECK(run<arch::x32>(p, sys::id::getpid) == action::allow);
  CHECK(run<arch::x86>(p, sys::id::socketcall) == action::allow);  // i386 only: left out elsewhere
  CHECK(run<arch::x86>(p, sys::id::getppid) == action::error(EPERM));
  CHECK(p.notes.empty());
  const auto arm = load(text, options({}, {5, 10}, arch::aarch64::value));
  REQUIRE(arm.policy.targets().size() == 1);
  CHECK(noted(arm, "p.json: line 3, column 76: archMap: SCMP_ARCH_ARM left out (sysfence has no syscall table for it)"));
  CHECK(noted(arm, "syscalls[0] (socketcall): left out: not a syscall of aarch64"));
  const auto riscv = load(text, options({}, {5, 10}, arch::riscv64::value));
  CHECK(riscv.policy.targets().size() == 1);
  CHECK(noted(riscv, "p.json: archMap has no entry for SCMP_ARCH_RISCV64, so the program serves the host's ABI only"));
  const auto listed = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW"})",
                                        R"("defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_ARM"])"));
  REQUIRE(listed.policy.targets().size() == 2);
  CHECK(listed.policy.targets()[0].name == "x86_64");
  CHECK(listed.policy.targets()[1].name == "x86");
  CHECK(noted(listed, "architectures: SCMP_ARCH_ARM left out"));
  CHECK(error_of(profile_with("", top + R"(, "architectures": ["SCMP_ARCH_X86"])")) ==
        "sysfence: p.json: line 1, column 48: the profile: both \"architectures\" and \"archMap\" (use either, as dockerd says)");
  CHECK(error_of(profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "x86"])")) ==
        "sysfence: p.json: line 1, column 76: architectures: unknown architecture \"x86\" (expected SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)");
}

TEST_CASE("name and names; unknown names skipped and noted; a rule whose action is the default dropped") {
  const auto p = load(profile_with(R"({"name": "getpid", "action": "SCMP_ACT_ALLOW"},
{"names": ["getuid", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
{"names": ["getgid"], "action": "SCMP_ACT_ERRNO"},
{"names": [], "action": "SCMP_ACT_ALLOW"},
{"name": "", "names": null, "action": "SCMP_ACT_ALLOW"})"));
  CHECK(run(p, sys::id::getpid) == action::allow);
  CHECK(run(p, sys::id::getuid) == action::allow);
  CHECK(noted(p, "p.json: line 3, column 35: syscalls[1] (no_such_call): unknown syscall name skipped"));
  CHECK(noted(p, "p.json: line 4, column 1: syscalls[2] (getgid): dropped: its action ERRNO(1) is the default action"));
  CHECK(noted(p, "syscalls[3] (): no syscall names; the rule adds nothing"));
  CHECK(p.policy.rules().size() == 2);
  CHECK(error_of(profile_with(R"({"name": "getpid", "names": ["getuid"], "action": "SCMP_ACT_ALLOW"})")) ==
        "sysfence: p.json: line 2, column 42: syscalls[0]: both \"name\" and \"names\" (use either, as dockerd says)");
  CHECK(error_of(profile_with(R"({"names": ["getpid", ""], "action": "SCMP_ACT_ALLOW"})")) ==
        "sysfence: p.json: line 2, column 36: syscalls[0] (getpid): an empty syscall name (runc: not a valid syscall)");
}

TEST_CASE("contradictions are resolved as libseccomp 2.5.4 resolves them, or refused where it would refuse") {
  // Two plain rules: the first wins.
  const auto first = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5})"));
  CHECK(run(first, sys::id::getpid) == action::allow);
  CHECK(noted(first, "syscalls[1] (getpid): ERRNO(5) has no effect: syscalls[0] already answers getpid with ALLOW"));
  // A plain rule beats a conditional one, before or after it, whatever the actions.
  const auto before = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]})"));
  CHECK(run(before, sys::id::getpid, {3}) == action::error(5));
  CHECK(noted(before, "syscalls[1] (getpid): conditional rule has no effect: syscalls[0] answers every getpid call with ERRNO(5)"));
  const auto after = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5})"));
  CHECK(run(after, sys::id::getpid, {3}) == action::error(5));
  CHECK(run(after, sys::id::getpid, {0}) == action::error(5));
  CHECK(noted(after, "syscalls[1] (getpid): its plain rule replaces the conditional rule of syscalls[0] for getpid (ALLOW"));
  // Same action: the plain rule alone (the core would refuse both).
  const auto same = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"})"));
  CHECK(run(same, sys::id::getpid, {0}) == action::allow);
  CHECK(same.policy.rules().size() == 1);
  // Duplicates, and disjoint conditions with different actions, are fine.
  const auto fine = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 4, "op": "SCMP_CMP_GE"}]})"));
  CHECK(run(fine, sys::id::getpid, {3}) == action::allow);
  CHECK(run(fine, sys::id::getpid, {4}) == action::error(5));
  CHECK(run(fine, sys::id::getpid, {2}) == action::error(EPERM));
  CHECK(fine.notes.empty());
  // The same conditions (in any order) with another action: libseccomp says EEXIST, runc fails.
  CHECK(error_of(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
{"names": ["getpid"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]})")) ==
        "sysfence: p.json: line 3, column 19: syscalls[1] (getpid): the same conditions as syscalls[0] with another action (LOG, not ALLOW); libseccomp refuses the rule (EEXIST), so runc fails the container");
  // Overlapping conditions with different actions: refused.
  CHECK(error_of(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_LT"}]},
{"names": ["getpid"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_GT"}]})")) ==
        "sysfence: p.json: line 3, column 19: syscalls[1] (getpid): its conditions and those of syscalls[0] can match the same call with different actions (LOG, ALLOW); libseccomp's answer would depend on the order of its decision tree, so sysfence refuses it: make the conditions disjoint");
}

TEST_CASE("flags, listenerPath, NOTIFY and keys outside the format") {
  const auto p = load(profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_NOTIFY", "colour": "red"})",
                                   R"("defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
"listenerPath": "/run/agent.sock", "listenerMetadata": "x", "comment": "podman")"));
  CHECK(p.flags.log);
  CHECK(p.flags.spec_allow);
  CHECK_FALSE(p.flags.tsync);
  CHECK(p.flags.seccomp_flags() == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  CHECK(p.listener_path == "/run/agent.sock");
  CHECK(run(p, sys::id::getpid) == action::user_notif);
  CHECK(noted(p, "p.json: listenerPath \"/run/agent.sock\" noted; sysfence installs no notification listener"));
  CHECK(noted(p, "p.json: line 3, column 79: syscalls[0]: key \"colour\" ignored (not in the OCI or Docker format)"));
  CHECK(noted(p, "the profile: key \"comment\" ignored"));
  const auto all = load(profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])"));
  CHECK(all.flags.tsync);
  CHECK(all.flags.wait_killable_recv);
  CHECK(all.flags.seccomp_flags() == SECCOMP_FILTER_FLAG_TSYNC);
  CHECK(error_of(profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"])")) ==
        "sysfence: p.json: line 1, column 80: flags: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\" (expected SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW or SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)");
  CHECK(error_of(profile_with("", R"("defaultAction": "SCMP_ACT_NOTIFY")")) ==
        "sysfence: p.json: line 1, column 35: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (runc refuses it)");
  CHECK(error_of(profile_with(R"({"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"})")) ==
        "sysfence: p.json: line 2, column 39: syscalls[0] (write): SCMP_ACT_NOTIFY on write (runc refuses: the runtime writes the listener's fd)");
}

TEST_CASE("errors name the file, line and column, the rule and syscall, and what is wrong") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{", "sysfence: p.json: line 1, column 2: JSON syntax error"},
      {"[]", "sysfence: p.json: line 1, column 1: the profile: expected an object, found an array"},
      {R"({"syscalls": []})", "sysfence: p.json: line 1, column 1: the profile: missing key \"defaultAction\""},
      {R"({"defaultAction": 1})", "sysfence: p.json: line 1, column 20: defaultAction: expected a string, found an unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_DENY"})", "sysfence: p.json: line 1, column 33: defaultAction: unknown action \"SCMP_ACT_DENY\""},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0})",
       "sysfence: p.json: line 1, column 57: defaultAction, defaultErrnoRet: errno 0 is not 1 to 4095 (0 would fake a success)"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4096})", "errno 4096 is not 1 to 4095"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})",
       "defaultAction, defaultErrnoRet: expected an unsigned integer, found a negative integer"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})", "syscalls: expected an array, found an object"},
      {profile_with(R"(3)"), "sysfence: p.json: line 2, column 15: syscalls[0]: expected an object, found an unsigned integer"},
      {profile_with(R"({"names": ["getpid"]})"), "sysfence: p.json: line 2, column 14: syscalls[0] (getpid): missing key \"action\""},
      {profile_with(R"({"names": "getpid", "action": "SCMP_ACT_ALLOW"})"),
       "line 2, column 31: syscalls[0], names: expected an array of strings, found a string"},
      {profile_with(R"({"names": ["getpid", 7], "action": "SCMP_ACT_ALLOW"})"),
       "line 2, column 36: syscalls[0], names[1]: expected a string, found an unsigned integer"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1})"),
       "sysfence: p.json: line 2, column 77: syscalls[0] (getpid), action: errnoRet is given but SCMP_ACT_ALLOW returns no errno"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": {}})"),
       "line 2, column 72: syscalls[0] (getpid), args: expected an array, found an object"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]})"),
       "sysfence: p.json: line 2, column 84: syscalls[0] (getpid), args[0], index: 6 is above 5"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_IN"}]})"),
       "sysfence: p.json: line 2, column 116: syscalls[0] (getpid), args[0], op: unknown op \"SCMP_CMP_IN\" (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]})"),
       "sysfence: p.json: line 2, column 73: syscalls[0] (getpid), args[0]: missing key \"value\""},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1.5, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0] (getpid), args[0], value: expected an unsigned integer, found a fractional number"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}})"),
       "sysfence: p.json: line 2, column 92: syscalls[0], includes, minKernel: invalid kernel version \"4\", expected \"<major>.<minor>\" (each 0 to 255)"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "4.256"}})"),
       "syscalls[0], excludes, minKernel: invalid kernel version \"4.256\""},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "4.8.1"}})"),
       "invalid kernel version \"4.8.1\""},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "0.0"}})"),
       "syscalls[0], excludes, minKernel: invalid kernel version \"0.0\""},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_SYS_ADMIN"}})"),
       "syscalls[0], includes, caps: expected an array of strings, found a string"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": []})"),
       "syscalls[0], includes: expected an object, found an array"},
      {profile_with(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "comment": 1})"),
       "syscalls[0], comment: expected a string, found an unsigned integer"},
      {profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"subArchitectures": []}])"),
       "sysfence: p.json: line 1, column 49: archMap[0]: missing key \"architecture\""},
      {profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_I386"]}])"),
       "sysfence: p.json: line 1, column 122: archMap[0], subArchitectures: unknown architecture \"SCMP_ARCH_I386\""},
      {profile_with("", R"("defaultAction": "SCMP_ACT_ERRNO", "listenerPath": 1)"), "listenerPath: expected a string, found an unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"})", "duplicate key \"defaultAction\""},
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;
    const std::string& fragment = c.second;
    CAPTURE(text);
    const std::string e = error_of(text);
    CHECK_MESSAGE(e.find(fragment) != std::string::npos, e);
  }
}

TEST_CASE("Docker's default profile (moby 20.10) with Docker's capabilities, on x86_64") {
  const std::string text = docker_default();
  oci_options o = options();
  o.file_name = "default.json";
  const auto p = load(text, o);
  REQUIRE(p.policy.targets().size() == 3);  // archMap: x86_64, x86, x32
  CHECK(check(p.policy.program()) == bpf_error::none);
  CHECK(p.policy.default_action() == action::error(EPERM));
  MESSAGE("default.json: " << p.policy.rules().size() << " rules, " << p.policy.program().size() << " instructions, "
                           << p.notes.size() << " notes");
  for (const std::string& n : p.notes) MESSAGE(n);
  CHECK(p.notes.size() == 2);  // recv and send: libseccomp's socketcall pseudo-syscalls, no kernel numbers
  CHECK(noted(p, "syscalls[0] (recv): unknown syscall name skipped"));
  CHECK(run(p, sys::id::getpid) == action::allow);
  CHECK(run(p, sys::id::write, {1}) == action::allow);
  CHECK(run(p, sys::id::mount) == action::error(EPERM));
  CHECK(run(p, sys::id::reboot) == action::error(EPERM));
  CHECK(run(p, sys::id::unshare, {CLONE_NEWUSER}) == action::error(EPERM));
  CHECK(run(p, sys::id::clone3) == action::error(ENOSYS));
  // clone: no namespace flag (arg0 & 0x7E020000) == 0.
  CHECK(run(p, sys::id::clone, {SIGCHLD}) == action::allow);
  CHECK(run(p, sys::id::clone, {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD}) == action::allow);
  for (const std::uint64_t flag : {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP})
    CHECK(run(p, sys::id::clone, {flag | SIGCHLD}) == action::error(EPERM));
  CHECK(run(p, sys::id::clone, {0x100000000ULL | SIGCHLD}) == action::allow);  // the mask has no upper bits
  // personality: 0, PER_LINUX32 (8), UNAME26 (0x20000), both, and the 0xffffffff query.
  for (const std::uint64_t v : {0ULL, 8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    CHECK(run(p, sys::id::personality, {v}) == action::allow);
  for (const std::uint64_t v : {1ULL, 0x0400000ULL, 0x1ffffffffULL}) CHECK(run(p, sys::id::personality, {v}) == action::error(EPERM));
  // This profile (20.10) allows socket whatever its family: AF_VSOCK (40) and AF_ALG (38) included;
  // later moby profiles refuse them.
  CHECK(run(p, sys::id::socket, {40, 1}) == action::allow);
  CHECK(run(p, sys::id::socket, {38, 5}) == action::allow);
  CHECK(run(p, sys::id::arch_prctl) == action::allow);
  CHECK(run(p, sys::id::modify_ldt) == action::allow);
  CHECK(run(p, sys::id::ptrace) == action::allow);  // kernel 5.10 >= 4.8
  CHECK(run(p, sys::id::open_by_handle_at) == action::error(EPERM));
  // The i386 and x32 parts: the same answers in their numbers.
  CHECK(run<arch::x86>(p, sys::id::getpid) == action::allow);
  CHECK(run<arch::x86>(p, sys::id::socketcall) == action::allow);
  CHECK(run<arch::x86>(p, sys::id::mount) == action::error(EPERM));
  CHECK(run<arch::x86>(p, sys::id::clone, {CLONE_NEWUSER}) == action::error(EPERM));
  CHECK(run<arch::x86>(p, sys::id::clone3) == action::error(ENOSYS));
  CHECK(run<arch::x86>(p, sys::id::personality, {0x100000000ULL}) == action::allow);  // i386 reads the low half
  CHECK(run<arch::x32>(p, sys::id::getpid) == action::allow);
  CHECK(run<arch::x32>(p, sys::id::reboot) == action::error(EPERM));
  // Capabilities and kernels.
  const auto admin = load(text, options({"CAP_SYS_ADMIN"}));
  CHECK(run(admin, sys::id::mount) == action::allow);
  CHECK(run(admin, sys::id::clone3) == action::allow);
  CHECK(run(admin, sys::id::clone, {CLONE_NEWUSER}) == action::allow);
  CHECK(run(admin, sys::id::unshare, {CLONE_NEWUSER}) == action::allow);
  CHECK(run(admin, sys::id::syslog) == action::allow);
  CHECK(run(load(text, options({}, {4, 7})), sys::id::ptrace) == action::error(EPERM));
  CHECK(run(load(text, options({"CAP_SYS_PTRACE"}, {4, 7})), sys::id::ptrace) == action::allow);
  CHECK(run(load(text, options({"CAP_SYS_BOOT"})), sys::id::reboot) == action::allow);
  CHECK(run(load(text, options({"CAP_DAC_READ_SEARCH"})), sys::id::open_by_handle_at) == action::allow);
  // Every capability of the profile at once: duplicates (syslog, ptrace) and no contradiction.
  const auto every = load(text, options({"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE",
                                         "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG",
                                         "CAP_DAC_READ_SEARCH"}));
  CHECK(run(every, sys::id::init_module) == action::allow);
  CHECK(run(every, sys::id::iopl) == action::allow);
  CHECK(every.notes.size() == 2);
  // On aarch64: the host's entry (aarch64 + arm, which has no table here).
  const auto arm = load(text, options({}, {5, 10}, arch::aarch64::value));
  CHECK(arm.policy.targets().size() == 1);
  CHECK(run<arch::aarch64>(arm, sys::id::clone3) == action::error(ENOSYS));
  CHECK(run<arch::aarch64>(arm, sys::id::getpid) == action::allow);
}

TEST_CASE("moby's fixtures load, and mean what their tests say") {
  const auto example = load(profile_text("fixtures/example.json"));
  CHECK(run(example, sys::id::clone, {SIGCHLD}) == action::allow);
  CHECK(run(example, sys::id::clone, {CLONE_NEWNS}) == action::error(EPERM));
  CHECK(run(example, sys::id::open) == action::allow);
  CHECK(run(example, sys::id::close) == action::allow);
  CHECK(example.policy.targets().size() == 1);
  const std::string conditional = profile_text("fixtures/conditional_include.json");
  const auto plain = load(conditional);
  CHECK(run(plain, sys::id::chmod) == action::allow);
  CHECK(run(plain, sys::id::syslog) == action::error(EPERM));
  CHECK(run(plain, sys::id::ptrace) == action::allow);
  const auto caps = load(conditional, options({"CAP_SYSLOG", "CAP_SYS_ADMIN"}));
  CHECK(run(caps, sys::id::syslog) == action::allow);
  CHECK(run(caps, sys::id::ptrace) == action::error(EPERM));
  const auto old = load(profile_text("fixtures/default-old-format.json"));
  REQUIRE(old.policy.targets().size() == 3);
  CHECK(run(old, sys::id::getpid) == action::allow);
  CHECK(run<arch::x86>(old, sys::id::getpid) == action::allow);
  CHECK(run(old, sys::id::mount) == action::error(EPERM));
  CHECK(check(old.policy.program()) == bpf_error::none);
}

TEST_CASE("truncated and mutated profiles: a policy or a policy_error, never anything else") {
  std::size_t loaded = 0, refused = 0;
  auto attempt = [&](const std::string& text) {
    try {
      const auto p = load_oci_profile(text, options());
      CHECK(check(p.policy.program()) == bpf_error::none);
      ++loaded;
    } catch (const policy_error& e) {
      CHECK(std::string_view(e.what()).rfind("sysfence: ", 0) == 0);
      ++refused;
    }
  };
  std::vector<std::string> texts{docker_default()};
  for (const char* f : {"example.json", "conditional_include.json", "default-old-format.json"})
    texts.push_back(profile_text(std::string("fixtures/") + f));
  std::mt19937_64 random(14);
  const std::string replacements("{}[]\",:0 9-.\\eSx\x01\xff");
  // Every truncation of the small fixtures, every 2nd of default.json, every 13th of the 28 KB old
  // format; 2,000 mutations (one to three edits) of default.json, 500 of each fixture. About 13,000
  // inputs: 3 s with g++ -O1, under 20 s under ASan.
  for (const std::string& valid : texts) {
    const std::size_t stride = valid.size() > 20000 ? 13 : valid.size() > 2000 ? 2 : 1;
    for (std::size_t n = 0; n <= valid.size(); n += stride) attempt(valid.substr(0, n));
    const std::size_t mutations = &valid == &texts.front() ? 2000 : 500;
    for (std::size_t m = 0; m < mutations; ++m) {
      std::string text = valid;
      const std::size_t edits = 1 + random() % 3;
      for (std::size_t e = 0; e < edits; ++e) {
        const std::size_t at = random() % text.size();
        switch (random() % 3) {
          case 0: text[at] = replacements[random() % replacements.size()]; break;
          case 1: text.erase(at, 1 + random() % 8); break;
          default: text.insert(at, 1, replacements[random() % replacements.size()]); break;
        }
        if (text.empty()) text = "{";
      }
      attempt(text);
    }
  }
  MESSAGE("truncations and mutations: loaded " << loaded << ", refused " << refused);
  CHECK(loaded > 0);
  CHECK(refused > 0);
}
