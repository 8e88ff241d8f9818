// SPDX-License-Identifier: MIT
// oci_libseccomp.cpp - Docker's default profile, moby's fixtures and hand-written profiles loaded by
// formats/oci.hpp and, independently, the way dockerd + runc hand them to libseccomp 2.5.4: both
// programs answer every syscall number of every ABI served, with edge-case arguments, the same.
#include "sysfence/formats/oci.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <linux/audit.h>
#include <nlohmann/json.hpp>
#include <seccomp.h>
#include <unistd.h>

#include "libseccomp_export.hpp"
#include "oci_profiles.hpp"
#include "runc_peer.hpp"
#include "sysfence/simulate.hpp"

namespace {
using namespace sysfence;
using nlohmann::json;

using libseccomp_test::exported;
using oci_test::profile_text;

// --- the profile as dockerd resolves it and runc adds it to libseccomp (independent of oci.hpp) ---

// `peer` is the libseccomp side of one profile: the program, or the error runc would fail with.
struct peer {
  std::uint32_t default_action = 0;
  std::vector<runc_peer::rule> rules;
  std::vector<bpf::insn> program;
  int error = 0;                        // seccomp_arch_add's or seccomp_rule_add's failure, if any
  std::set<std::string> unknown_names;  // names libseccomp 2.5.4 does not know (runc skips them)
};

peer libseccomp_build(const std::string& text, const std::vector<std::string>& caps, unsigned major, unsigned minor) {
  const runc_peer::profile p = runc_peer::resolve(text, caps, major, minor);
  runc_peer::built b;
  runc_peer::build(p, b);
  REQUIRE(b.ctx != nullptr);
  peer out{p.default_action, p.rules, {}, b.error, b.unknown_names};
  if (out.error == 0) out.program = exported(b.ctx);
  return out;
}

// --- the comparison ---

// `abi` is one ABI a program serves: its audit value, number offset and table.
struct abi {
  const char* name;
  std::uint32_t audit;
  std::uint32_t nr_base;
  std::uint32_t scmp_token;
  const arch::target* target;
};
constexpr abi abis[]{
    {"x86_64", AUDIT_ARCH_X86_64, 0, SCMP_ARCH_X86_64, &arch::x86_64::value},
    {"i386", AUDIT_ARCH_I386, 0, SCMP_ARCH_X86, &arch::x86::value},
    {"x32", AUDIT_ARCH_X86_64, 0x40000000U, SCMP_ARCH_X32, &arch::x32::value},
};

// `tally` counts calls and their outcomes for one profile.
struct tally {
  std::size_t calls = 0;
  std::size_t disagreements = 0;
  std::size_t newer_enosys = 0;      // numbers sysfence's tables do not name: ENOSYS (like runc's patchbpf), libseccomp the default
  std::size_t unknown_to_peer = 0;   // syscalls libseccomp 2.5.4 cannot name: runc skips them, sysfence does not
  std::size_t x32_upper_half = 0;    // x32: libseccomp compares the low half only
  std::size_t i386_wide_constant = 0;    // i386: a constant above 32 bits, whose low half libseccomp compares
  std::size_t i386_multiplexed = 0;      // i386 socketcall/ipc: libseccomp adds the multiplexed call for socket calls
  std::size_t wide_ordered_bug = 0;      // libseccomp 2.5.4's 64-bit <, <=, >, >= with a constant above 32 bits
  std::uint64_t executed_sysfence = 0, executed_libseccomp = 0;
  std::uint32_t max_sysfence = 0, max_libseccomp = 0;
  std::size_t native_calls = 0;
};

// `holds` is one libseccomp comparison of the value the syscall reads.
bool holds(const scmp_arg_cmp& c, std::uint64_t x) {
  switch (c.op) {
    case SCMP_CMP_NE: return x != c.datum_a;
    case SCMP_CMP_LT: return x < c.datum_a;
    case SCMP_CMP_LE: return x <= c.datum_a;
    case SCMP_CMP_EQ: return x == c.datum_a;
    case SCMP_CMP_GE: return x >= c.datum_a;
    case SCMP_CMP_GT: return x > c.datum_a;
    default: return (x & c.datum_a) == (c.datum_b & c.datum_a);  // MASKED_EQ: libseccomp masks datum_b too
  }
}

// `meaning` is what the resolved rules say of one call, the third opinion when the programs
// differ: a plain rule of the syscall answers every call (the first one), else the first
// conditional rule whose conditions hold (all of them; any of them once split), else the default.
// i386 syscalls read 32-bit arguments: the comparison is of the low half, zero-extended.
std::uint32_t meaning(const peer& p, std::uint32_t token, std::uint32_t nr, const std::array<std::uint64_t, 6>& args,
                      bool narrow, bool& wide_constant) {
  std::uint32_t plain = 0, conditional = 0;
  bool have_plain = false, have_conditional = false;
  wide_constant = false;
  // The number's name in libseccomp's tables (its name-to-number lookup gives pseudo-numbers for
  // i386's socket calls).
  char* resolved = seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr));
  const std::string name = resolved != nullptr ? resolved : "";
  std::free(resolved);
  for (const runc_peer::rule& r : p.rules) {
    if (name.empty() || std::find(r.names.begin(), r.names.end(), name) == r.names.end()) continue;
    if (r.conditions.empty()) {
      if (!have_plain) plain = r.action;
      have_plain = true;
      continue;
    }
    bool all = true, any = false;
    for (const scmp_arg_cmp& c : r.conditions) {
      wide_constant = wide_constant || (c.datum_a >> 32) != 0 || (c.datum_b >> 32) != 0;
      const std::uint64_t x = narrow ? args[c.arg] & 0xffffffffULL : args[c.arg];
      const bool h = holds(c, x);
      all = all && h;
      any = any || h;
    }
    if ((r.split ? any : all) && !have_conditional) {
      conditional = r.action;
      have_conditional = true;
    }
  }
  return have_plain ? plain : have_conditional ? conditional : p.default_action;
}

