// SPDX-License-Identifier: MIT
// sysfence_bench.cpp - sysfence against libseccomp on the same three policies (issue 6): setup,
// heap allocations, instructions run per syscall, the kernel's action-cache preparation, the cost
// of a syscall and program size, in one run that ends in one table of ratios.
//
//   sysfence_bench [--short] [--setup-samples=N] [--compile-cost=FILE] [--benchmark_* flags]
//
// --short: few setup samples and --benchmark_min_time=0.01, for CI (well under a minute).
// --compile-cost=FILE: add compile_cost.sh's measurements (written with -o FILE) to the table.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allocation_counter.hpp"
#include "analysis.hpp"
#include "libseccomp_peer.hpp"
#include "policies.hpp"
#include "runc_peer.hpp"
#include "sysfence/dump.hpp"
#include "sysfence/formats/oci.hpp"
#include "sysfence/prebuilt.hpp"
#ifdef SYSFENCE_BENCH_GENERATED_S
#include <policy_s_json.hpp>  // sysfence_add_policy(sysfence_bench policy_s_json policy_S.json ...)
#endif
#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
#include <docker_default.hpp>  // sysfence_add_policy(sysfence_bench docker_default default.json FORMAT oci ...)
#endif

namespace {

using namespace sysfence_bench;
namespace bpf = sysfence::bpf;

using policy_s_type = std::remove_cvref_t<decltype(policy_s)>;
using policy_m_type = std::remove_cvref_t<decltype(policy_m)>;
using policy_l_type = std::remove_cvref_t<decltype(policy_l)>;
using policy_m64_type = std::remove_cvref_t<decltype(policy_m64)>;
using policy_p_type = std::remove_cvref_t<decltype(policy_p)>;
#ifdef SYSFENCE_BENCH_GENERATED_S
constexpr bool generated_s = true;
#else
constexpr bool generated_s = false;
#endif

// --- options ------------------------------------------------------------------------------

struct options {
  bool short_mode = false;
  bool color = false;        // a terminal, and no --benchmark_color=false
  long setup_samples = 0;    // children per setup measurement; 0 picks 1000 (25 with --short)
  std::string compile_cost;  // compile_cost.sh -o FILE, added to the table
  [[nodiscard]] int repetitions() const noexcept { return short_mode ? 1 : 10; }
};

// --- children -----------------------------------------------------------------------------

// `child_report` is what a forked child leaves in memory shared with the parent: writing it
// needs no syscall, which the child's filter might deny.
struct child_report {
  std::int64_t ns = 0;
  long count = 0;
  long value = 0;
  int err = 0;
  int ok = 0;
};
child_report* shared_report = nullptr;

// `now_ns` reads CLOCK_MONOTONIC through the vDSO (no syscall); -1 if that failed, as it would
// if the vDSO fell back to a syscall the filter denies.
std::int64_t now_ns() noexcept {
  timespec t{};
  if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) return -1;
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

// `in_child` runs `f(report)` in a fresh forked child that then _exits, and returns the report
// if the child ended normally and set `ok`.
template <class F>
std::optional<child_report> in_child(F&& f) {
  *shared_report = {};
  const pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    f(*shared_report);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || shared_report->ok == 0) return std::nullopt;
  return *shared_report;
}

// --- the ways of installing a filter --------------------------------------------------------

using installer = bool (*)() noexcept;

template <class Policy>
bool install_sysfence() noexcept {
  return static_cast<bool>(Policy{}.try_apply_to_current_thread());
}

// `prebuilt_holder<Policy>` is the typed program held as a prebuilt_policy constant, the type and
// the .rodata array a header of sysfence_add_policy holds.
template <class Policy>
struct prebuilt_holder {
  static constexpr const auto& insns = sysfence::compile<Policy>();
  static constexpr sysfence::prebuilt_policy<insns.size(), 1> value{insns, {sysfence::arch::native::value}};
};

// `prebuilt_of<Policy>()` is the policy as a generated header holds it: for (S), the header
// sysfence_add_policy generated from policy_S.json (report_policy checks its program is the typed
// one, instruction by instruction); for the others, prebuilt_holder.
template <class Policy>
constexpr const auto& prebuilt_of() noexcept {
#ifdef SYSFENCE_BENCH_GENERATED_S
  if constexpr (std::is_same_v<Policy, policy_s_type>) {
    return policy_s_json::policy;
  } else {
    return prebuilt_holder<Policy>::value;
  }
#else
  return prebuilt_holder<Policy>::value;
#endif
}

// The prebuilt policy's apply: the action check, no_new_privs and seccomp() of its constant array.
template <class Policy>
bool install_prebuilt() noexcept {
  return static_cast<bool>(prebuilt_of<Policy>().try_apply_to_current_thread());
}

template <class Policy, peer_mode Mode>
bool install_libseccomp() noexcept {
  return install_peer<Policy>(Mode);
}

// libseccomp's first seccomp_init() in a process probes the kernel's API level (a handful of
// seccomp() calls, then cached); this variant has it done before the clock starts.
bool probe_libseccomp() noexcept { return seccomp_api_get() > 0; }

// The floor: no_new_privs and seccomp() of sysfence's own constant array, nothing else.
template <class Policy>
bool install_bare() noexcept {
  const auto& program = sysfence::compile<Policy>();
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<bpf::insn*>(program.data())};
  return prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0UL, &prog) == 0;
}

// The floor plus what apply() asks the kernel first: whether it has KILL_PROCESS (the action for
// a foreign architecture), with SECCOMP_GET_ACTION_AVAIL.
template <class Policy>
bool install_bare_checked() noexcept {
  std::uint32_t kill_process = SECCOMP_RET_KILL_PROCESS;
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0UL, &kill_process) == 0 && install_bare<Policy>();
}

// --- what the benchmarks measured, for the table ---------------------------------------------

// `errors` are failures of the measurement itself (not missed goals): they make the run exit 1.
std::vector<std::string>& errors() {
  static std::vector<std::string> e;
  return e;
}

// `samples` holds every sample by benchmark name and variant, across repetitions: setup (ns per
// install) and per-call (ns per call), each taken in rounds (sample i of every variant of one
// benchmark in the same round).
std::map<std::string, std::vector<double>>& samples() {
  static std::map<std::string, std::vector<double>> m;
  return m;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<double> median_of(const std::string& key) {
  if (const auto it = samples().find(key); it != samples().end() && !it->second.empty()) return median(it->second);
  return std::nullopt;
}

// --- 1. setup: policy to installed filter, each sample in a fresh child ------------------------

// `setup_variant` is one way of installing a policy: sysfence, libseccomp, the bare seccomp() call.
struct setup_variant {
  const char* name;
  installer install;
  installer prepare;  // run in the child before the clock starts
};

// `setup_benchmark` times every variant once per iteration, each in a new child, interleaved
// sample by sample, so machine drift during the run reaches all of them alike and their ratios.
// The order is shuffled every round: with a fixed or rotated order, a variant always follows the
// same one, and one that follows a libseccomp install (which leaves the kernel and the caches
// busier) measured ~10% slower. Each variant's samples go to samples()["<key>/<variant>"],
// in rounds: sample i of every variant was taken in the same round.
void setup_benchmark(benchmark::State& state, const std::string& key, std::span<const setup_variant> variants) {
  std::mt19937 rng(0x5e7u);
  std::vector<std::size_t> order(variants.size());
  for (std::size_t v = 0; v < order.size(); ++v) order[v] = v;
  for ([[maybe_unused]] auto _ : state) {
    double total = 0;
    std::vector<double> round(variants.size());
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t v : order) {
      const auto r = in_child([&](child_report& out) {
        if (variants[v].prepare != nullptr && !variants[v].prepare()) return;
        const std::int64_t t0 = now_ns();
        const bool ok = variants[v].install();
        const std::int64_t t1 = now_ns();
        out.ns = t1 - t0;
        out.ok = ok && t0 >= 0 && t1 >= 0 ? 1 : 0;
      });
      if (!r) {
        state.SkipWithError("the child could not install the filter, or read the clock under it");
        errors().push_back(key + "/" + variants[v].name +
                           ": the child could not install the filter, or read the clock under it");
        return;
      }
      round[v] = static_cast<double>(r->ns);
      total += round[v];
    }
    for (std::size_t v = 0; v < variants.size(); ++v)
      samples()[key + "/" + variants[v].name].push_back(round[v]);
    state.SetIterationTime(total * 1e-9);
  }
}

