// SPDX-License-Identifier: MIT
// compile.cpp - `sysfence compile`: a policy file compiled to a raw BPF file, a C++ header holding
// a prebuilt_policy, or JSON (formats/write.hpp).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

#include <sysfence/formats/write.hpp>

#include "commands.hpp"
#include "input.hpp"

namespace sysfence::cli {

namespace {

struct compile_args {
  std::string in, bpf_out, header_out, name_space;
  bool json = false;
  input_options input;
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) fail("sysfence: " + path + ": cannot be written");
}

// `namespace_for` is a C++ identifier made from the header's file name: "out/my-policy.hpp" -> my_policy.
std::string namespace_for(const std::string& path) {
  std::string stem = path.substr(path.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  for (char& c : stem)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  if (stem.empty() || std::isdigit(static_cast<unsigned char>(stem[0])) != 0) stem.insert(0, "policy_");
  return stem;
}

void compile(const compile_args& a) {
  const loaded_policy p = load(a.in, a.input);
  if (!a.bpf_out.empty()) write_file(a.bpf_out, bpf_bytes(p.program()));
  if (!a.header_out.empty()) {
    const std::string ns = a.name_space.empty() ? namespace_for(a.header_out) : a.name_space;
    write_file(a.header_out, prebuilt_header(p.program(), p.targets(), p.policy ? p.policy->explain() : std::string(),
                                             p.notes, p.flags, {"sysfence compile", a.in, p.filter, ns}));
  }
  if (a.json) std::fputs(program_json(p.program(), p.targets(), p.notes, p.flags).c_str(), stdout);
}

}  // namespace

void add_compile(CLI::App& app) {
  auto a = std::make_shared<compile_args>();
  CLI::App* sub = app.add_subcommand("compile", "Compile a policy file to raw BPF, a C++ header or JSON");
  sub->add_option("IN", a->in, "The policy file (seccompiler JSON, Docker/OCI profile, or raw .bpf)")
      ->required();
  add_filter_and_caps(*sub, a->input);
  add_arch(*sub, a->input);
  auto* o = sub->add_option("-o,--output", a->bpf_out, "Write the program as raw BPF (struct sock_filter[])");
  auto* h = sub->add_option("--header", a->header_out, "Write a C++ header holding a sysfence::prebuilt_policy");
  sub->add_option("--namespace", a->name_space, "The header's namespace (default: from its file name)");
  auto* j = sub->add_flag("--json", a->json, "Print the program as JSON on stdout");
  sub->footer("Example: sysfence compile default.json -o default.bpf");
  sub->callback([a, o, h, j] {
    if (o->count() + h->count() + j->count() == 0) fail("sysfence compile: give -o OUT.bpf, --header OUT.hpp or --json", 2);
    compile(*a);
  });
}

}  // namespace sysfence::cli
