// SPDX-License-Identifier: MIT
// run.cpp - `sysfence run`: a command run under a policy file (run_confined, confine.hpp), its
// exit status passed through.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <elf.h>
#include <unistd.h>

#include <sysfence/confine.hpp>
#include <sysfence/promises.hpp>
#include <sysfence/systemd.hpp>

#include "commands.hpp"
#include "input.hpp"
#include "promises_preload.hpp"

namespace sysfence::cli {

namespace {

struct run_args {
  std::string policy, profile, on_violation;
  std::vector<std::string> systemd;  // SystemCallFilter= assignments
  std::string systemd_errno;         // SystemCallErrorNumber=
  std::string promises;              // --promises: pledge promises instead of a policy file
  std::string kafel;                 // --kafel: a kafel policy file
  input_options input;
  bool report = false;
  double timeout = 0;
  std::vector<std::string> command;
};

void run_policy(const run_args& a, runtime_policy policy, const std::vector<std::string>& notes,
                const std::string& source);

action violation_action(const std::string& name) {
  if (name == "errno") return action::error(EPERM);
  if (name == "kill") return action::kill_process;
  if (name == "trap") return action::trap();
  if (name == "log") return action::log;
  throw policy_error("sysfence: --action-on-violation " + name + ": expected errno, kill, trap or log");
}

// `preload_path` is libsysfence_preload.so: next to this binary (the build tree), else at the
// install's library directory relative to it.
std::string preload_path() {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) fail("sysfence run --promises: cannot read /proc/self/exe to find " + std::string(preload_library));
  std::string dir(self, static_cast<std::size_t>(n));
  dir.erase(dir.rfind('/') + 1);
  for (const std::string& candidate : {dir + preload_library, dir + SYSFENCE_PRELOAD_RELATIVE + "/" + preload_library})
    if (::access(candidate.c_str(), R_OK) == 0) {
      // LD_PRELOAD splits on spaces and colons.
      if (candidate.find_first_of(" :") != std::string::npos)
        fail("sysfence run --promises: " + candidate + ": LD_PRELOAD cannot name a path with a space or colon");
      return candidate;
    }
  fail("sysfence run --promises: " + std::string(preload_library) + " not found next to the sysfence binary (" + dir +
       ")");
  return {};
}

// `statically_linked` is true when `command` (searched in PATH as execvp does) is an ELF file
// without an interpreter (PT_INTERP): the loader never runs, so LD_PRELOAD is ignored.
bool statically_linked(const std::string& command) {
  std::string path = command;
  if (command.find('/') == std::string::npos) {
    const char* env = std::getenv("PATH");
    std::string dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
    path.clear();
    for (std::size_t at = 0; at <= dirs.size();) {
      const std::size_t end = std::min(dirs.find(':', at), dirs.size());
      const std::string candidate = (end == at ? std::string(".") : dirs.substr(at, end - at)) + "/" + command;
      if (::access(candidate.c_str(), X_OK) == 0) {
        path = candidate;
        break;
      }
      at = end + 1;
    }
  }
  std::FILE* f = path.empty() ? nullptr : std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  Elf64_Ehdr h{};
  bool interp = false, elf64 = false;
  if (std::fread(&h, sizeof h, 1, f) == 1 && std::memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 &&
      h.e_ident[EI_CLASS] == ELFCLASS64) {
    elf64 = true;
    for (unsigned i = 0; i < h.e_phnum && !interp; ++i) {
      Elf64_Phdr ph{};
      if (std::fseek(f, static_cast<long>(h.e_phoff + i * sizeof ph), SEEK_SET) != 0 || std::fread(&ph, sizeof ph, 1, f) != 1) {
        interp = true;  // unreadable: say nothing
        break;
      }
      interp = ph.p_type == PT_INTERP;
    }
  }
  std::fclose(f);
  return elf64 && !interp;
}

// `run_promises`: the command starts under the wider promise_exec_policy (its loader maps code
// and reads libraries); the preloaded library then applies exactly the promises (a second filter:
// the stricter answer wins). A statically linked command keeps the wider filter.
void run_promises(const run_args& a) {
  if (a.report) fail("sysfence run: --report does not report what the promises refuse; use --action-on-violation trap", 2);
  const std::string penalty = a.on_violation.empty() ? "errno" : a.on_violation;
  if (penalty == "log") fail("sysfence run: --promises takes --action-on-violation errno, kill or trap", 2);
  const action answer = violation_action(penalty);
  (void)promise_policy(a.promises, answer);  // a bad promise string is reported before anything starts
  const std::string library = preload_path();
  if (statically_linked(a.command[0]))
    std::fprintf(stderr,
                 "sysfence: note: %s is statically linked: it ignores the preloaded library that applies the "
                 "promises, and runs under the wider start-up filter (the promises and stdio rpath prot_exec exec)\n",
                 a.command[0].c_str());
  std::string preload = library;
  if (const char* before = std::getenv("LD_PRELOAD"); before != nullptr && *before != 0) {
    ::setenv(preload_variable, before, 1);
    preload += ':';
    preload += before;
  } else {
    ::unsetenv(preload_variable);
  }
  ::setenv("LD_PRELOAD", preload.c_str(), 1);
  ::setenv(promises_variable, a.promises.c_str(), 1);
  ::setenv(penalty_variable, penalty.c_str(), 1);
  run_args started = a;
  started.on_violation.clear();  // the start-up filter already answers with the penalty
  run_policy(started, promise_exec_policy(a.promises, answer), {}, "--promises");
}

// `systemd_policy` is the policy of --systemd's SystemCallFilter= assignments (systemd.hpp).
runtime_policy systemd_policy(const run_args& a) {
  systemd_filter_options o;
  o.context = "--systemd";
  if (!a.systemd_errno.empty() && a.systemd_errno != "kill") {
    o.error_number = detail::errno_number(a.systemd_errno);
    if (o.error_number < 1 || o.error_number > 4095)
      fail("sysfence: --systemd-errno " + a.systemd_errno + ": expected an errno name (EPERM), 1 to 4095, or kill", 2);
  }
  const std::vector<std::string_view> assignments(a.systemd.begin(), a.systemd.end());
  return systemd_filter(assignments, o);
}

void run(const run_args& a) {
  if (!a.systemd.empty()) return run_policy(a, systemd_policy(a), {}, "--systemd");
  const std::string& path = !a.kafel.empty() ? a.kafel : a.policy.empty() ? a.profile : a.policy;
  load_options o = options_for(a.input);
  o.kind = !a.kafel.empty() ? policy_kind::kafel : a.policy.empty() ? policy_kind::oci : policy_kind::automatic;
  loaded_policy loaded = load_policy_file(path, o);
  if (!loaded.policy) fail("sysfence: " + path + ": run takes a JSON policy (a raw BPF program has no rules to run)");
  if (!a.profile.empty() && loaded.kind != policy_kind::oci)
    fail("sysfence: " + path + ": --profile takes a Docker/OCI profile (with defaultAction); use --policy");
  run_policy(a, std::move(*loaded.policy), loaded.notes, path);
}

// `run_policy` runs the command under `policy` (from `source`) and ends with its status.
void run_policy(const run_args& a, runtime_policy policy, const std::vector<std::string>& notes,
                const std::string& source) {
  if (!a.on_violation.empty()) policy = with_default_action(policy, violation_action(a.on_violation), source);
  for (const std::string& note : notes)
    if (a.report) std::fprintf(stderr, "sysfence: note: %s\n", note.c_str());
  std::vector<char*> argv;
  for (const std::string& s : a.command) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  confine_options c;
  c.report = a.report;
  c.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  const confined_run r = run_confined(policy, argv, c);
  if (!r.started) {
    std::string m = "sysfence: ";
    m += a.command[0];
    m += ": ";
    m += spawn_words(r.started.failed);
    m += ": ";
    m += std::strerror(r.started.error);
    fail(m, r.shell_status());
  }
  if (!r.ended) fail(std::string("sysfence: ") + std::string(spawn_words(r.ended.failed)), 1);
  if (r.ended.timed_out) std::fprintf(stderr, "sysfence: %s: killed after the %g s timeout\n", a.command[0].c_str(), a.timeout);
  if (a.report && r.reported)
    std::fprintf(stderr, "sysfence: %zu call%s refused\n", r.violations, r.violations == 1 ? "" : "s");
  throw exit_code{r.shell_status()};
}

}  // namespace

