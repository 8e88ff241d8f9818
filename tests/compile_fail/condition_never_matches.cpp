// SPDX-License-Identifier: MIT
// A masked comparison whose value has bits outside the mask can never match.
// expect: sysfence: a condition of this syscall's rule can never match
// expect: condition_can_never_match
// expect: sys::id::socket
// expect: odd_sockets
#include <sys/socket.h>

#include "sysfence/sysfence.hpp"

using namespace sysfence;

struct odd_sockets : rule_set_base {
  static constexpr std::string_view name = "odd_sockets";
#ifdef SYSFENCE_COMPILE_FAIL
  static constexpr std::array conditional_rules{rule{sys::socket, (arg<1> & 0xf) == 0x10}};
#else
  static constexpr std::array conditional_rules{rule{sys::socket, (arg<1> & 0xf) == SOCK_STREAM}};
#endif
};

[[maybe_unused]] constexpr auto my_policy = safety_context{}.enable(odd_sockets{});
