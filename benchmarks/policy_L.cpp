// SPDX-License-Identifier: MIT
// policy_L.cpp - a translation unit that compiles policy (L)'s program and nothing else, so that
// compile_cost.sh can time it.
#include "policies.hpp"

#include <span>

// `sysfence_bench_policy_l` is the compiled program, kept so the compiler must build it.
extern const std::span<const sysfence::bpf::insn> sysfence_bench_policy_l;
const std::span<const sysfence::bpf::insn> sysfence_bench_policy_l{
    sysfence::compile(sysfence_bench::policy_l)};
