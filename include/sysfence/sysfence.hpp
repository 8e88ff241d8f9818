// SPDX-License-Identifier: MIT
// sysfence.hpp - the whole library. A policy in a few lines:
//
//   #include <sysfence/sysfence.hpp>
//   using namespace sysfence;
//
//   struct stdout_only : rule_set_base {
//     static constexpr std::string_view name = "stdout_only";
//     static constexpr auto simple_rules = syscalls(sys::exit_group);
//     static constexpr std::array conditional_rules{rule{sys::write, arg<0> == 1}};
//   };
//   safety_context{}.enable(stdout_only{}).apply_to_current_thread();  // one seccomp() call
//
// Grammar:
//   condition := arg<N> OP value | arg32<N> OP value | arg64<N> OP value | (arg<N> & mask) == value
//                N in 0..5, OP in == != < <= > >= (unsigned; arg compares parameter N as wide as
//                the kernel reads it, arg32 the low 32 bits, arg64 all 64)
//   rule      := rule{sys::NAME, condition...}            all conditions must hold
//   rule set  := a type with `name`, `simple_rules`, `conditional_rules`  (concept rule_set)
//   policy    := rule_set | rule_set | ...   or   safety_context{}.enable(rule_set)...
//   program   := compile<Policy>()   (a constant std::array<sock_filter, N>)
#pragma once

#include "sysfence/action.hpp"
#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/builtins.hpp"
#include "sysfence/compile.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/diff.hpp"
#include "sysfence/kafel.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/prebuilt.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/rule_set.hpp"
#include "sysfence/simulate.hpp"
#include "sysfence/syscall.hpp"
