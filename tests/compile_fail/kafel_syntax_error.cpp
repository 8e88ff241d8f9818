// SPDX-License-Identifier: MIT
// A kafel policy with a syntax error (inside a POLICY, statements are separated by commas: one is
// missing before line 3) stops the build naming the line, the column, the problem and the token.
// expect: sysfence: the kafel policy does not compile
// expect: line<3>
// expect: column<3>
// expect: unexpected_token
// expect: token_chars<'E', 'R', 'R', 'N', 'O'>
#include "sysfence/kafel.hpp"

#ifdef SYSFENCE_COMPILE_FAIL
[[maybe_unused]] constexpr sysfence::kafel<R"(POLICY p {
  ALLOW { read, write { fd == 1 } }
  ERRNO(1) { close }
}
USE p DEFAULT KILL)">
    policy;
#else
[[maybe_unused]] constexpr sysfence::kafel<R"(POLICY p {
  ALLOW { read, write { fd == 1 } },
  ERRNO(1) { close }
}
USE p DEFAULT KILL)">
    policy;
#endif
