// SPDX-License-Identifier: MIT
// learn_header.cpp - the header learned_header writes for learn_fixture::script() (generated at
// build time) compiles, and its policy allows what was learned and nothing else.
#include "learned_script.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "sysfence/compile.hpp"
#include "sysfence/simulate.hpp"

using namespace sysfence;

namespace {

constexpr auto learned_program = compile<decltype(learned::script_policy)>();

constexpr bool allowed(const seccomp_data& d) { return evaluate(learned_program, d) == action::allow; }

}  // namespace

// The built-ins whose syscalls were all seen, by their own rules.
static_assert(allowed(call(sys::id::getdents64, 3)));
static_assert(allowed(call(sys::id::getcwd, 0, 0)));
static_assert(allowed(call(sys::id::pipe2, 0, 0)));
// The rest by name, with the proposed conditions: never refusing an observed value.
static_assert(allowed(call(sys::id::execve, 0, 0, 0)));
static_assert(allowed(call(sys::id::read, 3, 0, 0)));
static_assert(allowed(call(sys::id::write, 1, 0, 0)) && allowed(call(sys::id::write, 2, 0, 0)));
static_assert(!allowed(call(sys::id::write, 3, 0, 0)));
static_assert(allowed(call(sys::id::fcntl, 10, F_GETFD)) && !allowed(call(sys::id::fcntl, 10, F_SETFL)));
static_assert(allowed(call(sys::id::socket, AF_UNIX, SOCK_DGRAM, 0)));
static_assert(allowed(call(sys::id::socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)));
static_assert(!allowed(call(sys::id::socket, AF_INET, SOCK_STREAM, 0)));
static_assert(allowed(call(sys::id::ioctl, 1, 0x5401)));
// What was not seen fails with EPERM.
static_assert(allowed(call(sys::id::openat, 0, 0, O_WRONLY | O_CREAT)));  // allow_open().yes_really()
static_assert(evaluate(learned_program, call(sys::id::unlinkat, 0, 0, 0)) == action::error(EPERM));
static_assert(evaluate(learned_program, call(sys::id::mmap, 0, 0, 0)) == action::error(EPERM));

TEST_CASE("the learned header compiles to a policy of the learned syscalls") {
  CHECK(allowed(call(sys::id::wait4, 0)));
  CHECK(allowed(call(sys::id::newfstatat, 0)));
  CHECK(evaluate(learned_program, call(sys::id::mkdirat, 0, 0, 0)) == action::error(EPERM));  // (every ABI has mkdirat; aarch64 has no unlink)
  MESSAGE("the fixture's header policy: " << learned_program.size() << " BPF instructions");
}
