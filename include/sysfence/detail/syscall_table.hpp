// SPDX-License-Identifier: MIT
// syscall_table.hpp - the syscall ids and every supported architecture's numbers, in one include.
//
// The tables are generated from the kernel's own syscall tables by tools/gen_syscalls.cmake, one
// header per architecture in detail/generated/ (see tools/README.md); this header only gathers them.
#pragma once

#include "sysfence/detail/generated/syscall_ids.hpp"
#include "sysfence/detail/generated/syscalls_aarch64.hpp"
#include "sysfence/detail/generated/syscalls_i386.hpp"
#include "sysfence/detail/generated/syscalls_riscv64.hpp"
#include "sysfence/detail/generated/syscalls_x32.hpp"
#include "sysfence/detail/generated/syscalls_x86_64.hpp"