// `quartiles` is the first quartile, the median and the third quartile of `v`.
std::array<double, 3> quartiles(std::vector<double> v) {
  if (v.empty()) return {0, 0, 0};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {  // linear interpolation between closest ranks
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  return {at(0.25), at(0.5), at(0.75)};
}

// `paired_quartiles` are the quartiles of a / b over the rounds both were sampled in.
std::optional<std::array<double, 3>> paired_quartiles(const std::string& a, const std::string& b) {
  const auto& x = samples()[a];
  const auto& y = samples()[b];
  std::vector<double> ratios;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (y[i] > 0) ratios.push_back(x[i] / y[i]);
  if (ratios.empty()) return std::nullopt;
  return quartiles(ratios);
}

// `paired_ratio` is median [interquartile range] of a / b over the rounds both were sampled in.
std::string paired_ratio(const std::string& a, const std::string& b) {
  const auto& x = samples()[a];
  const auto& y = samples()[b];
  std::vector<double> ratios;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (y[i] > 0) ratios.push_back(x[i] / y[i]);
  if (ratios.empty()) return "-";
  const auto q = quartiles(ratios);
  char text[64];
  std::snprintf(text, sizeof text, "%.3g [%.3g-%.3g]", q[1], q[0], q[2]);
  return text;
}

// --- 5. the cost of one syscall under each filter ---------------------------------------------

enum class probe { getppid, fcntl_getfd, getuid };
int probe_fd = -1;  // /dev/null, opened with O_CLOEXEC: F_GETFD returns FD_CLOEXEC

long issue(probe p) noexcept {
  switch (p) {
    case probe::getppid:
      return syscall(SYS_getppid);
    case probe::fcntl_getfd:
      return syscall(SYS_fcntl, probe_fd, F_GETFD);
    case probe::getuid:
      return syscall(SYS_getuid);
  }
  return -1;
}

// `as_expected` checks the last call's result: allowed calls succeed, getuid fails with EPERM
// under a filter.
bool as_expected(probe p, bool filtered, const child_report& r) noexcept {
  switch (p) {
    case probe::getppid:
      return r.value > 0;
    case probe::fcntl_getfd:
      return r.value == FD_CLOEXEC;
    case probe::getuid:
      return filtered ? r.value == -1 && r.err == EPERM : r.value >= 0;
  }
  return false;
}

// `call_variant` is one filter a probe runs under (none: no filter).
struct call_variant {
  const char* name;
  installer install;
};

// `call_batch` is ns per call of `calls` calls of the probe in a fresh child that has installed
// the filter (none if `install` is null), timed there with the vDSO clock: the loop itself needs
// no syscall but the one measured.
std::optional<double> call_batch(installer install, probe p, long calls) {
  const auto r = in_child([&](child_report& out) {
    if (install != nullptr && !install()) return;
    long v = 0;
    for (int i = 0; i < 100; ++i) v = issue(p);  // warm the caches after fork
    const std::int64_t t0 = now_ns();
    for (long i = 0; i < calls; ++i) v = issue(p);
    const int err = errno;
    const std::int64_t t1 = now_ns();
    out.value = v;
    out.err = err;
    out.ns = t1 - t0;
    out.ok = t0 >= 0 && t1 >= 0 ? 1 : 0;
  });
  if (!r || !as_expected(p, install != nullptr, *r)) return std::nullopt;
  return static_cast<double>(r->ns) / static_cast<double>(calls);
}

// `call_benchmark` measures a probe as `setup_benchmark` measures installs: an iteration is a
// round of every variant, no filter included, each a batch in its own child, in an order
// shuffled every round; samples()["<key>/<variant>"] gets ns per call.
void call_benchmark(benchmark::State& state, const std::string& key, std::span<const call_variant> variants,
                    probe p, long calls) {
  std::mt19937 rng(0xca11u);
  std::vector<std::size_t> order(variants.size());
  for (std::size_t v = 0; v < order.size(); ++v) order[v] = v;
  for ([[maybe_unused]] auto _ : state) {
    std::vector<double> round(variants.size());
    double total = 0;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t v : order) {
      const auto ns = call_batch(variants[v].install, p, calls);
      if (!ns) {
        state.SkipWithError("the child could not install the filter, or the call did not do as expected");
        errors().push_back(key + "/" + variants[v].name +
                           ": the child could not install the filter, or the call did not do as expected");
        return;
      }
      round[v] = *ns;
      total += *ns;
    }
    for (std::size_t v = 0; v < variants.size(); ++v) samples()[key + "/" + variants[v].name].push_back(round[v]);
    state.SetIterationTime(total * 1e-9);
  }
}

// --- 7. policy files: Docker's default profile at run time and at build time --------------------

#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
// `docker` is Docker's default profile and what is made of it before any child forks: its text,
// the container it is resolved for (Docker's capabilities, the running kernel, as dockerd does),
// the profile loaded once (for apply alone) and its program (for the bare seccomp() floor).
struct docker_inputs {
  std::string text;
  sysfence::kernel_version kernel{};
  std::optional<sysfence::oci_profile> loaded;
};
docker_inputs& docker() {
  static docker_inputs d;
  return d;
}

// sysfence at run time: read, resolve, compile (load_oci_profile), then apply.
bool install_docker_sysfence() noexcept {
  try {
    const sysfence::oci_profile p =
        sysfence::load_oci_profile(docker().text, {.file_name = "default.json", .kernel = docker().kernel});
    return static_cast<bool>(p.try_apply_to_current_thread());
  } catch (...) {
    return false;
  }
}
// sysfence at run time without the install: the run-time compile time.
bool compile_docker_sysfence() noexcept {
  try {
    const sysfence::oci_profile p =
        sysfence::load_oci_profile(docker().text, {.file_name = "default.json", .kernel = docker().kernel});
    benchmark::DoNotOptimize(p.policy.program().data());
    return !p.policy.program().empty();
  } catch (...) {
    return false;
  }
}
// Apply alone, of the profile loaded before the fork.
bool apply_docker_loaded() noexcept { return static_cast<bool>(docker().loaded->try_apply_to_current_thread()); }
// The header sysfence_add_policy generated from the same file at build time.
bool install_docker_prebuilt() noexcept {
  return static_cast<bool>(docker_default::policy.try_apply_to_current_thread(docker_default::flags));
}
// The floor: no_new_privs and seccomp() of the loaded program.
bool install_docker_bare() noexcept {
  const auto program = docker().loaded->policy.program();
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<bpf::insn*>(program.data())};
  return prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0UL, &prog) == 0;
}
// libseccomp as dockerd and runc drive it (tests/runc_peer.hpp): parse and resolve the JSON, one
// seccomp_rule_add_array per name, then seccomp_load.
bool build_docker_libseccomp(bool load) noexcept {
  try {
    const runc_peer::profile p = runc_peer::resolve(docker().text, sysfence::docker_default_capabilities(),
                                                    docker().kernel.major, docker().kernel.minor);
    runc_peer::built b;
    runc_peer::build(p, b);
    return b.error == 0 && (!load || seccomp_load(b.ctx) == 0);
  } catch (...) {
    return false;
  }
}
bool install_docker_libseccomp() noexcept { return build_docker_libseccomp(true); }
bool compile_docker_libseccomp() noexcept { return build_docker_libseccomp(false); }

void register_docker(const options& opt) {
  const long samples = opt.setup_samples > 0 ? opt.setup_samples : opt.short_mode ? 10 : 200;
  static constexpr setup_variant variants[] = {
      {"sysfence", install_docker_sysfence, nullptr},
      {"sysfence_compile", compile_docker_sysfence, nullptr},
      {"sysfence_apply", apply_docker_loaded, nullptr},
      {"prebuilt", install_docker_prebuilt, nullptr},
      {"bare_seccomp", install_docker_bare, nullptr},
      {"libseccomp", install_docker_libseccomp, nullptr},
      {"libseccomp_build", compile_docker_libseccomp, nullptr},
  };
  benchmark::RegisterBenchmark("setup/docker", [](benchmark::State& s) { setup_benchmark(s, "setup/docker", variants); })
      ->UseManualTime()
      ->Iterations(samples)
      ->Unit(benchmark::kMicrosecond);
}
#endif

// --- registration ---------------------------------------------------------------------------

