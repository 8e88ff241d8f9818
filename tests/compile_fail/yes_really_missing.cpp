// SPDX-License-Identifier: MIT
// Dangerous methods must be acknowledged with .yes_really(), as in extrasafe.
// expect: sysfence: this method allows something dangerous; add .yes_really() after it
// expect: yes_really_missing_after
// expect: method::allow_start_tcp_servers
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto net = builtins::networking::nothing().allow_start_tcp_servers();
#else
constexpr auto net = builtins::networking::nothing().allow_start_tcp_servers().yes_really();
#endif
[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(net);
