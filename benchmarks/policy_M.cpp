// SPDX-License-Identifier: MIT
// policy_M.cpp - a translation unit that compiles policy (M)'s program and nothing else, so that
// compile_cost.sh can time it.
#include "policies.hpp"

#include <span>

// `sysfence_bench_policy_m` is the compiled program, kept so the compiler must build it.
extern const std::span<const sysfence::bpf::insn> sysfence_bench_policy_m;
const std::span<const sysfence::bpf::insn> sysfence_bench_policy_m{
    sysfence::compile(sysfence_bench::policy_m)};
