// SPDX-License-Identifier: MIT
// input.hpp - the options every subcommand that reads a policy file shares (--filter, --caps,
// --arch, --kernel) and the file loaded with them (formats/load.hpp).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sysfence/formats/load.hpp>

namespace sysfence::cli {

// `input_options` is what the shared options hold.
struct input_options {
  std::string filter;
  std::vector<std::string> caps;
  std::vector<std::string> arch;
  std::string kernel;
  bool caps_given = false;
};

// `add_filter_and_caps` adds --filter and --caps (with `suffix`: --filter-a, ...) to `app`.
void add_filter_and_caps(CLI::App& app, input_options& o, const std::string& suffix = "",
                         const std::string& which = "");
// `add_arch` adds --arch (repeatable, or comma-separated).
void add_arch(CLI::App& app, input_options& o);

// `options_for` turns the options into load_options; bad values throw policy_error.
load_options options_for(const input_options& o);

// `load` reads and compiles policy file `path`; errors are policy_error naming the file.
loaded_policy load(const std::string& path, const input_options& o);

// `fail` prints `message` on stderr and ends the program with `status`.
[[noreturn]] void fail(const std::string& message, int status = 1);

}  // namespace sysfence::cli
