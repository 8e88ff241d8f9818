// SPDX-License-Identifier: MIT
// runtime_policy.hpp - a policy known only at run time (read from a file): its rules as data,
// checked and compiled by the same core as typed policies when it is built, then explained,
// dumped and applied like one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysfence/action.hpp"
#include "sysfence/apply.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/bpf.hpp"
#include "sysfence/detail/compiler.hpp"
#include "sysfence/detail/program_methods.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {

// `policy_error` is thrown when a run-time policy cannot be read or compiled; what() names the
// input, the place and the problem.
class policy_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// `action_words` is an action as a run-time message shows it: "ERRNO(1)", "ALLOW".
inline std::string action_words(action a) {
  std::string s(action_name(a));
  const auto k = a.what();
  if (k == action::kind::error || k == action::kind::trace || k == action::kind::trap) {
    // (appended piece by piece: g++ 12 -O3 warns -Wrestrict on "(" + std::string&&)
    s += '(';
    s += std::to_string(a.data());
    s += ')';
  }
  return s;
}

// `condition_words` says why a condition can never be used, as the compile-time errors do.
inline std::string_view condition_words(condition_problem p) noexcept {
  switch (p) {
    case condition_problem::none:
      return "no problem";
    case condition_problem::bad_index:
      return "the argument index is above 5 (seccomp passes six arguments)";
    case condition_problem::value_outside_mask:
      return "the value has bits outside the mask, so the condition can never match";
    case condition_problem::value_above_32_bits:
      return "a 32-bit comparison has a value above 0xffffffff, so the condition can never match";
    case condition_problem::mask_above_32_bits:
      return "a 32-bit masked comparison has a mask above 0xffffffff";
    case condition_problem::not_a_parameter:
      return "the syscall has no parameter with this index";
  }
  return "unknown condition problem";
}

// `diagnosis_message` is a diagnosis in words, each culprit named by `names[origin]` (a front
// end's "filter "vmm" rule 3"), missing syscalls by the target's name.
inline std::string diagnosis_message(const diagnosis& d, std::span<const std::string> names,
                                     std::span<const arch::target> targets) {
  auto name = [&](std::uint16_t origin) {
    return origin < names.size() ? names[origin] : "rule set " + std::to_string(origin);
  };
  const std::string sys_name(sys::name(d.syscall));
  switch (d.what) {
    case problem::none:
      return "no problem";
    case problem::simple_and_conditional:
      return name(d.first) + " matches " + sys_name + " whatever its arguments and " + name(d.second) +
             " only under conditions, so the conditions would have no effect; keep one of the two rules";
    case problem::different_actions:
      return name(d.first) + " answers " + sys_name + " with " + action_words(d.first_action) + " and " +
             name(d.second) + " with " + action_words(d.second_action) +
             " for the same calls; keep one of the two rules";
    case problem::bad_condition:
      return name(d.first) + " (" + sys_name + "), condition on argument " + std::to_string(d.arg) + ": " +
             std::string(condition_words(d.condition));
    case problem::missing_syscall:
      return name(d.first) + ": " + sys_name + " does not exist on " +
             std::string(d.target < targets.size() ? targets[d.target].name : std::string_view("the target"));
    case problem::too_long:
      return "the program would be longer than the kernel's 4096 instructions (" + std::to_string(d.size) +
             (d.size > bpf::max_insns + 1 ? " or more" : "") + ")";
    case problem::bad_errno:
      if (d.first == no_origin)
        return "the default action is " + action_words(d.first_action) +
               ": errno must be 1 to 4095 (0 would fake a success)";
      return name(d.first) + " (" + sys_name + ") answers " + action_words(d.first_action) +
             ": errno must be 1 to 4095 (0 would fake a success)";
    case problem::bad_targets:
      return "the program's ABIs: none, one twice, more than 8, or two the program cannot tell apart";
  }
  return "unknown problem";
}

}  // namespace detail