template <class Policy>
void register_policy(std::string_view label, const options& opt) {
  const long total = opt.setup_samples > 0 ? opt.setup_samples : opt.short_mode ? 25 : 1000;
  const long per_repetition = std::max(1L, total / opt.repetitions());
  const std::string p(label);
  static constexpr setup_variant variants[] = {
      {"sysfence", install_sysfence<Policy>, nullptr},
      {"prebuilt", install_prebuilt<Policy>, nullptr},
      {"libseccomp", install_libseccomp<Policy, peer_mode::linear>, nullptr},
      {"libseccomp_opt2", install_libseccomp<Policy, peer_mode::tree>, nullptr},
      {"libseccomp_probed", install_libseccomp<Policy, peer_mode::linear>, probe_libseccomp},
      {"libseccomp_opt2_probed", install_libseccomp<Policy, peer_mode::tree>, probe_libseccomp},
      {"bare_seccomp", install_bare<Policy>, nullptr},
      {"bare_seccomp_action_check", install_bare_checked<Policy>, nullptr},
  };
  // One benchmark per policy: an iteration is one round, every variant once (times are the sum).
  const std::string key = "setup/" + p;
  benchmark::RegisterBenchmark(key.c_str(), [key](benchmark::State& s) { setup_benchmark(s, key, variants); })
      ->UseManualTime()
      ->Iterations(per_repetition)
      ->Repetitions(opt.repetitions())
      ->DisplayAggregatesOnly(opt.repetitions() > 1)
      ->Unit(benchmark::kMicrosecond);
}

template <class Policy>
void register_calls(std::string_view label, const options& opt) {
  static constexpr call_variant variants[] = {
      {"none", nullptr},
      {"sysfence", install_sysfence<Policy>},
      {"libseccomp", install_libseccomp<Policy, peer_mode::linear>},
      {"libseccomp_opt2", install_libseccomp<Policy, peer_mode::tree>},
  };
  const long rounds = opt.short_mode ? 3 : 60;  // each: 4 children, 20,000 calls in each (2,000 short)
  const long calls = opt.short_mode ? 2000 : 20000;
  for (const auto& [probe_name, p] :
       {std::pair{"getppid", probe::getppid}, std::pair{"fcntl_getfd", probe::fcntl_getfd},
        std::pair{"getuid", probe::getuid}}) {
    const std::string key = "call/" + std::string(label) + "/" + probe_name;
    const probe which = p;  // clang 14: no lambda capture of structured bindings
    benchmark::RegisterBenchmark(key.c_str(),
                                 [key, which, calls](benchmark::State& s) {
                                   call_benchmark(s, key, variants, which, calls);
                                 })
        ->UseManualTime()
        ->Iterations(rounds)
        ->Unit(benchmark::kNanosecond);
  }
}

void register_benchmarks(const options& opt) {
  register_policy<policy_s_type>("S", opt);
  register_policy<policy_m_type>("M", opt);
  register_policy<policy_l_type>("L", opt);
  register_policy<policy_m64_type>("M64", opt);
  register_policy<policy_p_type>("P", opt);
  register_calls<policy_m_type>("M", opt);
  register_calls<policy_l_type>("L", opt);
#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
  register_docker(opt);
#endif
}

// --- 2. heap allocations while installing ------------------------------------------------------

std::optional<double> allocations_while(installer install) {
  const auto r = in_child([&](child_report& out) {
    const long before = allocation_counter::heap_allocations();
    const bool ok = install();
    out.count = allocation_counter::heap_allocations() - before;
    out.ok = ok ? 1 : 0;
  });
  if (!r) return std::nullopt;
  return static_cast<double>(r->count);
}

// --- the table ----------------------------------------------------------------------------

// `row` is one line of the table: a measure of one policy on each side, an optional reference,
// the goal and whether it is met.
struct row {
  std::string measure{};
  std::string policy{};
  std::optional<double> sysfence{}, linear{}, tree{};  // linear: libseccomp's default; tree: OPT=2
  std::string reference_name{};
  std::optional<double> reference{};
  std::string goal{};
  std::optional<bool> met{};
  int precision = 0;
  bool ratios = true;  // print sysfence ÷ each other column
};

std::string format(std::optional<double> v, int precision) {
  if (!v) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, *v);
  return buf;
}

std::string ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return "–";
  const double r = *a / *b;
  char buf[64];
  std::snprintf(buf, sizeof buf, r < 0.1 && r > 0 ? "%.3f" : "%.2f", r);
  return buf;
}

// `cell` is text made safe for a Markdown table cell.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

void print_table(const std::vector<row>& rows) {
  std::printf(
      "\n| measure | policy | sysfence | libseccomp | libseccomp OPT=2 | ÷ libseccomp | ÷ OPT=2 | reference "
      "| ÷ reference | goal | met |\n|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|\n");
  for (const row& r : rows) {
    const std::string ref = r.reference ? r.reference_name + " " + format(r.reference, r.precision) : "–";
    const char* met = !r.met ? "" : *r.met ? "yes" : "**no**";
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(r.measure).c_str(),
                r.policy.c_str(), format(r.sysfence, r.precision).c_str(),
                format(r.linear, r.precision).c_str(), format(r.tree, r.precision).c_str(),
                r.ratios ? ratio(r.sysfence, r.linear).c_str() : "–",
                r.ratios ? ratio(r.sysfence, r.tree).c_str() : "–", ref.c_str(),
                r.ratios ? ratio(r.sysfence, r.reference).c_str() : "–", r.goal.c_str(), met);
  }
}

std::optional<double> in_us(std::optional<double> ns) {
  if (!ns) return std::nullopt;
  return *ns / 1e3;
}

// `hand_built` is what hand-built decision trees run for (M)'s calls (issue 6: allowed write,
// fcntl and socket) and (M64)'s (issue 12: the same, and fcntl with a refused command); none
// were written for the other vectors or policies.
std::optional<double> hand_built(std::string_view policy, sysfence::sys::id s, bool allowed) {
  if (policy != "M" && policy != "M64") return std::nullopt;
  switch (s) {
    case sysfence::sys::id::write:
      return allowed ? std::optional<double>(15) : std::nullopt;
    case sysfence::sys::id::fcntl:
      return allowed ? std::optional<double>(16) : policy == "M64" ? std::optional<double>(15) : std::nullopt;
    case sysfence::sys::id::socket:
      return allowed ? std::optional<double>(15) : std::nullopt;
    default:
      return std::nullopt;
  }
}

// `x86_64_name` is the syscall with number `nr` on x86_64, or "-" if there is none.
std::string_view x86_64_name(std::uint32_t nr) {
  const std::string_view name = sysfence::detail::syscall_name_for(sysfence::arch::x86_64::value, nr);
  return name.empty() ? "-" : name;
}

struct policy_report {
  std::vector<row> setup, allocations, paths, cache, size, targets;
  std::vector<std::string> notes;
};

