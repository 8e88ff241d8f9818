// SPDX-License-Identifier: MIT
// detail/terminal_ioctl.hpp - ioctl without the requests that type into a terminal: what every
// sysfence rule set that allows ioctl allows (system_io's allow_ioctl, systemd's groups).
#pragma once

#include <array>
#include <cstdint>

#include <sys/ioctl.h>

#include "sysfence/condition.hpp"
#include "sysfence/rule.hpp"
#include "sysfence/syscall.hpp"

namespace sysfence::detail {

// `terminal_injection_ioctls` are the requests refused: TIOCSTI types into the terminal's input
// queue, and TIOCLINUX's selection paste does the same on a virtual console, so a sandboxed
// process could run commands in the shell that started it (CVE-2017-5226). Linux 6.2+ can refuse
// TIOCSTI system-wide (dev.tty.legacy_tiocsti = 0); many kernels still allow it.
inline constexpr std::array<std::uint32_t, 2> terminal_injection_ioctls{TIOCSTI, TIOCLINUX};

// `ioctl_without_terminal_injection` is ioctl with any request but those (compared at the 32
// bits the kernel reads: the request is an unsigned int).
inline constexpr rule ioctl_without_terminal_injection{sys::ioctl, arg32<1> != terminal_injection_ioctls[0],
                                                       arg32<1> != terminal_injection_ioctls[1]};

}  // namespace sysfence::detail
