// SPDX-License-Identifier: MIT
// allocation_counter.hpp - a count of heap allocations in this process (malloc, calloc, realloc
// and operator new are interposed by allocation_counter.cpp).
#pragma once

namespace allocation_counter {

// `heap_allocations` is how many allocations this process has made so far.
long heap_allocations() noexcept;

}  // namespace allocation_counter
