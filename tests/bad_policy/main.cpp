// SPDX-License-Identifier: MIT
// main.cpp - uses the generated policy, so the header must exist for the build to succeed.
#include <policy.hpp>

int main() { return policy::policy.program().size() > 0 ? 0 : 1; }
