// SPDX-License-Identifier: MIT
// apply_allocations.cpp - installing a policy allocates nothing on the heap, with and without
// run-time values: malloc and operator new are interposed and counted.
#include "sysfence/apply.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <doctest/doctest.h>

#include "kernel.hpp"
#include "policies.hpp"

extern "C" void* __libc_malloc(std::size_t);  // glibc's own, under the interposed malloc
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);

namespace {
std::atomic<long> allocations{0};
}

extern "C" void* malloc(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t m) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, m);
}
extern "C" void* realloc(void* p, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = __libc_malloc(n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace sysfence;
using namespace kernel_test;

namespace {

template <class Policy>
long allocations_while_applying(const Policy& policy) {
  shared<std::array<long, 2>> r;
  const ending e = in_child([&] {
    const long before = allocations.load();
    const apply_status s = policy.try_apply_to_current_thread();
    (*r)[0] = allocations.load() - before;
    (*r)[1] = s ? 1 : 0;
    return 0;
  });
  REQUIRE(e.exited);
  REQUIRE((*r)[1] == 1);
  return (*r)[0];
}

}  // namespace

TEST_CASE("the allocation counter counts") {
  const long before = allocations.load();
  void* p = std::malloc(16);
  delete new int(1);
  std::free(p);
  CHECK(allocations.load() - before == 2);
}

TEST_CASE("apply allocates nothing: constant program") {
  CHECK(allocations_while_applying(test_policies::stdio_context) == 0);
  CHECK(allocations_while_applying(test_policies::large) == 0);
}

TEST_CASE("apply allocates nothing: program with run-time values") {
  CHECK(allocations_while_applying(test_policies::can_exit{} | test_policies::write_to{3}) == 0);
}
