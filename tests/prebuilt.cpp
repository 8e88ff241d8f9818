// SPDX-License-Identifier: MIT
// prebuilt.cpp - tests of prebuilt.hpp: headers sysfence_add_policy generated from
// tests/policies/vmm.json (tests/CMakeLists.txt) hold, as constants, exactly the program and ABIs
// the run-time loader gives for the same file, and behave as the filter says in the simulator.
#include "sysfence/prebuilt.hpp"

#include <cerrno>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/filter.h>

#include "sysfence/formats/oci.hpp"
#include "sysfence/formats/seccompiler.hpp"
#include "sysfence/kafel.hpp"
#include "sysfence/simulate.hpp"

#include <api_native.hpp>
#include <docker_default.hpp>
#include <docker_sys_admin.hpp>
#include <nsjail_convert.hpp>
#include <nsjail_fake_geteuid.hpp>
#include <vmm_multi.hpp>
#include <vmm_x86_64.hpp>

#include "oci_profiles.hpp"

namespace {
using namespace sysfence;

constexpr bool starts_with_arch_load() {
  const bpf::insn first = vmm_x86_64::policy.insns()[0];
  return first.code == (BPF_LD | BPF_W | BPF_ABS) && first.k == bpf::off_arch;
}
static_assert(starts_with_arch_load());
static_assert(vmm_x86_64::policy.insns().size() > 50, "48 rules over 23 syscalls");
static_assert(vmm_x86_64::policy.targets().size() == 1 && vmm_multi::policy.targets().size() == 3);

// Facts of Firecracker's vmm filter, read off the constant program in the simulator.
constexpr bool vmm_allows_write() {
  return evaluate(vmm_x86_64::policy.program(), call<arch::x86_64>(sys::id::write, 1, 0, 8)) == action::allow;
}
constexpr bool vmm_traps_getppid() {
  return evaluate(vmm_x86_64::policy.program(), call<arch::x86_64>(sys::id::getppid)) == action::trap();
}
constexpr bool vmm_futex_by_operation() {
  const auto p = vmm_x86_64::policy.program();
  // FUTEX_WAKE_PRIVATE is allowed, FUTEX_WAIT_BITSET (9) is not.
  return evaluate(p, call<arch::x86_64>(sys::id::futex, 0x1000, 129)) == action::allow &&
         evaluate(p, call<arch::x86_64>(sys::id::futex, 0x1000, 9)) == action::trap();
}
constexpr bool vmm_mprotect_never_exec() {  // masked_eq, qword
  const auto p = vmm_x86_64::policy.program();
  return evaluate(p, call<arch::x86_64>(sys::id::mprotect, 0x1000, 4096, 3)) == action::allow &&
         evaluate(p, call<arch::x86_64>(sys::id::mprotect, 0x1000, 4096, 7)) == action::trap() &&
         evaluate(p, call<arch::x86_64>(sys::id::mprotect, 0x1000, 4096, 0x100000003)) == action::allow;
}
constexpr bool multi_serves_i386_and_x32() {
  const auto p = vmm_multi::policy.program();
  return evaluate(p, call<arch::x86>(sys::id::write, 1, 0, 8)) == action::allow &&
         evaluate(p, call<arch::x86>(sys::id::getppid)) == action::trap() &&
         evaluate(p, call<arch::x32>(sys::id::write, 1, 0, 8)) == action::allow &&
         evaluate(p, call<arch::x32>(sys::id::getppid)) == action::trap();
}
static_assert(vmm_allows_write());
static_assert(vmm_traps_getppid());
static_assert(vmm_futex_by_operation());
static_assert(vmm_mprotect_never_exec());
static_assert(multi_serves_i386_and_x32());

// kafel files compiled at build time: first match wins, and ERRNO(1337) reaches the header.
constexpr bool kafel_fake_geteuid() {
  using A = arch::native;
  const auto p = nsjail_fake_geteuid::policy.program();
  return evaluate(p, call<A>(sys::id::geteuid)) == action::error(1337) &&
         evaluate(p, call<A>(sys::id::ptrace)) == action::error(1) &&
         evaluate(p, call<A>(sys::id::syslog)) == action::kill_process &&
         evaluate(p, call<A>(sys::id::getuid)) == action::allow && nsjail_fake_geteuid::flags == 0;
}
constexpr bool kafel_convert_by_x86_64_names() {
  using A = arch::x86_64;
  const auto p = nsjail_convert::policy.program();
  return evaluate(p, call<A>(sys::id::open)) == action::allow &&
         evaluate(p, call<A>(sys::id::stat)) == action::allow &&  // kafel's newstat
         evaluate(p, call<A>(sys::id::socket)) == action::kill_process &&
         evaluate(p, call<arch::x32>(sys::id::read)) == action::kill_process;
}
static_assert(kafel_fake_geteuid());
static_assert(kafel_convert_by_x86_64_names());

std::string read_text(const char* path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string policy_file() { return read_text(SYSFENCE_POLICY_DIR "/vmm.json"); }

// `same_as_loaded` checks the generated policy against the run-time loader's for the same file,
// filter and ABIs: every instruction, every ABI, the disassembly.
template <class Prebuilt>
void same_program(const Prebuilt& generated, const runtime_policy& loaded) {
  REQUIRE(generated.program().size() == loaded.program().size());
  for (std::size_t i = 0; i < loaded.program().size(); ++i) {
    CAPTURE(i);
    const bpf::insn a = generated.program()[i], b = loaded.program()[i];
    CHECK(a.code == b.code);
    CHECK(a.jt == b.jt);
    CHECK(a.jf == b.jf);
    CHECK(a.k == b.k);
  }
  REQUIRE(generated.targets().size() == loaded.targets().size());
  for (std::size_t i = 0; i < loaded.targets().size(); ++i) {
    CHECK(generated.targets()[i].name == loaded.targets()[i].name);
    CHECK(generated.targets()[i].audit == loaded.targets()[i].audit);
    CHECK(generated.targets()[i].numbers == loaded.targets()[i].numbers);
  }
  CHECK(generated.dump() == loaded.dump());
}

template <class Prebuilt>
void same_as_loaded(const Prebuilt& generated, std::string_view filter, std::vector<arch::target> targets) {
  same_program(generated, load_seccompiler_json(policy_file(), filter, {"policies/vmm.json", targets}));
}

// `same_as_profile` checks a header generated from Docker's default profile against the
// run-time loader resolving it for the same kernel and capabilities.
template <class Prebuilt>
void same_as_profile(const Prebuilt& generated, unsigned long flags, kernel_version kernel,
                     std::vector<std::string> extra_caps) {
  oci_options o{.file_name = "default.json", .kernel = kernel};
  for (std::string& c : extra_caps) o.capabilities.push_back(std::move(c));
  const oci_profile loaded = load_oci_profile(oci_test::profile_text("default.json"), o);
  same_program(generated, loaded.policy);
  CHECK(flags == loaded.flags.seccomp_flags());
}

// Docker's default profile resolved at build time: Linux 6.1 lets ptrace through (minKernel 4.8),
// 4.4 does not; CAP_SYS_ADMIN lets mount through.
constexpr bool docker_gates_resolved_at_build_time() {
  using A = arch::native;
  const auto dflt = docker_default::policy.program(), admin = docker_sys_admin::policy.program();
  return evaluate(dflt, call<A>(sys::id::ptrace, 0)) == action::allow &&
         evaluate(admin, call<A>(sys::id::ptrace, 0)) == action::error(EPERM) &&
         evaluate(dflt, call<A>(sys::id::mount)) == action::error(EPERM) &&
         evaluate(admin, call<A>(sys::id::mount)) == action::allow && docker_default::flags == 0;
}
static_assert(docker_gates_resolved_at_build_time());

}  // namespace

TEST_CASE("the generated vmm policy is the loader's program for x86_64, instruction by instruction") {
  same_as_loaded(vmm_x86_64::policy, "vmm", {arch::x86_64::value});
}

TEST_CASE("the generated multi-ABI policy is the loader's program for x86_64, i386 and x32") {
  same_as_loaded(vmm_multi::policy, "vmm", {arch::x86_64::value, arch::x86::value, arch::x32::value});
}

TEST_CASE("kafel files compiled at build time are kafel_policy's programs") {
  same_program(nsjail_fake_geteuid::policy,
               kafel_policy(read_text(SYSFENCE_KAFEL_DIR "/bash-with-fake-geteuid.policy"),
                            "kafel/bash-with-fake-geteuid.policy"));
  same_program(nsjail_convert::policy, kafel_policy(read_text(SYSFENCE_KAFEL_DIR "/imagemagick-convert.policy"),
                                                    "kafel/imagemagick-convert.policy", {arch::x86_64::value}));
}

TEST_CASE("without ARCH the generated policy serves the native ABI") {
  same_as_loaded(api_native::policy, "api", {arch::native::value});
  CHECK(api_native::policy.targets()[0].audit == arch::native::audit);
}

TEST_CASE("Docker's default profile compiled at build time is the loader's program for its kernel and caps") {
  same_as_profile(docker_default::policy, docker_default::flags, {6, 1}, {});
  same_as_profile(docker_sys_admin::policy, docker_sys_admin::flags, {4, 4}, {"CAP_SYS_ADMIN"});
#if defined(__x86_64__)
  CHECK(docker_default::policy.targets().size() == 3);  // the archMap: x86_64, x86, x32
#endif
}

TEST_CASE("the simulator facts hold at run time too") {
  CHECK(docker_gates_resolved_at_build_time());
  CHECK(starts_with_arch_load());
  CHECK(vmm_allows_write());
  CHECK(vmm_traps_getppid());
  CHECK(vmm_futex_by_operation());
  CHECK(vmm_mprotect_never_exec());
  CHECK(multi_serves_i386_and_x32());
}

TEST_CASE("a program that does not serve the native ABI is not installed") {
  // A typed policy's program held as a prebuilt_policy, for an ABI this process is not.
  using foreign =
      std::conditional_t<std::is_same_v<arch::native, arch::riscv64>, arch::aarch64, arch::riscv64>;
  static constexpr auto typed = safety_context{}.enable(sys::getppid);
  static constexpr auto& insns = compile<foreign>(typed);
  static constexpr prebuilt_policy<insns.size(), 1> policy{insns, {foreign::value}};
  // The check comes before no_new_privs: nothing is installed in this process.
  const apply_status s = policy.try_apply_to_current_thread();
  CHECK(s.failed == apply_step::install_filter);
  CHECK(s.error == EINVAL);
}
