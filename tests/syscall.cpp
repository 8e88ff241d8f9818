// SPDX-License-Identifier: MIT
// syscall.cpp - the syscall constants: names, ids, numbers per architecture.
#include "sysfence/syscall.hpp"

#include <sys/syscall.h>

#include <algorithm>

#include <doctest/doctest.h>

#include "sysfence/arch.hpp"

using namespace sysfence;

static_assert(sys::openat.name == "openat");
static_assert(sys::openat.value == sys::id::openat);
static_assert(static_cast<sys::id>(sys::openat) == sys::id::openat);
// <sys/syscall.h> has the target's numbers: x86_64's, or aarch64's in the cross build.
static_assert(sys::openat.number<arch::native>() == SYS_openat);
static_assert(sys::write.number<arch::native>() == SYS_write);
static_assert(sys::openat.number<arch::x86_64>() == 257 && sys::openat.number<arch::aarch64>() == 56);
static_assert(sys::socketcall.number<arch::x86_64>() == -1);  // i386 only
static_assert(sys::socketcall.number<arch::x86>() > 0);
static_assert(sys::break_.name == "break");
static_assert(sys::name(sys::id::exit_group) == "exit_group");

TEST_CASE("syscall constants know their name and number") {
  CHECK(sys::getppid.name == "getppid");
  CHECK(sys::getppid.number<arch::native>() == SYS_getppid);
  CHECK(sys::name(sys::id::io_uring_setup) == "io_uring_setup");
}

// sys::find is a binary search: the generated names must stay sorted.
static_assert(std::is_sorted(sysfence::detail::syscall_names.begin(), sysfence::detail::syscall_names.end()));
static_assert(sys::find("openat") == sys::id::openat);
static_assert(sys::find("break") == sys::id::break_);
static_assert(sys::find("_llseek") == sys::id::_llseek);
static_assert(!sys::find("break_").has_value());
static_assert(!sys::find("newstat").has_value());
static_assert(!sys::find("").has_value());