// `values` are edge-case argument values around the profile's constants.
std::vector<std::uint64_t> values_of(const std::string& text) {
  std::set<std::uint64_t> v{0, 1, 2, 0xffffffffULL, 0x100000000ULL, 0x100000001ULL, 0x7fffffffffffffffULL, ~std::uint64_t{0}};
  const json p = json::parse(text);
  for (const json& rule : p.value("syscalls", json::array()))
    if (rule.contains("args") && !rule.at("args").is_null())
      for (const json& a : rule.at("args"))
        for (const char* key : {"value", "valueTwo"})
          if (a.contains(key)) {
            const auto c = a.at(key).get<std::uint64_t>();
            for (const std::uint64_t x : std::initializer_list<std::uint64_t>{c - 1, c, c + 1, c | 0x100000000ULL, c | 0xffffffff00000000ULL, c & 0xffffffffULL})
              v.insert(x);
          }
  return {v.begin(), v.end()};
}

// `compare` runs both programs on every number of each ABI the sysfence program serves.
tally compare(const oci_profile& ours, const peer& theirs, const std::string& text, const std::string& what) {
  tally t;
  const std::vector<std::uint64_t> values = values_of(text);
  std::set<std::string> unknown_ids;
  for (const std::string& n : theirs.unknown_names) unknown_ids.insert(n);
  for (const abi& a : abis) {
    bool served = false;
    for (const arch::target& x : ours.policy.targets()) served = served || x.name == a.target->name;
    if (!served) continue;
    const std::uint32_t end = a.target->table_size + 64;
    for (std::uint32_t n = 0; n < end; ++n) {
      const std::uint32_t nr = a.nr_base + n;
      // The syscall behind the number in sysfence's table, if any.
      std::string_view name;
      for (std::size_t id = 0; id < detail::syscall_count; ++id)
        if ((*a.target->numbers)[id] == static_cast<std::int32_t>(n)) name = detail::syscall_names[id];
      std::vector<std::array<std::uint64_t, 6>> vectors{{}, {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL}};
      for (const std::uint64_t v : values) {
        vectors.push_back({v, v, v, v, v, v});
        for (std::size_t i = 0; i < 6; ++i) {
          std::array<std::uint64_t, 6> one{};
          one[i] = v;
          vectors.push_back(one);
        }
      }
      for (const auto& args : vectors) {
        seccomp_data d{static_cast<int>(nr), a.audit, 0, {}};
        for (std::size_t i = 0; i < 6; ++i) d.args[i] = args[i];
        const evaluation x = evaluate(ours.policy.program(), d);
        const evaluation y = evaluate(theirs.program, d);
        REQUIRE(x.error == bpf_error::none);
        REQUIRE(y.error == bpf_error::none);
        ++t.calls;
        if (a.nr_base == 0 && a.audit == AUDIT_ARCH_X86_64) {
          ++t.native_calls;
          t.executed_sysfence += x.executed;
          t.executed_libseccomp += y.executed;
          t.max_sysfence = std::max(t.max_sysfence, x.executed);
          t.max_libseccomp = std::max(t.max_libseccomp, y.executed);
        }
        if (x.result == y.result) continue;
        // Documented differences, each checked to be exactly what the README says.
        if (name.empty() && x.result == action::error(ENOSYS) && y.result == ours.policy.default_action()) {
          ++t.newer_enosys;
          continue;
        }
        if (!name.empty() && unknown_ids.count(std::string(name)) != 0 && y.result == ours.policy.default_action()) {
          ++t.unknown_to_peer;
          continue;
        }
        bool wide = false;
        const std::uint32_t meant =
            meaning(theirs, a.scmp_token, nr, args, a.audit == AUDIT_ARCH_I386, wide);
        bool upper = false;
        for (const std::uint64_t v : args) upper = upper || (v >> 32) != 0;
        if (upper && a.nr_base != 0 && x.result.value == meant) {
          // x32: libseccomp's x32 compares the low 32 bits of the argument; sysfence all 64, which
          // x32's common entry points (x86_64's) read: sysfence answers as the rules say.
          seccomp_data low = d;
          for (auto& v : low.args) v &= 0xffffffffULL;
          if (evaluate(theirs.program, low).result == y.result) {
            ++t.x32_upper_half;
            continue;
          }
        }
        if (x.result.value == meant && a.audit == AUDIT_ARCH_I386 && (n == 102 || n == 117)) {
          ++t.i386_multiplexed;
          continue;
        }
        if (x.result.value == meant && wide && a.audit == AUDIT_ARCH_I386) {
          ++t.i386_wide_constant;
          continue;
        }
        if (x.result.value == meant && wide) {
          ++t.wide_ordered_bug;
          continue;
        }
        ++t.disagreements;
        if (t.disagreements < 20)
          FAIL_CHECK(what << ": " << std::string(a.name) << " nr " << n << " (" << name << ") args " << args[0] << ", " << args[1]
                          << ", " << args[2] << ", " << args[3] << ": sysfence " << detail::action_words(x.result)
                          << ", libseccomp " << detail::action_words(y.result));
      }
    }
  }
  return t;
}

