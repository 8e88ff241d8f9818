// SPDX-License-Identifier: MIT
// inspect.cpp - `sysfence disasm`, `sysfence explain` and `sysfence sim`: a program's
// disassembly, a policy's rules, and the action one call gets (as libseccomp's scmp_bpf_sim).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sysfence/formats/write.hpp>
#include <sysfence/simulate.hpp>

#include "commands.hpp"
#include "input.hpp"

namespace sysfence::cli {

namespace {

struct inspect_args {
  std::string in, syscall;
  std::vector<std::string> args;
  input_options input;
};

std::uint64_t number(const std::string& what, const std::string& text) {
  try {
    std::size_t end = 0;
    const unsigned long long v = std::stoull(text, &end, 0);
    if (end == text.size() && !text.starts_with('-')) return v;
  } catch (const std::exception&) {
  }
  fail("sysfence sim: " + what + " \"" + text + "\" is not a number (decimal, 0x hex or 0 octal)", 2);
}

void simulate(const inspect_args& a) {
  const loaded_policy p = load(a.in, a.input);
  if (a.args.size() > 6) fail("sysfence sim: a syscall has at most six arguments", 2);
  // The ABI the call is made in: --arch's first, else the program's first.
  const arch::target t = a.input.arch.empty() ? p.targets().front() : *find_abi(a.input.arch.front());
  seccomp_data d{0, t.audit, 0, {}};
  if (const auto id = detail::json::find_syscall(a.syscall)) {
    const std::int32_t nr = (*t.numbers)[static_cast<std::size_t>(*id)];
    if (nr < 0) fail("sysfence sim: " + a.syscall + " does not exist on " + std::string(t.name));
    d.nr = static_cast<int>(t.nr_base) + nr;
  } else if (!a.syscall.empty() && a.syscall[0] >= '0' && a.syscall[0] <= '9') {
    d.nr = static_cast<int>(number("SYSCALL", a.syscall));
  } else {
    fail("sysfence sim: unknown syscall \"" + a.syscall + "\" (a name from sysfence's tables, or a number)", 2);
  }
  for (std::size_t i = 0; i < a.args.size(); ++i) d.args[i] = number("argument", a.args[i]);
  const evaluation e = evaluate(p.program(), d);
  if (e.error != bpf_error::none) fail("sysfence sim: " + a.in + ": " + std::string(describe(e.error)));
  std::printf("%s\n", detail::action_words(e.result).c_str());
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto a = std::make_shared<inspect_args>();
  CLI::App* dis = app.add_subcommand("disasm", "Disassemble a program (raw .bpf, or a policy file compiled)");
  dis->add_option("FILE", a->in, "The program (.bpf) or policy file")->required();
  add_filter_and_caps(*dis, a->input);
  add_arch(*dis, a->input);
  dis->footer("Example: sysfence disasm default.bpf");
  dis->callback([a] {
    const loaded_policy p = load(a->in, a->input);
    std::fputs(disassembly(p.program(), p.targets()).c_str(), stdout);
  });

  CLI::App* ex = app.add_subcommand("explain", "Show a policy file's rules as sysfence reads them");
  ex->add_option("IN", a->in, "The policy file (seccompiler JSON or Docker/OCI profile)")
      ->required();
  add_filter_and_caps(*ex, a->input);
  add_arch(*ex, a->input);
  ex->callback([a] {
    const loaded_policy p = load(a->in, a->input);
    if (!p.policy) fail("sysfence explain: " + a->in + ": a raw BPF program has no rules to explain (try disasm)");
    std::fputs(p.policy->explain().c_str(), stdout);
    for (const std::string& note : p.notes) std::printf("note: %s\n", note.c_str());
  });

  CLI::App* sim = app.add_subcommand("sim", "Print the action a call gets (as libseccomp's scmp_bpf_sim)");
  sim->add_option("IN", a->in, "The program (.bpf) or policy file")->required();
  sim->add_option("SYSCALL", a->syscall, "The syscall, by name or number")->required();
  sim->add_option("ARGS", a->args, "Up to six arguments (decimal, 0x hex)");
  add_filter_and_caps(*sim, a->input);
  add_arch(*sim, a->input);
  sim->footer("Example: sysfence sim default.json personality 0xffffffff");
  sim->callback([a] { simulate(*a); });
}

}  // namespace sysfence::cli