// `path_rows` are the instructions each program runs (3): per kind of number, per typical
// conditional call, the maxima, and the numbers where sysfence runs more than libseccomp.
void path_rows(policy_report& out, const std::string& p, program_view sf, program_view linear,
               program_view tree, const policy_shape& shape) {
  const bool is_m = p == "M";
  const path_stats ps = paths(sf, shape), pl = paths(linear, shape), pt = paths(tree, shape);
  if (ps.errors + pl.errors + pt.errors != 0)
    errors().push_back(p + ": some evaluations hit invalid instructions");
  const char* names[] = {"allowed", "conditional (typical args)", "denied"};
  for (std::size_t k = 0; k < 3; ++k) {
    if (ps.x86_64[k].count == 0) continue;
    const std::string over =
        " over " + std::to_string(ps.x86_64[k].count) + " " + names[k] + " x86_64 numbers";
    row mean{.measure = "insns run, mean" + over,
             .policy = p,
             .sysfence = ps.x86_64[k].mean(),
             .linear = pl.x86_64[k].mean(),
             .tree = pt.x86_64[k].mean(),
             .precision = 1};
    if (k == static_cast<std::size_t>(kind::denied) && is_m) {
      mean.goal = "≤ 11";
      mean.met = *mean.sysfence <= 11;
    }
    out.paths.push_back(mean);
    out.paths.push_back({.measure = "insns run, max" + over,
                         .policy = p,
                         .sysfence = ps.x86_64[k].max,
                         .linear = pl.x86_64[k].max,
                         .tree = pt.x86_64[k].max});
  }
  // Every argument vector of a conditional syscall (issue 12's goal): ≤ OPT=2 and ≤ hand-built.
  for (const typical_call& c : argument_vectors) {
    const std::int32_t nr = sysfence::arch::x86_64::numbers[static_cast<std::size_t>(c.syscall)];
    if (nr < 0 || shape.kinds[static_cast<std::size_t>(nr)] != kind::conditional) continue;
    const bool allowed = allows(sf, c.syscall, c.args);
    if (allowed != allows(linear, c.syscall, c.args) || allowed != allows(tree, c.syscall, c.args))
      errors().push_back(p + ": sysfence and libseccomp disagree on " + std::string(c.label));
    row r{.measure = "insns run, " + std::string(c.label) + (allowed ? " (allowed)" : " (refused)"),
          .policy = p,
          .sysfence = executed(sf, c.syscall, c.args),
          .linear = executed(linear, c.syscall, c.args),
          .tree = executed(tree, c.syscall, c.args),
          .reference_name = "hand-built tree",
          .reference = hand_built(p, c.syscall, allowed)};
    r.goal = r.reference ? "≤ hand-built, ≤ OPT=2" : "≤ OPT=2";
    r.met = *r.sysfence <= *r.tree && (!r.reference || *r.sysfence <= *r.reference);
    out.paths.push_back(r);
  }
  out.paths.push_back({.measure = "insns run, max over all numbers and both arches",
                       .policy = p,
                       .sysfence = ps.max_all,
                       .linear = pl.max_all,
                       .tree = pt.max_all});
  out.paths.push_back(
      {.measure = "insns run with the i386 arch value (foreign: killed), mean over the same numbers",
       .policy = p,
       .sysfence = ps.i386.mean(),
       .linear = pl.i386.mean(),
       .tree = pt.i386.mean(),
       .precision = 1});
  out.paths.push_back({.measure = "insns run with the i386 arch value (foreign: killed), max",
                       .policy = p,
                       .sysfence = ps.i386.max,
                       .linear = pl.i386.max,
                       .tree = pt.i386.max});

  std::size_t over_linear = 0, over_tree = 0;
  std::uint32_t worst = 0;
  std::string where;
  for (std::size_t i = 0; i < ps.per_number.size(); ++i) {
    over_linear += ps.per_number[i] > pl.per_number[i] ? 1 : 0;
    if (ps.per_number[i] <= pt.per_number[i]) continue;
    ++over_tree;
    worst = std::max(worst, ps.per_number[i] - pt.per_number[i]);
    const auto nr = static_cast<std::uint32_t>(i % sweep_end());
    const std::string name = i < sweep_end() ? std::to_string(nr) + " " + std::string(x86_64_name(nr))
                                             : "i386 " + std::to_string(nr);
    where += (where.empty() ? "" : ", ") + name + " (" + std::to_string(ps.per_number[i]) + " vs " +
             std::to_string(pt.per_number[i]) + ")";
  }
  if (over_tree > 0) out.notes.push_back(p + ": sysfence runs more insns than OPT=2 on " + where);
  row over{.measure = "numbers on which sysfence runs more insns than the peer" +
                      (over_tree > 0 ? " (worst vs OPT=2: +" + std::to_string(worst) + ")" : std::string()),
           .policy = p,
           .linear = static_cast<double>(over_linear),
           .tree = static_cast<double>(over_tree),
           .ratios = false};
  if (is_m) {
    over.goal = "0 vs OPT=2";
    over.met = over_tree == 0;
  }
  out.paths.push_back(over);

  const agreement a = compare(sf, linear, shape), b = compare(sf, tree, shape);
  if (a.differences + b.differences != 0)
    errors().push_back(p + ": sysfence and libseccomp disagree on some calls");
  out.notes.push_back(p + ": sysfence and libseccomp return the same action on " +
                      std::to_string(a.evaluations - a.differences) + " of " + std::to_string(a.evaluations) +
                      " calls (linear) and " + std::to_string(b.evaluations - b.differences) + " of " +
                      std::to_string(b.evaluations) + " (OPT=2)");
}

// `fit_rows` ask whether any search over the same runs could both match OPT=2 on every allowed
// and denied number and keep the cache preparation ≤ 0.9× the balanced search: the numbers
// above OPT=2 for the balanced search, and the cheapest search fitted to OPT=2's per-number
// counts (found exhaustively; see README.md, "Not met").
void fit_rows(policy_report& out, const std::string& p, program_view tree, const policy_shape& shape) {
  const path_stats pt = paths(tree, shape);
  const std::span<const std::uint32_t> bound(pt.per_number.data(), sweep_end());
  const std::vector<bpf::insn> balanced = balanced_search(shape);
  const std::vector<bpf::insn> fitted = fitted_search(shape, bound);
  auto over = [&](program_view program) {
    const path_stats ps = paths(program, shape);
    std::size_t n = 0;
    for (std::uint32_t nr = 0; nr < sweep_end(); ++nr)
      n += shape.kinds[nr] != kind::conditional && ps.per_number[nr] > pt.per_number[nr] ? 1 : 0;
    return static_cast<double>(n);
  };
  out.cache.push_back({.measure = "allowed/denied numbers on which the balanced search runs more insns than OPT=2",
                       .policy = p,
                       .sysfence = over(balanced),
                       .ratios = false});
  const std::vector<std::uint32_t> unbounded(sweep_end(), 1000);
  const std::vector<bpf::insn> cheapest = fitted_search(shape, unbounded);
  if (!cheapest.empty())
    out.cache.push_back({.measure = "cheapest search over the same runs, no bound: cache-prep insns emulated "
                                    "(numbers above OPT=2: " +
                                    std::to_string(static_cast<int>(over(cheapest))) + ")",
                         .policy = p,
                         .sysfence = static_cast<double>(cache_prep(cheapest, shape).emulated),
                         .reference_name = "balanced search",
                         .reference = static_cast<double>(cache_prep(balanced, shape).emulated)});
  if (fitted.empty()) {
    out.cache.push_back({.measure = "no search over the same runs matches OPT=2 on every number", .policy = p});
    return;
  }
  if (sysfence::check(fitted) != sysfence::bpf_error::none)
    errors().push_back(p + ": the fitted-search reference is not a valid program");
  const agreement a = compare(fitted, balanced, shape);
  if (a.differences != 0) errors().push_back(p + ": the fitted search and the balanced search disagree");
  out.cache.push_back({.measure = "search fitted to OPT=2's count on every allowed/denied number: cache-prep insns "
                                  "emulated (numbers above OPT=2: " +
                                  std::to_string(static_cast<int>(over(fitted))) + ")",
                       .policy = p,
                       .sysfence = static_cast<double>(cache_prep(fitted, shape).emulated),
                       .reference_name = "balanced search",
                       .reference = static_cast<double>(cache_prep(balanced, shape).emulated)});
}

// `cache_rows` are the kernel's action-cache preparation (4): instructions emulated, against
// the balanced search over the same intervals, and how many unconditional allows get cached.
void cache_rows(policy_report& out, const std::string& p, program_view sf, program_view linear,
                program_view tree, const policy_shape& shape) {
  const std::vector<bpf::insn> reference = balanced_search(shape);
  if (sysfence::check(reference) != sysfence::bpf_error::none)
    errors().push_back(p + ": the balanced-search reference is not a valid program");
  const cache_stats cs = cache_prep(sf, shape), cl = cache_prep(linear, shape), ct = cache_prep(tree, shape),
                    cr = cache_prep(reference, shape);
  row r{.measure = "cache-prep insns emulated, x86_64 numbers 0.." + std::to_string(table_end() - 1),
        .policy = p,
        .sysfence = static_cast<double>(cs.emulated),
        .linear = static_cast<double>(cl.emulated),
        .tree = static_cast<double>(ct.emulated),
        .reference_name = "balanced search",
        .reference = static_cast<double>(cr.emulated),
        .goal = "÷ balanced search ≤ 0.90"};
  r.met = *r.sysfence <= 0.90 * *r.reference;
  out.cache.push_back(r);
  auto percent = [](const cache_stats& c) {
    return c.unconditional == 0
               ? 0.0
               : 100.0 * static_cast<double>(c.cached) / static_cast<double>(c.unconditional);
  };
  out.cache.push_back(
      {.measure = "unconditional allows the cache proves allowed, % of " + std::to_string(cs.unconditional),
       .policy = p,
       .sysfence = percent(cs),
       .linear = percent(cl),
       .tree = percent(ct),
       .goal = "100",
       .met = cs.cached == cs.unconditional,
       .precision = 1,
       .ratios = false});
  if (cr.cached != cr.unconditional || cr.wrongly_cached != 0)
    errors().push_back(p + ": the balanced-search reference does not cache exactly the unconditional allows");
  if (cs.wrongly_cached + cl.wrongly_cached + ct.wrongly_cached != 0)
    errors().push_back(p +
                       ": a program is proven always-allowed for a number the policy does not always allow");
}

