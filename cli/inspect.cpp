// SPDX-License-Identifier: MIT
// inspect.cpp - placeholder: filled by the subcommand's own change.
#include "commands.hpp"

namespace sysfence::cli {

void add_inspect(CLI::App&) {}

}  // namespace sysfence::cli
