// SPDX-License-Identifier: MIT
// promises_preload.hpp - what `sysfence run --promises` tells its preloaded library: the
// environment variables that carry the promises and the penalty into the command.
#pragma once

namespace sysfence::cli {

// The promise string to apply once the command's dynamic loader is done.
inline constexpr const char* promises_variable = "SYSFENCE_PROMISES";
// The penalty: errno, kill or trap (--action-on-violation's words).
inline constexpr const char* penalty_variable = "SYSFENCE_PROMISES_PENALTY";
// LD_PRELOAD as it was before sysfence prepended its library (unset: there was none).
inline constexpr const char* preload_variable = "SYSFENCE_PROMISES_LD_PRELOAD";
// The library's file name, next to the `sysfence` binary in the build tree.
inline constexpr const char* preload_library = "libsysfence_preload.so";

}  // namespace sysfence::cli