// `report_policy` gathers one policy's rows: setup (measured by the benchmarks), allocations,
// instructions run, cache preparation and program size.
template <class Policy>
policy_report report_policy(std::string_view label) {
  policy_report out;
  const std::string p(label);
  const program_view sf = sysfence::compile<Policy>();
  const std::vector<bpf::insn> linear = peer_program<Policy>(peer_mode::linear);
  const std::vector<bpf::insn> tree = peer_program<Policy>(peer_mode::tree);
  if (linear.empty() || tree.empty()) {
    errors().push_back(p + ": libseccomp could not build or export the filter");
    return out;
  }
  const policy_shape shape = shape_of<Policy>(sf);

  // 1. setup.
  auto m = [&](const char* side) { return in_us(median_of("setup/" + p + "/" + side)); };
  row setup{.measure = "setup, µs (median)",
            .policy = p,
            .sysfence = m("sysfence"),
            .linear = m("libseccomp"),
            .tree = m("libseccomp_opt2"),
            .reference_name = "bare seccomp()",
            .reference = m("bare_seccomp"),
            .goal = "÷ libseccomp ≤ 0.20, ÷ OPT=2 ≤ 0.25, ÷ bare ≤ 1.05",
            .precision = 1};
  if (setup.sysfence && setup.linear && setup.tree && setup.reference)
    setup.met = *setup.sysfence <= 0.20 * *setup.linear && *setup.sysfence <= 0.25 * *setup.tree &&
                *setup.sysfence <= 1.05 * *setup.reference;
  out.setup.push_back(setup);
  const std::string s = "setup/" + p + "/";
  out.notes.push_back(p + ": setup ratios per round, median [interquartile range]: sysfence ÷ bare seccomp() " +
                      paired_ratio(s + "sysfence", s + "bare_seccomp") + ", ÷ libseccomp " +
                      paired_ratio(s + "sysfence", s + "libseccomp") + ", ÷ OPT=2 " +
                      paired_ratio(s + "sysfence", s + "libseccomp_opt2") + "; bare + action check ÷ bare " +
                      paired_ratio(s + "bare_seccomp_action_check", s + "bare_seccomp"));
  out.setup.push_back({.measure = "setup, µs (median), libseccomp's API probe done before timing",
                       .policy = p,
                       .sysfence = m("sysfence"),
                       .linear = m("libseccomp_probed"),
                       .tree = m("libseccomp_opt2_probed"),
                       .reference_name = "bare + action check",
                       .reference = m("bare_seccomp_action_check"),
                       .precision = 1});

  // The same policy as a prebuilt_policy (S: generated from policy_S.json at build time).
  const auto prebuilt = prebuilt_of<Policy>().program();
  bool same_program = prebuilt.size() == sf.size();
  for (std::size_t i = 0; same_program && i < sf.size(); ++i)
    same_program = prebuilt[i].code == sf[i].code && prebuilt[i].jt == sf[i].jt && prebuilt[i].jf == sf[i].jf &&
                   prebuilt[i].k == sf[i].k;
  if (!same_program) errors().push_back(p + ": the prebuilt program is not the typed policy's program");
  const bool generated = p == "S" && generated_s;
  out.setup.push_back({.measure = generated ? "setup, µs (median), prebuilt_policy from a generated header"
                                            : "setup, µs (median), prebuilt_policy",
                       .policy = p,
                       .sysfence = m("prebuilt"),
                       .linear = m("libseccomp"),
                       .tree = m("libseccomp_opt2"),
                       .reference_name = "typed sysfence",
                       .reference = m("sysfence"),
                       .goal = "÷ typed within the spread",
                       .precision = 1});
  out.notes.push_back(p + ": prebuilt ratios per round, median [interquartile range]: prebuilt ÷ typed " +
                      paired_ratio(s + "prebuilt", s + "sysfence") + ", ÷ bare seccomp() " +
                      paired_ratio(s + "prebuilt", s + "bare_seccomp") + ", ÷ libseccomp " +
                      paired_ratio(s + "prebuilt", s + "libseccomp") + ", ÷ OPT=2 " +
                      paired_ratio(s + "prebuilt", s + "libseccomp_opt2") +
                      (generated ? " (S: the header generated from policy_S.json)" : ""));
  if (const auto q = paired_quartiles(s + "prebuilt", s + "sysfence"))
    out.setup.back().met = (*q)[0] <= 1.0 && 1.0 <= (*q)[2];

  // 2. allocations.
  row allocations{.measure = "heap allocations in apply",
                  .policy = p,
                  .sysfence = allocations_while(install_sysfence<Policy>),
                  .linear = allocations_while(install_libseccomp<Policy, peer_mode::linear>),
                  .tree = allocations_while(install_libseccomp<Policy, peer_mode::tree>),
                  .goal = "0"};
  if (allocations.sysfence) allocations.met = *allocations.sysfence == 0;
  out.allocations.push_back(allocations);
  row prebuilt_allocations = allocations;
  prebuilt_allocations.measure = "heap allocations in apply, prebuilt_policy";
  prebuilt_allocations.sysfence = allocations_while(install_prebuilt<Policy>);
  if (prebuilt_allocations.sysfence) prebuilt_allocations.met = *prebuilt_allocations.sysfence == 0;
  out.allocations.push_back(prebuilt_allocations);

  // 3. and 4.
  path_rows(out, p, sf, linear, tree, shape);
  cache_rows(out, p, sf, linear, tree, shape);
  fit_rows(out, p, tree, shape);

  // 6. program size.
  out.size.push_back({.measure = "program size, instructions",
                      .policy = p,
                      .sysfence = static_cast<double>(sf.size()),
                      .linear = static_cast<double>(linear.size()),
                      .tree = static_cast<double>(tree.size()),
                      .goal = "≤ libseccomp's smaller",
                      .met = sf.size() <= std::min(linear.size(), tree.size())});
  return out;
}

// `action_text` is an action as libseccomp's disassembly spells it, an errno in parentheses.
std::string action_text(sysfence::action a) {
  std::string text(sysfence::action_name(a));
  if (a.what() == sysfence::action::kind::error) text += "(" + std::to_string(a.data()) + ")";
  return text;
}

// `peer_knows` is true when libseccomp, on its architecture `scmp`, knows number `nr` (as
// seccomp_data.nr shows it) as the syscall `name`. Debian 12's libseccomp (2.5.4-1+deb12u1)
// carries 2.5.5's table: Linux 6.7's syscalls, without x32's map_shadow_stack (fixed in 2.5.6).
bool peer_knows(std::uint32_t scmp, std::uint32_t nr, std::string_view name) {
  char* peer = seccomp_syscall_resolve_num_arch(scmp, static_cast<int>(nr));
  const bool same = peer != nullptr && !name.empty() && name == peer;
  std::free(peer);
  return same;
}

// `multiplexed_note` compares i386's socketcall(op, args) and ipc(op, ...): libseccomp gives each
// rule on a socket or SysV IPC syscall a companion rule on the multiplexer, testing the op in
// place of the rule's condition on argument 0 and its other conditions against the multiplexer's
// registers (the real arguments are behind a pointer); sysfence answers only those the policy names.
void multiplexed_note(policy_report& out, const std::string& who, program_view sf, program_view linear,
                      program_view tree) {
  // By op (linux/net.h's SYS_*, and the ipc calls of linux/ipc.h); "" where there is none.
  static constexpr std::array<std::string_view, 21> socket_ops{
      "",           "socket",  "bind",    "connect",  "listen",   "accept",   "getsockname", "getpeername",
      "socketpair", "send",    "recv",    "sendto",   "recvfrom", "shutdown", "setsockopt",  "getsockopt",
      "sendmsg",    "recvmsg", "accept4", "recvmmsg", "sendmmsg"};
  static constexpr std::array<std::string_view, 25> ipc_ops{
      "", "semop", "semget", "semctl", "semtimedop", "",       "",      "", "",
      "", "",      "msgsnd", "msgrcv", "msgget",     "msgctl", "",      "", "",
      "", "",      "",       "shmat",  "shmdt",      "shmget", "shmctl"};
  std::string where;
  std::size_t count = 0;
  for (const auto& [mux, ops] :
       {std::pair{sysfence::sys::id::socketcall, std::span<const std::string_view>(socket_ops)},
        std::pair{sysfence::sys::id::ipc, std::span<const std::string_view>(ipc_ops)}})
    for (std::uint32_t op = 0; op < ops.size(); ++op) {
      if (ops[op].empty()) continue;
      const seccomp_data d = sysfence::call<sysfence::arch::x86>(mux, {op, some_pointer, 0, 0, 0, 0});
      const auto a = sysfence::evaluate(sf, d).result, l = sysfence::evaluate(linear, d).result,
                 t = sysfence::evaluate(tree, d).result;
      if (a == l && a == t) continue;
      ++count;
      where += (where.empty() ? "" : ", ") + std::string(ops[op]) + " " + action_text(a) + " vs " +
               action_text(l) + (l == t ? "" : " / " + action_text(t));
    }
  if (count > 0)
    out.notes.push_back(who + ": socketcall and ipc answered otherwise for " + std::to_string(count) +
                        " operations (sysfence vs libseccomp, libseccomp's companion rules): " + where);
}

