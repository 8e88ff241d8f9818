// SPDX-License-Identifier: MIT
// A misspelled promise is a compile error naming the word.
// expect: sysfence: promises<...>: this word (named here) is no promise
// expect: unknown_promise<'r', 'p', 't', 'h'>
#include "sysfence/promises.hpp"

#ifdef SYSFENCE_COMPILE_FAIL
using confined = sysfence::pledged<"stdio rpth">;
#else
using confined = sysfence::pledged<"stdio rpath">;
#endif
[[maybe_unused]] constexpr auto bits = confined{}.rules.size();
