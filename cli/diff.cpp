// SPDX-License-Identifier: MIT
// diff.cpp - `sysfence diff`: the calls two policies answer differently (diff.hpp); exit 0 when
// none, 1 when some, 2 on error, as diff(1).
#include <cstdio>
#include <exception>
#include <string>

#include <sysfence/diff.hpp>

#include "commands.hpp"
#include "input.hpp"

namespace sysfence::cli {

namespace {

struct diff_args {
  std::string a, b;
  input_options input_a, input_b;
  std::size_t max_cases = 8;
};

}  // namespace

void add_diff(CLI::App& app) {
  auto a = std::make_shared<diff_args>();
  CLI::App* sub = app.add_subcommand("diff", "List the syscalls (and argument cases) two policies answer differently");
  sub->add_option("A", a->a, "The first policy file (any kind)")->required();
  sub->add_option("B", a->b, "The second policy file (any kind)")->required();
  add_filter_and_caps(*sub, a->input_a, "-a", " for A");
  add_filter_and_caps(*sub, a->input_b, "-b", " for B");
  sub->add_option("--cases", a->max_cases, "Argument cases shown per syscall (default 8)");
  sub->footer(
      "Exit status: 0 when the policies answer every call alike, 1 when they differ, 2 on error.\n"
      "Example: sysfence diff default.json default.json --caps-b +CAP_SYS_ADMIN");
  sub->callback([a] {
    try {
      const loaded_policy pa = load(a->a, a->input_a);
      const loaded_policy pb = load(a->b, a->input_b);
      diff_options o;
      o.max_cases = a->max_cases;
      const auto ds = diff_programs(pa.program(), pa.targets(), pb.program(), pb.targets(), o);
      for (const syscall_difference& d : ds) std::fputs(difference_words(d).c_str(), stdout);
      throw exit_code{ds.empty() ? 0 : 1};
    } catch (const exit_code&) {
      throw;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      throw exit_code{2};
    }
  });
}

}  // namespace sysfence::cli