// `abi_rows` are target_rows' rows for `Arch`, one of the ABIs `sf` serves (`set` names them
// all; `alone` when it is the only one): instructions run over every number of its table and 20
// more (zero arguments), the plain allows the kernel's action cache proves, each argument vector
// on a syscall the policy conditions there (a row each when `alone`), and where the two sides
// differ. They must agree on every number libseccomp knows there and on every vector, but for
// x32 arguments with an upper half: libseccomp treats x32 as a 32-bit architecture and compares
// the low halves only, where the kernel's x86_64 entry points read 64 bits (noted, not an error).
template <class Policy, class Arch>
void abi_rows(policy_report& out, const std::string& p, const std::string& set, bool alone, program_view sf,
              program_view linear, program_view tree) {
  const std::string on = " (" + (alone ? "" : std::string(Arch::name) + " of ") + set + ")", who = p + on;
  path_stats::summary ps, pl, pt;
  std::size_t disagreements = 0, compared = 0;
  std::string unknown;
  for (std::uint32_t n = 0; n < Arch::value.table_size + 20; ++n) {
    const std::uint32_t nr = Arch::value.nr_base + n;
    const seccomp_data d{static_cast<int>(nr), Arch::audit, 0, {}};
    const auto a = sysfence::evaluate(sf, d), l = sysfence::evaluate(linear, d), t = sysfence::evaluate(tree, d);
    // Comparable where libseccomp knows the syscall: above the table sysfence answers ENOSYS
    // (libseccomp the default), and a syscall libseccomp does not know is out of its filter.
    const std::string_view name = sysfence::detail::syscall_name_for(Arch::value, nr);
    if (peer_knows(scmp_arch<Arch>, nr, name)) {
      ++compared;
      disagreements += a.result != l.result || a.result != t.result ? 1 : 0;
    } else if (!name.empty()) {
      unknown += (unknown.empty() ? "" : ", ") + std::string(name);
    }
    for (auto [summary, e] : {std::pair{&ps, a}, std::pair{&pl, l}, std::pair{&pt, t}}) {
      summary->max = std::max(summary->max, e.executed);
      summary->sum += e.executed;
      ++summary->count;
    }
  }
  if (disagreements > 0)
    errors().push_back(who + ": sysfence and libseccomp disagree on " + std::to_string(disagreements) +
                       " numbers");
  out.notes.push_back(who + ": the same action on " + std::to_string(compared - disagreements) + " of the " +
                      std::to_string(compared) + " numbers libseccomp knows there (it does not know " +
                      (unknown.empty() ? "none" : unknown) + ")");
  out.targets.push_back({.measure = "insns run, max over " + std::to_string(ps.count) + " numbers" + on,
                         .policy = p,
                         .sysfence = ps.max,
                         .linear = pl.max,
                         .tree = pt.max});
  out.targets.push_back({.measure = "insns run, mean over the same numbers" + on,
                         .policy = p,
                         .sysfence = ps.mean(),
                         .linear = pl.mean(),
                         .tree = pt.mean(),
                         .precision = 1});
  std::string upper_halves;
  for (const typical_call& c : argument_vectors) {
    bool conditional = false;
    for (const auto& e : Policy::rules) conditional = conditional || (e.r.syscall == c.syscall && !e.r.is_simple());
    if (!conditional || Arch::numbers[static_cast<std::size_t>(c.syscall)] < 0) continue;
    const seccomp_data d = sysfence::call<Arch>(c.syscall, c.args);
    const auto a = sysfence::evaluate(sf, d), l = sysfence::evaluate(linear, d), t = sysfence::evaluate(tree, d);
    if (a.result != l.result || a.result != t.result) {
      const bool upper =
          std::any_of(c.args.begin(), c.args.end(), [](std::uint64_t v) { return (v >> 32) != 0; });
      if (Arch::value.nr_base != 0 && upper)
        upper_halves += (upper_halves.empty() ? "" : ", ") + std::string(c.label) + " " +
                        action_text(a.result) + " vs " + action_text(l.result);
      else
        errors().push_back(who + ": sysfence and libseccomp disagree on " + std::string(c.label));
    }
    if (!alone) continue;
    row r{.measure = "insns run, " + std::string(c.label) + on,
          .policy = p,
          .sysfence = a.executed,
          .linear = l.executed,
          .tree = t.executed,
          .goal = "≤ OPT=2"};
    r.met = a.executed <= t.executed;
    out.targets.push_back(r);
  }
  if (!upper_halves.empty())
    out.notes.push_back(who +
                        ": libseccomp compares x32's arguments as 32 bits; answered otherwise (sysfence vs "
                        "libseccomp): " +
                        upper_halves);
  if constexpr (std::is_same_v<Arch, sysfence::arch::x86>) multiplexed_note(out, who, sf, linear, tree);
  // The kernel's action cache covers the native and the compat table, never x32's numbers (bit 30).
  if (Arch::value.nr_base != 0) return;
  std::size_t plain = 0, proven = 0, peer_plain = 0, peer_linear = 0, peer_tree = 0;
  for (const auto& e : Policy::rules) {
    const std::int32_t nr = Arch::numbers[static_cast<std::size_t>(e.r.syscall)];
    if (!e.r.is_simple() || e.r.result != sysfence::action::allow || nr < 0) continue;
    const auto n = static_cast<std::uint32_t>(nr);
    ++plain;
    proven += sysfence::const_allow(sf, Arch::audit, n).allowed ? 1 : 0;
    if (!peer_knows(scmp_arch<Arch>, n, sysfence::sys::name(e.r.syscall))) continue;
    ++peer_plain;
    peer_linear += sysfence::const_allow(linear, Arch::audit, n).allowed ? 1 : 0;
    peer_tree += sysfence::const_allow(tree, Arch::audit, n).allowed ? 1 : 0;
  }
  out.targets.push_back({.measure = "plain allows the action cache proves always allowed" + on,
                         .policy = p,
                         .sysfence = static_cast<double>(proven),
                         .reference_name = "plain allows",
                         .reference = static_cast<double>(plain),
                         .goal = "all",
                         .met = proven == plain});
  out.notes.push_back(who + ": the action cache proves " + std::to_string(peer_linear) + " (linear) and " +
                      std::to_string(peer_tree) + " (OPT=2) of the " + std::to_string(peer_plain) +
                      " plain allows libseccomp knows there");
}

// `target_rows` are (7): the same policy compiled for other architectures (issue 13), alone or
// several ABIs in one program (x86_64, i386 and x32, as Docker's profile serves them), against
// libseccomp's programs for the same architectures: size, then abi_rows for each ABI.
template <class Policy, class... Archs>
void target_rows(policy_report& out, const std::string& p) {
  const program_view sf = sysfence::compile<Policy, Archs...>();
  const std::vector<bpf::insn> linear = peer_program_for<Policy>(peer_mode::linear, {scmp_arch<Archs>...});
  const std::vector<bpf::insn> tree = peer_program_for<Policy>(peer_mode::tree, {scmp_arch<Archs>...});
  std::string set;
  ((set += (set.empty() ? "" : "+") + std::string(Archs::name)), ...);
  if (linear.empty() || tree.empty()) {
    errors().push_back(p + " (" + set + "): libseccomp could not build or export the filter");
    return;
  }
  out.targets.push_back({.measure = "program size, instructions (" + set + ")",
                         .policy = p,
                         .sysfence = static_cast<double>(sf.size()),
                         .linear = static_cast<double>(linear.size()),
                         .tree = static_cast<double>(tree.size()),
                         .goal = "≤ OPT=2",
                         .met = sf.size() <= tree.size()});
  (abi_rows<Policy, Archs>(out, p, set, sizeof...(Archs) == 1, sf, linear, tree), ...);
  // x32's numbers (bit 30) where x86_64 is served and x32 is not: libseccomp's x86_64 part sends
  // them to its BADARCH action (but -1, which tracers use to skip a call), sysfence's to the
  // default action when it denies (KILL_PROCESS when it lets calls run).
  namespace arch = sysfence::arch;
  if constexpr ((std::is_same_v<Archs, arch::x86_64> || ...) && !(std::is_same_v<Archs, arch::x32> || ...)) {
    const seccomp_data d = sysfence::call<arch::x32>(sysfence::sys::id::write, {});
    const auto a = sysfence::evaluate(sf, d).result, l = sysfence::evaluate(linear, d).result,
               t = sysfence::evaluate(tree, d).result;
    if (a != l || a != t)
      out.notes.push_back(p + " (" + set + "): x32's numbers, not served, answered otherwise: sysfence " +
                          action_text(a) + ", libseccomp " + action_text(l) + " (OPT=2 " + action_text(t) +
                          ")");
  }
}

