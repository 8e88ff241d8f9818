// SPDX-License-Identifier: MIT
// fuzz_kafel.cpp - libFuzzer harness for kafel.hpp: any bytes as a kafel policy; kafel_policy
// either succeeds (a program `check` accepts, whose rules are in priority order) or throws
// policy_error naming a line and column inside the text. Anything else thrown, a crash or
// undefined behaviour is a finding.
#include "sysfence/kafel.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <vector>

#include "sysfence/simulate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the ABIs: x86_64, i386, aarch64, or x86_64 with i386 and x32.
  namespace arch = sysfence::arch;
  const std::vector<std::vector<arch::target>> targets{
      {arch::x86_64::value},
      {arch::x86::value},
      {arch::aarch64::value},
      {arch::x86_64::value, arch::x86::value, arch::x32::value}};
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The parser alone: an error lies inside the text (line 1 and up, at most one past its end).
  const auto parsed = sysfence::detail::kafel::read(text, arch::x86_64::value);
  if (!parsed.err.ok() && (parsed.err.line == 0 || parsed.err.column == 0 || parsed.err.line > size + 1)) {
    std::fprintf(stderr, "fuzz_kafel: error at %u:%u outside the text\n", parsed.err.line, parsed.err.column);
    std::abort();
  }
  try {
    const sysfence::runtime_policy p = sysfence::kafel_policy(text, "fuzz.policy", targets[data[0] & 3U]);
    if (sysfence::check(p.program()) != sysfence::bpf_error::none || !p.first_match_wins()) {
      std::fprintf(stderr, "fuzz_kafel: the program fails check()\n");
      std::abort();
    }
  } catch (const sysfence::policy_error&) {
    // refused: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_kafel: %s thrown, not policy_error\n", e.what());
    std::abort();
  }
  return 0;
}
