// SPDX-License-Identifier: MIT
// seccompiler.cpp - tests of seccompiler.hpp: every field, op and action, every error and its
// message, equivalence with typed policies in the simulator, and truncated or mutated input.
#include "sysfence/formats/seccompiler.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <linux/audit.h>

#include "sysfence/compile.hpp"
#include "sysfence/policy.hpp"
#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;

const seccompiler_options x86_64_options{"test.json", {arch::x86_64::value}};

runtime_policy load(std::string_view text, std::string_view filter = "f") {
  return load_seccompiler_json(text, filter, x86_64_options);
}

// `error_of` is the policy_error message loading `text` gives, or "" when it loads.
std::string error_of(std::string_view text, std::string_view filter = "f",
                     const seccompiler_options& options = x86_64_options) {
  try {
    (void)load_seccompiler_json(text, filter, options);
  } catch (const policy_error& e) {
    return e.what();
  }
  return {};
}

// `filter_with` is a one-filter file: actions and the rules' JSON.
std::string filter_with(std::string_view rules, std::string_view match = R"("allow")",
                        std::string_view mismatch = R"({"errno": 1})") {
  return std::string(R"({"f": {"mismatch_action": )") + std::string(mismatch) + R"(, "match_action": )" +
         std::string(match) + R"(, "filter": [)" + std::string(rules) + "]}}";
}

action run(const runtime_policy& p, sys::id s, std::array<std::uint64_t, 6> args = {}) {
  return evaluate(p.program(), call<arch::x86_64>(s, args)).result;
}

}  // namespace

TEST_CASE("a filter's plain rules and default: allow read, everything else the mismatch action") {
  const auto p = load(filter_with(R"({"syscall": "read"}, {"syscall": "close", "comment": "why"})"));
  CHECK(run(p, sys::id::read) == action::allow);
  CHECK(run(p, sys::id::close) == action::allow);
  CHECK(run(p, sys::id::write) == action::error(1));
  CHECK(p.default_action() == action::error(1));
  CHECK(p.rules().size() == 2);
  CHECK(check(p.program()) == bpf_error::none);
}

TEST_CASE("every action, as the match action and as the mismatch action") {
  const std::vector<std::pair<std::string, action>> actions{
      {R"("allow")", action::allow},
      {R"({"errno": 13})", action::error(13)},
      {R"("kill_thread")", action::kill_thread},
      {R"("kill_process")", action::kill_process},
      {R"("log")", action::log},
      {R"({"trace": 7})", action::trace(7)},
      {R"("trap")", action::trap()},
      {R"("user_notif")", action::user_notif},
  };
  for (const auto& m : actions)
    for (const auto& d : actions) {
      const std::string& match_json = m.first;
      const std::string& mismatch_json = d.first;
      const action match = m.second;
      const action mismatch = d.second;
      if (match == mismatch) continue;
      CAPTURE(match_json);
      CAPTURE(mismatch_json);
      const auto p = load(filter_with(R"({"syscall": "getppid"})", match_json, mismatch_json));
      CHECK(run(p, sys::id::getppid) == match);
      CHECK(run(p, sys::id::getpid) == mismatch);
    }
}

TEST_CASE("the aliases default_action and filter_action") {
  const auto p = load(
      R"({"f": {"default_action": "trap", "filter_action": "allow", "filter": [{"syscall": "getpid"}]}})");
  CHECK(run(p, sys::id::getpid) == action::allow);
  CHECK(run(p, sys::id::getppid) == action::trap());
}

