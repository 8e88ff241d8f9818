// SPDX-License-Identifier: MIT
// run.cpp - placeholder: filled by the subcommand's own change.
#include "commands.hpp"

namespace sysfence::cli {

void add_run(CLI::App&) {}

}  // namespace sysfence::cli
