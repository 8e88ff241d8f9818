// SPDX-License-Identifier: MIT
// compile.cpp - placeholder: filled by the subcommand's own change.
#include "commands.hpp"

namespace sysfence::cli {

void add_compile(CLI::App&) {}

}  // namespace sysfence::cli
