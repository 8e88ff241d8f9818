// SPDX-License-Identifier: MIT
// conflicts.cpp - when two rules with different actions may match the same call.
#include "sysfence/detail/compiler.hpp"

#include <doctest/doctest.h>

#include "sysfence/syscall.hpp"

using namespace sysfence;
using sysfence::detail::disjoint;

namespace {

constexpr rule w(auto... c) { return rule{sys::write, c...}; }

// Provably disjoint: no call satisfies both.
static_assert(disjoint(w(arg<0> == 1), w(arg<0> == 2)));
static_assert(disjoint(w(arg<0> <= 2), w(arg<0> > 2)));
static_assert(disjoint(w(arg<0> < 10), w(arg<0> >= 10, arg<1> == 0)));
static_assert(disjoint(w(arg<0> == 5), w(arg<0> != 5)));
static_assert(disjoint(w((arg<1> & 0x3) == 1), w((arg<1> & 0x1) == 0)));
static_assert(disjoint(w(arg<1> == 6), w((arg<1> & 0x1) == 1)));
static_assert(disjoint(w(arg<0> <= 2), w((arg<0> & 0xf0) == 0x40)));
static_assert(disjoint(w(arg32<0> == 1), w(arg32<0> == 2)));
static_assert(disjoint(w(arg64<0> > ~std::uint64_t{0} - 1), w(arg64<0> < 5)));
static_assert(disjoint(w(arg<0> < 0), w()));  // nothing is below 0

// May overlap: a conflict when their actions differ.
static_assert(!disjoint(w(arg<0> <= 2), w(arg<0> == 1)));
static_assert(!disjoint(w(arg<0> == 1), w(arg<1> == 1)));  // different arguments
static_assert(!disjoint(w(), w(arg<0> == 1)));               // no condition matches everything
static_assert(!disjoint(w((arg<1> & 0x3) == 1), w((arg<1> & 0x4) == 4)));
static_assert(!disjoint(w(arg<0> != 5), w(arg<0> != 6)));
static_assert(!disjoint(w(arg32<0> == 1), w(arg64<0> == 2)));  // widths differ: no claim
// write's fd is an `unsigned int`: arg<0> is arg32<0>, so the two compare the same 32 bits.
static_assert(disjoint(w(arg32<0> == 1), w(arg<0> == 2)));
static_assert(!disjoint(w(arg<0> == slot{0}), w(arg<0> == 1)));  // run-time value: no claim

}  // namespace

TEST_CASE("disjointness of rules, as the static_asserts above") {
  CHECK(disjoint(w(arg<0> == 1), w(arg<0> == 2)));
  CHECK_FALSE(disjoint(w(arg<0> <= 2), w(arg<0> == 1)));
}
