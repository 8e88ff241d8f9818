// SPDX-License-Identifier: MIT
// commands.hpp - the `sysfence` command's subcommands: each file adds one (or a family) to the
// application and does its work through library functions, so the work is tested without the CLI.
#pragma once

#include <CLI/CLI.hpp>

namespace sysfence::cli {

// `exit_code` is what a subcommand's callback throws to end the program with a status: the
// confined command's own status, or 1 (bad input) / 2 (bad command line) with the message already
// on stderr.
struct exit_code {
  int status;
};

void add_run(CLI::App& app);      // run.cpp
void add_compile(CLI::App& app);  // compile.cpp
void add_inspect(CLI::App& app);  // inspect.cpp: disasm, explain, sim
void add_diff(CLI::App& app);     // diff.cpp
void add_learn(CLI::App& app);    // learn.cpp

}  // namespace sysfence::cli
