// SPDX-License-Identifier: MIT
// policy_S.cpp - a translation unit that compiles policy (S)'s program and nothing else, so that
// compile_cost.sh can time it.
#include "policies.hpp"

#include <span>

// `sysfence_bench_policy_s` is the compiled program, kept so the compiler must build it.
extern const std::span<const sysfence::bpf::insn> sysfence_bench_policy_s;
const std::span<const sysfence::bpf::insn> sysfence_bench_policy_s{
    sysfence::compile(sysfence_bench::policy_s)};
