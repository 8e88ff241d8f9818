// SPDX-License-Identifier: MIT
// learn.cpp - placeholder: filled by the subcommand's own change.
#include "commands.hpp"

namespace sysfence::cli {

void add_learn(CLI::App&) {}

}  // namespace sysfence::cli
