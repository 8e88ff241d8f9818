// SPDX-License-Identifier: MIT
// fuzz_promises.cpp - libFuzzer harness for promises.hpp: any bytes as a promise string;
// promise_policy and promise_exec_policy either succeed (a program `check` accepts, which the
// wider one allows at least as much of: every call the first allows, it allows) or throw
// policy_error naming the bad word. Anything else thrown, a crash or undefined behaviour is a
// finding.
#include "sysfence/promises.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "sysfence/simulate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  namespace arch = sysfence::arch;
  try {
    const sysfence::runtime_policy exact =
        sysfence::promise_policy(text, sysfence::action::kill_process, {arch::x86_64::value});
    const sysfence::runtime_policy wide =
        sysfence::promise_exec_policy(text, sysfence::action::kill_process, {arch::x86_64::value});
    if (sysfence::check(exact.program()) != sysfence::bpf_error::none ||
        sysfence::check(wide.program()) != sysfence::bpf_error::none) {
      std::fprintf(stderr, "fuzz_promises: a program fails check()\n");
      std::abort();
    }
    // Every syscall with all-zero arguments: what the exact filter allows, the wide one allows.
    for (std::size_t s = 0; s < sysfence::detail::syscall_names.size(); ++s) {
      const auto d = sysfence::call<arch::x86_64>(static_cast<sysfence::sys::id>(s));
      if (d.nr < 0) continue;
      if (sysfence::evaluate(exact.program(), d) == sysfence::action::allow &&
          !(sysfence::evaluate(wide.program(), d) == sysfence::action::allow)) {
        std::fprintf(stderr, "fuzz_promises: the start-up filter refuses %s, which the promises allow\n",
                     sysfence::detail::syscall_names[s].data());
        std::abort();
      }
    }
  } catch (const sysfence::policy_error& e) {
    if (std::string_view(e.what()).find("promise") == std::string_view::npos) {
      std::fprintf(stderr, "fuzz_promises: policy_error without the word: %s\n", e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_promises: %s thrown, not policy_error\n", e.what());
    std::abort();
  }
  return 0;
}