TEST_CASE("every op at both widths, against the plain C++ comparison") {
  const std::array<std::uint64_t, 9> values{
      0, 1, 5, 6, 0xffffffffULL, 0x100000000ULL, 0x100000005ULL, 0xffffffff00000005ULL, ~std::uint64_t{0}};
  const std::array<std::string, 7> ops{
      R"("eq")", R"("ne")", R"("lt")", R"("le")", R"("gt")", R"("ge")", R"({"masked_eq": 4294967295})"};
  for (std::size_t o = 0; o < ops.size(); ++o)
    for (const bool dword : {true, false}) {
      CAPTURE(ops[o]);
      CAPTURE(dword);
      const std::uint64_t val = 5;
      const auto p = load(filter_with(R"({"syscall": "lseek", "args": [{"index": 1, "type": ")" +
                                      std::string(dword ? "dword" : "qword") + R"(", "op": )" + ops[o] +
                                      R"(, "val": 5, "comment": "offset"}]})"));
      for (const std::uint64_t x : values) {
        CAPTURE(x);
        const std::uint64_t a = dword ? x & 0xffffffffU : x;
        const bool expected = o == 0   ? a == val
                              : o == 1 ? a != val
                              : o == 2 ? a < val
                              : o == 3 ? a <= val
                              : o == 4 ? a > val
                              : o == 5 ? a >= val
                                       : (x & 0xffffffffU) == val;
        CHECK(run(p, sys::id::lseek, {0, x, 0, 0, 0, 0}) == (expected ? action::allow : action::error(1)));
      }
    }
}

TEST_CASE("masked_eq compares (arg & mask) with (val & mask), as seccompiler does") {
  const auto p = load(filter_with(
      R"({"syscall": "mprotect", "args": [{"index": 2, "type": "qword", "op": {"masked_eq": 4}, "val": 5}]})"));
  CHECK(run(p, sys::id::mprotect, {0, 0, 4, 0, 0, 0}) == action::allow);
  CHECK(run(p, sys::id::mprotect, {0, 0, 7, 0, 0, 0}) == action::allow);
  CHECK(run(p, sys::id::mprotect, {0, 0, 3, 0, 0, 0}) == action::error(1));
}

TEST_CASE("conditions of a rule are all needed; rules of one syscall are alternatives") {
  const auto p = load(filter_with(
      R"({"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "ge", "val": 100},
                                        {"index": 0, "type": "dword", "op": "le", "val": 102},
                                        {"index": 2, "type": "qword", "op": "lt", "val": 10}]},
         {"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}]})"));
  CHECK(run(p, sys::id::write, {101, 0, 9, 0, 0, 0}) == action::allow);
  CHECK(run(p, sys::id::write, {101, 0, 10, 0, 0, 0}) == action::error(1));
  CHECK(run(p, sys::id::write, {103, 0, 9, 0, 0, 0}) == action::error(1));
  CHECK(run(p, sys::id::write, {1, 0, 99, 0, 0, 0}) == action::allow);
  CHECK(run(p, sys::id::write, {0x100000001ULL, 0, 99, 0, 0, 0}) == action::allow);  // dword: low half
}

TEST_CASE("one file holds several filters; each loads by name, and the names are listed") {
  const std::string file = R"({"a": {"mismatch_action": "kill_process", "match_action": "allow",
                                      "filter": [{"syscall": "read"}]},
                                "b": {"mismatch_action": "kill_process", "match_action": "allow",
                                      "filter": []}})";
  CHECK(seccompiler_filter_names(file) == std::vector<std::string>{"a", "b"});
  CHECK(run(load(file, "a"), sys::id::read) == action::allow);
  CHECK(run(load(file, "b"), sys::id::read) == action::kill_process);
}

TEST_CASE("explain and dump name the rules and the program's syscalls") {
  const auto p = load(filter_with(
      R"({"syscall": "read"}, {"syscall": "write", "args": [{"index": 0, "type": "qword", "op": "eq", "val": 1}]})"));
  CHECK(p.explain() ==
        "default: ERRNO(1)\nrule 0 (line 1, column 77):\n  allow read\nrule 1 (line 1, column 98):\n"
        "  allow write when arg64<0> == 1\n");
  CHECK(p.dump().find("# >= write") != std::string::npos);
}

TEST_CASE("several ABIs: one program serving x86_64 and i386, each by its own numbers") {
  const seccompiler_options both{"test.json", {arch::x86_64::value, arch::x86::value}};
  const auto p = load_seccompiler_json(filter_with(R"({"syscall": "getppid"})"), "f", both);
  CHECK(evaluate(p.program(), call<arch::x86_64>(sys::id::getppid)).result == action::allow);
  CHECK(evaluate(p.program(), call<arch::x86>(sys::id::getppid)).result == action::allow);
  CHECK(evaluate(p.program(), call<arch::x86>(sys::id::getpid)).result == action::error(1));
}

