// SPDX-License-Identifier: MIT
// rule_set.cpp - syscalls() lists of any length: every syscall name written out, on both compilers.
#include "sysfence/rule_set.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <linux/audit.h>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/simulate.hpp"
#include "sysfence/syscall.hpp"

using namespace sysfence;

namespace {

// Every syscall name sysfence knows, on any architecture, written out by the table's X-macro:
// more than clang 14's 256-element limit on fold expressions (and constrained packs).
#define SYSFENCE_TEST_NAME(identifier, kernel_name) sys::identifier,
constexpr auto every_name = syscalls(SYSFENCE_SYSCALL_CONSTANTS(SYSFENCE_TEST_NAME) sys::read);
#undef SYSFENCE_TEST_NAME
static_assert(every_name.size() == detail::syscall_count + 1);
static_assert(detail::syscall_count > 256);
static_assert(every_name[static_cast<std::size_t>(sys::id::openat)] == sys::id::openat);

// The x86_64 ones among them, in a rule set of their own: a user's container-sized allow-list.
constexpr std::size_t x86_64_count = [] {
  std::size_t n = 0;
  for (const sys::id s : every_name) n += arch::x86_64::numbers[static_cast<std::size_t>(s)] >= 0 ? 1 : 0;
  return n - 1;  // read twice
}();
static_assert(x86_64_count > 256);

}  // namespace

// Outside the anonymous namespace: clang 14 warns of an unused `name` in one.
struct every_x86_64_syscall : rule_set_base {
  static constexpr std::string_view name = "every_x86_64_syscall";
  static constexpr auto simple_rules = [] {
    std::array<sys::id, x86_64_count> out{};
    std::size_t k = 0;
    for (std::size_t i = 0; i + 1 < every_name.size(); ++i)
      if (arch::x86_64::numbers[static_cast<std::size_t>(every_name[i])] >= 0) out[k++] = every_name[i];
    return out;
  }();
};

namespace {

// Every x86_64 number is allowed, and the kernel's action cache proves it.
constexpr bool every_number_allowed() {
  const auto& p = compile<policy<every_x86_64_syscall>, arch::x86_64>();
  for (const std::int32_t nr : arch::x86_64::numbers) {
    if (nr < 0) continue;
    const seccomp_data d{nr, AUDIT_ARCH_X86_64, 0, {}};
    if (!(evaluate(p, d) == action::allow)) return false;
    if (!const_allow(p, AUDIT_ARCH_X86_64, static_cast<std::uint32_t>(nr)).allowed) return false;
  }
  return true;
}
static_assert(every_number_allowed());

}  // namespace

TEST_CASE("syscalls() takes every syscall name at once, and a policy allows all of x86_64's") {
  CHECK(every_name.size() == detail::syscall_count + 1);
  CHECK(every_x86_64_syscall::simple_rules.size() == x86_64_count);
  CHECK(every_number_allowed());
}