oci_options x86_64_options(std::vector<std::string> caps) {
  oci_options o;
  o.capabilities = std::move(caps);
  o.kernel = kernel_version{5, 10};
  o.host = arch::x86_64::value;
  return o;
}

tally check_profile(const std::string& what, const std::string& text, std::vector<std::string> extra = {}) {
  std::vector<std::string> caps = docker_default_capabilities();
  caps.insert(caps.end(), extra.begin(), extra.end());
  const peer theirs = libseccomp_build(text, caps, 5, 10);
  oci_options o = x86_64_options(caps);
  o.file_name = what;
  if (theirs.error != 0) {
    CHECK_THROWS_AS((void)load_oci_profile(text, o), policy_error);
    MESSAGE(what << ": libseccomp refuses a rule (" << theirs.error << "), and so does sysfence");
    return {};
  }
  const oci_profile ours = load_oci_profile(text, o);
  const tally t = compare(ours, theirs, text, what);
  std::string unknown;
  for (const std::string& n : theirs.unknown_names) unknown += " " + n;
  MESSAGE(what << ": " << t.calls << " calls, " << t.disagreements << " disagreements; documented differences: "
               << t.newer_enosys << " calls of numbers sysfence's tables do not name (ENOSYS), " << t.unknown_to_peer
               << " calls of syscalls libseccomp 2.5.4 cannot name (" << (unknown.empty() ? " none" : unknown) << "), "
               << t.x32_upper_half << " x32 calls with upper halves, " << t.i386_wide_constant
               << " i386 calls against constants above 32 bits, " << t.i386_multiplexed << " i386 socketcall/ipc calls, "
               << t.wide_ordered_bug << " calls libseccomp 2.5.4 gets wrong (64-bit ordered comparison); programs: sysfence "
               << ours.policy.program().size() << ", libseccomp " << theirs.program.size() << " instructions; executed on x86_64: sysfence mean "
               << (t.native_calls ? static_cast<double>(t.executed_sysfence) / static_cast<double>(t.native_calls) : 0.0) << " max " << t.max_sysfence
               << ", libseccomp mean "
               << (t.native_calls ? static_cast<double>(t.executed_libseccomp) / static_cast<double>(t.native_calls) : 0.0) << " max "
               << t.max_libseccomp);
  CHECK(t.disagreements == 0);
  return t;
}

