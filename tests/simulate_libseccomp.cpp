// SPDX-License-Identifier: MIT
// simulate_libseccomp.cpp - the simulator checks and runs filters libseccomp generated, as they mean.
#include "sysfence/simulate.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libseccomp_export.hpp"

namespace {

namespace bpf = sysfence::bpf;
using sysfence::action;
using sysfence::bpf_error;

constexpr std::uint32_t x86_64 = AUDIT_ARCH_X86_64;
constexpr std::array<std::uint32_t, 3> wrong_arches{AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0};

using libseccomp_test::exported;
using libseccomp_test::filter;

// `call` is the seccomp_data of one system call.
seccomp_data call(int nr, std::array<std::uint64_t, 6> args = {}, std::uint32_t arch = x86_64) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.instruction_pointer = 0x00007FFF12345678;
  for (std::size_t i = 0; i < args.size(); ++i) {
    d.args[i] = args[i];
  }
  return d;
}

// Argument values around the 32-bit boundaries libseccomp's 64-bit comparisons split at.
constexpr std::array<std::uint64_t, 10> arg_values{
    0,          1,           2,           O_RDONLY | O_CLOEXEC, O_WRONLY,
    0xFFFFFFFF, 0x100000000, 0x100000001, 0x200000000,          0xFFFFFFFFFFFFFFFF};

// --- a policy with argument rules --------------------------------------------------------------

// `arg` is SCMP_A<i>(op, a, b): libseccomp's macros are C compound literals, which clang refuses
// in C++ under -Wpedantic, so the comparison is spelled out.
constexpr scmp_arg_cmp arg(unsigned int i, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  return {.arg = i, .op = op, .datum_a = a, .datum_b = b};
}

// `add` adds a rule with at most one argument comparison.
void add(const filter& ctx, std::uint32_t what, int nr) {
  REQUIRE(seccomp_rule_add_array(ctx.get(), what, nr, 0, nullptr) == 0);
}
void add(const filter& ctx, std::uint32_t what, int nr, const scmp_arg_cmp& cmp) {
  REQUIRE(seccomp_rule_add_array(ctx.get(), what, nr, 1, &cmp) == 0);
}

// Default EPERM; read, write, exit_group allowed; close fails with ENOSYS; ioctl allowed when
// fd == 1; openat when (flags & O_ACCMODE) == O_RDONLY; lseek when offset > 2^32 (64-bit compare).
filter argument_policy(bool binary_tree) {
  filter ctx{seccomp_init(SCMP_ACT_ERRNO(EPERM))};
  REQUIRE(ctx);
  if (binary_tree) {
    REQUIRE(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0);
  }
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read));
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write));
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group));
  add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close));
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), arg(0, SCMP_CMP_EQ, 1));                            // SCMP_A0
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), arg(2, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDONLY));  // SCMP_A2
  add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(lseek), arg(1, SCMP_CMP_GT, 0x100000000ULL));               // SCMP_A1
  return ctx;
}

// `argument_policy_means` is what argument_policy says, as plain C++.
action argument_policy_means(const seccomp_data& d) {
  if (d.arch != x86_64) {
    return action::kill_thread;  // libseccomp's default bad-arch action, SCMP_ACT_KILL
  }
  const auto nr = static_cast<std::uint32_t>(d.nr);
  if (nr >= 0x40000000 && nr != 0xFFFFFFFF) {
    return action::kill_thread;  // x32 numbers on an x86_64-only filter count as a bad arch (-1 passes)
  }
  switch (d.nr) {
    case SYS_read:
    case SYS_write:
    case SYS_exit_group: return action::allow;
    case SYS_close: return action::error(ENOSYS);
    case SYS_ioctl: return d.args[0] == 1 ? action::allow : action::error(EPERM);
    case SYS_openat: return (d.args[2] & O_ACCMODE) == O_RDONLY ? action::allow : action::error(EPERM);
    case SYS_lseek: return d.args[1] > 0x100000000ULL ? action::allow : action::error(EPERM);
    default: return action::error(EPERM);
  }
}

// `runs_as_meant` evaluates `program` on every combination that matters and compares.
void runs_as_meant(const std::vector<bpf::insn>& program) {
  REQUIRE(sysfence::check(program) == bpf_error::none);
  std::size_t runs = 0;
  // Every argument combination for the syscalls with argument rules (and one without).
  for (const int nr : {SYS_ioctl, SYS_openat, SYS_lseek, SYS_read, SYS_mmap}) {
    for (const std::uint64_t a0 : arg_values) {
      for (const std::uint64_t a1 : arg_values) {
        for (const std::uint64_t a2 : arg_values) {
          const seccomp_data d = call(nr, {a0, a1, a2, a0, a1, a2});
          const sysfence::evaluation e = sysfence::evaluate(program, d);
          CHECK(e.error == bpf_error::none);
          if (e.result != argument_policy_means(d)) {
            FAIL_CHECK("nr " << nr << " args " << a0 << ", " << a1 << ", " << a2 << ": got " << e.result.value
                             << ", want " << argument_policy_means(d).value);
          }
          ++runs;
        }
      }
    }
  }
  // Every syscall number (and x32 and -1), on every arch, with a few argument sets.
  std::vector<int> numbers;
  for (int nr = -1; nr < 460; ++nr) {
    numbers.push_back(nr);
  }
  for (const int nr : {0x40000000, 0x40000001, 0x40000000 + SYS_read, 0x7FFFFFFF}) {
    numbers.push_back(nr);
  }
  for (const int nr : numbers) {
    for (const std::uint64_t a : {0ULL, 1ULL, 0x100000001ULL}) {
      for (const std::uint32_t arch : {x86_64, wrong_arches[0], wrong_arches[1], wrong_arches[2]}) {
        const seccomp_data d = call(nr, {a, a, a, a, a, a}, arch);
        const sysfence::evaluation e = sysfence::evaluate(program, d);
        if (!(e == argument_policy_means(d))) {
          FAIL_CHECK("nr " << nr << " arch " << arch << " args " << a << ": got " << e.result.value
                           << " (error " << static_cast<int>(e.error) << "), want "
                           << argument_policy_means(d).value);
        }
        CHECK(e.executed <= program.size());
        ++runs;
      }
    }
  }
  MESSAGE(runs << " evaluations of a " << program.size() << "-instruction program");
}