// ---------------------------------------------------------------------------------------------
// Errors: each message names the file, the place (filter, rule, syscall) and the problem.

TEST_CASE("JSON syntax errors give the line and column") {
  CHECK(error_of("{\n  \"f\": }") ==
        "sysfence: test.json: line 2, column 8: JSON syntax error: syntax error while parsing value - "
        "unexpected "
        "'}'; expected '[', '{', or a literal");
  CHECK(error_of("").find("test.json: line 1, column 1: JSON syntax error") != std::string::npos);
  CHECK(error_of(R"({"f": 1} x)").find("line 1, column 10: JSON syntax error") != std::string::npos);
}

TEST_CASE("a duplicate key is an error, at every level") {
  CHECK(error_of(R"({"f": {"filter": [], "filter": []}})") ==
        "sysfence: test.json: line 1, column 29: duplicate key \"filter\" (JSON parsers disagree on which "
        "one wins)");
  CHECK(error_of(R"({"f": {}, "f": {}})").find("duplicate key \"f\"") != std::string::npos);
  CHECK(
      error_of(filter_with(R"({"syscall": "read", "syscall": "write"})")).find("duplicate key \"syscall\"") !=
      std::string::npos);
  CHECK(error_of(filter_with(R"({"syscall": "read", "args": [{"index": 0, "index": 1}]})"))
            .find("duplicate key \"index\"") != std::string::npos);
}

TEST_CASE("deeply nested input is refused, not recursed into") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(error_of(deep) == "sysfence: test.json: line 1, column 33: JSON nested deeper than 32 levels");
}

