// SPDX-License-Identifier: MIT
// run.cpp - `sysfence run`: a command run under a policy file (run_confined, confine.hpp), its
// exit status passed through.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sysfence/confine.hpp>

#include "commands.hpp"
#include "input.hpp"

namespace sysfence::cli {

namespace {

struct run_args {
  std::string policy, profile, kafel, on_violation;
  input_options input;
  bool report = false;
  double timeout = 0;
  std::vector<std::string> command;
};

action violation_action(const std::string& name) {
  if (name == "errno") return action::error(EPERM);
  if (name == "kill") return action::kill_process;
  if (name == "trap") return action::trap();
  if (name == "log") return action::log;
  throw policy_error("sysfence: --action-on-violation " + name + ": expected errno, kill, trap or log");
}

void run(const run_args& a) {
  const std::string& path = !a.kafel.empty() ? a.kafel : a.policy.empty() ? a.profile : a.policy;
  load_options o = options_for(a.input);
  o.kind = !a.kafel.empty() ? policy_kind::kafel : a.policy.empty() ? policy_kind::oci : policy_kind::automatic;
  loaded_policy loaded = load_policy_file(path, o);
  if (!loaded.policy) fail("sysfence: " + path + ": run takes a JSON policy (a raw BPF program has no rules to run)");
  if (!a.profile.empty() && loaded.kind != policy_kind::oci)
    fail("sysfence: " + path + ": --profile takes a Docker/OCI profile (with defaultAction); use --policy");
  runtime_policy policy = std::move(*loaded.policy);
  if (!a.on_violation.empty()) policy = with_default_action(policy, violation_action(a.on_violation), path);
  for (const std::string& note : loaded.notes)
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
  auto* policy = sub->add_option("--policy", a->policy, "The policy file (seccompiler JSON, or a Docker/OCI profile)")
                     ;
  auto* profile = sub->add_option("--profile", a->profile, "A Docker/OCI seccomp profile");
  auto* kafel = sub->add_option("--kafel", a->kafel, "A kafel policy (nsjail's seccomp language)");
  policy->excludes(profile);
  profile->excludes(policy);
  kafel->excludes(policy)->excludes(profile);
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
      "Example: sysfence run --profile default.json -- cat /etc/hostname");
  sub->callback([a, policy, profile, kafel] {
    if (policy->count() + profile->count() + kafel->count() != 1)
      fail("sysfence run: give --policy FILE, --profile FILE or --kafel FILE", 2);
    run(*a);
  });
}

}  // namespace sysfence::cli
