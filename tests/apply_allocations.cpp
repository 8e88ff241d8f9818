// SPDX-License-Identifier: MIT
// apply_allocations.cpp - installing a policy allocates nothing on the heap, with and without
// run-time values: malloc and operator new are interposed and counted (allocation_counter.cpp).
#include "sysfence/apply.hpp"
#include "sysfence/prebuilt.hpp"
#include "sysfence/runtime_policy.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include <doctest/doctest.h>

#include <api.hpp>

#include "allocation_counter.hpp"
#include "kernel.hpp"
#include "policies.hpp"

using namespace sysfence;
using namespace kernel_test;

namespace {

template <class Policy>
long allocations_while_applying(const Policy& policy) {
  shared<std::array<long, 2>> r;
  const ending e = in_child([&] {
    const long before = allocation_counter::heap_allocations();
    const apply_status s = policy.try_apply_to_current_thread();
    (*r)[0] = allocation_counter::heap_allocations() - before;
    (*r)[1] = s ? 1 : 0;
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE((*r)[1] == 1);
  return (*r)[0];
}

}  // namespace

// `escape` stores a pointer where the optimiser must assume it is read: at -O2, g++ removes a
// malloc/free or new/delete pair whose pointer goes nowhere (so the self-check counted 0).
void* volatile escape = nullptr;

TEST_CASE("the allocation counter counts") {
  const long before = allocation_counter::heap_allocations();
  void* p = std::malloc(16);
  escape = p;
  int* q = new int(1);
  escape = q;
  delete q;
  std::free(p);
  CHECK(allocation_counter::heap_allocations() - before == 2);
}

TEST_CASE("apply allocates nothing: constant program") {
  CHECK(allocations_while_applying(test_policies::stdio_context) == 0);
  CHECK(allocations_while_applying(test_policies::large) == 0);
}

TEST_CASE("apply allocates nothing: program with run-time values") {
  CHECK(allocations_while_applying(test_policies::can_exit{} | test_policies::write_to{3}) == 0);
}

TEST_CASE("apply allocates nothing: Landlock paths, literal or copied into the rule set") {
  namespace builtins = sysfence::builtins;
  CHECK(allocations_while_applying(
            safety_context{}.enable(builtins::system_io::nothing().allow_read_path("/tmp"))) == 0);
  const std::string copied = "/tmp";
  CHECK(allocations_while_applying(
            safety_context{}.enable(builtins::system_io::nothing().allow_read_path(copied))) == 0);
}

TEST_CASE("apply allocates nothing: a run-time policy (compiled when it was built)") {
  const runtime_policy deny({{rule{sys::getppid}.then(action::error(EACCES)), 0}}, {"deny"}, action::allow);
  CHECK(allocations_while_applying(deny) == 0);
}

TEST_CASE("apply allocates nothing: a prebuilt policy (generated header, or a typed program held as one)") {
  static constexpr auto& insns = compile(test_policies::stdio_context);
  static constexpr prebuilt_policy<insns.size(), 1> policy{insns, {arch::native::value}};
  CHECK(allocations_while_applying(policy) == 0);
  CHECK(allocations_while_applying(api::policy) == 0);  // generated from tests/policies/vmm.json
}
