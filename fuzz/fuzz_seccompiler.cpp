// SPDX-License-Identifier: MIT
// fuzz_seccompiler.cpp - libFuzzer harness for formats/seccompiler.hpp: any bytes as a seccompiler
// JSON file; seccompiler_filter_names and load_seccompiler_json of every filter named either
// succeed (a program `check` accepts) or throw policy_error. Anything else thrown, a crash or
// undefined behaviour is a finding.
#include "sysfence/formats/seccompiler.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "sysfence/simulate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the ABIs: x86_64, i386, aarch64, or x86_64 with i386 and x32.
  namespace arch = sysfence::arch;
  const std::vector<std::vector<arch::target>> targets{{arch::x86_64::value},
                                                      {arch::x86::value},
                                                      {arch::aarch64::value},
                                                      {arch::x86_64::value, arch::x86::value, arch::x32::value}};
  const sysfence::seccompiler_options options{"fuzz.json", targets[data[0] & 3U]};
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    for (const std::string& name : sysfence::seccompiler_filter_names(text, options)) {
      const sysfence::runtime_policy p = sysfence::load_seccompiler_json(text, name, options);
      if (sysfence::check(p.program()) != sysfence::bpf_error::none) {
        std::fprintf(stderr, "fuzz_seccompiler: filter \"%s\"'s program fails check()\n", name.c_str());
        std::abort();
      }
    }
  } catch (const sysfence::policy_error&) {
    // refused: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_seccompiler: %s thrown, not policy_error\n", e.what());
    std::abort();
  }
  return 0;
}
