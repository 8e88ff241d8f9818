// SPDX-License-Identifier: MIT
// seccompiler.hpp - seccompiler's JSON filters (rust-vmm/seccompiler, docs/json_format.md) read at
// run time into a runtime_policy. Needs nlohmann-json (Debian's nlohmann-json3-dev); the rest of
// sysfence does not, and sysfence.hpp does not include this header.
//
// Three steps, each testable alone: `parse_json` (detail/json.hpp: text to a tree that keeps every
// value's byte offset and refuses duplicate keys), `read_filters` (the tree to seccompiler's filters, every
// key checked) and `lower_filter` (one filter to the core's rules, names resolved).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sysfence/action.hpp"
#include "sysfence/arch.hpp"
#include "sysfence/condition.hpp"
#include "sysfence/detail/json.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/runtime_policy.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence {

// `seccompiler_options` says how a seccompiler JSON file is read: its name for messages and the
// ABIs the program serves (seccompiler compiles for one; the first must be the process's own to
// apply the policy).
struct seccompiler_options {
  std::string_view file_name = "<json>";
  std::vector<arch::target> targets = {arch::native::value};
};

namespace detail::seccompiler {

using json::json_value;
using json::find_syscall;
using json::parse_json;
using json::position;

// `argument` is one of a rule's `args`.
struct argument {
  std::uint64_t index = 0;
  width size = width::qword;
  cmp op = cmp::eq;
  std::uint64_t mask = ~std::uint64_t{0};
  std::uint64_t value = 0;
};

// `filter_rule` is one rule of a filter's `filter` list.
struct filter_rule {
  std::string syscall;
  std::vector<argument> args;
  std::size_t offset = 0;
};

// `filter` is one named filter of the file.
struct filter {
  std::string name;
  action mismatch_action;
  action match_action;
  std::vector<filter_rule> rules;
  std::size_t offset = 0;
};

// `reader` turns the tree into filters; every error names the file, the place and the position.
struct reader : json::checker {
  // An action: "allow", {"errno": n}, "kill_thread", "kill_process", "log", {"trace": n}, "trap",
  // "user_notif". seccompiler keeps an errno's or trace's low 16 bits; sysfence refuses what they
  // would drop, and errno 0 (a fake success) or above 4095 (the kernel's MAX_ERRNO).
  action read_action(const std::string& where, const json_value& v) const {
    if (v.what == json_value::kind::string) {
      if (v.text == "allow") return action::allow;
      if (v.text == "kill_thread") return action::kill_thread;
      if (v.text == "kill_process") return action::kill_process;
      if (v.text == "log") return action::log;
      if (v.text == "trap") return action::trap();
      if (v.text == "user_notif") return action::user_notif;
      fail(
          where, v,
          "unknown action \"" + v.text +
              "\" (expected \"allow\", \"kill_thread\", \"kill_process\", \"log\", \"trap\", \"user_notif\", "
              "{\"errno\": n} or {\"trace\": n})");
    }
    if (v.what != json_value::kind::object || v.keys.size() != 1)
      fail(where, v,
           "an action is a string or an object with one key, \"errno\" or \"trace\"; found " +
               (v.what == json_value::kind::object ? std::to_string(v.keys.size()) + " keys"
                                                   : std::string(kind_name(v.what))));
    const std::string& key = v.keys.front();
    const json_value& value = v.items.front();
    if (key == "errno") {
      const std::uint64_t n = number(where + ", errno", value, 0xffffffffU);
      if (n < 1 || n > 4095)
        fail(where + ", errno", value,
             "errno " + std::to_string(n) + " is not 1 to 4095 (0 would fake a success)");
      return action::error(static_cast<std::uint16_t>(n));
    }
    if (key == "trace")
      return action::trace(static_cast<std::uint16_t>(number(where + ", trace", value, 0xffff)));
    fail(where, v, "unknown action \"" + key + "\" (an object action is {\"errno\": n} or {\"trace\": n})");
  }