// `call_rows` are the per-call costs (5) of one policy against no filter at all: medians of the
// rounds, and per round the ratios to libseccomp's; where their interquartile range holds 1 the
// difference is within the spread, and the row says so instead of a ratio to trust.
std::vector<row> call_rows(const std::string& p, std::vector<std::string>& notes) {
  std::vector<row> rows;
  const std::pair<const char*, const char*> probes[] = {{"getppid", "getppid (allowed: cache hit)"},
                                                        {"fcntl_getfd", "fcntl(fd, F_GETFD) (conditional)"},
                                                        {"getuid", "getuid (denied: EPERM)"}};
  for (const auto& probe : probes) {
    const std::string name = probe.first, what = probe.second;  // clang 14: no lambda capture of bindings
    const std::string key = "call/" + p + "/" + name + "/";
    auto m = [&](const char* side) { return median_of(key + side); };
    row r{.measure = std::string("ns per call, ") + what,
          .policy = p,
          .sysfence = m("sysfence"),
          .linear = m("libseccomp"),
          .tree = m("libseccomp_opt2"),
          .reference_name = "no filter",
          .reference = m("none")};
    const auto vs_linear = paired_quartiles(key + "sysfence", key + "libseccomp");
    const auto vs_tree = paired_quartiles(key + "sysfence", key + "libseccomp_opt2");
    auto within = [](const std::optional<std::array<double, 3>>& q) { return q && (*q)[0] <= 1 && (*q)[2] >= 1; };
    if (within(vs_linear) || within(vs_tree))
      r.goal = std::string("within the spread vs ") + (within(vs_linear) ? "libseccomp" : "") +
               (within(vs_linear) && within(vs_tree) ? " and " : "") + (within(vs_tree) ? "OPT=2" : "");
    rows.push_back(r);
    if (vs_linear)
      notes.push_back(p + ": " + what + ", ratios per round, median [interquartile range]: sysfence ÷ libseccomp " +
                      paired_ratio(key + "sysfence", key + "libseccomp") + ", ÷ OPT=2 " +
                      paired_ratio(key + "sysfence", key + "libseccomp_opt2") + ", ÷ no filter " +
                      paired_ratio(key + "sysfence", key + "none"));
  }
  return rows;
}

// `compile_rows` reads compile_cost.sh's measurements: "compiler policy seconds KiB" per line.
std::vector<row> compile_rows(const std::string& file) {
  std::vector<row> rows;
  if (file.empty()) return rows;
  std::ifstream in(file);
  if (!in) {
    errors().push_back("could not read " + file);
    return rows;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string compiler, policy;
    double seconds = 0, kib = 0;
    if (!(fields >> compiler >> policy >> seconds >> kib)) continue;
    const bool goal = policy == "L" && compiler.rfind("g++", 0) == 0;  // issue 6: (L) on g++
    row time{.measure = "compile time of the policy's TU, s (" + compiler + ")",
             .policy = policy,
             .sysfence = seconds,
             .precision = 2,
             .ratios = false};
    row memory{.measure = "compile peak memory of the policy's TU, MiB (" + compiler + ")",
               .policy = policy,
               .sysfence = kib / 1024,
               .ratios = false};
    if (goal) {
      time.goal = "< 5";
      time.met = seconds < 5;
      memory.goal = "< 1024";
      memory.met = kib / 1024 < 1024;
    }
    rows.push_back(time);
    rows.push_back(memory);
  }
  return rows;
}

template <class Policy>
std::string rule_counts() {
  std::size_t plain = 0;
  for (const auto& e : Policy::rules) plain += e.r.is_simple() ? 1 : 0;
  return std::to_string(plain) + " plain allows + " + std::to_string(Policy::rules.size() - plain) +
         " argument rules";
}

#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
// `executed_per_number` is the mean and maximum instructions `program` runs over the numbers
// [0, sweep_end()) of one architecture, arguments 0.
std::pair<double, std::uint32_t> executed_per_number(program_view program, std::uint32_t audit) {
  double sum = 0;
  std::uint32_t max = 0;
  for (std::uint32_t nr = 0; nr < sweep_end(); ++nr) {
    const seccomp_data d{static_cast<int>(nr), audit, 0, {}};
    const std::uint32_t n = sysfence::evaluate(program, d).executed;
    sum += n;
    max = std::max(max, n);
  }
  return {sum / sweep_end(), max};
}

// `docker_rows` are the policy-file rows (issue 14): Docker's default profile read, compiled and
// installed at run time by sysfence and by libseccomp as runc drives it, and compiled at build time.
void docker_rows(std::vector<row>& rows, std::vector<std::string>& notes) {
  const std::string s = "setup/docker/", p = "docker";
  auto m = [&](const char* v) { return in_us(median_of(s + v)); };
  row total{.measure = "parse + compile + install, µs (median)",
            .policy = p,
            .sysfence = m("sysfence"),
            .linear = m("libseccomp"),
            .reference_name = "bare seccomp()",
            .reference = m("bare_seccomp"),
            .goal = "÷ libseccomp ≤ 0.10",
            .precision = 1};
  if (const auto q = paired_quartiles(s + "sysfence", s + "libseccomp")) total.met = (*q)[1] <= 0.10;
  rows.push_back(total);
  rows.push_back({.measure = "parse + compile, no install, µs (median)",
                  .policy = p,
                  .sysfence = m("sysfence_compile"),
                  .linear = m("libseccomp_build"),
                  .precision = 1});
  row apply{.measure = "install of the loaded profile, µs (median)",
            .policy = p,
            .sysfence = m("sysfence_apply"),
            .linear = m("libseccomp"),
            .reference_name = "bare seccomp()",
            .reference = m("bare_seccomp"),
            .goal = "÷ bare within the spread",
            .precision = 1};
  if (const auto q = paired_quartiles(s + "sysfence_apply", s + "bare_seccomp"))
    apply.met = (*q)[0] <= 1.0 && 1.0 <= (*q)[2];
  rows.push_back(apply);
  row prebuilt{.measure = "install, compiled at build time (generated header), µs (median)",
               .policy = p,
               .sysfence = m("prebuilt"),
               .linear = m("libseccomp"),
               .reference_name = "bare seccomp()",
               .reference = m("bare_seccomp"),
               .goal = "÷ bare within the spread",
               .precision = 1};
  if (const auto q = paired_quartiles(s + "prebuilt", s + "bare_seccomp"))
    prebuilt.met = (*q)[0] <= 1.0 && 1.0 <= (*q)[2];
  rows.push_back(prebuilt);
  notes.push_back("docker: Docker's default profile (golang-github-docker-docker-dev), Docker's capabilities, Linux " +
                  std::to_string(docker().kernel.major) + "." + std::to_string(docker().kernel.minor) +
                  "; libseccomp side: nlohmann-json parse, dockerd's resolution, runc's seccomp_rule_add_array calls "
                  "(tests/runc_peer.hpp), seccomp_load. Ratios per round, median [interquartile range]: "
                  "parse + compile + install ÷ libseccomp " +
                  paired_ratio(s + "sysfence", s + "libseccomp") + "; parse + compile ÷ libseccomp's build " +
                  paired_ratio(s + "sysfence_compile", s + "libseccomp_build") + "; apply ÷ bare seccomp() " +
                  paired_ratio(s + "sysfence_apply", s + "bare_seccomp") + "; generated header ÷ bare seccomp() " +
                  paired_ratio(s + "prebuilt", s + "bare_seccomp") + ", ÷ run-time apply " +
                  paired_ratio(s + "prebuilt", s + "sysfence_apply"));

  row allocations{.measure = "heap allocations in apply",
                  .policy = p,
                  .sysfence = allocations_while(apply_docker_loaded),
                  .linear = allocations_while(install_docker_libseccomp),
                  .goal = "0"};
  if (allocations.sysfence) allocations.met = *allocations.sysfence == 0;
  rows.push_back(allocations);

  // The programs: sysfence's (x86_64 + x86 + x32, from the archMap) and libseccomp's for the same.
  const program_view sf = docker().loaded->policy.program();
  std::vector<bpf::insn> peer;
  try {
    const runc_peer::profile rp = runc_peer::resolve(docker().text, sysfence::docker_default_capabilities(),
                                                     docker().kernel.major, docker().kernel.minor);
    runc_peer::built b;
    runc_peer::build(rp, b);
    if (b.error == 0) peer = exported(b.ctx);
  } catch (...) {
  }
  if (peer.empty()) {
    errors().push_back("docker: libseccomp could not build or export the profile");
    return;
  }
  rows.push_back({.measure = "program size, instructions",
                  .policy = p,
                  .sysfence = static_cast<double>(sf.size()),
                  .linear = static_cast<double>(peer.size()),
                  .goal = "≤ libseccomp's",
                  .met = sf.size() <= peer.size()});
  using abi = std::pair<const char*, std::uint32_t>;
  for (const auto& [name, audit] : {abi{"x86_64", AUDIT_ARCH_X86_64}, abi{"i386", AUDIT_ARCH_I386}}) {
    const auto ours = executed_per_number(sf, audit), theirs = executed_per_number(peer, audit);
    row mean{.measure = std::string("insns run per ") + name + " number, mean",
             .policy = p,
             .sysfence = ours.first,
             .linear = theirs.first,
             .goal = "≤ libseccomp's",
             .met = ours.first <= theirs.first,
             .precision = 1};
    rows.push_back(mean);
    rows.push_back({.measure = std::string("insns run per ") + name + " number, max",
                    .policy = p,
                    .sysfence = static_cast<double>(ours.second),
                    .linear = static_cast<double>(theirs.second),
                    .goal = "≤ libseccomp's",
                    .met = ours.second <= theirs.second});
  }
}
#endif