// Every op and every action, on three ABIs.
const char* const every_op = R"({"defaultAction": "SCMP_ACT_ERRNO",
 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 "syscalls": [
  {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["getppid"], "action": "SCMP_ACT_LOG"},
  {"names": ["getuid"], "action": "SCMP_ACT_TRAP"},
  {"names": ["getgid"], "action": "SCMP_ACT_TRACE", "errnoRet": 3},
  {"names": ["geteuid"], "action": "SCMP_ACT_KILL_PROCESS"},
  {"names": ["getegid"], "action": "SCMP_ACT_KILL"},
  {"names": ["gettid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
  {"names": ["sched_yield"], "action": "SCMP_ACT_NOTIFY"},
  {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21505, "op": "SCMP_CMP_EQ"}]},
  {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_NE"}, {"index": 2, "value": 100, "op": "SCMP_CMP_LT"}]},
  {"names": ["lseek"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_LE"}]},
  {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 4, "op": "SCMP_CMP_GE"}]},
  {"names": ["mprotect"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 4294967295, "op": "SCMP_CMP_GT"}]},
  {"names": ["openat"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 3, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
  {"names": ["setsockopt"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 18446744069414584320, "valueTwo": 4294967296, "op": "SCMP_CMP_MASKED_EQ"}]},
  {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]},
  {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
  {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
  {"names": ["read", "write", "close", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"}
 ]})";

// Contradictions libseccomp resolves: the first plain rule, a plain rule over conditional ones,
// duplicates, split != conditions, and a rule whose action is the default.
const char* const contradictions = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
 "syscalls": [
  {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
  {"names": ["getuid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
  {"names": ["getuid"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["getgid"], "action": "SCMP_ACT_LOG"},
  {"names": ["getgid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
  {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
  {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
  {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 38, "op": "SCMP_CMP_NE"}, {"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
  {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}
 ]})";

}  // namespace

TEST_CASE("Docker's default profile: sysfence and libseccomp agree on every call") {
  const std::string text = profile_text("default.json");
  check_profile("default.json", text);
  check_profile("default.json+CAP_SYS_ADMIN", text, {"CAP_SYS_ADMIN"});
  check_profile("default.json+every capability", text,
                {"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO",
                 "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_DAC_READ_SEARCH"});
}

TEST_CASE("moby's fixtures: sysfence and libseccomp agree on every call") {
  for (const char* f : {"example.json", "conditional_include.json", "default-old-format.json"})
    check_profile(f, profile_text(std::string("fixtures/") + f));
}

TEST_CASE("every op and action, and the contradictions libseccomp resolves: both agree") {
  check_profile("every_op", every_op);
  check_profile("contradictions", contradictions);
}

TEST_CASE("a contradiction libseccomp refuses (EEXIST) is refused by sysfence too") {
  check_profile("eexist", R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["getpid"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}]})");
}