  argument read_argument(const std::string& where, const json_value& v) const {
    expect(where, v, json_value::kind::object, "an object");
    argument a;
    const json_value* index = nullptr;
    const json_value* type = nullptr;
    const json_value* op = nullptr;
    const json_value* val = nullptr;
    for (const auto& [key, value] : v.members()) {
      if (key == "index") {
        index = &value;
      } else if (key == "type") {
        type = &value;
      } else if (key == "op") {
        op = &value;
      } else if (key == "val") {
        val = &value;
      } else if (key == "comment") {
        expect(where + ", comment", value, json_value::kind::string, "a string");
      } else {
        fail(where, value,
             "unknown key \"" + std::string(key) + "\" (expected index, type, op, val, comment)");
      }
    }
    for (const auto& [name, seen] : {std::pair{"index", index}, {"type", type}, {"op", op}, {"val", val}})
      if (seen == nullptr) fail(where, v, "missing key \"" + std::string(name) + "\"");
    a.index = number(where + ", index", *index, 5);
    expect(where + ", type", *type, json_value::kind::string, "\"dword\" or \"qword\"");
    if (type->text == "dword")
      a.size = width::dword;
    else if (type->text == "qword")
      a.size = width::qword;
    else
      fail(where + ", type", *type, "unknown type \"" + type->text + "\" (expected \"dword\" or \"qword\")");
    if (op->what == json_value::kind::string) {
      constexpr std::pair<std::string_view, cmp> ops[]{{"eq", cmp::eq}, {"ne", cmp::ne}, {"lt", cmp::lt},
                                                       {"le", cmp::le}, {"gt", cmp::gt}, {"ge", cmp::ge}};
      bool found = false;
      for (const auto& [name, c] : ops)
        if (op->text == name) {
          a.op = c;
          found = true;
        }
      if (!found)
        fail(where + ", op", *op,
             "unknown op \"" + op->text + "\" (expected eq, ne, lt, le, gt, ge or {\"masked_eq\": mask})");
    } else if (op->what == json_value::kind::object && op->keys.size() == 1 &&
               op->keys.front() == "masked_eq") {
      a.op = cmp::masked_eq;
      a.mask = number(where + ", masked_eq", op->items.front(), ~std::uint64_t{0});
    } else {
      fail(where + ", op", *op, "expected eq, ne, lt, le, gt, ge or {\"masked_eq\": mask}");
    }
    a.value = number(where + ", val", *val, ~std::uint64_t{0});
    return a;
  }

  filter_rule read_rule(const std::string& rule_name, const json_value& v) const {
    expect(rule_name, v, json_value::kind::object, "an object");
    filter_rule r;
    r.offset = v.offset;
    const json_value* syscall = nullptr;
    for (const auto& [key, value] : v.members())
      if (key == "syscall") {
        expect(rule_name + ", syscall", value, json_value::kind::string, "a string");
        syscall = &value;
      }
    if (syscall == nullptr) fail(rule_name, v, "missing key \"syscall\"");
    r.syscall = syscall->text;
    const std::string where = rule_name + " (" + r.syscall + ")";
    for (const auto& [key, value] : v.members()) {
      if (key == "syscall") continue;
      if (key == "args") {
        expect(where + ", args", value, json_value::kind::array, "an array");
        // seccompiler: an empty list is an error (EmptyRule), not "any arguments".
        if (value.items.empty())
          fail(where + ", args", value, "an empty args list (leave args out to match any arguments)");
        if (value.items.size() > max_conditions)
          fail(where + ", args", value,
               std::to_string(value.items.size()) + " conditions; a rule holds at most " +
                   std::to_string(max_conditions) + " (split it into several rules)");
        for (std::size_t i = 0; i < value.items.size(); ++i)
          r.args.push_back(read_argument(where + ", args[" + std::to_string(i) + "]", value.items[i]));
      } else if (key == "comment") {
        expect(where + ", comment", value, json_value::kind::string, "a string");
      } else {
        fail(where, value, "unknown key \"" + std::string(key) + "\" (expected syscall, args, comment)");
      }
    }
    return r;
  }

  filter read_filter(const std::string& name, const json_value& v) const {
    const std::string where = "filter \"" + name + "\"";
    expect(where, v, json_value::kind::object, "an object");
    filter f;
    f.name = name;
    f.offset = v.offset;
    const json_value* mismatch = nullptr;
    const json_value* match = nullptr;
    const json_value* rules = nullptr;
    for (const auto& [key, value] : v.members()) {
      // serde's aliases: giving both spellings is a duplicate field.
      if (key == "mismatch_action" || key == "default_action") {
        if (mismatch != nullptr) fail(where, value, "both mismatch_action and its alias default_action");
        mismatch = &value;
      } else if (key == "match_action" || key == "filter_action") {
        if (match != nullptr) fail(where, value, "both match_action and its alias filter_action");
        match = &value;
      } else if (key == "filter") {
        expect(where + ", filter", value, json_value::kind::array, "an array");
        rules = &value;
      } else {
        fail(where, value,
             "unknown key \"" + std::string(key) + "\" (expected mismatch_action, match_action, filter)");
      }
    }
    if (mismatch == nullptr) fail(where, v, "missing key \"mismatch_action\"");
    if (match == nullptr) fail(where, v, "missing key \"match_action\"");
    if (rules == nullptr) fail(where, v, "missing key \"filter\"");
    f.mismatch_action = read_action(where + ", mismatch_action", *mismatch);
    f.match_action = read_action(where + ", match_action", *match);
    // seccompiler: IdenticalActions.
    if (f.mismatch_action == f.match_action)
      fail(where, *match, "match_action and mismatch_action are the same, so the filter does nothing");
    for (std::size_t i = 0; i < rules->items.size(); ++i)
      f.rules.push_back(read_rule(where + ", rule " + std::to_string(i), rules->items[i]));
    return f;
  }