void add_run(CLI::App& app) {
  auto a = std::make_shared<run_args>();
  CLI::App* sub = app.add_subcommand("run", "Run a command under a policy file; its exit status is passed through");
  auto* policy = sub->add_option("--policy", a->policy, "The policy file (seccompiler JSON, or a Docker/OCI profile)");
  auto* profile = sub->add_option("--profile", a->profile, "A Docker/OCI seccomp profile");
  auto* systemd = sub->add_option("--systemd", a->systemd,
                                  "systemd's SystemCallFilter= setting: \"@system-service @network-io\" allows those "
                                  "groups (and @default), \"~@mount\" all but those; repeat it for later assignments")
                     ->allow_extra_args(false);
  sub->add_option("--systemd-errno", a->systemd_errno,
                  "systemd's SystemCallErrorNumber=: the errno refused calls get (default: kill)")
      ->needs(systemd);
  policy->excludes(profile);
  profile->excludes(policy);
  systemd->excludes(policy)->excludes(profile);
  auto* kafel = sub->add_option("--kafel", a->kafel, "A kafel policy (nsjail's seccomp language)");
  kafel->excludes(policy)->excludes(profile)->excludes(systemd);
  auto* promises = sub->add_option("--promises", a->promises,
                                   "Pledge promises instead of a policy file, e.g. \"stdio rpath\" (see docs/promises.md)");
  promises->excludes(policy)->excludes(profile)->excludes(systemd)->excludes(kafel);
  add_filter_and_caps(*sub, a->input);
  sub->add_option("--action-on-violation", a->on_violation,
                  "What calls the policy does not allow get, replacing its default action")
      ->check(CLI::IsMember({"errno", "kill", "trap", "log"}));
  sub->add_flag("--report", a->report,
                "Print each refused call (syscall, pid, arguments) on stderr, from a supervisor that then "
                "carries out the action");
  sub->add_option("--timeout", a->timeout, "Kill the command after this many seconds");
  sub->add_option("command", a->command, "The command and its arguments (after --)")->required();
  sub->footer(
      "Exit status: the command's own, or 128 + the signal that ended it; 126 if the policy could not be "
      "installed, 127 if the command could not be run; 1 for a bad policy file, 2 for a bad command line.\n"
      "Example: sysfence run --profile default.json -- cat /etc/hostname\n"
      "Example: sysfence run --promises \"stdio rpath\" -- cat /etc/hostname");
  sub->callback([a, policy, profile, systemd, promises, kafel] {
    if (promises->count() == 1) return run_promises(*a);
    if (policy->count() + profile->count() + kafel->count() + (systemd->count() > 0 ? 1 : 0) != 1)
      fail("sysfence run: give --policy FILE, --profile FILE, --kafel FILE, --systemd SETTING or --promises STRING", 2);
    run(*a);
  });
}

}  // namespace sysfence::cli
