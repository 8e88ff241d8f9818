// SPDX-License-Identifier: MIT
// diff.cpp - placeholder: filled by the subcommand's own change.
#include "commands.hpp"

namespace sysfence::cli {

void add_diff(CLI::App&) {}

}  // namespace sysfence::cli