  // `read_filters` reads every filter of the file (one bad filter makes the file bad, as in
  // seccompiler), in file order.
  std::vector<filter> read_filters(const json_value& root) const {
    expect("the file", root, json_value::kind::object, "an object mapping filter names to filters");
    std::vector<filter> out;
    for (const auto& [name, value] : root.members()) out.push_back(read_filter(std::string(name), value));
    return out;
  }
};

// `lower_filter` is one filter as the core's rules, each JSON rule its own rule set (named by
// its index and position, so the core's diagnoses name the rule), with the filter's match action.
inline runtime_policy lower_filter(const filter& f, std::string_view text,
                                   const seccompiler_options& options) {
  const std::string context = std::string(options.file_name) + ": filter \"" + f.name + "\"";
  std::vector<entry> rules;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < f.rules.size(); ++i) {
    const filter_rule& fr = f.rules[i];
    names.push_back("rule " + std::to_string(i) + " (" + position(text, fr.offset) + ")");
    const auto id = find_syscall(fr.syscall);
    if (!id)
      throw policy_error("sysfence: " + context + ": " + names.back() + ": unknown syscall \"" + fr.syscall +
                         "\" (not in sysfence's syscall tables)");
    rule r;
    r.syscall = *id;
    r.result = f.match_action;
    for (const argument& a : fr.args) {
      condition c;
      c.arg = static_cast<std::uint8_t>(a.index);
      c.op = a.op;
      c.size = a.size;
      c.mask = a.mask;
      // seccompiler compares (arg & mask) == (val & mask).
      c.value = a.op == cmp::masked_eq ? a.value & a.mask : a.value;
      r.conditions[r.count++] = c;
    }
    rules.push_back({r, static_cast<std::uint16_t>(i), 0, false});
  }
  return runtime_policy(std::move(rules), std::move(names), f.mismatch_action, options.targets, context);
}

}  // namespace detail::seccompiler

// `seccompiler_filter_names` lists the filters of a seccompiler JSON file, in file order; a file
// that is not valid seccompiler JSON throws policy_error.
inline std::vector<std::string> seccompiler_filter_names(std::string_view text,
                                                         const seccompiler_options& options = {}) {
  namespace sc = detail::seccompiler;
  const sc::json_value root = sc::parse_json(text, options.file_name);
  std::vector<std::string> names;
  for (const sc::filter& f : sc::reader{{text, options.file_name}}.read_filters(root)) names.push_back(f.name);
  return names;
}

// `load_seccompiler_json` reads filter `filter_name` of a seccompiler JSON file and compiles it
// for options.targets. Every problem throws policy_error, whose message names the file, the
// filter, the rule (index, position, syscall) and what is wrong. Every filter of the file is
// checked, as seccompiler does. Stricter than seccompiler: duplicate keys, a plain and a
// conditional rule for one syscall (seccompiler silently keeps only the conditional one),
// conditions that can never match, and errno or trace values it would truncate are errors.
inline runtime_policy load_seccompiler_json(std::string_view text, std::string_view filter_name,
                                            const seccompiler_options& options = {}) {
  namespace sc = detail::seccompiler;
  const sc::json_value root = sc::parse_json(text, options.file_name);
  std::vector<sc::filter> filters = sc::reader{{text, options.file_name}}.read_filters(root);
  std::string names;
  for (const sc::filter& f : filters) {
    if (f.name == filter_name) return sc::lower_filter(f, text, options);
    names += (names.empty() ? "" : ", ") + ("\"" + f.name + "\"");
  }
  throw policy_error("sysfence: " + std::string(options.file_name) + ": no filter named \"" +
                     std::string(filter_name) + "\" (the file has " + (names.empty() ? "none" : names) + ")");
}

}  // namespace sysfence