TEST_CASE("structure errors name the filter, the rule, the syscall and the key") {
  struct bad {
    std::string json;
    std::string message;
  };
  const std::string f = R"({"f": )";
  const std::vector<bad> cases{
      {"[]",
       "sysfence: test.json: line 1, column 1: the file: expected an object mapping filter names to "
       "filters, found an array"},
      {R"({"f": []})", "line 1, column 7: filter \"f\": expected an object, found an array"},
      {R"({"f": {"mismatch_action": "allow", "match_action": "trap", "filter": [], "comment": "x"}})",
       "filter \"f\": unknown key \"comment\" (expected mismatch_action, match_action, filter)"},
      {R"({"f": {"match_action": "allow", "filter": []}})", "filter \"f\": missing key \"mismatch_action\""},
      {R"({"f": {"mismatch_action": "allow", "filter": []}})", "filter \"f\": missing key \"match_action\""},
      {R"({"f": {"mismatch_action": "trap", "match_action": "allow"}})",
       "filter \"f\": missing key \"filter\""},
      {R"({"f": {"mismatch_action": "trap", "default_action": "trap", "match_action": "allow", "filter": []}})",
       "filter \"f\": both mismatch_action and its alias default_action"},
      {R"({"f": {"mismatch_action": "trap", "filter_action": "log", "match_action": "allow", "filter": []}})",
       "filter \"f\": both match_action and its alias filter_action"},
      {R"({"f": {"mismatch_action": "trap", "match_action": "allow", "filter": {}}})",
       "filter \"f\", filter: expected an array, found an object"},
      {R"({"f": {"mismatch_action": "allow", "match_action": "allow", "filter": []}})",
       "filter \"f\": match_action and mismatch_action are the same, so the filter does nothing"},
      {filter_with("1"), "filter \"f\", rule 0: expected an object, found an unsigned integer"},
      {filter_with(R"({"syscall": "read"}, {})"), "filter \"f\", rule 1: missing key \"syscall\""},
      {filter_with(R"({"syscall": 7})"),
       "filter \"f\", rule 0, syscall: expected a string, found an unsigned integer"},
      {filter_with(R"({"syscall": "read", "action": "allow"})"),
       "filter \"f\", rule 0 (read): unknown key \"action\" (expected syscall, args, comment)"},
      {filter_with(R"({"syscall": "read", "comment": 1})"),
       "filter \"f\", rule 0 (read), comment: expected a string, found an unsigned integer"},
      {filter_with(R"({"syscall": "read", "args": {}})"),
       "filter \"f\", rule 0 (read), args: expected an array"},
      {filter_with(R"({"syscall": "read", "args": []})"),
       "filter \"f\", rule 0 (read), args: an empty args list (leave args out to match any arguments)"},
      {filter_with(R"({"syscall": "read", "args": [1]})"),
       "filter \"f\", rule 0 (read), args[0]: expected an object, found an unsigned integer"},
      {filter_with(R"({"syscall": "read", "args": [{"type": "dword", "op": "eq", "val": 1}]})"),
       "filter \"f\", rule 0 (read), args[0]: missing key \"index\""},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "op": "eq", "val": 1}]})"),
       "rule 0 (read), args[0]: missing key \"type\""},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "val": 1}]})"),
       "rule 0 (read), args[0]: missing key \"op\""},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq"}]})"),
       "rule 0 (read), args[0]: missing key \"val\""},
      {filter_with(
           R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1, "x": 2}]})"),
       "rule 0 (read), args[0]: unknown key \"x\" (expected index, type, op, val, comment)"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 6, "type": "dword", "op": "eq", "val": 1}]})"),
       "rule 0 (read), args[0], index: 6 is above 5"},
      {filter_with(R"({"syscall": "read", "args": [{"index": -1, "type": "dword", "op": "eq", "val": 1}]})"),
       "rule 0 (read), args[0], index: expected an unsigned integer, found a negative integer"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "word", "op": "eq", "val": 1}]})"),
       "rule 0 (read), args[0], type: unknown type \"word\" (expected \"dword\" or \"qword\")"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "op": "in", "val": 1}]})"),
       "rule 0 (read), args[0], op: unknown op \"in\""},
      {filter_with(
           R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "op": {"masked": 1}, "val": 1}]})"),
       "rule 0 (read), args[0], op: expected eq, ne, lt, le, gt, ge or {\"masked_eq\": mask}"},
      {filter_with(
           R"({"syscall": "read", "args": [{"index": 0, "type": "dword", "op": {"masked_eq": -1}, "val": 1}]})"),
       "rule 0 (read), args[0], masked_eq: expected an unsigned integer, found a negative integer"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "qword", "op": "eq", "val": -1}]})"),
       "rule 0 (read), args[0], val: expected an unsigned integer, found a negative integer"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "qword", "op": "eq", "val": "1"}]})"),
       "rule 0 (read), args[0], val: expected an unsigned integer, found a string"},
      {filter_with(R"({"syscall": "read", "args": [{"index": 0, "type": "qword", "op": "eq", "val": 1.5}]})"),
       "rule 0 (read), args[0], val: expected an unsigned integer, found a fractional number"},
      {filter_with(
           R"({"syscall": "read", "args": [{"index": 0, "type": "qword", "op": "eq", "val": 18446744073709551616}]})"),
       "rule 0 (read), args[0], val: expected an unsigned integer, found a fractional number"},
      {filter_with(
           R"({"syscall": "read", "args": [{"index": 0, "type": "qword", "op": "eq", "val": 1, "comment": 2}]})"),
       "rule 0 (read), args[0], comment: expected a string, found an unsigned integer"},
  };
  for (const bad& b : cases) {
    CAPTURE(b.json);
    const std::string e = error_of(b.json);
    CHECK_MESSAGE(e.find(b.message) != std::string::npos, e);
    CHECK(e.rfind("sysfence: test.json: line ", 0) == 0);
  }
}

