// SPDX-License-Identifier: MIT
// diagnostics.hpp - compile errors that name their culprits: the syscall and the rule sets.
//
// The constexpr core finds a problem on values; `report` maps it back to types and instantiates
// one of the function templates below, whose name says what is wrong and whose arguments are
// the syscall (`sysfence::sys::id::write`) and the rule-set types. g++ 12 ("[with Syscall = ...;
// RuleSet = ...]") and clang 14 ("<sysfence::sys::id::write, ...>") both print them with the
// message. Functions, not classes, and called outside a static_assert: their own failed
// static_assert is then the only error (a class's `::value` read in a static_assert is a second
// one on both compilers).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sysfence/detail/compiler.hpp"
#include "sysfence/detail/meta.hpp"

namespace sysfence::detail {

template <sys::id Syscall, class RuleSet, class OtherRuleSet>
constexpr bool conflict_between_simple_and_conditional_rule_for() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: this syscall is allowed unconditionally by one rule and only under "
                "conditions by another (their rule sets are named here, the same one twice if it "
                "holds both), so the conditions would have no effect; keep one of the two rules");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, class RuleSet, class OtherRuleSet, action::kind Action, std::uint16_t Data,
          action::kind OtherAction, std::uint16_t OtherData>
constexpr bool conflicting_actions_for() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: two rules can match the same call of this syscall with different "
                "actions (named here with their data); make their conditions exclusive or keep one");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, class Arch, class RuleSet>
constexpr bool syscall_does_not_exist_on_architecture() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: a rule names a syscall that the target architecture does not have; "
                "remove it or use the architecture's own syscall");
  return true;  // (its static_assert is the only error)
}

template <std::size_t Instructions>
constexpr bool program_longer_than_the_kernel_allows() noexcept {
  static_assert(Instructions <= bpf::max_insns,
                "sysfence: the policy compiles to more than 4096 BPF instructions (the kernel's "
                "BPF_MAXINSNS); use fewer conditional rules or split the work across processes");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, condition_problem Problem, class RuleSet>
constexpr bool condition_can_never_match() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: a condition of this syscall's rule can never match (see the problem "
                "named here: a value with bits outside its mask, or above 32 bits in a 32-bit "
                "comparison)");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, class RuleSet>
constexpr bool argument_index_above_5_for() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: arg<N> needs N in 0..5 (seccomp passes six arguments)");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, unsigned Arg, class RuleSet, class Parameters>
constexpr bool argument_is_not_a_parameter_of() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: arg<N> compares parameter N as wide as the kernel reads it, and this "
                "syscall has no parameter N (its parameters are named here); use another index, "
                "or arg32<N> or arg64<N> to compare the argument register anyway");
  return true;  // (its static_assert is the only error)
}

// `each_abi_once` is true when a program's ABIs are distinct and at most max_targets.
template <bool Ok, class... Archs>
constexpr bool each_abi_once() noexcept {
  static_assert(Ok,
                "sysfence: a program serves each ABI once (the architectures are named here); "
                "remove the repeated one");
  return true;  // (its static_assert is the only error)
}

template <sys::id Syscall, class RuleSet, action::kind Action, std::uint16_t Errno>
constexpr bool errno_must_be_1_to_4095_for() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: action::error(0) makes a refused call return 0 as if it had succeeded (a "
                "refused openat would \"open\" fd 0), and the kernel caps errno at 4095; give this "
                "syscall's rule an errno from 1 to 4095 (the value is named here)");
  return true;  // (its static_assert is the only error)
}

template <action::kind Action, std::uint16_t Errno>
constexpr bool default_errno_must_be_1_to_4095() noexcept {
  static_assert(Errno != Errno,
                "sysfence: the policy's default action (or what it answers newer syscalls) is "
                "action::error(0), a fake success, or an errno above 4095; use 1 to 4095");
  return true;  // (its static_assert is the only error)
}

template <class RuleSet, std::size_t Slot, std::size_t SlotCount>
constexpr bool slot_index_not_below_slot_count_in() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: a rule of this rule set compares with slot{i} (i named here), but the rule "
                "set's slot_count (named after it) does not cover it; declare slot_count = i + 1 or "
                "more and return that many values from values()");
  return true;  // (its static_assert is the only error)
}

template <class RuleSet, std::size_t SlotCount>
constexpr bool slot_count_without_slots_in() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: this rule set declares slot_count but no rule compares with a slot{i}; "
                "remove slot_count or use the slots");
  return true;  // (its static_assert is the only error)
}

template <class RuleSet, std::size_t Values, std::size_t SlotCount>
constexpr bool values_must_return_slot_count_values_in() noexcept {
  static_assert(always_false<RuleSet>,
                "sysfence: this rule set's values() must return a std::array of exactly slot_count "
                "std::uint64_t (the size it returns and slot_count are named here)");
  return true;  // (its static_assert is the only error)
}


// `report` is true when D is no problem; otherwise it instantiates the culprit's template, the
// rule sets named as the user wrote them (shown<>: a built-in by its methods).
template <diagnosis D, class Arch, class... Sets>
constexpr bool report() noexcept {
  if constexpr (D.what == problem::none) {
    return true;
  } else if constexpr (D.what == problem::simple_and_conditional) {
    return conflict_between_simple_and_conditional_rule_for<D.syscall, shown<nth<D.first, Sets...>>,
                                                            shown<nth<D.second, Sets...>>>();
  } else if constexpr (D.what == problem::different_actions) {
    return conflicting_actions_for<D.syscall, shown<nth<D.first, Sets...>>, shown<nth<D.second, Sets...>>,
                                   D.first_action.what(), D.first_action.data(), D.second_action.what(),
                                   D.second_action.data()>();
  } else if constexpr (D.what == problem::missing_syscall) {
    return syscall_does_not_exist_on_architecture<D.syscall, Arch, shown<nth<D.first, Sets...>>>();
  } else if constexpr (D.what == problem::bad_targets) {
    return true;  // (program<> reports it: each_abi_once)
  } else if constexpr (D.what == problem::too_long) {
    return program_longer_than_the_kernel_allows<D.size>();
  } else if constexpr (D.what == problem::bad_errno && D.first == no_origin) {
    return default_errno_must_be_1_to_4095<D.first_action.what(), D.first_action.data()>();
  } else if constexpr (D.what == problem::bad_errno) {
    return errno_must_be_1_to_4095_for<D.syscall, shown<nth<D.first, Sets...>>, D.first_action.what(),
                                       D.first_action.data()>();
  } else if constexpr (D.condition == condition_problem::bad_index) {
    return argument_index_above_5_for<D.syscall, shown<nth<D.first, Sets...>>>();
  } else if constexpr (D.condition == condition_problem::not_a_parameter) {
    return argument_is_not_a_parameter_of<D.syscall, D.arg, shown<nth<D.first, Sets...>>,
                                          typename parameters_of<D.syscall>::type>();
  } else {
    return condition_can_never_match<D.syscall, D.condition, shown<nth<D.first, Sets...>>>();
  }
}

}  // namespace sysfence::detail
