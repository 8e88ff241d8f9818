// SPDX-License-Identifier: MIT
// main.cpp - compiles a policy through the installed package.
#include <sysfence/sysfence.hpp>

int main() {
  constexpr auto policy = sysfence::safety_context{}.enable(sysfence::sys::getppid);
  return sysfence::compile(policy).size() > 0 ? 0 : 1;
}
