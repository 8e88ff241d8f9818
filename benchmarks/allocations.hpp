// SPDX-License-Identifier: MIT
// allocations.hpp - a count of heap allocations in this process (malloc, calloc, realloc and
// operator new are interposed by allocations.cpp), as tests/apply_allocations.cpp counts them.
#pragma once

namespace sysfence_bench {

// `heap_allocations` is how many allocations this process has made so far.
long heap_allocations() noexcept;

}  // namespace sysfence_bench
