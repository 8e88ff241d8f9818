// SPDX-License-Identifier: MIT
// main.cpp - the `sysfence` command: run, compile, inspect, diff and learn seccomp policies.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sysfence: run, compile, inspect, diff and learn seccomp-bpf policies", "sysfence"};
  app.require_subcommand(1);
  sysfence::cli::add_run(app);
  sysfence::cli::add_compile(app);
  sysfence::cli::add_inspect(app);
  sysfence::cli::add_diff(app);
  sysfence::cli::add_learn(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help: printed on stdout, status 0; a usage error: printed on stderr, status 2 (not CLI11's
    // own codes, which start at 100), as getopt-based tools do.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const sysfence::cli::exit_code& e) {
    return e.status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
