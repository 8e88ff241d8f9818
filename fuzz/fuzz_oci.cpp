// SPDX-License-Identifier: MIT
// fuzz_oci.cpp - libFuzzer harness for formats/oci.hpp: any bytes as a Docker/OCI seccomp profile
// either load (a program `check` accepts, which explain and dump describe) or throw policy_error.
// Anything else thrown, a crash or undefined behaviour is a finding.
#include "sysfence/formats/oci.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "sysfence/simulate.hpp"

namespace {

// The first byte picks how the profile is resolved: the host, extra capabilities, the kernel.
sysfence::oci_options options_from(std::uint8_t b) {
  sysfence::oci_options o;
  o.file_name = "fuzz.json";
  constexpr sysfence::arch::target hosts[]{sysfence::arch::x86_64::value, sysfence::arch::x86::value,
                                           sysfence::arch::aarch64::value, sysfence::arch::riscv64::value};
  o.host = hosts[b & 3U];
  if ((b & 4U) != 0) o.capabilities.push_back("CAP_SYS_ADMIN");
  if ((b & 8U) != 0) o.capabilities.clear();
  o.kernel = (b & 16U) != 0 ? sysfence::kernel_version{4, 7} : sysfence::kernel_version{6, 1};
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const sysfence::oci_profile p = sysfence::load_oci_profile(text, options_from(data[0]));
    if (sysfence::check(p.policy.program()) != sysfence::bpf_error::none) {
      std::fprintf(stderr, "fuzz_oci: a loaded profile's program fails check()\n");
      std::abort();
    }
    if (p.policy.explain().empty() || p.policy.dump().empty()) std::abort();
  } catch (const sysfence::policy_error&) {
    // refused: fine
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_oci: %s thrown, not policy_error\n", e.what());
    std::abort();
  }
  return 0;
}