TEST_CASE("action errors") {
  struct bad {
    std::string action;
    std::string message;
  };
  const std::vector<bad> cases{
      {R"("deny")",
       "match_action: unknown action \"deny\" (expected \"allow\", \"kill_thread\", \"kill_process\", "
       "\"log\", \"trap\", \"user_notif\", {\"errno\": n} or {\"trace\": n})"},
      {R"({"errno": 1, "trace": 1})",
       "match_action: an action is a string or an object with one key, \"errno\" or "
       "\"trace\"; found 2 keys"},
      {"3",
       "match_action: an action is a string or an object with one key, \"errno\" or \"trace\"; found an "
       "unsigned integer"},
      {R"({"kill": 1})",
       "match_action: unknown action \"kill\" (an object action is {\"errno\": n} or {\"trace\": n})"},
      {R"({"errno": 0})", "match_action, errno: errno 0 is not 1 to 4095 (0 would fake a success)"},
      {R"({"errno": 4096})", "match_action, errno: errno 4096 is not 1 to 4095"},
      {R"({"errno": 4294967296})", "match_action, errno: 4294967296 is above 4294967295"},
      {R"({"errno": -1})", "match_action, errno: expected an unsigned integer, found a negative integer"},
      {R"({"trace": 65536})", "match_action, trace: 65536 is above 65535"},
  };
  for (const bad& b : cases) {
    CAPTURE(b.action);
    const std::string e = error_of(filter_with(R"({"syscall": "read"})", b.action, R"("kill_process")"));
    CHECK_MESSAGE(e.find("filter \"f\", " + b.message) != std::string::npos, e);
  }
}

TEST_CASE("resolution errors: unknown syscall, a syscall the target lacks, no such filter") {
  CHECK(error_of(filter_with(R"({"syscall": "read"}, {"syscall": "no_such_call"})")) ==
        "sysfence: test.json: filter \"f\": rule 1 (line 1, column 98): unknown syscall \"no_such_call\" "
        "(not in "
        "sysfence's syscall tables)");
  const seccompiler_options on_aarch64{"arm.json", {arch::aarch64::value}};
  CHECK(error_of(filter_with(R"({"syscall": "open"})"), "f", on_aarch64) ==
        "sysfence: arm.json: filter \"f\": rule 0 (line 1, column 77): open does not exist on aarch64");
  CHECK(error_of(filter_with(R"({"syscall": "open"})"), "vmm") ==
        "sysfence: test.json: no filter named \"vmm\" (the file has \"f\")");
  CHECK(error_of("{}", "vmm") == "sysfence: test.json: no filter named \"vmm\" (the file has none)");
}

TEST_CASE(
    "a plain and a conditional rule for one syscall: seccompiler keeps only the conditional one, sysfence "
    "refuses") {
  // A deny-list: seccompiler's program would refuse only dup(3), letting every other dup through.
  const std::string json = filter_with(
      R"({"syscall": "dup"},
         {"syscall": "dup", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 3}]})",
      R"({"errno": 13})", R"("allow")");
  CHECK(error_of(json) ==
        "sysfence: test.json: filter \"f\": rule 0 (line 1, column 78) matches dup whatever its arguments "
        "and rule 1 "
        "(line 2, column 10) only under conditions, so the conditions would have no effect; keep one of the "
        "two "
        "rules");
}

TEST_CASE("conditions that can never match, and programs too long, are errors") {
  CHECK(
      error_of(filter_with(
          R"({"syscall": "dup", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 4294967296}]})")) ==
      "sysfence: test.json: filter \"f\": rule 0 (line 1, column 77) (dup), condition on argument 0: a "
      "32-bit "
      "comparison has a value above 0xffffffff, so the condition can never match");
  CHECK(
      error_of(
          filter_with(
              R"({"syscall": "dup", "args": [{"index": 0, "type": "dword", "op": {"masked_eq": 4294967296}, "val": 0}]})"))
          .find("condition on argument 0: a 32-bit masked comparison has a mask above 0xffffffff") !=
      std::string::npos);
  const std::string nine(R"({"index": 0, "type": "dword", "op": "ne", "val": 1}, )");
  std::string args;
  for (int i = 0; i < 9; ++i) args += nine;
  args.resize(args.size() - 2);
  CHECK(error_of(filter_with(R"({"syscall": "dup", "args": [)" + args + "]}"))
            .find("rule 0 (dup), args: 9 conditions; a rule holds at most 8 (split it into several rules)") !=
        std::string::npos);
  std::string rules;
  for (int i = 0; i < 2000; ++i)
    rules += R"({"syscall": "write", "args": [{"index": 2, "type": "qword", "op": "eq", "val": )" +
             std::to_string(i * 3) + R"(}, {"index": 1, "type": "qword", "op": "eq", "val": )" +
             std::to_string(i) + "}]},";
  rules.pop_back();
  const std::string e = error_of(filter_with(rules));
  CHECK_MESSAGE(
      e.rfind("sysfence: test.json: filter \"f\": the program would be longer than the kernel's 4096 "
              "instructions",
              0) == 0,
      e);
}

