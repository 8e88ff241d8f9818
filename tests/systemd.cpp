// SPDX-License-Identifier: MIT
// systemd.cpp - systemd's SystemCallFilter= groups as rule sets and the run-time parser of the
// setting: membership, nesting, the parser's semantics and errors (tests/systemd_kernel.cpp installs them).
#include "sysfence/systemd.hpp"

#include <algorithm>
#include <cerrno>
#include <string>

#include <sys/ioctl.h>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;

namespace {

constexpr bool has(std::span<const sys::id> members, sys::id s) noexcept {
  return std::find(members.begin(), members.end(), s) != members.end();
}

template <class Group>
constexpr bool contains(sys::id s) noexcept {
  return has(Group::simple_rules, s);
}

// Every member of group `Inner` is a member of `Outer`.
template <class Outer, class Inner>
constexpr bool includes() noexcept {
  return std::all_of(Inner::simple_rules.begin(), Inner::simple_rules.end(),
                     [](sys::id s) { return contains<Outer>(s); });
}

// What `p` answers `s` on the native ABI, with no argument.
action answer(const runtime_policy& p, sys::id s) { return evaluate(p.program(), call(s)).result; }

std::string error_of(std::string_view text, const systemd_filter_options& options = {}) {
  try {
    (void)systemd_filter(text, options);
  } catch (const policy_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// The groups as systemd 252 defines them (`systemd-analyze syscall-filter`), nested groups expanded.
static_assert(systemd::systemd_version == 252);
static_assert(systemd::system_service::name == "@system-service");
static_assert(contains<systemd::basic_io>(sys::id::read) && contains<systemd::basic_io>(sys::id::pwritev2));
static_assert(!contains<systemd::basic_io>(sys::id::openat));
static_assert(contains<systemd::file_system>(sys::id::openat) && !contains<systemd::file_system>(sys::id::mmap));
static_assert(contains<systemd::default_>(sys::id::mmap) && contains<systemd::default_>(sys::id::execve));
static_assert(contains<systemd::mount>(sys::id::mount) && contains<systemd::mount>(sys::id::pivot_root));
// Nesting: @system-service holds @default, @basic-io, @network-io...; @privileged holds @chown.
static_assert(includes<systemd::system_service, systemd::default_>());
static_assert(includes<systemd::system_service, systemd::network_io>());
static_assert(includes<systemd::system_service, systemd::io_event>());
static_assert(includes<systemd::privileged, systemd::chown>());
static_assert(includes<systemd::privileged, systemd::reboot>());
static_assert(!contains<systemd::system_service>(sys::id::mount));
static_assert(!contains<systemd::system_service>(sys::id::reboot));
static_assert(!contains<systemd::system_service>(sys::id::ptrace));
static_assert(systemd::find_group("@network-io") != nullptr && systemd::find_group("network-io") == nullptr);
static_assert(systemd::find_group("@system-service")->syscalls.size() == systemd::system_service::simple_rules.size());
static_assert(systemd::find_group("@system-service")->ioctl && !systemd::find_group("@basic-io")->ioctl);

// Where a group has ioctl, the requests that type into a terminal are refused (systemd allows them).
constexpr bool service_ioctl_without_terminal_injection() {
  const auto& p = compile<basic_policy<action::kill_process, systemd::system_service>>();
  return evaluate(p, call(sys::id::ioctl, 0, TCGETS)) == action::allow &&
         evaluate(p, call(sys::id::ioctl, 0, FIONREAD)) == action::allow &&
         evaluate(p, call(sys::id::ioctl, 0, TIOCSTI)) == action::kill_process &&
         evaluate(p, call(sys::id::ioctl, 0, TIOCLINUX)) == action::kill_process &&
         evaluate(p, call(sys::id::ioctl, 0, 0xffffffff00000000ULL | TIOCSTI)) == action::kill_process;
}
static_assert(service_ioctl_without_terminal_injection());

TEST_CASE("every group's syscalls are sorted, unique and on some ABI sysfence serves") {
  for (const auto& g : systemd::groups) {
    CAPTURE(g.name);
    CHECK(std::is_sorted(g.syscalls.begin(), g.syscalls.end(),
                         [](sys::id a, sys::id b) { return sys::name(a) < sys::name(b); }));
    CHECK(std::adjacent_find(g.syscalls.begin(), g.syscalls.end()) == g.syscalls.end());
    CHECK(!g.entries.empty());
    CHECK(!g.description.empty());
  }
  CHECK(systemd::groups.size() == 29);
}

TEST_CASE("an allow list starts with @default and kills the rest, as systemd") {
  const runtime_policy p = systemd_filter("@basic-io");
  CHECK(answer(p, sys::id::read) == action::allow);
  CHECK(answer(p, sys::id::execve) == action::allow);      // @default
  CHECK(answer(p, sys::id::exit_group) == action::allow);  // @default
  CHECK(answer(p, sys::id::openat) == action::kill_process);
  CHECK(answer(p, sys::id::socket) == action::kill_process);
  // The same program as the typed rule sets.
  const auto& typed = compile<basic_policy<action::kill_process, systemd::default_, systemd::basic_io>>();
  REQUIRE(p.program().size() == typed.size());
  CHECK(std::equal(typed.begin(), typed.end(), p.program().begin(), p.program().end(),
                   [](const bpf::insn& a, const bpf::insn& b) { return bpf::same(a, b); }));
  CHECK(p.explain().starts_with("default: KILL_PROCESS\n@default (an allow list starts with it):\n"));
}

action ioctl_answer(const runtime_policy& p, unsigned long request) {
  return evaluate(p.program(), call(sys::id::ioctl, 0, request)).result;
}

TEST_CASE("an allowed ioctl refuses TIOCSTI and TIOCLINUX; the run-time program is the typed one") {
  const runtime_policy p = systemd_filter("@system-service");
  CHECK(ioctl_answer(p, TCGETS) == action::allow);
  CHECK(ioctl_answer(p, TIOCSTI) == action::kill_process);
  CHECK(ioctl_answer(p, TIOCLINUX) == action::kill_process);
  const auto& typed = compile<basic_policy<action::kill_process, systemd::default_, systemd::system_service>>();
  REQUIRE(p.program().size() == typed.size());
  CHECK(std::equal(typed.begin(), typed.end(), p.program().begin(), p.program().end(),
                   [](const bpf::insn& a, const bpf::insn& b) { return bpf::same(a, b); }));
  // ioctl named alone in an allow list: the same guard.
  const runtime_policy named = systemd_filter("@basic-io ioctl");
  CHECK(ioctl_answer(named, TIOCGWINSZ) == action::allow);
  CHECK(ioctl_answer(named, TIOCSTI) == action::kill_process);
  // Taken out of the allow list again, by the group or by name: no ioctl at all.
  const std::string_view removed[] = {"@system-service", "~ioctl"};
  CHECK(ioctl_answer(systemd_filter(removed), TCGETS) == action::kill_process);
  // A deny list is systemd's: "~ioctl" refuses every request, and without it every request runs.
  CHECK(ioctl_answer(systemd_filter("~ioctl:EPERM"), TCGETS) == action::error(EPERM));
  CHECK(ioctl_answer(systemd_filter("~@mount"), TIOCSTI) == action::allow);
}

TEST_CASE("SystemCallErrorNumber= turns the kill into an errno") {
  systemd_filter_options o;
  o.error_number = EACCES;
  const runtime_policy p = systemd_filter("@system-service", o);
  CHECK(answer(p, sys::id::socket) == action::allow);
  CHECK(answer(p, sys::id::epoll_pwait) == action::allow);
  CHECK(answer(p, sys::id::mount) == action::error(EACCES));
  CHECK(answer(p, sys::id::reboot) == action::error(EACCES));
}

TEST_CASE("a deny list allows the rest; its entries may carry an errno or kill") {
  const runtime_policy p = systemd_filter("~@mount reboot:EPERM ptrace:kill @swap:1");
  CHECK(answer(p, sys::id::read) == action::allow);
  CHECK(answer(p, sys::id::openat) == action::allow);
  CHECK(answer(p, sys::id::mount) == action::kill_process);
  CHECK(answer(p, sys::id::umount2) == action::kill_process);
  CHECK(answer(p, sys::id::reboot) == action::error(EPERM));
  CHECK(answer(p, sys::id::ptrace) == action::kill_process);
  CHECK(answer(p, sys::id::swapon) == action::error(1));
}

TEST_CASE("later assignments add to or take from the first; an empty one resets") {
  const std::string_view allow_then_deny[] = {"@basic-io @network-io", "~socket"};
  const runtime_policy a = systemd_filter(allow_then_deny);
  CHECK(answer(a, sys::id::connect) == action::allow);
  CHECK(answer(a, sys::id::socket) == action::kill_process);  // removed from the allow list
  const std::string_view deny_then_allow[] = {"~@mount", "mount"};
  const runtime_policy d = systemd_filter(deny_then_allow);
  CHECK(answer(d, sys::id::mount) == action::allow);  // taken off the deny list
  CHECK(answer(d, sys::id::umount2) == action::kill_process);
  const std::string_view reset[] = {"~@mount", "", "@basic-io"};
  const runtime_policy r = systemd_filter(reset);
  CHECK(answer(r, sys::id::mount) == action::kill_process);  // now an allow list
  CHECK(answer(r, sys::id::read) == action::allow);
}

TEST_CASE("bad settings are errors naming the word") {
  CHECK(error_of("@system-servic") ==
        "sysfence: SystemCallFilter=: \"@system-servic\" is not a systemd 252 group (docs/systemd-groups.md lists them)");
  CHECK(error_of("@basic-io raed", {.error_number = 0, .targets = {arch::native::value}, .context = "a.service:7"}) ==
        "sysfence: a.service:7: SystemCallFilter=: \"raed\" is not a system call of any ABI sysfence knows (systemd "
        "would ignore it; a typo here would silently change the filter)");
  CHECK(error_of("read:EPERM") ==
        "sysfence: SystemCallFilter=: \"read:EPERM\": an allowed system call cannot take an error number (only a "
        "deny list, \"~...\", can)");
  CHECK(error_of("~read:0").find("errno 0 would make the refused call look successful") != std::string::npos);
  CHECK(error_of("~read:EBOGUS").find("an errno name (EPERM), a number from 1 to 4095") != std::string::npos);
  CHECK(error_of("~read:4096").find("a number from 1 to 4095") != std::string::npos);
  CHECK(error_of("  ") == "sysfence: SystemCallFilter=: no system call filter: every assignment was empty");
  CHECK(error_of("@basic-io", {.error_number = 5000}).find("SystemCallErrorNumber=5000") != std::string::npos);
  CHECK(detail::errno_number("EUCLEAN") == EUCLEAN);
  CHECK(detail::errno_number("13") == 13);
}

TEST_CASE("groups combine in a typed policy as the README shows; overlapping members are no conflict") {
  // @system-service already holds @network-io: the same syscalls allowed twice, the same program.
  constexpr auto& both = compile<basic_policy<action::kill_process, systemd::system_service, systemd::network_io>>();
  constexpr auto& one = compile<basic_policy<action::kill_process, systemd::system_service>>();
  static_assert(both.size() == one.size());
  CHECK(std::equal(both.begin(), both.end(), one.begin(), one.end(),
                   [](const bpf::insn& a, const bpf::insn& b) { return bpf::same(a, b); }));
  CHECK(evaluate(both, call(sys::id::connect)) == action::allow);
  CHECK(evaluate(both, call(sys::id::mount)) == action::kill_process);
}
