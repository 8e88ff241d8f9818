// SPDX-License-Identifier: MIT
// fuzz_systemd.cpp - libFuzzer harness for systemd.hpp: any bytes as SystemCallFilter=
// assignments (split at ';'), byte 0 picking the ABIs and SystemCallErrorNumber=. systemd_filter
// either succeeds or throws policy_error naming SystemCallFilter= or SystemCallErrorNumber=.
// A program it returns passes `check`, kills riscv64's calls (never served), never lets an x32
// call run, and answers only ALLOW, KILL_PROCESS or an errno from 1 to 4095 (never ERRNO(0),
// which fakes a success).
// Anything else thrown, a crash or undefined behaviour is a finding.
#include "sysfence/systemd.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <array>
#include <string_view>
#include <vector>

#include "sysfence/simulate.hpp"

namespace {

[[noreturn]] void finding(const char* what, std::string_view text) {
  std::fprintf(stderr, "fuzz_systemd: %s\n  input: %.*s\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

bool answer_allowed(sysfence::action a) {
  using kind = sysfence::action::kind;
  if (a == sysfence::action::allow || a == sysfence::action::kill_process) return true;
  return a.what() == kind::error && a.data() >= 1 && a.data() <= 4095;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace arch = sysfence::arch;
  // Byte 0: bits 0-1 the ABIs (x86_64, i386, aarch64, x86_64 with i386), bits 2-7 the errno
  // setting (0 kills; 63 is out of range on purpose: -1).
  const std::vector<std::vector<arch::target>> targets{{arch::x86_64::value},
                                                        {arch::x86::value},
                                                        {arch::aarch64::value},
                                                        {arch::x86_64::value, arch::x86::value}};
  sysfence::systemd_filter_options options;
  options.targets = targets[data[0] & 3U];
  const unsigned e = data[0] >> 2U;
  options.error_number = e == 63 ? -1 : static_cast<int>(e);
  options.context = "fuzz.service:1";

  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> assignments;
  for (std::size_t begin = 0;;) {
    const std::size_t end = text.find(';', begin);
    assignments.push_back(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  try {
    const sysfence::runtime_policy p = sysfence::systemd_filter(assignments, options);
    if (sysfence::check(p.program()) != sysfence::bpf_error::none) finding("the program fails check()", text);
    if (!answer_allowed(p.default_action()))
      finding("the default action is not ALLOW, KILL_PROCESS or ERRNO(1..4095)", text);
    // An architecture it does not serve is killed (riscv64 is never among them).
    if (!(sysfence::evaluate(p.program(), sysfence::call<arch::riscv64>(sysfence::sys::id::write)) ==
          sysfence::action::kill_process))
      finding("a riscv64 call is not killed", text);
    for (std::size_t s = 0; s < sysfence::detail::syscall_names.size(); ++s) {
      const auto id = static_cast<sysfence::sys::id>(s);
      for (const arch::target& t : options.targets) {
        const std::int32_t nr = (*t.numbers)[s];
        if (nr < 0) continue;
        const seccomp_data d{static_cast<int>(t.nr_base) + nr, t.audit, 0, {}};
        const sysfence::evaluation r = sysfence::evaluate(p.program(), d);
        if (r.error != sysfence::bpf_error::none || !answer_allowed(r.result))
          finding("a call is answered other than ALLOW, KILL_PROCESS or ERRNO(1..4095)", text);
      }
      // x32 is never served: its calls never run (killed, or refused as the default refuses).
      const auto x32 = sysfence::call<arch::x32>(id);
      if (x32.nr >= 0) {
        const sysfence::evaluation r = sysfence::evaluate(p.program(), x32);
        if (r.error != sysfence::bpf_error::none || r.result.lets_syscall_run()) finding("an x32 call runs", text);
      }
    }
  } catch (const sysfence::policy_error& err) {
    const std::string_view m = err.what();
    if (m.find("SystemCallFilter=") == std::string_view::npos &&
        m.find("SystemCallErrorNumber=") == std::string_view::npos)
      finding("policy_error naming neither setting", m);
    if (m.find("fuzz.service:1") == std::string_view::npos) finding("policy_error without the context", m);
  } catch (const std::exception& err) {
    std::fprintf(stderr, "fuzz_systemd: %s thrown, not policy_error\n", err.what());
    std::abort();
  }
  return 0;
}
