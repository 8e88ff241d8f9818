// SPDX-License-Identifier: MIT
// input.cpp - the shared policy-file options of the `sysfence` subcommands.
#include "input.hpp"

#include <cstdio>

#include "commands.hpp"

namespace sysfence::cli {

void add_filter_and_caps(CLI::App& app, input_options& o, const std::string& suffix, const std::string& which) {
  app.add_option("--filter" + suffix, o.filter,
                 "seccompiler JSON: the filter to read" + which + " (optional when the file has one)");
  app.add_option("--caps" + suffix, o.caps,
                 "Docker/OCI profile" + which +
                     ": the container's capabilities, comma-separated (default: Docker's 14); +CAP adds to "
                     "Docker's set")
      ->delimiter(',')
      ->each([&o](const std::string&) { o.caps_given = true; });
  app.add_option("--kernel" + suffix, o.kernel,
                 "Docker/OCI profile" + which + ": the kernel version minKernel compares with (default: running)");
}

void add_arch(CLI::App& app, input_options& o) {
  app.add_option("--arch", o.arch, "ABI(s): x86_64, x86 (i386), x32, aarch64, riscv64 (default: native)")
      ->delimiter(',');
}

load_options options_for(const input_options& o) {
  load_options l;
  l.filter = o.filter;
  for (const std::string& a : o.arch) {
    const auto t = find_abi(a);
    if (!t) throw policy_error("sysfence: unknown ABI \"" + a + "\" (known: x86_64, x86, x32, aarch64, riscv64)");
    l.targets.push_back(*t);
  }
  if (o.caps_given) {
    std::vector<std::string> caps;
    bool adding = !o.caps.empty();
    for (const std::string& c : o.caps) adding = adding && c.starts_with('+');
    if (adding) caps = docker_default_capabilities();
    for (const std::string& c : o.caps) {
      std::string name = c.starts_with('+') ? c.substr(1) : c;
      if (!name.starts_with("CAP_")) name.insert(0, "CAP_");
      caps.push_back(name);
    }
    l.capabilities = caps;
  }
  if (!o.kernel.empty()) {
    unsigned major = 0, minor = 0;
    char end = 0;
    if (std::sscanf(o.kernel.c_str(), "%u.%u%c", &major, &minor, &end) != 2)
      throw policy_error("sysfence: --kernel " + o.kernel + ": expected MAJOR.MINOR, as 6.1");
    l.kernel = kernel_version{major, minor};
  }
  return l;
}

loaded_policy load(const std::string& path, const input_options& o) {
  return load_policy_file(path, options_for(o));
}

void fail(const std::string& message, int status) {
  std::fprintf(stderr, "%s\n", message.c_str());
  throw exit_code{status};
}

}  // namespace sysfence::cli
