// SPDX-License-Identifier: MIT
// system_io::allow_write() allows write unconditionally; allow_stdout() only on fd 1.
// expect: sysfence: this syscall is allowed unconditionally by one rule and only under conditions by another
// expect: conflict_between_simple_and_conditional_rule_for
// expect: sys::id::write
// expect: system_io_with<sysfence::builtins::method::allow_write>
// expect: system_io_with<sysfence::builtins::method::allow_stdout>
#include "sysfence/sysfence.hpp"

using namespace sysfence;
namespace builtins = sysfence::builtins;

#ifdef SYSFENCE_COMPILE_FAIL
constexpr auto io = builtins::system_io::nothing().allow_write();
#else
constexpr auto io = builtins::system_io::nothing().allow_read();
#endif
constexpr auto stdout_only = builtins::system_io::nothing().allow_stdout();
constexpr auto my_policy = safety_context{}.enable(io).enable(stdout_only);
static_assert(compile(my_policy).size() > 0);