void print_report(const options& opt) {
  std::vector<policy_report> reports;
  reports.push_back(report_policy<policy_s_type>("S"));
  reports.push_back(report_policy<policy_m_type>("M"));
  reports.push_back(report_policy<policy_l_type>("L"));
  reports.push_back(report_policy<policy_m64_type>("M64"));
  reports.push_back(report_policy<policy_p_type>("P"));
  for (policy_report& r : reports) r.targets.clear();
  namespace arch = sysfence::arch;
  target_rows<policy_s_type, arch::aarch64>(reports[0], "S");
  target_rows<policy_s_type, arch::riscv64>(reports[0], "S");
  target_rows<policy_s_type, arch::x86_64, arch::x86>(reports[0], "S");
  target_rows<policy_s_type, arch::x86_64, arch::x86, arch::x32>(reports[0], "S");
  target_rows<policy_m_type, arch::aarch64>(reports[1], "M");
  target_rows<policy_m_type, arch::riscv64>(reports[1], "M");
  target_rows<policy_m_type, arch::x86_64, arch::x86>(reports[1], "M");
  target_rows<policy_m_type, arch::x86_64, arch::x86, arch::x32>(reports[1], "M");
  target_rows<policy_l_type, arch::aarch64>(reports[2], "L");
  target_rows<policy_l_type, arch::riscv64>(reports[2], "L");
  target_rows<policy_l_type, arch::x86_64, arch::x86>(reports[2], "L");
  target_rows<policy_l_type, arch::x86_64, arch::x86, arch::x32>(reports[2], "L");

  std::vector<row> rows;
  std::vector<std::string> notes;
  auto append = [&](std::vector<row> policy_report::*part) {
    for (const policy_report& r : reports) rows.insert(rows.end(), (r.*part).begin(), (r.*part).end());
  };
  append(&policy_report::setup);
  append(&policy_report::allocations);
  append(&policy_report::paths);
  append(&policy_report::cache);
  append(&policy_report::targets);
  std::vector<std::string> call_notes;
  for (const char* p : {"M", "L"}) {
    const auto more = call_rows(p, call_notes);
    rows.insert(rows.end(), more.begin(), more.end());
  }
  append(&policy_report::size);
#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
  docker_rows(rows, notes);
#endif
  const auto compile = compile_rows(opt.compile_cost);
  rows.insert(rows.end(), compile.begin(), compile.end());
  for (const policy_report& r : reports) notes.insert(notes.end(), r.notes.begin(), r.notes.end());
  notes.insert(notes.end(), call_notes.begin(), call_notes.end());

  utsname u{};
  uname(&u);
  const scmp_version* v = seccomp_version();
  std::printf("\n## sysfence against libseccomp %u.%u.%u, Linux %s, %s mode\n", v->major, v->minor, v->micro,
              u.release, opt.short_mode ? "short" : "full");
  std::printf(
      "(S) headline example: %s; (M) TCP server: %s; (L) container: %s; (M64) the TCP server with "
      "64-bit conditions: %s; (P) Docker's personality values: %s. Setup: median of fresh children, "
      "the variants interleaved sample by sample; "
      "insns: sysfence's simulator; OPT=2: SCMP_FLTATR_CTL_OPTIMIZE = 2.\n",
      rule_counts<policy_s_type>().c_str(), rule_counts<policy_m_type>().c_str(),
      rule_counts<policy_l_type>().c_str(), rule_counts<policy_m64_type>().c_str(),
      rule_counts<policy_p_type>().c_str());
  print_table(rows);
  std::size_t met = 0, missed = 0;
  for (const row& r : rows) {
    if (r.met) ++(*r.met ? met : missed);
  }
  std::printf("\ngoals met: %zu, missed: %zu\n", met, missed);
  for (const std::string& n : notes) std::printf("note: %s\n", n.c_str());
  for (const std::string& e : errors()) std::printf("error: %s\n", e.c_str());
}

// `parse` takes this program's own options out of argv; it adds --benchmark_min_time=0.01 in
// short mode, and random interleaving of the repetitions otherwise (unless given).
options parse(int& argc, char**& argv, std::vector<char*>& storage) {
  options opt;
  bool min_time_given = false;
  bool interleaving_given = false;
  bool no_color = false;
  storage.assign(argv, argv + argc);
  std::vector<char*> kept;
  for (char* a : storage) {
    const std::string_view s(a);
    if (s == "--short") {
      opt.short_mode = true;
    } else if (s.rfind("--setup-samples=", 0) == 0) {
      opt.setup_samples = std::strtol(a + s.find('=') + 1, nullptr, 10);
    } else if (s.rfind("--compile-cost=", 0) == 0) {
      opt.compile_cost = std::string(s.substr(s.find('=') + 1));
    } else {
      min_time_given = min_time_given || s.rfind("--benchmark_min_time", 0) == 0;
      interleaving_given = interleaving_given || s.rfind("--benchmark_enable_random_interleaving", 0) == 0;
      no_color = no_color || s == "--benchmark_color=false" || s == "--benchmark_color=no";
      kept.push_back(a);
    }
  }
  static char min_time[] = "--benchmark_min_time=0.01";
  static char interleaving[] = "--benchmark_enable_random_interleaving=true";
  if (opt.short_mode && !min_time_given) kept.push_back(min_time);
  if (!opt.short_mode && !interleaving_given) kept.push_back(interleaving);
  opt.color = !no_color && isatty(STDOUT_FILENO) == 1;
  storage = kept;
  storage.push_back(nullptr);
  argc = static_cast<int>(kept.size());
  argv = storage.data();
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const options opt = parse(argc, argv, args);

  const rlimit no_core{0, 0};  // a child killed by a filter leaves no core file
  setrlimit(RLIMIT_CORE, &no_core);
  void* page = mmap(nullptr, sizeof(child_report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  shared_report = static_cast<child_report*>(page);
  probe_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (probe_fd < 0) return 1;

#ifdef SYSFENCE_BENCH_DOCKER_PROFILE
  {
    std::ifstream in(SYSFENCE_BENCH_DOCKER_PROFILE);
    std::stringstream text;
    text << in.rdbuf();
    docker().text = text.str();
    docker().kernel = sysfence::running_kernel_version();
    try {
      docker().loaded = sysfence::load_oci_profile(docker().text, {.file_name = "default.json", .kernel = docker().kernel});
    } catch (const sysfence::policy_error& e) {
      std::fprintf(stderr, "sysfence_bench: %s: %s\n", SYSFENCE_BENCH_DOCKER_PROFILE, e.what());
      return 1;
    }
  }
#endif
  register_benchmarks(opt);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::ConsoleReporter reporter(opt.color ? benchmark::ConsoleReporter::OO_ColorTabular
                                                : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_report(opt);
  return errors().empty() ? 0 : 1;
}
