// SPDX-License-Identifier: MIT
// say.hpp - printf-style output for the examples that works under their policies.
#pragma once

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdio>

#include <unistd.h>

// `say` formats into a stack buffer and calls write(1): no stdio, whose first use of stdout calls
// newfstatat(1), which the examples' policies do not allow.
[[gnu::format(printf, 1, 2)]] inline void say(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n > 0) (void)::write(STDOUT_FILENO, line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}