// `cached_as_meant`: the action cache holds exactly the unconditionally allowed syscalls.
void cached_as_meant(const std::vector<bpf::insn>& program) {
  const std::set<int> unconditional{SYS_read, SYS_write, SYS_exit_group};
  for (int nr = 0; nr < 460; ++nr) {
    const sysfence::const_allow_result r =
        sysfence::const_allow(program, x86_64, static_cast<std::uint32_t>(nr));
    CHECK_MESSAGE(r.allowed == unconditional.contains(nr), "nr " << nr);
    CHECK(r.emulated >= 1);
    CHECK(r.emulated <= program.size());
    for (const std::uint32_t arch : wrong_arches) {
      CHECK_FALSE(sysfence::const_allow(program, arch, static_cast<std::uint32_t>(nr)).allowed);
    }
  }
  // Arg-filtered syscalls stop at the argument load: not cacheable although sometimes allowed.
  for (const int nr : {SYS_ioctl, SYS_openat, SYS_lseek}) {
    CHECK_FALSE(sysfence::const_allow(program, x86_64, static_cast<std::uint32_t>(nr)).allowed);
  }
  CHECK_FALSE(sysfence::const_allow(program, x86_64, 0x40000000 + SYS_read).allowed);
}

TEST_CASE("libseccomp's linear filter with argument rules: check, evaluate, const_allow") {
  const std::vector<bpf::insn> program = exported(argument_policy(false));
  runs_as_meant(program);
  cached_as_meant(program);
}

TEST_CASE("libseccomp's binary-tree filter (SCMP_FLTATR_CTL_OPTIMIZE = 2): check, evaluate, const_allow") {
  const std::vector<bpf::insn> program = exported(argument_policy(true));
  runs_as_meant(program);
  cached_as_meant(program);
}

TEST_CASE("the linear and binary-tree filters differ in shape but not in meaning") {
  const std::vector<bpf::insn> linear = exported(argument_policy(false));
  const std::vector<bpf::insn> tree = exported(argument_policy(true));
  bool same_shape = linear.size() == tree.size();
  for (std::size_t i = 0; same_shape && i < linear.size(); ++i) {
    same_shape = bpf::same(linear[i], tree[i]);
  }
  CHECK_FALSE(same_shape);
  for (int nr = -1; nr < 460; ++nr) {
    for (const std::uint64_t a : arg_values) {
      const seccomp_data d = call(nr, {a, a, a, a, a, a});
      CHECK(sysfence::evaluate(linear, d).result == sysfence::evaluate(tree, d).result);
    }
  }
}

// --- a large allow-list --------------------------------------------------------------------

// Every third x86_64 syscall libseccomp knows, allowed; everything else KILL_PROCESS.
std::set<int> every_third_syscall() {
  std::set<int> allowed;
  for (int nr = 0; nr < 460; nr += 3) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name != nullptr) {
      allowed.insert(nr);
    }
    std::free(name);  // libseccomp returns malloc()ed memory
  }
  return allowed;
}

filter allow_list_policy(const std::set<int>& allowed, bool binary_tree) {
  filter ctx{seccomp_init(SCMP_ACT_KILL_PROCESS)};
  REQUIRE(ctx);
  if (binary_tree) {
    REQUIRE(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0);
  }
  for (const int nr : allowed) {
    add(ctx, SCMP_ACT_ALLOW, nr);
  }
  return ctx;
}

void allow_list_as_meant(bool binary_tree) {
  const std::set<int> allowed = every_third_syscall();
  REQUIRE(allowed.size() > 100);
  const std::vector<bpf::insn> program = exported(allow_list_policy(allowed, binary_tree));
  REQUIRE(sysfence::check(program) == bpf_error::none);
  std::uint32_t longest = 0;
  for (int nr = -1; nr < 460; ++nr) {
    const action want = allowed.contains(nr) ? action::allow : action::kill_process;
    const sysfence::evaluation e = sysfence::evaluate(program, call(nr, {1, 2, 3, 4, 5, 6}));
    CHECK_MESSAGE(e == want, "nr " << nr);
    longest = std::max(longest, e.executed);
    const sysfence::const_allow_result r =
        sysfence::const_allow(program, x86_64, static_cast<std::uint32_t>(nr));
    if (nr >= 0) {
      CHECK_MESSAGE(r.allowed == allowed.contains(nr), "nr " << nr);
    }
    CHECK(sysfence::evaluate(program, call(nr, {}, AUDIT_ARCH_I386)) == action::kill_thread);
  }
  MESSAGE(program.size() << " instructions, longest path " << longest);
  if (binary_tree) {
    CHECK(longest < 40);  // a binary search, not a scan of 100+ comparisons
  } else {
    CHECK(longest > allowed.size());
  }
}

TEST_CASE("libseccomp's linear allow-list of every third syscall") { allow_list_as_meant(false); }
TEST_CASE("libseccomp's binary-tree allow-list of every third syscall") { allow_list_as_meant(true); }

}  // namespace
