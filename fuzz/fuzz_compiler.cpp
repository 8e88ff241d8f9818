// SPDX-License-Identifier: MIT
// fuzz_compiler.cpp - libFuzzer harness for the run-time compiler core: the input's bytes choose
// a policy (policy_generator.hpp) and calls; detail::compile must refuse it for a reason the rules
// show, or accept a policy without a conflict and produce a program the kernel would take and
// that answers each call as the rules mean. Any disagreement aborts with the policy, the call
// and the program.
#include "policy_generator.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace fz = sysfence_fuzz;

// With -DSYSFENCE_FUZZ_STATS, how the inputs fared is printed at exit (for tuning the decoder).
struct stats {
  std::size_t inputs = 0, refused = 0, too_long = 0, accepted = 0, calls = 0, longest = 0;
#ifdef SYSFENCE_FUZZ_STATS
  ~stats() {
    std::fprintf(stderr,
                 "fuzz_compiler: %zu inputs, %zu refused (%zu too long), %zu accepted, %zu calls compared, "
                 "longest program %zu\n",
                 inputs, refused, too_long, accepted, calls, longest);
  }
#endif
};
stats counted;

[[noreturn]] void fail(const std::string& what, const fz::generated_policy& p, const fz::compiled* c) {
  std::fprintf(stderr, "fuzz_compiler: %s\n%s%s", what.c_str(), fz::describe(p).c_str(),
               c != nullptr ? fz::disassembly(p, c->program).c_str() : "");
  std::abort();
}

// The shape of the policy comes from the input too: small and conflict-prone, or large; for one
// ABI or several, with portable rules or not.
fz::generator_options options_from(fz::byte_source& s) {
  const std::uint64_t shape = s.below(6);
  const std::uint64_t multi_abi = s.below(30), portable = s.below(60);
  if (shape >= 3) {
    fz::generator_options o = shape == 3   ? fz::large_policies
                              : shape == 4 ? fz::huge_policies
                                           : fz::one_word_policies;
    o.multi_abi_percent = multi_abi;
    o.portable_percent = portable;
    return o;
  }
  fz::generator_options o;
  o.multi_abi_percent = multi_abi;
  o.portable_percent = portable;
  o.max_syscalls = 1 + s.below(12);
  o.max_rules = 1 + s.below(shape == 0 ? 8 : 40);
  o.max_conditions = 1 + s.below(sysfence::max_conditions);
  o.mixed_kind_percent = s.below(10);
  o.other_action_percent = s.below(30);
  o.copy_percent = s.below(20);
  o.invalid_percent = s.below(4);
  o.libseccomp_percent = s.below(101);
  o.i386_percent = s.below(30);
  o.aarch64_percent = s.below(20);
  o.riscv64_percent = s.below(20);
  o.x32_percent = s.below(10);
  o.slot_percent = s.below(20);
  o.unfit_slot_percent = s.below(30);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::byte_source s{data, size};
  const fz::generator_options options = options_from(s);
  fz::generated_policy p = fz::generate_policy(s, options);
  if (s.below(64) == 0) p.rules.clear(), p.slot_count = 0;  // the empty policy: the default and the prologue

  const fz::compiled c = fz::compile(p);
  ++counted.inputs;
  if (!c.out.result.ok()) {
    ++counted.refused;
    counted.too_long += c.out.result.what == sysfence::detail::problem::too_long ? 1 : 0;
    if (const fz::rejection r = fz::check_rejection(p, c.out.result); !r.error.empty())
      fail("refused wrongly: " + r.error, p, nullptr);
    return 0;
  }
  if (const std::string why = fz::check_acceptance(p); !why.empty())
    fail("accepted, but should have been refused: " + why, p, &c);
  if (const std::string why = fz::check_program(p, c); !why.empty()) fail(why, p, &c);
  if (!c.values_fit) return 0;  // apply() would install nothing

  const auto satisfying = fz::satisfying_calls(s, p, 2);
  ++counted.accepted;
  counted.longest = std::max(counted.longest, c.program.size());
  auto compare = [&](const seccomp_data& d) {
    ++counted.calls;
    const fz::meant m = fz::meaning(p, d);
    const sysfence::evaluation e = sysfence::evaluate(c.program, d);
    if (m.disagreement)
      fail("rules " + std::to_string(m.first) + " and " + std::to_string(m.second) +
               " both match and answer differently; call: " + fz::describe(d),
           p, &c);
    if (!(e == m.result))
      fail("call: " + fz::describe(d) + "\nsysfence: " + fz::describe(e.result) + " (error " +
               std::to_string(static_cast<int>(e.error)) + ")\nmeaning:  " + fz::describe(m.result),
           p, &c);
  };
  // Each rule's satisfying calls as found, on each ABI with its syscall, then calls decoded
  // from the rest of the input.
  for (const fz::target_kind k : p.served()) {
    const sysfence::arch::target& t = fz::target_of(k);
    for (std::size_t r = 0; r < p.rules.size(); ++r) {
      const std::int64_t nr = fz::number_on(t, p.rules[r].r.syscall);
      for (std::size_t i = 0; nr >= 0 && i < satisfying[r].size(); ++i) {
        seccomp_data d{static_cast<int>(nr), t.audit, 0, {}};
        for (std::size_t a = 0; a < 6; ++a) d.args[a] = satisfying[r][i][a];
        compare(d);
      }
    }
  }
  for (int i = 0; i < 256 && !s.exhausted(); ++i) compare(fz::random_call(s, p, satisfying));
  return 0;
}
