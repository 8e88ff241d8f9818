// SPDX-License-Identifier: MIT
// promises_preload.cpp - libsysfence_preload.so, which `sysfence run --promises` preloads into a
// dynamically linked command: its constructor, run after the dynamic loader has mapped the
// command and its libraries, applies exactly the promises (a second, stricter filter on top of
// the wider one the command was started under) and removes its variables from the environment.
#include <sysfence/promises.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <unistd.h>

#include "promises_preload.hpp"

namespace {

void say(const std::string& s) { (void)::write(STDERR_FILENO, s.data(), s.size()); }

__attribute__((constructor)) void sysfence_apply_promises() {
  using namespace sysfence::cli;
  const char* promises = std::getenv(promises_variable);
  if (promises == nullptr) return;
  const std::string promise_string = promises;
  const char* penalty_name = std::getenv(penalty_variable);
  const std::string penalty_word = penalty_name != nullptr ? penalty_name : "errno";
  // The command's own environment, as it was: its children are not preloaded.
  if (const char* before = std::getenv(preload_variable); before != nullptr)
    ::setenv("LD_PRELOAD", before, 1);
  else
    ::unsetenv("LD_PRELOAD");
  ::unsetenv(preload_variable);
  ::unsetenv(promises_variable);
  ::unsetenv(penalty_variable);
  sysfence::action penalty = sysfence::action::error(EPERM);
  if (penalty_word == "kill")
    penalty = sysfence::action::kill_process;
  else if (penalty_word == "trap")
    penalty = sysfence::action::trap();
  try {
    sysfence::pledge(promise_string, penalty);
  } catch (const std::exception& e) {
    // Fail closed: the command must not run under the wider start-up filter alone.
    say(std::string("sysfence: the promises could not be applied: ") + e.what() + "\n");
    ::_exit(126);
  }
}

}  // namespace
