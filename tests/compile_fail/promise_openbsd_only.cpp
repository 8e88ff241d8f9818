// SPDX-License-Identifier: MIT
// An OpenBSD promise without a Linux counterpart is refused by name, not ignored.
// expect: sysfence: promises<...>: this OpenBSD promise (named here) has no Linux counterpart
// expect: openbsd_promise_without_linux_counterpart<'a', 'u', 'd', 'i', 'o'>
#include "sysfence/promises.hpp"

#ifdef SYSFENCE_COMPILE_FAIL
using confined = sysfence::pledged<"stdio audio">;
#else
using confined = sysfence::pledged<"stdio">;
#endif
[[maybe_unused]] constexpr auto bits = confined{}.rules.size();
