// SPDX-License-Identifier: MIT
// Networking allows read and write on any fd: a stdout-only rule would have no effect.
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::write
// expect: networking_with<sysfence::builtins::method::allow_running_sockets>
// expect: system_io_with<sysfence::builtins::method::allow_stdout>
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

constexpr auto net = builtins::networking::nothing().allow_running_tcp_clients();
#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto io = builtins::system_io::nothing().allow_stdout();
#else
constexpr auto io = builtins::system_io::nothing().allow_metadata();
#endif
constexpr auto my_policy = net | io;
static_assert(compile(my_policy).size() > 0);