// The typed twins (a named namespace: clang 14 warns of a rule set's unused `name` in an
// anonymous one).
namespace seccompiler_test {
using namespace sysfence;

struct every_kind : rule_set_base {
  static constexpr std::string_view name = "every_kind";
  static constexpr auto simple_rules = syscalls(sys::read, sys::close, sys::exit_group);
  static constexpr std::array conditional_rules{
      rule{sys::write, arg32<0> == 1},
      rule{sys::write, arg32<0> >= 100, arg32<0> <= 102},
      rule{sys::dup, arg64<0> == 0x100000005ULL},
      rule{sys::dup2, arg64<1> != 7},
      rule{sys::dup3, arg32<2> < 5},
      rule{sys::lseek, arg64<1> <= 0xffffffffULL, arg32<2> > 0},
      rule{sys::socket, arg32<0> > 1, arg32<1> >= 2},
      rule{sys::mprotect, (arg32<2> & 4) == 0},
      rule{sys::fcntl, (arg64<1> & 0xffffffff00000000ULL) == 0x100000000ULL},
      rule{sys::mmap, arg64<2> < 0x100000000ULL, arg64<5> >= 0x8000000000000000ULL},
  };
};

struct denied : rule_set_base {
  static constexpr std::string_view name = "denied";
  static constexpr std::array conditional_rules{
      rule{sys::getppid}.then(action::error(EACCES)),
      rule{sys::kill, arg32<1> == 9}.then(action::error(EACCES)),
      rule{sys::kill, arg32<1> == 15}.then(action::error(EACCES)),
  };
};

}  // namespace seccompiler_test
using seccompiler_test::denied;
using seccompiler_test::every_kind;

// ---------------------------------------------------------------------------------------------
// Equivalence: the same policy as JSON and as types gives the same action on every number of the
// table (and past it) with edge-value arguments in each position.

namespace {

constexpr std::string_view every_kind_json = R"({
  "every_kind": {
    "mismatch_action": {"errno": 1},
    "match_action": "allow",
    "filter": [
      {"syscall": "read"}, {"syscall": "close"}, {"syscall": "exit_group"},
      {"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "eq", "val": 1}]},
      {"syscall": "write", "args": [{"index": 0, "type": "dword", "op": "ge", "val": 100},
                                    {"index": 0, "type": "dword", "op": "le", "val": 102}]},
      {"syscall": "dup", "args": [{"index": 0, "type": "qword", "op": "eq", "val": 4294967301}]},
      {"syscall": "dup2", "args": [{"index": 1, "type": "qword", "op": "ne", "val": 7}]},
      {"syscall": "dup3", "args": [{"index": 2, "type": "dword", "op": "lt", "val": 5}]},
      {"syscall": "lseek", "args": [{"index": 1, "type": "qword", "op": "le", "val": 4294967295},
                                    {"index": 2, "type": "dword", "op": "gt", "val": 0}]},
      {"syscall": "socket", "args": [{"index": 0, "type": "dword", "op": "gt", "val": 1},
                                     {"index": 1, "type": "dword", "op": "ge", "val": 2}]},
      {"syscall": "mprotect", "args": [{"index": 2, "type": "dword", "op": {"masked_eq": 4}, "val": 0}]},
      {"syscall": "fcntl", "args": [{"index": 1, "type": "qword", "op": {"masked_eq": 18446744069414584320},
                                     "val": 4294967296, "comment": "upper half is 1"}]},
      {"syscall": "mmap", "args": [{"index": 2, "type": "qword", "op": "lt", "val": 4294967296},
                                   {"index": 5, "type": "qword", "op": "ge", "val": 9223372036854775808}]}
    ]
  }
})";