// `runtime_policy` is a policy built at run time: rules as data, grouped in named rule sets (a
// front end's filters or rules), and a default action. Building it checks the rules as a typed
// policy's are checked (conflicts, actions, conditions, missing syscalls, length) and compiles the
// program for the given ABIs; a problem throws policy_error. Applying it allocates nothing
// (dump() and the apply forms: detail::program_methods).
class runtime_policy : public detail::program_methods<runtime_policy> {
 public:
  // `context` prefixes every error message (a front end's file and filter). `first_match_wins`
  // says the rules are in priority order, the first one matching a call deciding it (kafel):
  // overlapping rules are then not conflicts.
  runtime_policy(std::vector<detail::entry> rules, std::vector<std::string> rule_set_names,
                 action default_action, std::vector<arch::target> targets = {arch::native::value},
                 std::string_view context = {}, bool first_match_wins = false)
      : rules_(std::move(rules)),
        names_(std::move(rule_set_names)),
        default_action_(default_action),
        targets_(std::move(targets)),
        first_match_wins_(first_match_wins) {
    const std::size_t n = rules_.size();
    // The core numbers rules and rule sets in 16 bits (no_origin is reserved).
    if (n >= no_rule_limit || names_.size() >= no_rule_limit)
      throw policy_error("sysfence: " + (context.empty() ? std::string() : std::string(context) + ": ") +
                         std::to_string(n) + " rules in " + std::to_string(names_.size()) +
                         " rule sets; a policy holds fewer than 65535 of each");
    std::vector<detail::sort_key> keys(2 * n);
    std::vector<detail::interval> intervals(detail::intervals_needed(n));
    std::vector<detail::block_rule> block(n);
    std::vector<detail::segment> segments(detail::segments_needed(n));
    std::vector<bpf::insn> out(bpf::max_insns + 1);
    std::vector<detail::patch> patches(detail::slot_patch_count(rules_, targets_.size()));
    const detail::compile_output result = detail::compile(
        {rules_, targets_, default_action_, false, detail::newer_syscalls_for(default_action_), first_match_wins_},
        {keys, intervals, block, segments}, out, patches);
    if (!result.result.ok()) {
      std::string message = "sysfence: ";
      if (!context.empty()) message += std::string(context) + ": ";
      throw policy_error(message + detail::diagnosis_message(result.result, names_, targets_));
    }
    program_.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(result.size));
    actions_ = detail::actions_returned(program_);
  }

  // `program` is the compiled BPF program.
  [[nodiscard]] std::span<const bpf::insn> program() const noexcept { return program_; }
  // `rules` is the policy's rules, each with the index of its rule set.
  [[nodiscard]] std::span<const detail::entry> rules() const noexcept { return rules_; }
  // `rule_set_names` names the rule sets, by index.
  [[nodiscard]] std::span<const std::string> rule_set_names() const noexcept { return names_; }
  // `default_action` is what calls no rule matches get.
  [[nodiscard]] action default_action() const noexcept { return default_action_; }
  // `targets` is the ABIs the program serves, in dispatch order.
  [[nodiscard]] std::span<const arch::target> targets() const noexcept { return targets_; }
  // `first_match_wins` is true when the rules are in priority order (see the constructor).
  [[nodiscard]] bool first_match_wins() const noexcept { return first_match_wins_; }

  // `explain` is the policy as its rules: rule sets, syscalls, conditions, actions, the default
  // (and, for rules in priority order, that the first matching a call decides it).
  [[nodiscard]] std::string explain() const {
    const std::vector<std::string_view> names(names_.begin(), names_.end());
    std::string out = first_match_wins_ ? "rules in priority order: the first matching a call decides it\n" : "";
    out += detail::render(
        [&](detail::text& text) { detail::describe_policy(text, rules_, names, default_action_, targets_); });
    return out;
  }

 private:
  friend detail::program_methods<runtime_policy>;
  static constexpr std::size_t no_rule_limit = detail::no_origin;

  std::vector<detail::entry> rules_;
  std::vector<std::string> names_;
  action default_action_;
  std::vector<arch::target> targets_;
  bool first_match_wins_ = false;
  std::vector<bpf::insn> program_;
  detail::action_set actions_{};
};

// `with_default_action` is `policy` with another default action: its rules compiled again for
// the same ABIs (a rule whose action becomes the default's is still compiled, and harmless).
inline runtime_policy with_default_action(const runtime_policy& policy, action default_action,
                                          std::string_view context = {}) {
  return runtime_policy(std::vector<detail::entry>(policy.rules().begin(), policy.rules().end()),
                        std::vector<std::string>(policy.rule_set_names().begin(), policy.rule_set_names().end()),
                        default_action, std::vector<arch::target>(policy.targets().begin(), policy.targets().end()),
                        context, policy.first_match_wins());
}

}  // namespace sysfence
