// SPDX-License-Identifier: MIT
// runtime_policy.cpp - tests of runtime_policy.hpp: rules built at run time are checked as typed
// policies are, compiled once, explained and dumped.
#include "sysfence/runtime_policy.hpp"

#include <cerrno>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;
using detail::entry;

// `error_of` is the policy_error building the policy gives, or "" when it builds.
std::string error_of(std::vector<entry> rules, action default_action = action::error(EPERM),
                     std::vector<arch::target> targets = {arch::x86_64::value}) {
  try {
    const runtime_policy p(std::move(rules), {"first", "second"}, default_action, std::move(targets), "ctx");
  } catch (const policy_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

// A named namespace: clang 14 warns of a rule set's unused `name` in an anonymous one.
namespace runtime_policy_test {
using namespace sysfence;
struct same_rules : rule_set_base {
  static constexpr std::string_view name = "same_rules";
  static constexpr auto simple_rules = syscalls(sys::read);
  static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1}};
};

}  // namespace runtime_policy_test
using runtime_policy_test::same_rules;

TEST_CASE("a run-time policy compiles to the program its typed twin compiles to") {
  const runtime_policy p({{rule{sys::read}, 0}, {rule{sys::write, arg<0> == 1}, 1}}, {"first", "second"},
                         action::error(EPERM), {arch::x86_64::value});
  const auto& typed = compile<policy<same_rules>, arch::x86_64>();
  REQUIRE(p.program().size() == typed.size());
  for (std::size_t i = 0; i < typed.size(); ++i) CHECK(bpf::same(p.program()[i], typed[i]));
  CHECK(p.explain() == "default: ERRNO(1)\nfirst:\n  allow read\nsecond:\n  allow write when arg<0> == 1\n");
  CHECK(p.dump() == dump<arch::x86_64>(typed));
  CHECK(p.rule_set_names().size() == 2);
  CHECK(p.targets().size() == 1);
}

TEST_CASE("the typed policies' checks, as policy_error messages") {
  CHECK(error_of({{rule{sys::read}, 0}, {rule{sys::read, arg<0> == 1}, 1}}) ==
        "sysfence: ctx: first matches read whatever its arguments and second only under conditions, so the "
        "conditions would have no effect; keep one of the two rules");
  CHECK(error_of({{rule{sys::read, arg<0> == 1}, 0},
                  {rule{sys::read, arg<0> == 1}.then(action::kill_process), 1}}) ==
        "sysfence: ctx: first answers read with ALLOW and second with KILL_PROCESS for the same calls; keep "
        "one of "
        "the two rules");
  CHECK(error_of({{rule{sys::read, arg32<0> == 0x100000000ULL}, 1}}) ==
        "sysfence: ctx: second (read), condition on argument 0: a 32-bit comparison has a value above "
        "0xffffffff, "
        "so the condition can never match");
  CHECK(error_of({{rule{sys::read}.then(action::error(0)), 0}}) ==
        "sysfence: ctx: first (read) answers ERRNO(0): errno must be 1 to 4095 (0 would fake a success)");
  CHECK(error_of({}, action::error(5000)) ==
        "sysfence: ctx: the default action is ERRNO(5000): errno must be 1 to 4095 (0 would fake a success)");
  CHECK(error_of({{rule{sys::open}, 0}}, action::error(EPERM), {arch::aarch64::value}) ==
        "sysfence: ctx: first: open does not exist on aarch64");
  CHECK(error_of({}, action::error(EPERM), {}) ==
        "sysfence: ctx: the program's ABIs: none, one twice, more than 8, or two the program cannot tell "
        "apart");
  std::vector<entry> many;
  for (std::uint64_t i = 0; i < 2000; ++i)
    many.push_back({rule{sys::write, arg64<2> == 3 * i, arg64<1> == i}, 0});
  CHECK(error_of(many).rfind(
            "sysfence: ctx: the program would be longer than the kernel's 4096 instructions (", 0) == 0);
}

TEST_CASE("a policy of 65535 rules or more is refused: the core numbers them in 16 bits") {
  std::vector<entry> many(65535, entry{rule{sys::read}, 0});
  CHECK(error_of(std::move(many)) ==
        "sysfence: ctx: 65535 rules in 2 rule sets; a policy holds fewer than 65535 of each");
}

TEST_CASE("a program that does not serve the process's own ABI is not installed") {
  const runtime_policy p({{rule{sys::read}, 0}}, {"first"}, action::error(EPERM), {arch::riscv64::value});
  const apply_status s = p.try_apply_to_current_thread();  // refused before any step: nothing changes
  CHECK(s.failed == apply_step::install_filter);
  CHECK(s.error == EINVAL);
}