// `disagreements` counts the calls on which the two programs answer differently: every number of
// the x86_64 table and 8 past it, with each edge value (and the rules' own values) in each
// argument, the others 0; and with all arguments set to one value.
std::size_t disagreements(std::span<const bpf::insn> a, std::span<const bpf::insn> b, std::size_t& calls) {
  std::vector<std::uint64_t> values{0,
                                    1,
                                    2,
                                    4,
                                    5,
                                    7,
                                    100,
                                    101,
                                    102,
                                    103,
                                    0x7fffffffULL,
                                    0x80000000ULL,
                                    0xffffffffULL,
                                    0x100000000ULL,
                                    0x100000001ULL,
                                    0x100000005ULL,
                                    0x1ffffffffULL,
                                    0x7fffffffffffffffULL,
                                    0x8000000000000000ULL,
                                    0xffffffff00000001ULL,
                                    0xfffffffffffffffeULL,
                                    ~std::uint64_t{0}};
  std::size_t bad = 0;
  for (std::uint32_t nr = 0; nr < arch::x86_64::value.table_size + 8; ++nr) {
    auto compare = [&](const std::array<std::uint64_t, 6>& args) {
      seccomp_data d{static_cast<int>(nr), AUDIT_ARCH_X86_64, 0, {}};
      for (std::size_t i = 0; i < 6; ++i) d.args[i] = args[i];
      ++calls;
      if (!(evaluate(a, d).result == evaluate(b, d).result)) ++bad;
    };
    for (const std::uint64_t v : values) {
      compare({v, v, v, v, v, v});
      for (std::size_t i = 0; i < 6; ++i) {
        std::array<std::uint64_t, 6> args{};
        args[i] = v;
        compare(args);
      }
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("equivalence: every_kind as JSON and as types answer every call the same") {
  const auto json =
      load_seccompiler_json(every_kind_json, "every_kind", {"every_kind.json", {arch::x86_64::value}});
  const auto& typed = compile<basic_policy<action::error(1), every_kind>, arch::x86_64>();
  std::size_t calls = 0;
  CHECK(disagreements(json.program(), typed, calls) == 0);
  CHECK(calls > 50000);
  MESSAGE("calls compared: " << calls);
}

TEST_CASE("equivalence: a deny-list (match errno, mismatch kill_process) as JSON and as types") {
  const auto json = load_seccompiler_json(
      R"({"d": {"mismatch_action": "kill_process", "match_action": {"errno": 13}, "filter": [
           {"syscall": "getppid"},
           {"syscall": "kill", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 9}]},
           {"syscall": "kill", "args": [{"index": 1, "type": "dword", "op": "eq", "val": 15}]}]}})",
      "d", {"d.json", {arch::x86_64::value}});
  const auto& typed = compile<basic_policy<action::kill_process, denied>, arch::x86_64>();
  std::size_t calls = 0;
  CHECK(disagreements(json.program(), typed, calls) == 0);
}

// ---------------------------------------------------------------------------------------------
// Robustness: every truncation of a valid file and byte mutations at every position load or
// throw policy_error; nothing else escapes and nothing crashes (the asan preset runs this).

TEST_CASE("truncated and mutated files: a policy or a policy_error, never anything else") {
  const std::string valid(every_kind_json);
  std::size_t loaded = 0, refused = 0;
  auto attempt = [&](const std::string& text) {
    try {
      const auto p = load_seccompiler_json(text, "every_kind", {"m.json", {arch::x86_64::value}});
      CHECK(check(p.program()) == bpf_error::none);
      ++loaded;
    } catch (const policy_error& e) {
      CHECK(std::string_view(e.what()).rfind("sysfence: m.json: ", 0) == 0);
      ++refused;
    }
  };
  for (std::size_t n = 0; n <= valid.size(); ++n) attempt(valid.substr(0, n));
  const std::string replacements("{}[]\",:0 9-.\\ex\x01\xff");
  for (std::size_t i = 0; i < valid.size(); ++i)
    for (const char c : replacements) {
      if (valid[i] == c) continue;
      std::string text = valid;
      text[i] = c;
      attempt(text);
    }
  for (std::size_t i = 0; i < valid.size(); ++i)
    attempt(valid.substr(0, i) + valid.substr(i + 1));  // deletions
  MESSAGE("loaded " << loaded << ", refused " << refused);
  CHECK(loaded > 0);
  CHECK(refused > 0);
}
