// SPDX-License-Identifier: MIT
// policy.cpp - composing rule sets: operator|, enable(), deduplication, user rule sets.
#include "sysfence/policy.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

#include <boost/hana/size.hpp>
#include <doctest/doctest.h>

#include "policies.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/syscall.hpp"

using namespace sysfence;
using namespace test_policies;

namespace {

// A user's rule set: derives from rule_set_base, so `|` finds sysfence's operator by ADL.
struct mine : rule_set_base {
  static constexpr std::string_view name = "mine";
  static constexpr auto simple_rules = syscalls(sys::getuid, sys::getgid, sys::getuid);  // dup
};
// One without the base: enable() still takes it.
struct plain {
  static constexpr std::string_view name = "plain";
  static constexpr std::array conditional_rules{rule{sys::kill, arg<1> == 0}};
};

static_assert(rule_set<mine>);
static_assert(rule_set<plain>);
static_assert(rule_set<std::remove_cvref_t<decltype(sys::getppid)>>);
static_assert(!rule_set<int>);
static_assert(sys::getppid.name == "getppid");

// syscalls_except: every syscall the architecture (by default the native one) has a number for,
// but the ones named.
constexpr auto all_but_two = syscalls_except<syscalls(sys::ptrace, sys::bpf)>();
constexpr std::size_t native_syscall_count = [] {
  std::size_t n = 0;
  for (const std::int32_t nr : arch::native::numbers) n += nr >= 0 ? 1 : 0;
  return n;
}();
static_assert(all_but_two.size() == native_syscall_count - 2);
static_assert(std::ranges::find(all_but_two, sys::id::ptrace) == all_but_two.end());
static_assert(std::ranges::find(all_but_two, sys::id::bpf) == all_but_two.end());
static_assert(std::ranges::find(all_but_two, sys::id::read) != all_but_two.end());
static_assert(std::ranges::find(all_but_two, sys::id::socketcall) == all_but_two.end());  // i386 only
static_assert(syscalls_except<syscalls(sys::read), arch::x86>().size() + 1 ==
              std::ranges::count_if(arch::x86::numbers, [](std::int32_t nr) { return nr >= 0; }));

using builtins::basic_capabilities;
using ab = decltype(mine{} | can_exit{});
static_assert(std::is_same_v<ab, policy<basic_capabilities, mine, can_exit>>);
static_assert(std::is_same_v<decltype(safety_context{}.enable(mine{}).enable(can_exit{})), ab>);
// Enabling a stateless rule set twice changes nothing.
static_assert(std::is_same_v<decltype(mine{} | can_exit{} | mine{}), ab>);
// Policies flatten.
static_assert(std::is_same_v<decltype((mine{} | can_exit{}) | (sys::getppid | mine{})),
                             policy<basic_capabilities, mine, can_exit, sys::syscall<sys::id::getppid>>>);
static_assert(std::is_same_v<decltype(safety_context{}.enable(plain{})), policy<basic_capabilities, plain>>);
// Spelled directly, a policy is exactly the rule sets it names.
static_assert(std::is_same_v<decltype(policy<mine>{}.enable(plain{})), policy<mine, plain>>);
// The default action is extrasafe's: EPERM.
static_assert(ab::default_action == action::error(EPERM));
static_assert(safety_context::default_action == action::error(EPERM));
static_assert(ab::rule_set_names[0] == "basic_capabilities" && ab::rule_set_names[1] == "mine" &&
              ab::rule_set_names[2] == "can_exit");


// mine without the duplicate.
struct once : rule_set_base {
  static constexpr std::string_view name = "once";
  static constexpr auto simple_rules = syscalls(sys::getuid, sys::getgid);
};
static_assert(policy<once>::rule_set_names[0] == "once");

constexpr bool same_program_either_order_of_duplicates() {
  const auto& a = compile<policy<mine>>();
  const auto& b = compile<policy<once>>();
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!bpf::same(a[i], b[i])) return false;
  return true;
}
static_assert(same_program_either_order_of_duplicates());

constexpr bool rule_set_order_does_not_change_the_program() {
  const auto& a = compile<decltype(mine{} | can_exit{} | plain{})>();
  const auto& b = compile<decltype(plain{} | can_exit{} | mine{})>();
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!bpf::same(a[i], b[i])) return false;
  return true;
}
static_assert(rule_set_order_does_not_change_the_program());

// Where the program lives: the mapping of /proc/self/maps that holds `address`.
std::string mapping_permissions(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::FILE* maps = std::fopen("/proc/self/maps", "r");
  REQUIRE(maps != nullptr);
  char line[512];
  std::string perms;
  while (std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long lo = 0, hi = 0;
    char p[5] = {};
    if (std::sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && lo <= at && at < hi) perms = p;
  }
  std::fclose(maps);
  return perms;
}

}  // namespace

TEST_CASE("a | b and safety_context{}.enable(a).enable(b) are the same policy") {
  CHECK(std::is_same_v<decltype(mine{} | can_exit{}),
                       decltype(safety_context{}.enable(mine{}).enable(can_exit{}))>);
}

TEST_CASE("duplicate simple rules merge silently") {
  CHECK(same_program_either_order_of_duplicates());
  CHECK(rule_set_order_does_not_change_the_program());
}

TEST_CASE("the compiled program is a constant in read-only memory") {
  const auto& program = compile(stdio);
  const std::string perms = mapping_permissions(program.data());
  INFO("mapping permissions: " << perms);
  CHECK(perms.size() == 4);
  CHECK(perms[0] == 'r');
  CHECK(perms[1] == '-');  // not writable: .rodata
}

TEST_CASE("policies keep the rule-set objects they were given") {
  constexpr auto p = mine{} | can_exit{};
  CHECK(decltype(boost::hana::size(p.sets()))::value == 3);
}
